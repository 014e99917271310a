/**
 * Byte-level helpers shared by the toolkit: input size limits, strict PEM (RFC 7468) and base64.
 *
 * Node's `Buffer.from(s, "base64")` silently skips bad characters; a damaged key file must instead
 * fail with a typed `MALFORMED` error, so decoding here is strict.
 */
import { KsefCertsError } from "../errors.js";
import { msg } from "../messages/index.js";

/** Largest PEM/DER key, certificate or CSR file we read: 64 KiB (real ones are under 4 KiB). */
export const MAX_OBJECT_BYTES = 64 * 1024;
/** Largest PKCS#12 file we read: 1 MiB (a certificate with its chain is a few KiB). */
export const MAX_PKCS12_BYTES = 1024 * 1024;

/** Something that holds bytes: raw bytes, or text (PEM) that is UTF-8 encoded first. */
export type BytesInput = Uint8Array | string;

/**
 * Returns `input` as bytes, refusing anything over `limitBytes`.
 * @param input bytes or text (UTF-8)
 * @param limitBytes maximum size in bytes
 * @param what what the input is, for the message (e.g. "private key file")
 * @throws {KsefCertsError} `TOO_LARGE` over the limit, `MALFORMED` when empty
 */
export function toBytes(input: BytesInput, limitBytes: number, what: string): Uint8Array {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  if (bytes.byteLength > limitBytes) {
    throw new KsefCertsError("TOO_LARGE", msg("input.tooLarge", { what, size: bytes.byteLength, limitBytes }), {
      hint: msg("input.tooLarge.hint", { what }),
      details: { sizeBytes: bytes.byteLength, limitBytes },
    });
  }
  if (bytes.byteLength === 0) {
    throw new KsefCertsError("MALFORMED", msg("input.empty", { what }), { hint: msg("input.empty.hint") });
  }
  return bytes;
}

/** One PEM block: its label (e.g. `ENCRYPTED PRIVATE KEY`), RFC 1421 headers if any, and the DER bytes. */
export interface PemBlock {
  readonly label: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly der: Uint8Array;
}

const BEGIN = /^-----BEGIN ([A-Z0-9 #-]+)-----$/;
const END = /^-----END ([A-Z0-9 #-]+)-----$/;

/**
 * Whether `bytes` starts (after optional BOM and whitespace) like PEM text.
 * @param bytes file content
 */
export function looksLikePem(bytes: Uint8Array): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  // Text before the first BEGIN line (e.g. openssl's "Bag Attributes") is allowed by RFC 7468.
  const head = new TextDecoder("latin1").decode(bytes.subarray(i, Math.min(bytes.length, i + 64 * 1024)));
  return head.includes("-----BEGIN ");
}

/**
 * Decodes strict base64 (RFC 4648 §4; whitespace allowed between characters).
 * @param text base64 text
 * @param what what is being decoded, for the message
 * @throws {KsefCertsError} `MALFORMED` on any character outside the alphabet, bad padding or length
 */
export function decodeBase64Strict(text: string, what: string): Uint8Array {
  const compact = text.replace(/[\s]+/g, "");
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new KsefCertsError("MALFORMED", msg("base64.invalid", { what }), {
      hint: msg("base64.invalid.hint"),
    });
  }
  return new Uint8Array(Buffer.from(compact, "base64"));
}

/**
 * Parses every PEM block in `text` (RFC 7468 §3, lax: CRLF, leading text and RFC 1421 headers such
 * as `Proc-Type` are accepted).
 * @param text PEM text
 * @returns the blocks in file order (empty when there is no BEGIN line)
 * @throws {KsefCertsError} `MALFORMED` for a block without its END line, mismatched labels or bad base64
 */
export function decodePem(text: string): PemBlock[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n|\r/);
  const blocks: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const begin = BEGIN.exec((lines[i] ?? "").trim());
    if (!begin) continue;
    const label = begin[1] ?? "";
    const headers: Record<string, string> = {};
    const body: string[] = [];
    let j = i + 1;
    let closed = false;
    for (; j < lines.length; j++) {
      const line = (lines[j] ?? "").trim();
      const end = END.exec(line);
      if (end) {
        if (end[1] !== label) {
          throw new KsefCertsError("MALFORMED", msg("pem.endMismatch", { label, end: end[1] ?? "" }), {
            hint: msg("pem.endMismatch.hint"),
          });
        }
        closed = true;
        break;
      }
      const header = body.length === 0 ? /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line) : null;
      if (header) headers[header[1] ?? ""] = header[2] ?? "";
      else if (line.length > 0) body.push(line);
    }
    if (!closed) {
      throw new KsefCertsError("MALFORMED", msg("pem.truncated", { label }), {
        hint: msg("pem.truncated.hint"),
      });
    }
    blocks.push({ label, headers, der: decodeBase64Strict(body.join(""), `PEM block "${label}"`) });
    i = j;
  }
  return blocks;
}

/**
 * Encodes DER as PEM with 64-character lines and LF line ends (RFC 7468 §2), ending in a newline.
 * @param label e.g. `CERTIFICATE`, `ENCRYPTED PRIVATE KEY`, `CERTIFICATE REQUEST`
 * @param der the DER bytes
 */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Uppercase hexadecimal of `bytes`, no separators (the form KSeF uses for serials and fingerprints).
 * @param bytes bytes to encode
 */
export function toHexUpper(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex").toUpperCase();
}
