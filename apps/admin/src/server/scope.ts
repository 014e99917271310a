/**
 * The `scope` input shared by import, assign and enrollment (`{ companyId, branchId?, operatorId? }`, a domain
 * `ScopeRef` the use cases authorize), and decoding base64 uploads.
 */
import { z } from "zod";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";

/** zod schema of a scope on the wire. */
export const scopeInput = z.object({ companyId: z.string().max(64), branchId: z.string().max(64).optional(), operatorId: z.string().max(64).optional() });

/**
 * Decodes a base64 upload with a size limit.
 * @param field form field name (for the violation)
 * @param text base64 text
 * @param maxBytes largest decoded size
 * @throws {KsefCertsError} TOO_LARGE over the limit; VALIDATION for text that is not base64 or empty
 */
export function decodeUpload(field: string, text: string, maxBytes: number): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length === 0 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) {
    throw new KsefCertsError("VALIDATION", msg("server.upload.notBase64", { field }), {
      violations: [{ field, rule: `${field}.base64`, message: "The file could not be read from the upload." }],
    });
  }
  const bytes = new Uint8Array(Buffer.from(clean, "base64"));
  if (bytes.byteLength > maxBytes) {
    throw new KsefCertsError("TOO_LARGE", msg("server.upload.tooLarge", { field, bytes: bytes.byteLength, max: maxBytes }), {
      violations: [{ field, rule: `${field}.size`, message: `The file may have at most ${maxBytes} bytes.`, params: { max: maxBytes } }],
    });
  }
  return bytes;
}
