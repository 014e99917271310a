/**
 * What commands show about certificates, keys and PKCS#12 files: one JSON shape and one human form
 * each, built from the core's results. Only public facts: never key material or passwords.
 */
import {
  type CertificateInfo,
  type CsrInfo,
  type ImportedPkcs12,
  isKsefKeyEncryption,
  type KeyDescription,
  type KeyEncryption,
  type PrivateKeyInspection,
} from "@ksef-certs/ksef/crypto";
import { encryptionText, formatFields, keyText } from "./output.js";

const DAY_MS = 86_400_000;

/** A certificate as `inspect`, `pair-check` and `convert` report it. */
export interface CertificateSummary {
  readonly serialNumber: string;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAttributes: CertificateInfo["subject"];
  readonly issuerAttributes: CertificateInfo["issuer"];
  /** ISO 8601 UTC. */
  readonly validFrom: string;
  /** ISO 8601 UTC. */
  readonly validTo: string;
  /** Whole days from now to `validTo`; negative once expired. */
  readonly daysToExpiry: number;
  /** `valid`, `expired` or `not-yet-valid`, at the time of the run. */
  readonly status: "valid" | "expired" | "not-yet-valid";
  readonly ksefType: CertificateInfo["ksefType"];
  readonly typeCheck: CertificateInfo["typeCheck"];
  readonly keyUsage: CertificateInfo["keyUsage"];
  readonly subjectIdentifier: CertificateInfo["subjectIdentifier"];
  readonly key: KeyDescription;
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmHasNullParameters: boolean;
  readonly selfSigned: boolean;
  /** SHA-256 of the DER, 64 uppercase hex (the KSeF fingerprint). */
  readonly fingerprintSha256: string;
}

/**
 * The summary of a parsed certificate at time `now`.
 * @param info from the core's `parseCertificate`
 * @param now the run's clock
 */
export function certificateSummary(info: CertificateInfo, now: Date): CertificateSummary {
  const from = Date.parse(info.validFrom);
  const to = Date.parse(info.validTo);
  const t = now.getTime();
  return {
    serialNumber: info.serialNumber,
    subject: info.subjectText,
    issuer: info.issuerText,
    subjectAttributes: info.subject,
    issuerAttributes: info.issuer,
    validFrom: info.validFrom,
    validTo: info.validTo,
    daysToExpiry: Math.floor((to - t) / DAY_MS),
    status: t > to ? "expired" : t < from ? "not-yet-valid" : "valid",
    ksefType: info.ksefType,
    typeCheck: info.typeCheck,
    keyUsage: info.keyUsage,
    subjectIdentifier: info.subjectIdentifier,
    key: info.keyDescription,
    signatureAlgorithm: info.signatureAlgorithm,
    signatureAlgorithmHasNullParameters: info.signatureAlgorithmHasNullParameters,
    selfSigned: info.selfSigned,
    fingerprintSha256: info.fingerprintSha256,
  };
}

function expiryText(s: CertificateSummary): string {
  if (s.status === "expired") return `${s.validTo} (expired ${-s.daysToExpiry} days ago)`;
  if (s.status === "not-yet-valid") return `${s.validTo} (not valid before ${s.validFrom})`;
  return `${s.validTo} (${s.daysToExpiry} days left)`;
}

function typeText(s: CertificateSummary): string {
  const { fromKeyUsage, fromCommonName, consistent } = s.typeCheck;
  const usage = s.keyUsage.length === 0 ? "no keyUsage" : `keyUsage ${s.keyUsage.join(", ")}`;
  if (!consistent) return `MISMATCH: CN suffix says ${fromCommonName ?? "none"}, ${usage} says ${fromKeyUsage ?? "neither"}`;
  if (s.ksefType === undefined) return `not a KSeF certificate type (${usage})`;
  return `${s.ksefType} (${usage}${fromCommonName === undefined ? "; no KSeF CN suffix" : "; CN suffix agrees"})`;
}

/**
 * Human lines of a certificate summary.
 * @param s the summary
 */
export function certificateLines(s: CertificateSummary): string[] {
  return formatFields([
    ["serial", s.serialNumber],
    ["subject", s.subject],
    ["issuer", s.issuer + (s.selfSigned ? " (self-signed)" : "")],
    ["valid from", s.validFrom],
    ["valid to", expiryText(s)],
    ["KSeF type", typeText(s)],
    ["identifier", `${s.subjectIdentifier.type} ${s.subjectIdentifier.value}`],
    ["key", keyText(s.key)],
    ["signature", s.signatureAlgorithm + (s.signatureAlgorithmHasNullParameters ? " (explicit NULL parameters)" : "")],
    ["SHA-256", s.fingerprintSha256],
  ]);
}

/** A key file as `inspect` reports it (no password needed). */
export interface KeyFileSummary {
  readonly format: PrivateKeyInspection["format"];
  readonly container: PrivateKeyInspection["container"];
  readonly encrypted: boolean;
  readonly encryption?: KeyEncryption;
  /** Whether the file is laid out exactly as the KSeF web app writes its `.key`. */
  readonly ksefWebAppFormat: boolean;
  /** The key's algorithm, for plain keys (an encrypted key's is inside the ciphertext). */
  readonly key?: KeyDescription;
  readonly supported: boolean;
  readonly problem?: string;
}

/**
 * The summary of an inspected key file.
 * @param i from the core's `inspectPrivateKey`
 */
export function keyFileSummary(i: PrivateKeyInspection): KeyFileSummary {
  return {
    format: i.format,
    container: i.container,
    encrypted: i.encrypted,
    ...(i.encryption === undefined ? {} : { encryption: i.encryption }),
    ksefWebAppFormat: i.format === "pkcs8-encrypted" && i.container === "pem" && isKsefKeyEncryption(i.encryption),
    ...(i.description === undefined ? {} : { key: i.description }),
    supported: i.supported,
    ...(i.problem === undefined ? {} : { problem: i.problem }),
  };
}

/**
 * Human lines of a key file summary.
 * @param s the summary
 */
export function keyFileLines(s: KeyFileSummary): string[] {
  return formatFields([
    ["format", `${s.format} (${s.container.toUpperCase()})`],
    ["encryption", s.encryption === undefined ? "none (plain key)" : encryptionText(s.encryption)],
    ["KSeF web app format", s.ksefWebAppFormat ? "yes" : "no"],
    ["key", s.key === undefined ? (s.encrypted ? "encrypted (use pair-check or convert with the password)" : undefined) : keyText(s.key)],
    ["supported", s.supported ? undefined : `no: ${s.problem ?? "unsupported"}`],
  ]);
}

/** A PKCS#12 file as `inspect` reports it (after its password). */
export interface Pkcs12Summary {
  readonly certificate: CertificateSummary;
  readonly key: KeyDescription;
  readonly chainLength: number;
  readonly friendlyName?: string;
  readonly macAlgorithm?: string;
  readonly macIterations?: number;
  readonly encryption: readonly KeyEncryption[];
}

/**
 * The summary of an imported PKCS#12 file.
 * @param p from the core's `importPkcs12`
 * @param certificate its certificate, parsed
 * @param key its key's description
 * @param now the run's clock
 */
export function pkcs12Summary(p: ImportedPkcs12, certificate: CertificateInfo, key: KeyDescription, now: Date): Pkcs12Summary {
  return {
    certificate: certificateSummary(certificate, now),
    key,
    chainLength: p.chain.length,
    ...(p.friendlyName === undefined ? {} : { friendlyName: p.friendlyName }),
    ...(p.macAlgorithm === undefined ? {} : { macAlgorithm: p.macAlgorithm }),
    ...(p.macIterations === undefined ? {} : { macIterations: p.macIterations }),
    encryption: p.encryption,
  };
}

/**
 * Human lines of a PKCS#12 summary.
 * @param s the summary
 */
export function pkcs12Lines(s: Pkcs12Summary): string[] {
  return [
    ...formatFields([
      ["key", keyText(s.key)],
      ["friendly name", s.friendlyName],
      ["MAC", s.macAlgorithm === undefined ? "none" : `${s.macAlgorithm}, ${s.macIterations ?? "?"} iterations`],
      ["encryption", s.encryption.length === 0 ? "none" : [...new Set(s.encryption.map((e) => encryptionText(e)))].join(" | ")],
      ["other certificates", s.chainLength],
    ]),
    "  certificate:",
    ...certificateLines(s.certificate).map((l) => `  ${l}`),
  ];
}

/** A CSR as `inspect` and `csr` report it. */
export interface CsrSummary {
  readonly subject: string;
  /** Attributes in CSR order with their ASN.1 string types (KSeF wants UTF8String, C and serialNumber PrintableString). */
  readonly subjectAttributes: CsrInfo["subject"];
  readonly key: KeyDescription;
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmHasNullParameters: boolean;
  readonly signatureValid: boolean;
}

/**
 * The summary of a parsed CSR.
 * @param info from the core's `parseCsr`
 */
export function csrSummary(info: CsrInfo): CsrSummary {
  return {
    subject: info.subjectText,
    subjectAttributes: info.subject,
    key: info.keyDescription,
    signatureAlgorithm: info.signatureAlgorithm,
    signatureAlgorithmHasNullParameters: info.signatureAlgorithmHasNullParameters,
    signatureValid: info.signatureValid,
  };
}

/**
 * Human lines of a CSR summary.
 * @param s the summary
 */
export function csrLines(s: CsrSummary): string[] {
  return [
    ...formatFields([
      ["subject", s.subject],
      ["key", keyText(s.key)],
      [
        "signature",
        `${s.signatureAlgorithm}${s.signatureAlgorithmHasNullParameters ? " (explicit NULL parameters)" : ""}, ${s.signatureValid ? "valid" : "DOES NOT VERIFY"}`,
      ],
    ]),
    "  subject attributes:",
    ...formatFields(
      s.subjectAttributes.map((a) => [a.name, `${a.value} (${a.stringType})`] as const),
      4,
    ),
  ];
}
