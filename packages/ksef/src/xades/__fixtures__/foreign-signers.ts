/**
 * Test-only builders of signed AuthTokenRequests as *other* signers make them, so the verifier is
 * tested against signatures it did not produce: xadesjs used directly (as peer TypeScript clients do)
 * and `xmlsec1 --sign` on a hand-written XAdES template (a C implementation, the same shapes the
 * official C# and Java clients and Profil Zaufany emit: CIRFMF/ksef-client-csharp, CIRFMF/ksef-client-java and files signed with Profil Zaufany).
 *
 * Never used by production code: keys are unprotected, certificates self-signed or from the test CA.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import type { KeyPair } from "../../crypto/index.js";
import { encodePem } from "../../crypto/index.js";
import type { IssuedTestCertificate } from "../../testing/index.js";
import { xades } from "../../xml/dom.js";

/** A key pair with its certificate, in the forms xadesjs (WebCrypto) and xmlsec1 (PEM files) take. */
export interface TestSigner {
  /** `EC` (P-256) or `RSA` (2048). */
  readonly kind: "EC" | "RSA";
  readonly keys: KeyPair;
  /** The certificate, DER. */
  readonly der: Uint8Array;
  /** The certificate, PEM. */
  readonly certificatePem: string;
  /** The private key, unencrypted PKCS#8 PEM (for xmlsec1 `--privkey-pem`). */
  readonly privateKeyPem: string;
}

/**
 * Wraps a key pair and a certificate made for it.
 * @param keys the key pair (EC P-256 or RSA-2048)
 * @param certificate the certificate for that key (self-signed or from the test CA)
 */
export function testSigner(keys: KeyPair, certificate: IssuedTestCertificate): TestSigner {
  const pkcs8 = keys.privateKey.export({ type: "pkcs8", format: "der" });
  return {
    kind: keys.privateKey.asymmetricKeyType === "ec" ? "EC" : "RSA",
    keys,
    der: certificate.der,
    certificatePem: certificate.certificate,
    privateKeyPem: encodePem("PRIVATE KEY", new Uint8Array(pkcs8)),
  };
}

/** A challenge of the XSD form (`YYYYMMDD-CR-` + 10 + 10 + 2 uppercase hex). */
export const TEST_CHALLENGE = "20260625-CR-20F5EE4000-DA48AE4124-46";
/** A NIP that passes the XSD pattern (and the checksum). */
export const TEST_NIP = "5265877635";
/** A PESEL of the right form. */
export const TEST_PESEL = "80010112345";

/** Fields of an unsigned AuthTokenRequest. */
export interface RequestFields {
  /** Schema version; default `2.0` (what the official clients send). */
  readonly version?: "2.0" | "2.1";
  readonly challenge?: string;
  readonly context?: { readonly type: "Nip" | "InternalId" | "NipVatUe" | "PeppolId"; readonly value: string };
  readonly subjectIdentifierType?: "certificateSubject" | "certificateFingerprint";
  readonly allowedIps?: { readonly ip4Addresses?: readonly string[]; readonly ip4Ranges?: readonly string[]; readonly ip4Masks?: readonly string[] };
  /** Whitespace between elements (pretty-printed, as people's tools write it); default none. */
  readonly indent?: boolean;
}

/**
 * An unsigned AuthTokenRequest, no XML declaration, default namespace (ksef-docs `auth/context-identifier-*.md` shape).
 * @param fields the request's values (defaults: {@link TEST_CHALLENGE}, Nip {@link TEST_NIP}, certificateSubject)
 */
export function unsignedRequest(fields: RequestFields = {}): string {
  const nl = fields.indent === true ? "\n  " : "";
  const ctx = fields.context ?? { type: "Nip", value: TEST_NIP };
  const ips = fields.allowedIps;
  const policy =
    ips === undefined
      ? ""
      : `${nl}<AuthorizationPolicy><AllowedIps>${[
          ...(ips.ip4Addresses ?? []).map((v) => `<Ip4Address>${v}</Ip4Address>`),
          ...(ips.ip4Ranges ?? []).map((v) => `<Ip4Range>${v}</Ip4Range>`),
          ...(ips.ip4Masks ?? []).map((v) => `<Ip4Mask>${v}</Ip4Mask>`),
        ].join("")}</AllowedIps></AuthorizationPolicy>`;
  return (
    `<AuthTokenRequest xmlns="http://ksef.mf.gov.pl/auth/token/${fields.version ?? "2.0"}">` +
    `${nl}<Challenge>${fields.challenge ?? TEST_CHALLENGE}</Challenge>` +
    `${nl}<ContextIdentifier><${ctx.type}>${ctx.value}</${ctx.type}></ContextIdentifier>` +
    `${nl}<SubjectIdentifierType>${fields.subjectIdentifierType ?? "certificateSubject"}</SubjectIdentifierType>` +
    `${policy}${fields.indent === true ? "\n" : ""}</AuthTokenRequest>`
  );
}

const ENC = new TextEncoder();

/** UTF-8 bytes of a document (what a file on disk holds). */
export function bytes(xml: string): Uint8Array {
  return ENC.encode(xml);
}

// ---------------------------------------------------------------------------------------------------
// xadesjs, used directly

/** Options of {@link signWithXadesjs}. */
export interface XadesjsOptions {
  /** `ds` (xadesjs default) or `""`: the ds:Signature element without prefix (xadesjs keeps `ds:` on its children). */
  readonly prefix?: "ds" | "";
  /** XAdES SigningCertificate v1 (default), V2 or none. */
  readonly signingCertificate?: "v1" | "v2" | "none";
  /** SignedInfo canonicalisation: inclusive C14N 1.0 (xadesjs default) or exclusive. */
  readonly canonicalization?: "c14n" | "exc-c14n";
  /** Transforms of the document reference; default enveloped-signature + exclusive C14N (the C# client's choice). */
  readonly transforms?: readonly ("enveloped" | "exc-c14n" | "c14n")[];
  /** Digest/signature hash; default SHA-256. */
  readonly hash?: "SHA-256" | "SHA-384" | "SHA-512";
}

const C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";

/**
 * Signs an unsigned AuthTokenRequest with xadesjs (enveloped, Reference URI="", XAdES-BES properties,
 * the certificate in KeyInfo) and returns the serialised document.
 * @param unsignedXml the request (see {@link unsignedRequest})
 * @param signer key and certificate
 * @param options prefix, SigningCertificate version, canonicalisation, transforms, hash
 */
export async function signWithXadesjs(unsignedXml: string, signer: TestSigner, options: XadesjsOptions = {}): Promise<string> {
  const x = xades();
  const hash = options.hash ?? "SHA-256";
  const doc = new DOMParser().parseFromString(unsignedXml, "application/xml") as unknown as Document;
  const pkcs8 = new Uint8Array(signer.keys.privateKey.export({ type: "pkcs8", format: "der" }));
  const algorithm = signer.kind === "EC" ? { name: "ECDSA", namedCurve: "P-256", hash } : { name: "RSASSA-PKCS1-v1_5", hash };
  const key = await globalThis.crypto.subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
  const signed = new x.SignedXml();
  if (options.prefix === "") signed.XmlSignature.Prefix = "";
  if (options.canonicalization === "exc-c14n") signed.XmlSignature.SignedInfo.CanonicalizationMethod.Algorithm = EXC_C14N;
  else signed.XmlSignature.SignedInfo.CanonicalizationMethod.Algorithm = C14N;
  const certificate = Buffer.from(signer.der).toString("base64");
  const sc = options.signingCertificate ?? "v1";
  await signed.Sign(algorithm, key, doc, {
    references: [{ uri: "", hash, transforms: [...(options.transforms ?? ["enveloped", "exc-c14n"])] }],
    x509: [certificate],
    signingCertificate: sc === "v1" ? { certificate, digestAlgorithm: hash } : undefined,
    signingCertificateV2: sc === "v2" ? { certificate, digestAlgorithm: hash } : undefined,
    signingTime: { value: new Date("2026-06-25T10:00:00Z") },
  } as never);
  const signatureXml = signed.GetXml();
  if (signatureXml === null) throw new Error("xadesjs produced no signature");
  doc.documentElement.appendChild(signatureXml);
  return new XMLSerializer().serializeToString(doc as never);
}

// ---------------------------------------------------------------------------------------------------
// xmlsec1 --sign on a template

/** Options of {@link xmlsecTemplate}. */
export interface XmlsecTemplateOptions {
  /** Enveloped (default: the Signature is the last child of the request) or enveloping (the request in `<Object Id="obj">`). */
  readonly packaging?: "enveloped" | "enveloping";
  /** Prefix of the XMLDSig namespace: `ds` (default), `dsig`, or `""` for a default namespace declaration. */
  readonly prefix?: string;
  /** SignedInfo CanonicalizationMethod; default exclusive C14N. */
  readonly canonicalization?: "c14n" | "exc-c14n" | "c14n-with-comments";
  /**
   * Transforms of the document reference. Enveloped default: enveloped-signature + exc-C14N;
   * `xpath` = XPath `not(ancestor-or-self::<prefix>:Signature)`. Enveloping default: C14N 1.0.
   */
  readonly transforms?: readonly ("enveloped" | "xpath" | "exc-c14n" | "c14n")[];
  /** XAdES SigningCertificate v1 (default), V2, or none. */
  readonly signingCertificate?: "v1" | "v2" | "none";
  /** Leave out the XAdES QualifyingProperties (and its reference) altogether: a plain XMLDSig signature. */
  readonly plainXmldsig?: boolean;
  /** Extra XML appended inside SignedSignatureProperties (e.g. SignaturePolicyIdentifier, SignerRole with Profil Zaufany data). */
  readonly signedSignatureProperties?: string;
  /** Extra XML for SignedDataObjectProperties (DataObjectFormat, CommitmentTypeIndication); the document reference has Id `ref-doc`. */
  readonly signedDataObjectProperties?: string;
  /** Replace the document reference's URI (e.g. to point at something else); default "" (enveloped) or "#obj" (enveloping). */
  readonly documentReferenceUri?: string | null;
  /** Leave out KeyInfo (no certificate in the signature). */
  readonly omitKeyInfo?: boolean;
  /** Signature algorithm URI; default ecdsa-sha256 for EC keys, rsa-sha256 for RSA keys. */
  readonly signatureMethod?: string;
}

const XADES = "http://uri.etsi.org/01903/v1.3.2#";

/**
 * A signing template for `xmlsec1 --sign`: the document with an empty ds:Signature (empty DigestValue,
 * SignatureValue, X509Certificate) and XAdES SignedProperties whose CertDigest we compute ourselves.
 * @param unsignedXml the request, without XML declaration (see {@link unsignedRequest})
 * @param signer whose certificate goes into SigningCertificate
 * @param options packaging, prefix, transforms, properties
 * @returns the template, with an XML declaration
 */
export function xmlsecTemplate(unsignedXml: string, signer: TestSigner, options: XmlsecTemplateOptions = {}): string {
  const packaging = options.packaging ?? "enveloped";
  const prefix = options.prefix ?? "ds";
  const p = prefix === "" ? "" : `${prefix}:`;
  const nsDecl = prefix === "" ? `xmlns="http://www.w3.org/2000/09/xmldsig#"` : `xmlns:${prefix}="http://www.w3.org/2000/09/xmldsig#"`;
  const c14nUri = { c14n: C14N, "exc-c14n": EXC_C14N, "c14n-with-comments": `${C14N}#WithComments` }[options.canonicalization ?? "exc-c14n"];
  const method =
    options.signatureMethod ??
    (signer.kind === "EC" ? "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" : "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
  const transforms = options.transforms ?? (packaging === "enveloped" ? ["enveloped", "exc-c14n"] : ["c14n"]);
  const transformXml = transforms
    .map((t) => {
      if (t === "enveloped") return `<${p}Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>`;
      if (t === "xpath") {
        // The XPath needs a prefix bound to XMLDSig; with a default-namespace signature declare one on the XPath element.
        const xp = prefix === "" ? "dsx" : prefix;
        const decl = prefix === "" ? ` xmlns:dsx="http://www.w3.org/2000/09/xmldsig#"` : "";
        return `<${p}Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><${p}XPath${decl}>not(ancestor-or-self::${xp}:Signature)</${p}XPath></${p}Transform>`;
      }
      return `<${p}Transform Algorithm="${t === "exc-c14n" ? EXC_C14N : C14N}"/>`;
    })
    .join("");
  const defaultUri = packaging === "enveloped" ? "" : "#obj";
  const docUri = options.documentReferenceUri === undefined ? defaultUri : options.documentReferenceUri;
  const uriAttr = docUri === null ? "" : ` URI="${docUri}"`;
  const sha256 = "http://www.w3.org/2001/04/xmlenc#sha256";
  const docRef = `<${p}Reference Id="ref-doc"${uriAttr}><${p}Transforms>${transformXml}</${p}Transforms><${p}DigestMethod Algorithm="${sha256}"/><${p}DigestValue/></${p}Reference>`;
  const xadesRef =
    options.plainXmldsig === true
      ? ""
      : `<${p}Reference URI="#sp" Type="http://uri.etsi.org/01903#SignedProperties"><${p}Transforms><${p}Transform Algorithm="${EXC_C14N}"/></${p}Transforms><${p}DigestMethod Algorithm="${sha256}"/><${p}DigestValue/></${p}Reference>`;
  const certDigest = createHash("sha256").update(signer.der).digest("base64");
  const sc = options.signingCertificate ?? "v1";
  const signingCertificate =
    sc === "none"
      ? ""
      : sc === "v1"
        ? `<xades:SigningCertificate><xades:Cert><xades:CertDigest><${p}DigestMethod Algorithm="${sha256}"/><${p}DigestValue>${certDigest}</${p}DigestValue></xades:CertDigest><xades:IssuerSerial><${p}X509IssuerName>CN=test</${p}X509IssuerName><${p}X509SerialNumber>1</${p}X509SerialNumber></xades:IssuerSerial></xades:Cert></xades:SigningCertificate>`
        : `<xades:SigningCertificateV2><xades:CertV2><xades:CertDigest><${p}DigestMethod Algorithm="${sha256}"/><${p}DigestValue>${certDigest}</${p}DigestValue></xades:CertDigest></xades:CertV2></xades:SigningCertificateV2>`;
  const sdop =
    options.signedDataObjectProperties === undefined
      ? ""
      : `<xades:SignedDataObjectProperties>${options.signedDataObjectProperties}</xades:SignedDataObjectProperties>`;
  const qualifying =
    options.plainXmldsig === true
      ? ""
      : `<${p}Object><xades:QualifyingProperties xmlns:xades="${XADES}" Target="#sig"><xades:SignedProperties Id="sp"><xades:SignedSignatureProperties><xades:SigningTime>2026-06-25T10:00:00Z</xades:SigningTime>${signingCertificate}${options.signedSignatureProperties ?? ""}</xades:SignedSignatureProperties>${sdop}</xades:SignedProperties></xades:QualifyingProperties></${p}Object>`;
  const keyInfo = options.omitKeyInfo === true ? "" : `<${p}KeyInfo><${p}X509Data><${p}X509Certificate/></${p}X509Data></${p}KeyInfo>`;
  const head = `<${p}Signature ${nsDecl} Id="sig"><${p}SignedInfo><${p}CanonicalizationMethod Algorithm="${c14nUri}"/><${p}SignatureMethod Algorithm="${method}"/>${docRef}${xadesRef}</${p}SignedInfo><${p}SignatureValue/>${keyInfo}`;
  const declaration = `<?xml version="1.0" encoding="UTF-8"?>\n`;
  if (packaging === "enveloping") return `${declaration}${head}<${p}Object Id="obj">${unsignedXml}</${p}Object>${qualifying}</${p}Signature>`;
  const close = unsignedXml.lastIndexOf("</");
  return `${declaration}${unsignedXml.slice(0, close)}${head}${qualifying}</${p}Signature>${unsignedXml.slice(close)}`;
}

/**
 * Signs a template with `xmlsec1 --sign` (the real CLI, /usr/bin/xmlsec1), declaring `Id` as the ID
 * attribute of xades:SignedProperties and ds:Object so `#sp`/`#obj` references resolve.
 * @param template from {@link xmlsecTemplate} (or hand-written)
 * @param signer private key and certificate
 * @returns the signed document as xmlsec1 wrote it
 * @throws Error when xmlsec1 fails (its stderr in the message)
 */
export function signWithXmlsec(template: string, signer: TestSigner): string {
  const dir = mkdtempSync(join(tmpdir(), "ksef-xmlsec-"));
  try {
    writeFileSync(join(dir, "key.pem"), signer.privateKeyPem);
    writeFileSync(join(dir, "cert.pem"), signer.certificatePem);
    writeFileSync(join(dir, "in.xml"), template);
    execFileSync(
      "/usr/bin/xmlsec1",
      [
        "--sign",
        "--privkey-pem",
        `${join(dir, "key.pem")},${join(dir, "cert.pem")}`,
        "--id-attr:Id",
        `${XADES}:SignedProperties`,
        "--id-attr:Id",
        "http://www.w3.org/2000/09/xmldsig#:Object",
        "--output",
        join(dir, "out.xml"),
        join(dir, "in.xml"),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    return readFileSync(join(dir, "out.xml"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Checks a signed document with `xmlsec1 --verify` (the independent oracle): true when xmlsec1 says OK.
 * `--insecure` skips the certificate chain (self-signed test certificates), as the verifier under test does.
 * @param signedXml the signed document
 */
export function xmlsecVerifies(signedXml: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), "ksef-xmlsec-"));
  try {
    writeFileSync(join(dir, "in.xml"), signedXml);
    execFileSync(
      "/usr/bin/xmlsec1",
      ["--verify", "--insecure", "--id-attr:Id", `${XADES}:SignedProperties`, "--id-attr:Id", "http://www.w3.org/2000/09/xmldsig#:Object", join(dir, "in.xml")],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Profil Zaufany person data block as the ministry's signer writes it into a XAdES ClaimedRole. */
export function profilZaufanySignerRole(person: {
  readonly givenName: string;
  readonly surname: string;
  readonly pesel: string;
  readonly epuapAccountId?: string;
}): string {
  return (
    `<xades:SignerRole><xades:ClaimedRoles><xades:ClaimedRole>` +
    `<ppZP:PodpisZP xmlns:ppZP="http://crd.gov.pl/xml/schematy/ppzp/" xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/11/16/">` +
    `<ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej><os:Nazwisko rodzaj="pierwszy">${person.surname}</os:Nazwisko><os:Imie>${person.givenName}</os:Imie><os:PESEL>${person.pesel}</os:PESEL></ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP>` +
    `<ppZP:DanePodpisu><ppZP:IdKontaUzytkownikaEpuap>${person.epuapAccountId ?? "jkowalski"}</ppZP:IdKontaUzytkownikaEpuap></ppZP:DanePodpisu>` +
    `</ppZP:PodpisZP></xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole>`
  );
}
