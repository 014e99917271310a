/**
 * KSeF-shaped identifiers: challenges and reference numbers (36 characters,
 * `YYYYMMDD-XX-HHHHHHHHHH-HHHHHHHHHH-CC`), and the trace identifiers of error bodies.
 * Shape from SPEC examples (`20250514-CR-226FB7B000-3ACF9BE4C0-10`, `20250514-AU-…`, `…-EH-…`) and the
 * XSD challenge pattern `\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}` (ksef-docs `uwierzytelnianie.md`).
 */
import { randomBytes, randomUUID } from "node:crypto";

/** Two-letter kinds: CR challenge, AU authentication operation, EH certificate enrollment. */
export type ReferenceKind = "CR" | "AU" | "EH";

/** The XSD pattern of a challenge (schemat_auth_v2-0.xsd `TChallenge`). */
export const CHALLENGE_PATTERN = /^\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}$/;

/**
 * A new reference number of the given kind, dated `now` (UTC). The last group is a one-byte
 * checksum (sum of the random bytes mod 256), so a mistyped number is unlikely to name another one.
 * @param kind the two-letter kind
 * @param now the date written in the first group
 * @returns 36 characters, uppercase hex
 */
export function referenceNumber(kind: ReferenceKind, now: Date): string {
  const bytes = randomBytes(10);
  const hex = bytes.toString("hex").toUpperCase();
  const sum = bytes.reduce((a, b) => (a + b) & 0xff, 0);
  const date = now.toISOString().slice(0, 10).replace(/-/g, "");
  return `${date}-${kind}-${hex.slice(0, 10)}-${hex.slice(10, 20)}-${sum.toString(16).toUpperCase().padStart(2, "0")}`;
}

/** A W3C trace-context style identifier (32 lowercase hex) for `traceId` and `serviceCode`. */
export function traceId(): string {
  return randomBytes(16).toString("hex");
}

/** A UUID (36 characters), used as the `referenceNumber` of legacy error bodies, as KSeF's example does. */
export function errorReference(): string {
  return randomUUID();
}
