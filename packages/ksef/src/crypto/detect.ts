/**
 * Tells what a certificate-related file is from its content, never from its name: users save DER
 * under `.pem`, keys under `.crt` and PKCS#12 under `.key` (ERP import and export must tolerate
 * that, as seen in the field). Used by the CLI's `inspect` to pick the right reader.
 */
import { classifyDer, parseDer } from "./asn1.js";
import { looksLikePem } from "./encoding.js";

/**
 * What a file holds, as far as the certificate toolkit cares:
 * - `certificate`: X.509 (RFC 5280), PEM `CERTIFICATE` or DER;
 * - `private-key`: a plain PKCS#8, PKCS#1 or SEC1 private key;
 * - `encrypted-private-key`: PKCS#8 `EncryptedPrivateKeyInfo` (RFC 5958 §3), or OpenSSL's legacy
 *   `Proc-Type: 4,ENCRYPTED` PEM;
 * - `csr`: PKCS#10 certificate signing request (RFC 2986);
 * - `pkcs12`: a PFX file (RFC 7292);
 * - `unknown`: anything else (public keys, PKCS#7 bundles, damaged or foreign files).
 */
export type FileKind = "certificate" | "private-key" | "encrypted-private-key" | "csr" | "pkcs12" | "unknown";

/** Result of {@link detectFileKind}. */
export interface FileKindDetection {
  readonly kind: FileKind;
  /** Whether the file is PEM text or binary DER/BER. */
  readonly container: "pem" | "der";
  /** The label of the PEM block the kind was taken from (e.g. `ENCRYPTED PRIVATE KEY`); PEM only. */
  readonly pemLabel?: string;
}

const PEM_LABEL_KINDS: Readonly<Record<string, FileKind>> = {
  CERTIFICATE: "certificate",
  "X509 CERTIFICATE": "certificate",
  "TRUSTED CERTIFICATE": "certificate",
  "ENCRYPTED PRIVATE KEY": "encrypted-private-key",
  "PRIVATE KEY": "private-key",
  "RSA PRIVATE KEY": "private-key",
  "EC PRIVATE KEY": "private-key",
  "CERTIFICATE REQUEST": "csr",
  "NEW CERTIFICATE REQUEST": "csr",
  PKCS12: "pkcs12",
};

const BEGIN_LINE = /^-----BEGIN ([A-Z0-9 #-]+)-----\r?$/gm;

function detectPem(bytes: Uint8Array): FileKindDetection {
  // latin1 maps every byte to one character, so a stray non-UTF-8 byte cannot hide a BEGIN line.
  const text = new TextDecoder("latin1").decode(bytes);
  let first: string | undefined;
  for (const match of text.matchAll(BEGIN_LINE)) {
    const label = match[1] ?? "";
    first ??= label;
    const kind = PEM_LABEL_KINDS[label];
    if (kind === undefined) continue;
    if (kind === "private-key" && label !== "PRIVATE KEY") {
      // RFC 1421 headers come right after the BEGIN line; OpenSSL's legacy encryption writes Proc-Type there.
      const after = text.slice(match.index + match[0].length, match.index + match[0].length + 256);
      if (/^\s*Proc-Type:\s*4,\s*ENCRYPTED/m.test(after)) return { kind: "encrypted-private-key", container: "pem", pemLabel: label };
    }
    return { kind, container: "pem", pemLabel: label };
  }
  return first === undefined ? { kind: "unknown", container: "pem" } : { kind: "unknown", container: "pem", pemLabel: first };
}

/**
 * Tells what `bytes` holds, by content: PEM by the label of the first block the toolkit knows (text
 * before it, such as OpenSSL's "Bag Attributes", is skipped; a file with a key and a certificate
 * reports the first of them), DER by its ASN.1 structure (see `classifyDer`). Cheap (no decryption,
 * no signature check) and never throws: damaged files come back as `unknown` or as the kind their
 * label claims, and the matching reader then says what is wrong.
 * @param bytes the file content (callers cap its size, e.g. at `MAX_PKCS12_BYTES`)
 * @returns see {@link FileKindDetection}
 */
export function detectFileKind(bytes: Uint8Array): FileKindDetection {
  if (bytes.byteLength === 0) return { kind: "unknown", container: "der" };
  if (looksLikePem(bytes)) return detectPem(bytes);
  let kind: FileKind;
  try {
    switch (classifyDer(parseDer(bytes, "file"))) {
      case "certificate":
        kind = "certificate";
        break;
      case "pkcs8":
      case "pkcs1":
      case "sec1":
        kind = "private-key";
        break;
      case "pkcs8-encrypted":
        kind = "encrypted-private-key";
        break;
      case "csr":
        kind = "csr";
        break;
      case "pkcs12":
        kind = "pkcs12";
        break;
      default:
        kind = "unknown";
    }
  } catch {
    kind = "unknown";
  }
  return { kind, container: "der" };
}
