/**
 * KOD II: the issuer (certificate) verification link printed next to KOD I on offline invoices.
 * It is signed with the private key of an active KSeF `Offline` certificate. Source: ksef-docs `kody-qr.md`;
 * docs/ksef.md "KOD I and KOD II".
 *
 * Speed: a prepared signer does every check and string assembly once, so one link costs one SHA-256
 * (unless the hash is given), one `crypto.sign` and two string joins (measured: the raw EC
 * sign is ~0.03 ms; the peer client re-parses the key per link and is 15× slower).
 */
import { constants, KeyObject, sign, type SignKeyObjectInput, type SignPrivateKeyInput } from "node:crypto";
import { type CertificateInfo, parseCertificate } from "../crypto/certificate.js";
import type { BytesInput } from "../crypto/encoding.js";
import { assertKeyMatchesCertificate } from "../crypto/pair.js";
import { KsefCertsError, type Violation } from "../errors.js";
import { checkNip } from "../policies/identifiers.js";
import {
  checkKod2ContextIdentifier,
  gather,
  type InvoiceInput,
  invoiceHashB64Url,
  type Kod2ContextIdentifier,
  type QrTarget,
  resolveQrBaseUrl,
} from "./common.js";

/** RSASSA-PSS salt length KSeF requires for KOD II: 32 bytes (= SHA-256 output; ksef-docs `kody-qr.md`). */
export const KOD2_RSA_PSS_SALT_BYTES = 32;

/** How a KOD II link is signed: ECDSA P-256 with SHA-256, or RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32. */
export type Kod2Algorithm = "ECDSA-P256-SHA256" | "RSASSA-PSS-SHA256";

/** Input of {@link prepareKod2Signer}: where links point, the context and seller, and the Offline certificate with its key. */
export type Kod2SignerInput = QrTarget & {
  /** The login context the invoice is issued in (`Nip`, `InternalId`, `NipVatUe`, `PeppolId`). */
  readonly contextIdentifier: Kod2ContextIdentifier;
  /** NIP of the seller (Podmiot1), 10 digits. */
  readonly sellerNip: string;
  /** The KSeF `Offline` certificate: PEM text, DER bytes, or `parseCertificate`'s result. */
  readonly certificate: BytesInput | CertificateInfo;
  /** Its private key (read a `.key` file with `readPrivateKey`), EC P-256 or RSA ≥ 2048 bits. */
  readonly privateKey: KeyObject;
  /**
   * Moment the certificate must be valid at (default: now, and then checked again before every link,
   * so a long-lived signer stops once the certificate expires). When given, only that moment is checked.
   */
  readonly at?: Date;
  /**
   * ECDSA signature encoding: `ieee-p1363` (R‖S, 64 bytes, 86 characters, recommended by DOCS; default)
   * or `der` (RFC 3279, also accepted by KSeF; what the official Java client sends). Ignored for RSA.
   */
  readonly ecdsaSignatureEncoding?: "ieee-p1363" | "der";
};

/** A KOD II signer with everything checked and precomputed (see {@link prepareKod2Signer}). */
export interface Kod2Signer {
  /**
   * Builds one signed KOD II link for an invoice.
   * @param invoice the invoice XML bytes as sent to KSeF, or its SHA-256 (bytes, base64, base64url)
   * @throws {KsefCertsError} `VALIDATION` (`invoice.sha256`, `invoice.empty`, or `kod2.certificateExpired`
   *   when the signer was prepared without `at` and the certificate has expired since); `TOO_LARGE` over 3 MiB
   */
  link(invoice: InvoiceInput): string;
  /** The certificate serial as written in the links: 16 uppercase hex digits. */
  readonly certificateSerial: string;
  /** The signature scheme the links use. */
  readonly algorithm: Kod2Algorithm;
  /** Everything before the invoice hash, e.g. `https://qr-test.ksef.mf.gov.pl/certificate/Nip/5265877635/5265877635/01F20A5D352AE590/`. */
  readonly urlPrefix: string;
  /** The certificate's notAfter, ISO 8601 UTC. */
  readonly validTo: string;
}

const HEX16 = /^[0-9A-F]{1,16}$/;

/** The KSeF type violations of a certificate for KOD II (rule `kod2.certificateType`). */
function typeViolations(info: CertificateInfo): Violation[] {
  const field = "certificate";
  const rule = "kod2.certificateType";
  if (info.ksefType === "Authentication") {
    return [
      {
        field,
        rule,
        message: "This is an Authentication certificate (key usage digitalSignature); KOD II links must be signed with an Offline certificate.",
        params: { type: "Authentication" },
      },
    ];
  }
  if (info.ksefType === undefined) {
    return [
      {
        field,
        rule,
        message:
          "The certificate's KSeF type cannot be told (its key usage is not exactly nonRepudiation); KOD II links must be signed with an Offline certificate.",
        params: { type: "unknown" },
      },
    ];
  }
  if (!info.typeCheck.consistent) {
    return [
      {
        field,
        rule,
        message:
          "The certificate's key usage says Offline but its name says Authentication; it may be damaged. KOD II links must be signed with an intact Offline certificate.",
        params: { type: "inconsistent" },
      },
    ];
  }
  return [];
}

function validityViolations(info: CertificateInfo, at: Date): Violation[] {
  const t = at.getTime();
  if (Number.isNaN(t)) return [{ field: "at", rule: "kod2.at", message: "The moment to check the certificate at is not a valid date." }];
  if (t < Date.parse(info.validFrom)) {
    return [
      {
        field: "certificate",
        rule: "kod2.certificateNotYetValid",
        message: `The Offline certificate is valid only from ${info.validFrom}.`,
        params: { validFrom: info.validFrom },
      },
    ];
  }
  if (t > Date.parse(info.validTo)) return [expiredViolation(info.validTo)];
  return [];
}

function expiredViolation(validTo: string): Violation {
  return {
    field: "certificate",
    rule: "kod2.certificateExpired",
    message: `The Offline certificate expired on ${validTo}; KSeF rejects KOD II links of expired certificates.`,
    params: { validTo },
  };
}

/** The serial as KOD II writes it: uppercase hex, left-padded to 16 digits (SPEC `^[0-9A-F]{16}$`). */
function linkSerial(info: CertificateInfo): string | Violation {
  // KSeF serials are 8 bytes. A shorter one would be an 8-byte value whose DER INTEGER dropped leading
  // zero bytes; padding restores the 16 digits the SPEC pattern demands (an assumption, see the module docs).
  if (HEX16.test(info.serialNumber)) return info.serialNumber.padStart(16, "0");
  return {
    field: "certificate",
    rule: "kod2.certificateSerial",
    message: `The certificate serial ${info.serialNumber} is longer than the 16 hex digits of a KSeF certificate serial; this is not a KSeF certificate.`,
    params: { serialNumber: info.serialNumber },
  };
}

function algorithmOf(info: CertificateInfo): Kod2Algorithm {
  const k = info.keyDescription;
  if (k.type === "ec" && k.curve === "P-256") return "ECDSA-P256-SHA256";
  if (k.type === "rsa" && (k.bits ?? 0) >= 2048) return "RSASSA-PSS-SHA256";
  const scheme = k.type === "ec" ? `EC ${k.curve ?? "unknown curve"}` : k.type === "rsa" ? `RSA-${k.bits ?? "?"}` : k.type;
  throw new KsefCertsError("UNSUPPORTED", `KOD II links are signed with EC P-256 or RSA (at least 2048 bits) keys; this certificate has a ${scheme} key.`, {
    hint: "Use a KSeF Offline certificate: KSeF issues them only for EC P-256 and RSA-2048 keys.",
    details: { scheme },
  });
}

function readInfo(certificate: BytesInput | CertificateInfo): CertificateInfo {
  return typeof certificate === "string" || certificate instanceof Uint8Array ? parseCertificate(certificate) : certificate;
}

/**
 * Checks the certificate, key, context and seller once and returns a signer whose `link(invoice)` only
 * hashes (when given the file), signs and joins strings. The link's layout and what its signature covers:
 * docs/ksef.md "KOD I and KOD II" (ECDSA signatures as IEEE P1363 R‖S by default). `certSerial` is the serial in 16 uppercase hex digits (a shorter serial is left-padded
 * with zeros: an assumption, KSeF serials seen so far are always 8 bytes).
 * Not checked (KSeF checks these at scan time): that the certificate is in the KSeF register, not
 * revoked, and that its owner may invoice in the context for the seller.
 * @param input target, context, seller NIP, Offline certificate and its private key, optional `at`
 * @returns the signer
 * @throws {KsefCertsError} `VALIDATION` listing every broken rule: `kod2.certificateType` (an Authentication
 *   certificate, or one whose KSeF type cannot be told — KOD II needs an Offline certificate),
 *   `kod2.certificateExpired`, `kod2.certificateNotYetValid`, `kod2.certificateSerial`, `nip.*` on
 *   `sellerNip`, the context identifier's rules, `qrBaseUrl.format`, `privateKey.type`;
 *   `UNSUPPORTED` for a key other than EC P-256 or RSA ≥ 2048; `KEY_MISMATCH` when the private key does
 *   not belong to the certificate; `MALFORMED`/`TOO_LARGE` from `parseCertificate`
 */
export function prepareKod2Signer(input: Kod2SignerInput): Kod2Signer {
  const info = readInfo(input.certificate);
  const violations: Violation[] = [];
  const [base] = gather<[string]>([() => resolveQrBaseUrl(input)], violations);
  const rawCtx: unknown = input.contextIdentifier;
  const ctx = typeof rawCtx === "object" && rawCtx !== null ? (rawCtx as Kod2ContextIdentifier) : undefined;
  if (ctx === undefined)
    violations.push({ field: "contextIdentifier", rule: "contextIdentifier.required", message: "The context identifier (type and value) is required." });
  else violations.push(...checkKod2ContextIdentifier(ctx));
  const nip = typeof input.sellerNip === "string" ? input.sellerNip : "";
  violations.push(...checkNip(nip, "sellerNip"));
  violations.push(...typeViolations(info));
  violations.push(...validityViolations(info, input.at ?? new Date()));
  const serial = linkSerial(info);
  if (typeof serial !== "string") violations.push(serial);
  const key: unknown = input.privateKey;
  if (!(key instanceof KeyObject) || key.type !== "private") {
    violations.push({
      field: "privateKey",
      rule: "privateKey.type",
      message: "KOD II needs the certificate's private key as a KeyObject (read the .key file with readPrivateKey).",
    });
  }
  if (violations.length > 0 || base === undefined || ctx === undefined || typeof serial !== "string" || !(key instanceof KeyObject)) {
    const typeProblem = violations.some((v) => v.rule === "kod2.certificateType");
    throw new KsefCertsError("VALIDATION", `Cannot sign KOD II links: ${violations.map((v) => v.message).join("; ")}`, {
      violations,
      ...(typeProblem
        ? { hint: 'Request a certificate of type Offline ("Podpis linku do weryfikacji wystawcy") in KSeF and sign with it and its own .key.' }
        : {}),
      details: { certificateSerialNumber: info.serialNumber },
    });
  }
  const algorithm = algorithmOf(info);
  assertKeyMatchesCertificate(key, info);

  const urlPrefix = `${base}/certificate/${ctx.type}/${ctx.value}/${nip}/${serial}/`;
  // The signed data is the link without its scheme (DOCS: "bez https://").
  const signedPrefix = urlPrefix.slice(urlPrefix.indexOf("://") + 3);
  const signOptions: SignKeyObjectInput | SignPrivateKeyInput =
    algorithm === "ECDSA-P256-SHA256"
      ? { key, dsaEncoding: input.ecdsaSignatureEncoding ?? "ieee-p1363" }
      : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: KOD2_RSA_PSS_SALT_BYTES };
  const validToMs = Date.parse(info.validTo);
  const recheckExpiry = input.at === undefined;
  const validTo = info.validTo;

  return {
    link(invoice: InvoiceInput): string {
      if (recheckExpiry && Date.now() > validToMs) {
        const v = expiredViolation(validTo);
        throw new KsefCertsError("VALIDATION", `Cannot sign KOD II links: ${v.message}`, { violations: [v] });
      }
      const hash = invoiceHashB64Url(invoice);
      const signature = sign("sha256", Buffer.from(signedPrefix + hash, "utf8"), signOptions);
      return `${urlPrefix}${hash}/${signature.toString("base64url")}`;
    },
    certificateSerial: serial,
    algorithm,
    urlPrefix,
    validTo,
  };
}

/** Input of {@link kod2Url}: {@link Kod2SignerInput} plus the invoice. */
export type Kod2Input = Kod2SignerInput & {
  /** The invoice XML bytes as sent to KSeF, or its SHA-256 (bytes, base64, base64url). */
  readonly invoice: InvoiceInput;
};

/**
 * Builds one signed KOD II link (a one-off {@link prepareKod2Signer}; for many links prepare once).
 * The label under its QR code is `CERTYFIKAT` (`KOD2_LABEL`). Source: ksef-docs `kody-qr.md`.
 * @param input as {@link prepareKod2Signer}, plus `invoice`
 * @returns the link, e.g. `https://qr-test.ksef.mf.gov.pl/certificate/Nip/5265877635/5265877635/01F20A5D352AE590/{hash}/{signature}`
 * @throws {KsefCertsError} as {@link prepareKod2Signer} and `Kod2Signer.link`
 */
export function kod2Url(input: Kod2Input): string {
  return prepareKod2Signer(input).link(input.invoice);
}
