import { createHash } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { KsefCertsError } from "../errors.js";
import { generateKeyPair } from "../crypto/index.js";
import { hostileXmlDocuments, issueKsefLikeCertificate, selfSignedCertificate } from "../testing/index.js";
import {
  bytes,
  profilZaufanySignerRole,
  signWithXadesjs,
  signWithXmlsec,
  TEST_CHALLENGE,
  TEST_NIP,
  TEST_PESEL,
  testSigner,
  type TestSigner,
  unsignedRequest,
  xmlsecTemplate,
  xmlsecVerifies,
} from "./__fixtures__/foreign-signers.js";
import { verifySignedAuthTokenRequest, XADES_REJECTION_KSEF_CODES, xadesRejectionOf, type XadesRejectionReason } from "./verify.js";

/** Runs the verifier and returns its rejection (fails the test when it accepts). */
async function rejection(
  input: Uint8Array | string,
  ...rest: Parameters<typeof verifySignedAuthTokenRequest> extends [unknown, ...infer R] ? R : never
): Promise<KsefCertsError> {
  try {
    await verifySignedAuthTokenRequest(typeof input === "string" ? bytes(input) : input, ...rest);
  } catch (error) {
    expect(error).toBeInstanceOf(KsefCertsError);
    return error as KsefCertsError;
  }
  throw new Error("expected a rejection, got an accepted request");
}

async function expectRejected(
  input: Uint8Array | string,
  reason: XadesRejectionReason,
  ...rest: Parameters<typeof verifySignedAuthTokenRequest> extends [unknown, ...infer R] ? R : never
): Promise<KsefCertsError> {
  const err = await rejection(input, ...rest);
  expect(xadesRejectionOf(err), err.message).toEqual({ reason, ksefExceptionCode: XADES_REJECTION_KSEF_CODES[reason] });
  return err;
}

const sha256Hex = (der: Uint8Array): string => createHash("sha256").update(der).digest("hex").toUpperCase();

let person: TestSigner; // EC, qualified-like personal certificate with PESEL
let seal: TestSigner; // RSA-2048, qualified-like seal with VATPL NIP
let ksefAuth: TestSigner; // KSeF-like Authentication certificate (test CA)
let ksefOffline: TestSigner; // KSeF-like Offline certificate (test CA)
let anonymous: TestSigner; // self-signed, CN only
let pzSeal: TestSigner; // stands in for the ministry's Profil Zaufany seal

beforeAll(async () => {
  const ec = await generateKeyPair("EC-P256");
  const rsa = await generateKeyPair("RSA-2048");
  person = testSigner(
    ec,
    await selfSignedCertificate(ec, [
      { oid: "2.5.4.42", value: "Jan", stringType: "UTF8String" },
      { oid: "2.5.4.4", value: "Kowalski", stringType: "UTF8String" },
      { oid: "2.5.4.5", value: `PNOPL-${TEST_PESEL}`, stringType: "PrintableString" },
      { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
      { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
    ]),
  );
  seal = testSigner(
    rsa,
    await selfSignedCertificate(rsa, [
      { oid: "2.5.4.10", value: "Firma Sp. z o.o.", stringType: "UTF8String" },
      { oid: "2.5.4.97", value: `VATPL-${TEST_NIP}`, stringType: "UTF8String" },
      { oid: "2.5.4.3", value: "Firma Sp. z o.o.", stringType: "UTF8String" },
      { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
    ]),
  );
  const enrollment = { commonName: "Jan Kowalski", countryName: "PL", givenName: "Jan", surname: "Kowalski", serialNumber: `TINPL-${TEST_NIP}` };
  ksefAuth = testSigner(ec, await issueKsefLikeCertificate({ certificateType: "Authentication", keys: ec, enrollmentData: enrollment }));
  ksefOffline = testSigner(ec, await issueKsefLikeCertificate({ certificateType: "Offline", keys: ec, enrollmentData: enrollment }));
  anonymous = testSigner(ec, await selfSignedCertificate(ec, [{ oid: "2.5.4.3", value: "integration test", stringType: "UTF8String" }]));
  pzSeal = testSigner(
    ec,
    await selfSignedCertificate(ec, [
      { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
      { oid: "2.5.4.10", value: "Ministerstwo Cyfryzacji", stringType: "UTF8String" },
      { oid: "2.5.4.97", value: "VATPL-5213870274", stringType: "UTF8String" },
      { oid: "2.5.4.3", value: "Pieczęć podpisu zaufanego", stringType: "UTF8String" },
    ]),
  );
});

describe("signatures made by xadesjs", () => {
  test("EC, enveloped, ds: prefix, SigningCertificate v1: content, certificate and PESEL identity; input bytes untouched", async () => {
    const xml = await signWithXadesjs(unsignedRequest(), person);
    const input = bytes(xml);
    const before = Uint8Array.from(input);
    const v = await verifySignedAuthTokenRequest(input, { challenge: TEST_CHALLENGE, contextIdentifier: { type: "Nip", value: TEST_NIP } });
    expect(input).toEqual(before);
    expect(v.packaging).toBe("enveloped");
    expect(v.namespace).toBe("http://ksef.mf.gov.pl/auth/token/2.0");
    expect(v.challenge).toBe(TEST_CHALLENGE);
    expect(v.contextIdentifier).toEqual({ type: "Nip", value: TEST_NIP });
    expect(v.subjectIdentifierType).toBe("certificateSubject");
    expect(v.authorizationPolicy).toBeUndefined();
    expect(v.signatureAlgorithm).toBe("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256");
    expect(v.signingTime).toBe("2026-06-25T10:00:00.000Z");
    expect(Buffer.from(v.certificate.der).equals(Buffer.from(person.der))).toBe(true);
    expect(v.fingerprint).toBe(sha256Hex(person.der));
    expect(v.identity).toEqual({ type: "Pesel", value: TEST_PESEL });
    expect(v.identitySource).toBe("certificateSubject");
    expect(v.trustedProfile).toBeUndefined();
  });

  test("RSA, SigningCertificateV2, exclusive C14N SignedInfo: NIP from organizationIdentifier", async () => {
    const xml = await signWithXadesjs(unsignedRequest({ version: "2.1" }), seal, { signingCertificate: "v2", canonicalization: "exc-c14n" });
    const v = await verifySignedAuthTokenRequest(bytes(xml));
    expect(v.namespace).toBe("http://ksef.mf.gov.pl/auth/token/2.1");
    expect(v.signatureAlgorithm).toBe("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
    expect(v.identity).toEqual({ type: "Nip", value: TEST_NIP });
    expect(v.certificate.info.keyDescription.algorithm).toBe("RSA-2048");
  });

  test("xadesjs with an unprefixed Signature element digests SignedProperties out of its namespace context: xmlsec1 and we both refuse it", async () => {
    const xml = await signWithXadesjs(unsignedRequest(), person, { prefix: "" });
    expect(xml).toContain('<Signature Id="');
    expect(xmlsecVerifies(xml)).toBe(false);
    await expectRejected(xml, "digest-mismatch");
  });

  test("C14N 1.0 document transform and SHA-512 are accepted; xmlsec1 agrees the signature is valid", async () => {
    const xml = await signWithXadesjs(unsignedRequest(), person, { transforms: ["enveloped", "c14n"], hash: "SHA-512" });
    expect(xmlsecVerifies(xml)).toBe(true);
    const v = await verifySignedAuthTokenRequest(bytes(xml));
    expect(v.signatureAlgorithm).toBe("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512");
  });
});

describe("signatures made by xmlsec1 from a template", () => {
  test("enveloped, dsig: prefix, XPath not(ancestor-or-self::dsig:Signature) + C14N; xmlsec1 verifies it too", async () => {
    const xml = signWithXmlsec(xmlsecTemplate(unsignedRequest(), person, { prefix: "dsig", transforms: ["xpath", "c14n"], canonicalization: "c14n" }), person);
    expect(xml).toContain("<dsig:XPath>not(ancestor-or-self::dsig:Signature)</dsig:XPath>");
    expect(xmlsecVerifies(xml)).toBe(true);
    const v = await verifySignedAuthTokenRequest(bytes(xml));
    expect(v.packaging).toBe("enveloped");
    expect(v.identity).toEqual({ type: "Pesel", value: TEST_PESEL });
  });

  test("enveloped, default-namespace Signature, schema 2.1, pretty-printed, AuthorizationPolicy read in order", async () => {
    const unsigned = unsignedRequest({
      version: "2.1",
      indent: true,
      allowedIps: { ip4Addresses: ["192.168.0.10", "10.0.0.1"], ip4Ranges: ["10.0.0.1-10.0.0.20"], ip4Masks: ["10.0.0.0/8"] },
    });
    const xml = signWithXmlsec(
      xmlsecTemplate(unsignedRequest({ version: "2.1", indent: true }), seal, { prefix: "" }).replace(
        unsignedRequest({ version: "2.1", indent: true }).slice(0, -"\n</AuthTokenRequest>".length),
        unsigned.slice(0, -"\n</AuthTokenRequest>".length),
      ),
      seal,
    );
    expect(xml).toContain('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"');
    const v = await verifySignedAuthTokenRequest(bytes(xml));
    expect(v.namespace).toBe("http://ksef.mf.gov.pl/auth/token/2.1");
    expect(v.authorizationPolicy).toEqual({
      allowedIps: { ip4Addresses: ["192.168.0.10", "10.0.0.1"], ip4Ranges: ["10.0.0.1-10.0.0.20"], ip4Masks: ["10.0.0.0/8"] },
    });
  });

  test("enveloping: the request inside <ds:Object Id=obj>, referenced by Id", async () => {
    const xml = signWithXmlsec(
      xmlsecTemplate(unsignedRequest({ context: { type: "InternalId", value: `${TEST_NIP}-00001` } }), person, { packaging: "enveloping" }),
      person,
    );
    expect(xmlsecVerifies(xml)).toBe(true);
    const v = await verifySignedAuthTokenRequest(bytes(xml), { contextIdentifier: { type: "InternalId", value: `${TEST_NIP}-00001` } });
    expect(v.packaging).toBe("enveloping");
    expect(v.contextIdentifier).toEqual({ type: "InternalId", value: `${TEST_NIP}-00001` });
  });

  test("extra XAdES properties (SignaturePolicyIdentifier, SignerRole, DataObjectFormat, CommitmentTypeIndication) and SigningCertificateV2", async () => {
    const xml = signWithXmlsec(
      xmlsecTemplate(unsignedRequest(), seal, {
        signingCertificate: "v2",
        signedSignatureProperties:
          "<xades:SignaturePolicyIdentifier><xades:SignaturePolicyImplied/></xades:SignaturePolicyIdentifier>" +
          "<xades:SignerRole><xades:ClaimedRoles><xades:ClaimedRole>Prezes Zarządu</xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole>",
        signedDataObjectProperties:
          '<xades:DataObjectFormat ObjectReference="#ref-doc"><xades:MimeType>text/xml</xades:MimeType></xades:DataObjectFormat>' +
          "<xades:CommitmentTypeIndication><xades:CommitmentTypeId><xades:Identifier>http://uri.etsi.org/01903/v1.2.2#ProofOfOrigin</xades:Identifier></xades:CommitmentTypeId><xades:AllSignedDataObjects/></xades:CommitmentTypeIndication>",
      }),
      seal,
    );
    expect(xmlsecVerifies(xml)).toBe(true);
    const v = await verifySignedAuthTokenRequest(bytes(xml));
    expect(v.identity).toEqual({ type: "Nip", value: TEST_NIP });
    expect(v.trustedProfile).toBeUndefined();
    expect(v.signingTime).toBe("2026-06-25T10:00:00.000Z");
  });

  test("Profil Zaufany-like: ministry seal certificate, person in ClaimedRole/ppZP:PodpisZP → the PESEL from ppZP is the identity", async () => {
    const role = profilZaufanySignerRole({ givenName: "Zażółć", surname: "Gęślą-Jaźń", pesel: "02270803628", epuapAccountId: "zgesla" });
    const xml = signWithXmlsec(xmlsecTemplate(unsignedRequest(), pzSeal, { signedSignatureProperties: role }), pzSeal);
    const input = bytes(xml);
    const before = Uint8Array.from(input);
    const v = await verifySignedAuthTokenRequest(input);
    expect(input).toEqual(before);
    expect(v.certificate.info.subjectIdentifier).toEqual({ type: "Nip", value: "5213870274" }); // the ministry, not the person
    expect(v.identity).toEqual({ type: "Pesel", value: "02270803628" });
    expect(v.identitySource).toBe("trustedProfile");
    expect(v.trustedProfile).toEqual({ givenName: "Zażółć", surname: "Gęślą-Jaźń", pesel: "02270803628", epuapAccountId: "zgesla" });
  });

  test("Profil Zaufany data outside the signed properties is ignored (an unsigned ds:Object cannot claim an identity)", async () => {
    const signed = signWithXmlsec(xmlsecTemplate(unsignedRequest(), pzSeal), pzSeal);
    const role = profilZaufanySignerRole({ givenName: "Evil", surname: "Mallory", pesel: "99999999999" });
    const tampered = signed.replace(
      "</ds:Signature>",
      `<ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#"><xades:SignedProperties><xades:SignedSignatureProperties>${role}</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature>`,
    );
    const v = await verifySignedAuthTokenRequest(bytes(tampered));
    expect(v.trustedProfile).toBeUndefined();
    expect(v.identity).toEqual({ type: "Nip", value: "5213870274" });
  });

  test("a SignedProperties reference without its Type attribute still counts: Profil Zaufany data is read from it", async () => {
    const role = profilZaufanySignerRole({ givenName: "Anna", surname: "Nowak", pesel: "02270803628" });
    const template = xmlsecTemplate(unsignedRequest(), pzSeal, { signedSignatureProperties: role }).replace(
      ' Type="http://uri.etsi.org/01903#SignedProperties"',
      "",
    );
    expect(template).not.toContain("#SignedProperties");
    const v = await verifySignedAuthTokenRequest(bytes(signWithXmlsec(template, pzSeal)));
    expect(v.identity).toEqual({ type: "Pesel", value: "02270803628" });
  });

  test("an XPath transform other than not(ancestor-or-self::ds:Signature) is refused: it could leave ContextIdentifier unsigned", async () => {
    const template = xmlsecTemplate(unsignedRequest(), person, { transforms: ["xpath", "c14n"] }).replace(
      "not(ancestor-or-self::ds:Signature)",
      "not(ancestor-or-self::ds:Signature) and not(ancestor-or-self::*[local-name()='ContextIdentifier'])",
    );
    const signed = signWithXmlsec(template, person);
    // The danger is real: with the context outside the digest, another NIP still verifies for xmlsec1.
    const retargeted = signed.replace(`<Nip>${TEST_NIP}</Nip>`, "<Nip>1111111111</Nip>");
    expect(xmlsecVerifies(retargeted)).toBe(true);
    const err = await expectRejected(retargeted, "unsupported-algorithm");
    expect(err.code).toBe("UNSUPPORTED");
  });

  test("a plain XMLDSig signature (no XAdES properties) verifies; no signing time", async () => {
    const xml = signWithXmlsec(xmlsecTemplate(unsignedRequest(), person, { plainXmldsig: true }), person);
    const v = await verifySignedAuthTokenRequest(bytes(xml));
    expect(v.signingTime).toBeUndefined();
    expect(v.identity.type).toBe("Pesel");
  });
});

describe("identity", () => {
  test("KSeF Authentication certificate: certificateSubject → NIP from serialNumber TINPL; certificateFingerprint → fingerprint", async () => {
    const bySubject = await verifySignedAuthTokenRequest(bytes(await signWithXadesjs(unsignedRequest(), ksefAuth)));
    expect(bySubject.identity).toEqual({ type: "Nip", value: TEST_NIP });
    expect(bySubject.certificate.info.ksefType).toBe("Authentication");
    const byFingerprint = await verifySignedAuthTokenRequest(
      bytes(await signWithXadesjs(unsignedRequest({ subjectIdentifierType: "certificateFingerprint" }), ksefAuth)),
    );
    expect(byFingerprint.identity).toEqual({ type: "Fingerprint", value: sha256Hex(ksefAuth.der) });
    expect(byFingerprint.identitySource).toBe("certificateFingerprint");
  });

  test("certificateSubject with a certificate that names no NIP/PESEL is refused (21117); certificateFingerprint works", async () => {
    await expectRejected(await signWithXadesjs(unsignedRequest(), anonymous), "subject-identifier-invalid");
    const v = await verifySignedAuthTokenRequest(bytes(await signWithXadesjs(unsignedRequest({ subjectIdentifierType: "certificateFingerprint" }), anonymous)));
    expect(v.identity).toEqual({ type: "Fingerprint", value: sha256Hex(anonymous.der) });
  });

  test("a KSeF Offline certificate cannot sign a login (21115)", async () => {
    const err = await expectRejected(await signWithXadesjs(unsignedRequest(), ksefOffline), "certificate-invalid");
    expect(err.code).toBe("VALIDATION");
    expect(err.message).toMatch(/Offline/);
  });

  test("a certificate outside its validity at `now` is refused; inside it is accepted", async () => {
    const xml = await signWithXadesjs(unsignedRequest(), person);
    await expectRejected(xml, "certificate-invalid", {}, { now: new Date(Date.now() + 400 * 86_400_000) });
    await expectRejected(xml, "certificate-invalid", {}, { now: new Date(Date.now() - 2 * 86_400_000) });
    await expect(verifySignedAuthTokenRequest(bytes(xml), {}, { now: new Date(Date.now() + 86_400_000) })).resolves.toBeDefined();
  });
});

describe("expectations and limits", () => {
  test("challenge mismatch (21111) and context mismatch", async () => {
    const xml = await signWithXadesjs(unsignedRequest(), person);
    const c = await expectRejected(xml, "challenge-mismatch", { challenge: "20260625-CR-0000000000-0000000000-00" });
    expect(c.code).toBe("VALIDATION");
    await expectRejected(xml, "context-mismatch", { contextIdentifier: { type: "Nip", value: "1111111111" } });
    await expectRejected(xml, "context-mismatch", { contextIdentifier: { type: "InternalId", value: TEST_NIP } });
  });

  test("oversize input is refused before parsing (TOO_LARGE, 21405), with the default and a given limit", async () => {
    const xml = await signWithXadesjs(unsignedRequest(), person);
    const small = await expectRejected(xml, "too-large", {}, { maxBytes: 1000 });
    expect(small.code).toBe("TOO_LARGE");
    const padded = xml.replace("<Challenge>", `<!--${"x".repeat(300_000)}--><Challenge>`);
    await expectRejected(padded, "too-large");
  });

  test("XML nested or spread beyond the structure limits is refused (too-complex, 21405), keeping the parser's rule id", async () => {
    for (const doc of hostileXmlDocuments()) {
      const error = await expectRejected(doc.bytes, "too-complex", {}, { maxBytes: 1_048_576 });
      expect(error.code).toBe("MALFORMED");
      expect(error.details).toMatchObject({ limit: doc.limit, rule: `xml.${doc.limit}` });
      expect(error.violations.map((v) => v.rule)).toEqual([`xml.${doc.limit}`]);
    }
    // Inside a real signature too: the depth alone decides, before any signature check.
    const xml = await signWithXadesjs(unsignedRequest(), person);
    await expectRejected(xml.replace("</ds:Signature>", `<ds:Object>${"<x>".repeat(65)}${"</x>".repeat(65)}</ds:Object></ds:Signature>`), "too-complex");
  });

  test("not XML, not UTF-8, not an AuthTokenRequest, unsigned", async () => {
    await expectRejected("this is not xml", "not-xml");
    await expectRejected("<AuthTokenRequest><Challenge></AuthTokenRequest>", "not-xml");
    await expectRejected(Uint8Array.from([0x3c, 0x61, 0x3e, 0xe9, 0x3c, 0x2f, 0x61, 0x3e]), "not-utf8");
    await expectRejected('<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"/>', "not-auth-token-request");
    await expectRejected(unsignedRequest(), "no-signature");
  });

  test("certificate missing from KeyInfo (21115)", async () => {
    const template = xmlsecTemplate(unsignedRequest(), person, { omitKeyInfo: true });
    // xmlsec1 signs with the key file alone; the result carries no certificate.
    const xml = signWithXmlsec(template, person);
    expect(xml).not.toContain("X509Certificate");
    await expectRejected(xml, "certificate-missing");
  });

  test("SigningCertificate naming another certificate than KeyInfo carries", async () => {
    const template = xmlsecTemplate(unsignedRequest(), person).replace(
      createHash("sha256").update(person.der).digest("base64"),
      createHash("sha256").update(seal.der).digest("base64"),
    );
    await expectRejected(signWithXmlsec(template, person), "signing-certificate-mismatch");
  });

  test("ECDSA signature in DER instead of raw r||s is refused with a hint", async () => {
    const xml = await signWithXadesjs(unsignedRequest(), person);
    const raw = Buffer.from(/<ds:SignatureValue>([^<]+)</.exec(xml)?.[1] ?? "", "base64");
    expect(raw.length).toBe(64);
    const int = (b: Buffer): Buffer => {
      let v = b;
      while (v.length > 1 && v[0] === 0 && ((v[1] ?? 0) & 0x80) === 0) v = v.subarray(1);
      return (v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v;
    };
    const r = int(raw.subarray(0, 32));
    const s = int(raw.subarray(32));
    const der = Buffer.concat([Buffer.from([0x30, r.length + s.length + 4, 0x02, r.length]), r, Buffer.from([0x02, s.length]), s]);
    const err = await expectRejected(xml.replace(raw.toString("base64"), der.toString("base64")), "signature-invalid");
    expect(err.hint).toMatch(/DER/);
  });

  test("XSD rules checked in code: patterns, order, namespace, attributes", async () => {
    const sign = (unsigned: string): string => signWithXmlsec(xmlsecTemplate(unsigned, person), person);
    const bad = [
      unsignedRequest({ context: { type: "Nip", value: "0123456789" } }), // pattern: no leading 0
      unsignedRequest({ challenge: "20260625-CR-20f5ee4000-DA48AE4124-46" }), // lowercase hex
      unsignedRequest({ context: { type: "PeppolId", value: "PL123456" } }),
      unsignedRequest({ allowedIps: { ip4Addresses: ["256.1.1.1"] } }),
      unsignedRequest().replace("<Challenge>", '<Challenge Id="c">'),
      unsignedRequest().replace(/(<Challenge>[^<]*<\/Challenge>)(<ContextIdentifier>.*<\/ContextIdentifier>)/, "$2$1"), // order
      unsignedRequest().replace("token/2.0", "token/3.0"),
      unsignedRequest().replace("<SubjectIdentifierType>", "<Extra/><SubjectIdentifierType>"),
    ];
    for (const unsigned of bad) {
      const err = await expectRejected(sign(unsigned), "xsd-violation");
      expect(err.code).toBe("MALFORMED");
    }
    // The values KSeF's readings of the patterns allow.
    for (const ctx of [
      { type: "PeppolId", value: "PAB123456" },
      { type: "NipVatUe", value: `${TEST_NIP}-ATU12345678` },
    ] as const) {
      const v = await verifySignedAuthTokenRequest(bytes(sign(unsignedRequest({ context: ctx }))));
      expect(v.contextIdentifier).toEqual(ctx);
    }
  });

  test("values are read as canonicalisation sees them: a comment inside a signed value does not truncate it", async () => {
    const xml = signWithXmlsec(xmlsecTemplate(unsignedRequest(), person), person);
    const split = xml.replace(`<Nip>${TEST_NIP}</Nip>`, `<Nip>${TEST_NIP.slice(0, 5)}<!-- -->${TEST_NIP.slice(5)}</Nip>`);
    expect(split).not.toBe(xml);
    const v = await verifySignedAuthTokenRequest(bytes(split));
    expect(v.contextIdentifier.value).toBe(TEST_NIP);
  });

  test("xadesRejectionOf ignores other errors", () => {
    expect(xadesRejectionOf(new Error("x"))).toBeUndefined();
    expect(xadesRejectionOf(new KsefCertsError("MALFORMED", "x", { details: { reason: "nope" } }))).toBeUndefined();
  });
});
