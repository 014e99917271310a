/**
 * Reading KOD I / KOD II links back (a scanned code, a link from a PDF) and checking a KOD II
 * signature offline. Layouts: ksef-docs `kody-qr.md`.
 */
import { constants, verify } from "node:crypto";
import { type CertificateInfo, parseCertificate } from "../crypto/certificate.js";
import type { BytesInput } from "../crypto/encoding.js";
import { KsefCertsError } from "../errors.js";
import type { KsefEnvironment } from "../api/environments.js";
import { checkNip } from "../policies/identifiers.js";
import {
  checkKod2ContextIdentifier,
  environmentOfQrBase,
  isCalendarDate,
  isCanonicalBase64Url,
  KOD2_CONTEXT_TYPES,
  type Kod2ContextIdentifier,
  type Kod2ContextType,
} from "./common.js";
import { KOD2_RSA_PSS_SALT_BYTES } from "./kod2.js";

/** Longest link accepted: 2048 characters (an RSA-2048 KOD II link is about 550; a QR code at level M holds at most 2331 bytes). */
export const MAX_KOD_URL_CHARS = 2048;

/** The parts of a KOD I link (`{qrBase}/invoice/{sellerNip}/{DD-MM-YYYY}/{hash}`). */
export interface Kod1Parts {
  readonly kind: "KOD_I";
  /** Scheme, host and any path before `/invoice`, e.g. `https://qr-test.ksef.mf.gov.pl`. */
  readonly qrBaseUrl: string;
  /** The KSeF environment of that base, or undefined for another host. */
  readonly environment: KsefEnvironment | undefined;
  /** NIP of the seller, 10 digits. */
  readonly sellerNip: string;
  /** Issue date `P_1`, ISO `YYYY-MM-DD` (the link writes `DD-MM-YYYY`). */
  readonly issueDate: string;
  /** SHA-256 of the invoice file, base64url without padding (43 characters). */
  readonly invoiceHash: string;
}

/** The parts of a KOD II link (`{qrBase}/certificate/{ctxType}/{ctxValue}/{sellerNip}/{certSerial}/{hash}/{signature}`). */
export interface Kod2Parts {
  readonly kind: "KOD_II";
  /** Scheme, host and any path before `/certificate`. */
  readonly qrBaseUrl: string;
  /** The KSeF environment of that base, or undefined for another host. */
  readonly environment: KsefEnvironment | undefined;
  /** The login context named in the link. */
  readonly contextIdentifier: Kod2ContextIdentifier;
  /** NIP of the seller, 10 digits. */
  readonly sellerNip: string;
  /** Serial of the Offline certificate, 16 uppercase hex digits. */
  readonly certificateSerial: string;
  /** SHA-256 of the invoice file, base64url without padding. */
  readonly invoiceHash: string;
  /** The signature segment, base64url without padding. */
  readonly signature: string;
  /** The signed text: the link without its scheme, up to and including the hash segment. */
  readonly signedData: string;
}

/** What {@link parseKodUrl} returns. */
export type KodUrlParts = Kod1Parts | Kod2Parts;

const SHA256_B64URL = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const SERIAL = /^[0-9A-F]{16}$/;
const PATH_SEGMENT = /^[A-Za-z0-9._~-]+$/;
/** Largest signature accepted: 1024 bytes (RSA-8192); KSeF uses 64 (EC) or 256 (RSA-2048). */
const MAX_SIGNATURE_BYTES = 1024;

function bad(what: string, reason: string): KsefCertsError {
  return new KsefCertsError("MALFORMED", `This is not a valid ${what} link: ${reason}.`, {
    hint: "Scan the code again or copy the whole link; KSeF links look like https://qr.ksef.mf.gov.pl/invoice/… or …/certificate/….",
  });
}

function nipOf(value: string, what: string, segment: string): string {
  const v = checkNip(value);
  if (v[0] !== undefined) throw bad(what, `the ${segment} segment is not a valid NIP (${v[0].message})`);
  return value;
}

function hashOf(value: string, what: string): string {
  if (!SHA256_B64URL.test(value)) throw bad(what, "the invoice hash segment is not a SHA-256 in canonical base64url (43 characters)");
  return value;
}

/**
 * Splits a KOD I or KOD II link into typed parts and checks each one: scheme and host, NIP check digits,
 * the date (a real `DD-MM-YYYY`), the hash (43 canonical base64url characters), the context identifier
 * (type and SPEC pattern), the serial (16 uppercase hex), the signature (canonical base64url — a
 * non-canonical last character would let a changed link look the same after decoding). Does not check
 * the signature: see {@link verifyKod2Url}. Source: ksef-docs `kody-qr.md`.
 * @param url the link as scanned
 * @returns `Kod1Parts` or `Kod2Parts` (by `kind`)
 * @throws {KsefCertsError} `MALFORMED` naming the first thing wrong (not a link, a query or fragment,
 *   neither `/invoice/` nor `/certificate/` layout, a bad segment); `TOO_LARGE` over {@link MAX_KOD_URL_CHARS}
 */
export function parseKodUrl(url: string): KodUrlParts {
  if (typeof url !== "string") throw bad("KSeF QR", "it is not text");
  if (url.length > MAX_KOD_URL_CHARS) {
    throw new KsefCertsError("TOO_LARGE", `The link is ${url.length} characters; KSeF QR links have at most ${MAX_KOD_URL_CHARS}.`, {
      details: { sizeChars: url.length, limitChars: MAX_KOD_URL_CHARS },
    });
  }
  const m = /^(https?):\/\/([A-Za-z0-9.-]+(?::\d{1,5})?)(\/.*)?$/.exec(url);
  if (m === null) throw bad("KSeF QR", "it does not start with https:// and a host name");
  const [, scheme = "", host = "", path = ""] = m;
  if (/[?#]/.test(path)) throw bad("KSeF QR", "it has a query (?) or fragment (#), which KSeF links never have");
  const segments = path.slice(1).split("/");
  if (path === "" || segments.some((s) => s === "")) throw bad("KSeF QR", "it has an empty path segment (a doubled or trailing /)");
  const n = segments.length;
  const seg = (i: number): string => segments[n - i] ?? "";
  let kind: "KOD_I" | "KOD_II";
  let prefixCount: number;
  if (n >= 7 && seg(7) === "certificate" && (KOD2_CONTEXT_TYPES as readonly string[]).includes(seg(6))) {
    kind = "KOD_II";
    prefixCount = n - 7;
  } else if (n >= 4 && seg(4) === "invoice") {
    kind = "KOD_I";
    prefixCount = n - 4;
  } else if (n >= 7 && seg(7) === "certificate") {
    throw bad("KOD II", `the context type segment must be one of ${KOD2_CONTEXT_TYPES.join(", ")}`);
  } else {
    throw bad(
      "KSeF QR",
      "the path is neither /invoice/{NIP}/{date}/{hash} (KOD I) nor /certificate/{type}/{context}/{NIP}/{serial}/{hash}/{signature} (KOD II)",
    );
  }
  const prefix = segments.slice(0, prefixCount);
  if (prefix.some((s) => !PATH_SEGMENT.test(s))) throw bad("KSeF QR", "the base path has characters KSeF hosts do not use");
  const qrBaseUrl = `${scheme}://${host}${prefix.map((s) => `/${s}`).join("")}`;
  const environment = environmentOfQrBase(qrBaseUrl);

  if (kind === "KOD_I") {
    const what = "KOD I";
    const sellerNip = nipOf(seg(3), what, "seller NIP");
    const d = /^(\d{2})-(\d{2})-(\d{4})$/.exec(seg(2));
    if (d === null || !isCalendarDate(Number(d[3]), Number(d[2]), Number(d[1])))
      throw bad(what, "the issue date segment is not a real date written DD-MM-YYYY");
    return { kind, qrBaseUrl, environment, sellerNip, issueDate: `${d[3] ?? ""}-${d[2] ?? ""}-${d[1] ?? ""}`, invoiceHash: hashOf(seg(1), what) };
  }

  const what = "KOD II";
  const contextIdentifier: Kod2ContextIdentifier = { type: seg(6) as Kod2ContextType, value: seg(5) };
  const ctxProblem = checkKod2ContextIdentifier(contextIdentifier)[0];
  if (ctxProblem !== undefined) throw bad(what, `the ${contextIdentifier.type} context segment is not valid (${ctxProblem.message})`);
  const sellerNip = nipOf(seg(4), what, "seller NIP");
  const certificateSerial = seg(3);
  if (!SERIAL.test(certificateSerial)) throw bad(what, "the certificate serial segment is not 16 uppercase hex digits");
  const invoiceHash = hashOf(seg(2), what);
  const signature = seg(1);
  if (!isCanonicalBase64Url(signature)) throw bad(what, "the signature segment is not canonical base64url without padding");
  if (signature.length > Math.ceil((MAX_SIGNATURE_BYTES * 4) / 3)) throw bad(what, "the signature segment is longer than any KSeF signature");
  const signedData = url.slice(scheme.length + 3, url.length - signature.length - 1);
  return { kind, qrBaseUrl, environment, contextIdentifier, sellerNip, certificateSerial, invoiceHash, signature, signedData };
}

/** Result of {@link verifyKod2Url}. */
export type Kod2Verification =
  | {
      readonly valid: true;
      readonly parts: Kod2Parts;
      /** How the signature was encoded: ECDSA `ieee-p1363` (64 bytes) or `der`, or RSA `pss`. */
      readonly signatureEncoding: "ieee-p1363" | "der" | "pss";
    }
  | {
      readonly valid: false;
      /** `malformed`: not a KOD II link (or a damaged one); `certificateSerial`: made with another certificate; `signature`: does not verify. */
      readonly reason: "malformed" | "certificateSerial" | "signature";
      /** One sentence saying what is wrong. */
      readonly message: string;
      /** The parts when the link could be read. */
      readonly parts: Kod2Parts | undefined;
    };

/**
 * Checks a KOD II link against the Offline certificate it claims: the serial segment must be the
 * certificate's and the signature must verify over the link without scheme up to the hash — ECDSA
 * P-256/SHA-256 as IEEE P1363 (64 bytes) or DER, or RSASSA-PSS/SHA-256/MGF1-SHA-256 with salt 32.
 * Checks neither the certificate's validity nor its status in KSeF (the KSeF page does that at scan
 * time, ksef-docs `kody-qr.md`). A changed or damaged link gives `valid: false`, not an error.
 * @param url the link as scanned
 * @param certificate the Offline certificate: PEM, DER or `parseCertificate`'s result
 * @returns `{ valid: true, parts, signatureEncoding }` or `{ valid: false, reason, message, parts }`
 * @throws {KsefCertsError} `MALFORMED`/`TOO_LARGE` when `certificate` is not a certificate; `UNSUPPORTED`
 *   when its key is neither EC P-256 nor RSA
 */
export function verifyKod2Url(url: string, certificate: BytesInput | CertificateInfo): Kod2Verification {
  const info = typeof certificate === "string" || certificate instanceof Uint8Array ? parseCertificate(certificate) : certificate;
  const key = info.keyDescription;
  const ec = key.type === "ec" && key.curve === "P-256";
  if (!ec && key.type !== "rsa") {
    throw new KsefCertsError("UNSUPPORTED", "KOD II signatures are ECDSA P-256 or RSA-PSS; this certificate has another key type.", {
      details: { scheme: key.type },
    });
  }
  let parts: KodUrlParts;
  try {
    parts = parseKodUrl(url);
  } catch (err) {
    if (err instanceof KsefCertsError && (err.code === "MALFORMED" || err.code === "TOO_LARGE"))
      return { valid: false, reason: "malformed", message: err.message, parts: undefined };
    throw err;
  }
  if (parts.kind !== "KOD_II")
    return { valid: false, reason: "malformed", message: "This is a KOD I (invoice) link; it carries no signature to verify.", parts: undefined };
  if (parts.certificateSerial !== info.serialNumber.padStart(16, "0")) {
    return {
      valid: false,
      reason: "certificateSerial",
      message: `The link names certificate ${parts.certificateSerial}, not this certificate (${info.serialNumber}).`,
      parts,
    };
  }
  const data = Buffer.from(parts.signedData, "utf8");
  const signature = Buffer.from(parts.signature, "base64url");
  let encoding: "ieee-p1363" | "der" | "pss";
  let ok: boolean;
  try {
    if (ec) {
      encoding = signature.length === 64 ? "ieee-p1363" : "der";
      ok = verify("sha256", data, { key: info.publicKey, dsaEncoding: encoding }, signature);
      // A DER signature is 64 bytes only when r and s are both short (rare, but possible): try it too.
      if (!ok && encoding === "ieee-p1363" && signature[0] === 0x30) {
        encoding = "der";
        ok = verify("sha256", data, { key: info.publicKey, dsaEncoding: "der" }, signature);
      }
    } else {
      encoding = "pss";
      ok = verify("sha256", data, { key: info.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: KOD2_RSA_PSS_SALT_BYTES }, signature);
    }
  } catch {
    // OpenSSL throws on some malformed signatures (e.g. DER that does not parse) rather than returning false.
    ok = false;
    encoding = "der";
  }
  if (!ok)
    return { valid: false, reason: "signature", message: "The signature does not match the link: the link was changed or signed with another key.", parts };
  return { valid: true, parts, signatureEncoding: encoding };
}
