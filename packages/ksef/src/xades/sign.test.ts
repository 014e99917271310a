import { createHash, generateKeyPairSync, type KeyObject, X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { DOMParser } from "@xmldom/xmldom";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection } from "../testing/errors.js";
import { generateKeyPair, type KeyPair } from "../crypto/index.js";
import { DN_OID } from "../crypto/dn.js";
import { issueKsefLikeCertificate, selfSignedCertificate, type IssuedTestCertificate } from "../testing/index.js";
import { type AuthTokenRequestInput, buildAuthTokenRequest } from "../api/auth-token-request.js";
import { xades } from "../xml/dom.js";
import { XmlToolsDir } from "./__fixtures__/xmlsec.js";
import { signAuthTokenRequest, signXml, type XadesEngine } from "./sign.js";
import { XADES_NS, XMLDSIG_NS, issuerNameRfc4514, prepareXadesSigner, type XadesSigner } from "./template.js";

const tools = new XmlToolsDir();
afterAll(() => {
  tools.cleanup();
});

const INPUT: AuthTokenRequestInput = {
  challenge: "20250625-CR-20F5EE4000-DA48AE4124-46",
  contextIdentifier: { type: "Nip", value: "5265877635" },
  subjectIdentifierType: "certificateSubject",
  authorizationPolicy: { allowedIps: { ip4Addresses: ["192.168.0.1"], ip4Masks: ["10.0.0.0/8"] } },
};
const SIGNING_TIME = new Date("2025-06-25T10:11:12.345Z");
const ENGINES: readonly XadesEngine[] = ["template", "xadesjs"];
const PERSON = { commonName: "Jan Kowalski", countryName: "PL", givenName: "Jan", surname: "Kowalski", serialNumber: "TINPL-5265877635" };

let ecKeys: KeyPair;
let ec: XadesSigner;
let ecCert: IssuedTestCertificate;
let rsa: XadesSigner;
let rsaCert: IssuedTestCertificate;

beforeAll(async () => {
  ecKeys = await generateKeyPair("EC-P256");
  ecCert = await issueKsefLikeCertificate({ certificateType: "Authentication", keys: ecKeys, enrollmentData: PERSON });
  ec = { privateKey: ecKeys.privateKey, certificate: ecCert.certificate };
  const rsaKeys = await generateKeyPair("RSA-2048");
  rsaCert = await selfSignedCertificate(rsaKeys, [
    { oid: DN_OID.countryName, value: "PL", stringType: "PrintableString" },
    { oid: DN_OID.organizationName, value: 'Firma, "Zażółć" + Syn', stringType: "UTF8String" },
    { oid: DN_OID.serialNumber, value: "TINPL-5265877635", stringType: "PrintableString" },
    { oid: DN_OID.commonName, value: "#Firma Testowa ", stringType: "UTF8String" },
  ]);
  rsa = { privateKey: rsaKeys.privateKey, certificate: rsaCert.der };
});

// Signers are made in beforeAll, after the test table is collected: the table holds names only.
const SIGNER_NAMES = ["EC P-256", "RSA-2048"] as const;
const signerNamed = (name: (typeof SIGNER_NAMES)[number]): XadesSigner => (name === "EC P-256" ? ec : rsa);

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("utf8");
}

function parse(bytes: Uint8Array): Document {
  return new DOMParser().parseFromString(text(bytes), "application/xml") as unknown as Document;
}

function one(doc: Document | Element, ns: string, name: string): Element {
  const found = doc.getElementsByTagNameNS(ns, name)[0];
  if (found === undefined) throw new Error(`no ${name}`);
  return found;
}

/** Everything but the signature bytes, for comparing engines: algorithms, references, properties, digests. */
function shape(bytes: Uint8Array): unknown {
  const doc = parse(bytes);
  const sig = one(doc, XMLDSIG_NS, "Signature");
  const refs = Array.from(sig.getElementsByTagNameNS(XMLDSIG_NS, "Reference")).map((r) => ({
    uri: r.getAttribute("URI"),
    type: r.getAttribute("Type"),
    transforms: Array.from(r.getElementsByTagNameNS(XMLDSIG_NS, "Transform")).map((t) => t.getAttribute("Algorithm")),
    digestMethod: one(r, XMLDSIG_NS, "DigestMethod").getAttribute("Algorithm"),
    digest: one(r, XMLDSIG_NS, "DigestValue").textContent,
  }));
  const qp = one(sig, XADES_NS, "QualifyingProperties");
  const cert = one(qp, XADES_NS, "Cert");
  return {
    lastChildOfRoot: doc.documentElement.lastChild === sig,
    id: sig.getAttribute("Id"),
    c14n: one(sig, XMLDSIG_NS, "CanonicalizationMethod").getAttribute("Algorithm"),
    signatureMethod: one(sig, XMLDSIG_NS, "SignatureMethod").getAttribute("Algorithm"),
    refs,
    x509: one(sig, XMLDSIG_NS, "X509Certificate").textContent,
    target: qp.getAttribute("Target"),
    signedPropertiesId: one(qp, XADES_NS, "SignedProperties").getAttribute("Id"),
    signingTime: one(qp, XADES_NS, "SigningTime").textContent,
    certDigestMethod: one(cert, XMLDSIG_NS, "DigestMethod").getAttribute("Algorithm"),
    certDigest: one(cert, XMLDSIG_NS, "DigestValue").textContent,
    issuer: one(cert, XMLDSIG_NS, "X509IssuerName").textContent,
    serial: one(cert, XMLDSIG_NS, "X509SerialNumber").textContent,
  };
}

async function xadesjsVerify(bytes: Uint8Array): Promise<boolean> {
  const x = xades();
  const doc = parse(bytes);
  const signed = new x.SignedXml(doc);
  signed.LoadXml(one(doc, XMLDSIG_NS, "Signature"));
  return signed.Verify();
}

describe.each(ENGINES)("signAuthTokenRequest, engine %s", (engine) => {
  it.each(SIGNER_NAMES)("%s: xmlsec1 verifies it, and rejects a copy with the NIP changed", async (name) => {
    const signed = await signAuthTokenRequest(INPUT, signerNamed(name), { signingTime: SIGNING_TIME, engine });
    const ok = tools.xmlsecVerify(signed);
    expect(`${ok.stdout}${ok.stderr}`).toMatch(/^OK$/m);
    expect(`${ok.stdout}${ok.stderr}`).toContain("SignedInfo References (ok/all): 2/2");
    expect(ok.status).toBe(0);
    const tampered = tools.xmlsecVerify(text(signed).replace("<Nip>5265877635</Nip>", "<Nip>7740001454</Nip>"));
    expect(tampered.status).not.toBe(0);
    expect(`${tampered.stdout}${tampered.stderr}`).not.toMatch(/^OK$/m);
  });

  it.each(SIGNER_NAMES)("%s: xadesjs verifies it, and not a tampered copy", async (name) => {
    const signed = await signAuthTokenRequest(INPUT, signerNamed(name), { signingTime: SIGNING_TIME, engine });
    expect(await xadesjsVerify(signed)).toBe(true);
    const tampered = Buffer.from(text(signed).replace("<Nip>5265877635</Nip>", "<Nip>7740001454</Nip>"), "utf8");
    await expect(xadesjsVerify(tampered)).rejects.toThrow(/digest/i);
  });

  it("writes UTF-8 with the declaration, no BOM, no pretty-printing, and the unsigned request unchanged before the signature", async () => {
    const signed = text(await signAuthTokenRequest(INPUT, ec, { signingTime: SIGNING_TIME, engine }));
    const unsigned = buildAuthTokenRequest(INPUT);
    expect(signed.startsWith('<?xml version="1.0" encoding="utf-8"?><AuthTokenRequest')).toBe(true);
    expect(signed).not.toContain("\n");
    expect(signed.startsWith(unsigned.slice(0, -"</AuthTokenRequest>".length))).toBe(true);
    expect(signed.endsWith("</ds:Signature></AuthTokenRequest>")).toBe(true);
  });
});

describe("signature content", () => {
  it("ECDSA SignatureValue is raw r||s (64 bytes) in both engines; RSA is 256 bytes", async () => {
    for (const engine of ENGINES) {
      const ecSig = one(parse(await signAuthTokenRequest(INPUT, ec, { signingTime: SIGNING_TIME, engine })), XMLDSIG_NS, "SignatureValue").textContent;
      expect(Buffer.from(ecSig, "base64")).toHaveLength(64);
      const rsaSig = one(parse(await signAuthTokenRequest(INPUT, rsa, { signingTime: SIGNING_TIME, engine })), XMLDSIG_NS, "SignatureValue").textContent;
      expect(Buffer.from(rsaSig, "base64")).toHaveLength(256);
    }
  });

  it("SigningCertificate: digest = SHA-256 of the DER, serial = certificate serial in decimal, issuer = openssl's RFC 2253 issuer", async () => {
    const signed = shape(await signAuthTokenRequest(INPUT, ec, { signingTime: SIGNING_TIME })) as Record<string, unknown>;
    const x509 = new X509Certificate(ecCert.certificate);
    expect(signed.certDigest).toBe(createHash("sha256").update(x509.raw).digest("base64"));
    expect(signed.serial).toBe(BigInt(`0x${x509.serialNumber}`).toString(10));
    const opensslIssuer = execFileSync("/usr/bin/openssl", ["x509", "-noout", "-issuer", "-nameopt", "RFC2253,-esc_msb"], {
      input: ecCert.certificate,
      encoding: "utf8",
    });
    expect(`issuer=${String(signed.issuer)}\n`).toBe(opensslIssuer);
    expect(signed.issuer).toBe("CN=TEST CCK KSeF,OU=Krajowa Administracja Skarbowa,O=Ministerstwo Finansów,C=PL");
    expect(signed.signingTime).toBe("2025-06-25T10:11:12Z");
  });

  it("issuer names escape RFC 4514 specials and write other attribute types as OID=#hex", () => {
    expect(issuerNameRfc4514(rsaCert.der)).toBe('CN=\\#Firma Testowa\\ ,2.5.4.5=#131054494e504c2d35323635383737363335,O=Firma\\, \\"Zażółć\\" \\+ Syn,C=PL');
  });

  it("template and xadesjs outputs have the same shape, digests included (same canonical bytes); RSA even the same SignatureValue", async () => {
    for (const signer of [ec, rsa]) {
      const t = await signAuthTokenRequest(INPUT, signer, { signingTime: SIGNING_TIME, engine: "template" });
      const x = await signAuthTokenRequest(INPUT, signer, { signingTime: SIGNING_TIME, engine: "xadesjs" });
      expect(shape(x)).toEqual(shape(t));
      expect(shape(t)).toMatchObject({
        lastChildOfRoot: true,
        id: "Signature",
        target: "#Signature",
        signedPropertiesId: "SignedProperties",
        c14n: "http://www.w3.org/2001/10/xml-exc-c14n#",
        refs: [
          {
            uri: "",
            type: null,
            transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/2001/10/xml-exc-c14n#"],
            digestMethod: "http://www.w3.org/2001/04/xmlenc#sha256",
          },
          { uri: "#SignedProperties", type: "http://uri.etsi.org/01903#SignedProperties", transforms: ["http://www.w3.org/2001/10/xml-exc-c14n#"] },
        ],
      });
    }
    const sigValue = (b: Uint8Array): string | null => one(parse(b), XMLDSIG_NS, "SignatureValue").textContent;
    const rsaT = await signAuthTokenRequest(INPUT, rsa, { signingTime: SIGNING_TIME, engine: "template" });
    const rsaX = await signAuthTokenRequest(INPUT, rsa, { signingTime: SIGNING_TIME, engine: "xadesjs" });
    expect(sigValue(rsaT)).toBe(sigValue(rsaX));
    expect(shape(rsaT)).toMatchObject({ signatureMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" });
    expect(shape(await signAuthTokenRequest(INPUT, ec, { signingTime: SIGNING_TIME }))).toMatchObject({
      signatureMethod: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    });
  });

  it("the template output, with ds:Signature removed, validates against the XSD (both namespaces)", async () => {
    for (const namespace of ["2.0", "2.1"] as const) {
      const signed = text(await signAuthTokenRequest({ ...INPUT, namespace }, ec, { signingTime: SIGNING_TIME }));
      const unsigned = signed.replace(/<ds:Signature .*<\/ds:Signature>/, "");
      expect(unsigned).not.toContain("Signature");
      const r = tools.validate(unsigned, namespace);
      expect(r.stderr).toContain("validates");
      expect(r.status).toBe(0);
      expect(tools.validate(signed, namespace).status).not.toBe(0);
    }
  });

  it("every variant of the request signs and verifies with xmlsec1 (template)", async () => {
    const contexts: AuthTokenRequestInput["contextIdentifier"][] = [
      { type: "InternalId", value: "5265877635-00017" },
      { type: "NipVatUe", value: "5265877635-IE1A23456B" },
      { type: "PeppolId", value: "PPL123456" },
    ];
    for (const contextIdentifier of contexts) {
      const signed = await signAuthTokenRequest({ ...INPUT, contextIdentifier, subjectIdentifierType: "certificateFingerprint", namespace: "2.1" }, ec);
      expect(tools.xmlsecVerify(signed).status).toBe(0);
    }
  });
});

describe("signXml (xadesjs, any document)", () => {
  it("signs a document with prefixes, attributes, comments and non-ASCII text; xmlsec1 and xadesjs verify it", async () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<a:Doc xmlns:a="urn:a" xmlns:b="urn:b" z="1" y="2"><!-- note --><b:Item b:k="v">Zażółć &amp; gęślą</b:Item>\n  <Empty/></a:Doc>';
    const signed = await signXml(xml, rsa, { signingTime: SIGNING_TIME });
    expect(tools.xmlsecVerify(signed).status).toBe(0);
    expect(await xadesjsVerify(signed)).toBe(true);
    expect(tools.xmlsecVerify(text(signed).replace("gęślą", "gęśla")).status).not.toBe(0);
  });

  it("refuses a DOCTYPE (parseXmlSafely)", async () => {
    const err = await rejection(signXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', ec));
    expect(err.code).toBe("MALFORMED");
  });
});

describe("signer checks", () => {
  it("refuses a key that does not belong to the certificate", async () => {
    const other = await generateKeyPair("EC-P256");
    const err = await rejection(signAuthTokenRequest(INPUT, { privateKey: other.privateKey, certificate: ecCert.der }));
    expect(err.code).toBe("KEY_MISMATCH");
    expect((await rejection(signAuthTokenRequest(INPUT, { privateKey: other.privateKey, certificate: ecCert.der }, { engine: "xadesjs" }))).code).toBe(
      "KEY_MISMATCH",
    );
  });

  it("refuses EC P-384, Ed25519 and RSA-1024 keys as UNSUPPORTED", async () => {
    const keys: [string, KeyObject][] = [
      ["EC secp384r1", generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey],
      ["ed25519", generateKeyPairSync("ed25519").privateKey],
      ["RSA-1024", generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey],
    ];
    for (const [scheme, privateKey] of keys) {
      const err = await rejection(signAuthTokenRequest(INPUT, { privateKey, certificate: ecCert.der }));
      expect(err.code).toBe("UNSUPPORTED");
      expect(err.details.scheme).toBe(scheme);
    }
  });

  it("refuses a KSeF Offline certificate, but accepts a non-KSeF certificate with nonRepudiation only (qualified signatures)", async () => {
    const offline = await issueKsefLikeCertificate({ certificateType: "Offline", keys: ecKeys, enrollmentData: PERSON });
    const err = await rejection(signAuthTokenRequest(INPUT, { privateKey: ecKeys.privateKey, certificate: offline.der }));
    expect(err.code).toBe("VALIDATION");
    expect(err.violations.map((v) => v.rule)).toEqual(["xades.certificate.offline"]);
    const qualifiedLike = await selfSignedCertificate(ecKeys, [{ oid: DN_OID.commonName, value: "Jan Kowalski", stringType: "UTF8String" }], {
      keyUsage: "Offline",
    });
    const signed = await signAuthTokenRequest(INPUT, { privateKey: ecKeys.privateKey, certificate: qualifiedLike.der });
    expect(tools.xmlsecVerify(signed).status).toBe(0);
  });

  it("refuses a public key and an invalid signing time as VALIDATION", async () => {
    expect((await rejection(signAuthTokenRequest(INPUT, { privateKey: ecKeys.publicKey, certificate: ecCert.der }))).code).toBe("VALIDATION");
    expect((await rejection(signAuthTokenRequest(INPUT, ec, { signingTime: new Date(Number.NaN) }))).code).toBe("VALIDATION");
  });

  it("refuses invalid request data with every violation before signing", async () => {
    const err = await rejection(signAuthTokenRequest({ ...INPUT, challenge: "x", contextIdentifier: { type: "Nip", value: "1" } }, ec));
    expect(err.violations.map((v) => v.field)).toEqual(["challenge", "contextIdentifier.value"]);
  });

  it("prepares a signer once per key and certificate", () => {
    const a = prepareXadesSigner(ec);
    expect(prepareXadesSigner(ec)).toBe(a);
    expect(prepareXadesSigner({ privateKey: ec.privateKey, certificate: ec.certificate })).toBe(a);
    expect(prepareXadesSigner(a)).toBe(a);
    expect(prepareXadesSigner({ privateKey: ec.privateKey, certificate: ecCert.der })).not.toBe(a);
  });
});
