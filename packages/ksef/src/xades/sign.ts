/**
 * XAdES-BES signing of KSeF login documents (ksef-docs `auth/podpis-xades.md`; CIRFMF/ksef-client-csharp, CIRFMF/ksef-client-java), two engines with the same
 * output shape: the string template (template.ts, for AuthTokenRequests we build) and xadesjs (any
 * UTF-8 XML document). Enveloped `ds:Signature Id="Signature"` as the root's last
 * child; exclusive C14N SignedInfo; Reference `URI=""` (enveloped + exc-C14N, SHA-256) and Reference
 * `#SignedProperties` (exc-C14N, SHA-256); KeyInfo with the certificate; SigningTime and
 * SigningCertificate (v1: CertDigest SHA-256 + IssuerSerial) in `xades:SignedProperties`.
 */
import { XMLSerializer } from "@xmldom/xmldom";
import { KsefCertsError } from "../errors.js";
import { type AuthTokenRequestInput, buildAuthTokenRequest } from "../api/auth-token-request.js";
import { xades } from "../xml/dom.js";
import { parseXmlSafely } from "../xml/safe-parse.js";
import {
  EXC_C14N,
  type PreparedXadesSigner,
  SIGNATURE_ID,
  SIGNED_PROPERTIES_ID,
  SIGNED_PROPERTIES_TYPE,
  XML_DECLARATION,
  type XadesSigner,
  canonicalAuthTokenRequest,
  formatSigningTime,
  prepareXadesSigner,
  signCanonicalDocument,
} from "./template.js";

/** Which implementation signs: `template` (fast, AuthTokenRequests only) or `xadesjs` (generic DOM + C14N). */
export type XadesEngine = "template" | "xadesjs";

/** Options of {@link signAuthTokenRequest} and {@link signXml}. */
export interface XadesSignOptions {
  /** XAdES SigningTime; default now. Milliseconds are dropped (the time is written `YYYY-MM-DDTHH:MM:SSZ`). */
  readonly signingTime?: Date;
  /** Engine of {@link signAuthTokenRequest}; default `template`. {@link signXml} always uses xadesjs. */
  readonly engine?: XadesEngine;
}

/**
 * Builds and signs an AuthTokenRequest (XAdES-BES, enveloped), ready for `POST /auth/xades-signature`
 * with `Content-Type: application/xml`. Send the returned bytes unchanged (never re-serialise or
 * pretty-print: KSeF checks the digest over them, ksef-api issues #121, #168).
 * @param input the request data (see `buildAuthTokenRequest`)
 * @param signer key and certificate, or a signer prepared once with {@link prepareXadesSigner} (fastest)
 * @param options signing time and engine
 * @returns the signed document, UTF-8 without BOM, with the declaration `<?xml version="1.0" encoding="utf-8"?>`
 * @throws {KsefCertsError} VALIDATION for invalid request data (every violation), an invalid signing
 *   time, a public key or a KSeF Offline certificate
 * @throws {KsefCertsError} UNSUPPORTED for a key other than EC P-256 or RSA ≥ 2048
 * @throws {KsefCertsError} KEY_MISMATCH when the key does not belong to the certificate
 * @throws {KsefCertsError} MALFORMED / TOO_LARGE when the certificate cannot be read
 */
export async function signAuthTokenRequest(
  input: AuthTokenRequestInput,
  signer: XadesSigner | PreparedXadesSigner,
  options: XadesSignOptions = {},
): Promise<Uint8Array> {
  const signingTime = options.signingTime ?? new Date();
  if ((options.engine ?? "template") === "xadesjs") return signXml(buildAuthTokenRequest(input), signer, { signingTime });
  return Promise.resolve(signCanonicalDocument(canonicalAuthTokenRequest(input), signer, signingTime));
}

// The WebCrypto key xadesjs needs, imported once per prepared signer (PKCS#8 export + import costs ~0.1 ms).
const cryptoKeys = new WeakMap<PreparedXadesSigner, Promise<CryptoKey>>();

/** WebCrypto parameters: import needs the curve, xadesjs' Sign needs the hash (it merges both into one algorithm). */
function webCryptoAlgorithm(p: PreparedXadesSigner): {
  readonly importParams: EcKeyImportParams | RsaHashedImportParams;
  readonly signParams: Algorithm & { readonly hash: string };
} {
  return p.keyKind === "EC-P256"
    ? { importParams: { name: "ECDSA", namedCurve: "P-256" }, signParams: { name: "ECDSA", hash: "SHA-256" } }
    : { importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, signParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } };
}

function cryptoKeyOf(p: PreparedXadesSigner): Promise<CryptoKey> {
  let key = cryptoKeys.get(p);
  if (key === undefined) {
    const pkcs8 = p.privateKey.export({ type: "pkcs8", format: "der" });
    key = globalThis.crypto.subtle.importKey("pkcs8", pkcs8, webCryptoAlgorithm(p).importParams, false, ["sign"]).finally(() => pkcs8.fill(0));
    cryptoKeys.set(p, key);
  }
  return key;
}

/** The members of xmldsigjs' SignedXml that TypeScript marks protected and we step between. */
interface SignedXmlInternals {
  DigestReferences(data: unknown): Promise<void>;
  ResolveTransform(transform: string): unknown;
}

/**
 * Signs any UTF-8 XML document with xadesjs: an enveloped XAdES-BES `ds:Signature` (same shape as the
 * template engine: `Id="Signature"`, `SignedProperties` Id, exc-C14N transform on both References,
 * RFC 4514 issuer name) appended as the last child of the root. The input is parsed with
 * `parseXmlSafely` (no DTD/entities, size limit, UTF-8 only).
 * @param xml the document, UTF-8 bytes or text, at most `MAX_XML_BYTES` (1 MiB, `@ksef-certs/ksef/xml`)
 * @param signer key and certificate, or a prepared signer
 * @param options signing time (`engine` is ignored)
 * @returns the signed document, UTF-8 without BOM, starting with an XML declaration
 * @throws {KsefCertsError} MALFORMED / TOO_LARGE for a document `parseXmlSafely` refuses
 * @throws {KsefCertsError} VALIDATION, UNSUPPORTED, KEY_MISMATCH as {@link prepareXadesSigner}
 * @throws {KsefCertsError} INTERNAL when xadesjs fails
 */
export async function signXml(xml: Uint8Array | string, signer: XadesSigner | PreparedXadesSigner, options: XadesSignOptions = {}): Promise<Uint8Array> {
  const p = prepareXadesSigner(signer);
  const signingTime = options.signingTime ?? new Date();
  formatSigningTime(signingTime); // validates the date before any work
  const { document } = parseXmlSafely(xml, { what: "the document to sign" });
  const root = document.documentElement;
  const x = xades();
  const key = await cryptoKeyOf(p);
  const signed = new x.SignedXml();
  signed.XmlSignature.Id = SIGNATURE_ID;
  const properties = signed.Properties;
  if (properties === null) throw new KsefCertsError("INTERNAL", "xadesjs created no QualifyingProperties.");
  properties.Target = `#${SIGNATURE_ID}`;
  properties.SignedProperties.Id = SIGNED_PROPERTIES_ID;
  signed.XmlSignature.SignedInfo.CanonicalizationMethod.Algorithm = EXC_C14N;

  // Between xadesjs building the references/properties and digesting them: give the SignedProperties
  // Reference its exc-C14N transform (xadesjs adds none, i.e. inclusive C14N, which would pull the
  // document's default namespace into the digest) and write the issuer in RFC 4514 form like the template.
  const internals = signed as unknown as SignedXmlInternals;
  const digestReferences = internals.DigestReferences.bind(signed);
  internals.DigestReferences = async (data: unknown): Promise<void> => {
    const refs = signed.XmlSignature.SignedInfo.References;
    const documentTransforms = refs.Item(0)?.Transforms;
    const propertiesRef = refs.Filter((r) => r.Type === SIGNED_PROPERTIES_TYPE).Item(0);
    if (documentTransforms === undefined || propertiesRef === null) throw new KsefCertsError("INTERNAL", "xadesjs built unexpected references.");
    const TransformsClass = documentTransforms.constructor as new () => NonNullable<typeof documentTransforms>;
    const transforms = new TransformsClass();
    transforms.Add(internals.ResolveTransform("exc-c14n") as Parameters<typeof transforms.Add>[0]);
    propertiesRef.Transforms = transforms;
    const cert = signed.SignedProperties.SignedSignatureProperties.SigningCertificate.Item(0);
    if (cert === null) throw new KsefCertsError("INTERNAL", "xadesjs wrote no SigningCertificate.");
    cert.IssuerSerial.X509IssuerName = p.issuerName;
    await digestReferences(data);
  };

  try {
    await signed.Sign(webCryptoAlgorithm(p).signParams, key, document, {
      references: [{ uri: "", hash: "SHA-256", transforms: ["enveloped", "exc-c14n"] }],
      signingCertificate: { certificate: p.certificateBase64, digestAlgorithm: "SHA-256" },
      signingTime: { value: new Date(Math.floor(signingTime.getTime() / 1000) * 1000), format: "isoUtcDateTime" },
      x509: [p.certificateBase64],
    });
  } catch (cause) {
    if (cause instanceof KsefCertsError) throw cause;
    throw new KsefCertsError("INTERNAL", "xadesjs could not sign the document.", { cause });
  }
  const signatureElement = signed.GetXml();
  if (signatureElement === null) throw new KsefCertsError("INTERNAL", "xadesjs produced no signature element.");
  root.appendChild(document.importNode(signatureElement as unknown as Node, true));
  let text = new XMLSerializer().serializeToString(document as unknown as Parameters<XMLSerializer["serializeToString"]>[0]);
  if (!text.startsWith("<?xml")) text = `${XML_DECLARATION}${text}`;
  return Buffer.from(text, "utf8");
}
