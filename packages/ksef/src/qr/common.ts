/**
 * Pieces shared by the KOD I and KOD II builders and the link parser: where the links point
 * (environment or explicit base URL), the invoice hash in its three spellings, the issue date,
 * and the login-context identifier. Source: ksef-docs `kody-qr.md`.
 */
import { createHash } from "node:crypto";
import { KsefCertsError, type Violation } from "../errors.js";
import { KSEF_ENDPOINTS, type KsefEnvironment } from "../api/environments.js";
import { checkInternalId, checkNip } from "../policies/identifiers.js";

/**
 * Largest invoice file hashed here: 3 MiB. KSeF refuses larger invoices anyway (SPEC
 * `maxInvoiceWithAttachmentSizeInMB: 3`; 1 MB without attachments).
 */
export const MAX_INVOICE_BYTES = 3 * 1024 * 1024;

/** Largest QR base URL accepted: 256 characters (the KSeF hosts are about 30). */
const MAX_BASE_URL_CHARS = 256;

/**
 * Where links point: a KSeF environment (its `qrBaseUrl` from `KSEF_ENDPOINTS`) or an explicit base
 * URL (a simulator, a legacy `…/client-app` base). Exactly one of the two.
 */
export type QrTarget = { readonly environment: KsefEnvironment; readonly qrBaseUrl?: never } | { readonly qrBaseUrl: string; readonly environment?: never };

/**
 * The invoice a link refers to: its XML file bytes exactly as sent to KSeF (hashed here with SHA-256),
 * or an already computed SHA-256: 32 bytes, or text in base64 (the `invoiceHash` of KSeF send requests,
 * 44 characters with `=`) or base64url without padding (43 characters, as in the link).
 */
export type InvoiceInput = Uint8Array | { readonly sha256: Uint8Array | string };

/** The four login-context identifier types a KOD II link names (ksef-docs `kody-qr.md`; XSD `TContextIdentifier`). */
export type Kod2ContextType = "Nip" | "InternalId" | "NipVatUe" | "PeppolId";

/** Every {@link Kod2ContextType}, in the XSD order. */
export const KOD2_CONTEXT_TYPES: readonly Kod2ContextType[] = ["Nip", "InternalId", "NipVatUe", "PeppolId"];

/** The login context a KOD II link names: `{ type: "Nip", value: "5265877635" }`, `{ type: "InternalId", value: "5265877635-00017" }`, … */
export interface Kod2ContextIdentifier {
  readonly type: Kod2ContextType;
  readonly value: string;
}

/** SPEC/XSD `TNipVatUE`: a NIP, a dash and an EU VAT number (country prefix + national pattern). */
const NIP_VAT_UE =
  /^[1-9]((\d[1-9])|([1-9]\d))\d{7}-(ATU\d{8}|BE[01]{1}\d{9}|BG\d{9,10}|CY\d{8}[A-Z]|CZ\d{8,10}|DE\d{9}|DK\d{8}|EE\d{9}|EL\d{9}|ES([A-Z]\d{8}|\d{8}[A-Z]|[A-Z]\d{7}[A-Z])|FI\d{8}|FR[A-Z0-9]{2}\d{9}|HR\d{11}|HU\d{8}|IE(\d{7}[A-Z]{2}|\d[A-Z0-9+*]\d{5}[A-Z])|IT\d{11}|LT(\d{9}|\d{12})|LU\d{8}|LV\d{11}|MT\d{8}|NL[A-Z0-9+*]{12}|PT\d{9}|RO\d{2,10}|SE\d{12}|SI\d{8}|SK\d{10}|XI((\d{9}|\d{12})|(GD|HA)\d{3}))$/;
/** SPEC/XSD `TPeppolId`. */
const PEPPOL_ID = /^P[A-Z]{2}[0-9]{6}$/;

/**
 * Checks a login-context identifier of a KOD II link: NIP with `checkNip`, InternalId with
 * `checkInternalId`, NipVatUe and PeppolId with the SPEC patterns.
 * @param ctx the identifier
 * @param field field name for the violations (default `contextIdentifier`)
 * @returns violations (`contextIdentifier.type`, `nip.*`, `internalId.*`, `nipVatUe.format`, `peppolId.format`)
 */
export function checkKod2ContextIdentifier(ctx: Kod2ContextIdentifier, field = "contextIdentifier"): Violation[] {
  const value = typeof ctx.value === "string" ? ctx.value : "";
  switch (ctx.type) {
    case "Nip":
      return checkNip(value, `${field}.value`);
    case "InternalId":
      return checkInternalId(value, `${field}.value`);
    case "NipVatUe":
      return NIP_VAT_UE.test(value)
        ? []
        : [
            {
              field: `${field}.value`,
              rule: "nipVatUe.format",
              message: "A NipVatUe identifier is a NIP, a dash and an EU VAT number (e.g. 5265877635-DE123456789).",
            },
          ];
    case "PeppolId":
      return PEPPOL_ID.test(value)
        ? []
        : [
            {
              field: `${field}.value`,
              rule: "peppolId.format",
              message: "A Peppol provider identifier is P, two capital letters and six digits (e.g. PPL123456).",
            },
          ];
    default:
      return [
        {
          field: `${field}.type`,
          rule: "contextIdentifier.type",
          message: `The context identifier type must be one of ${KOD2_CONTEXT_TYPES.join(", ")}.`,
          params: { allowed: KOD2_CONTEXT_TYPES.join(", ") },
        },
      ];
  }
}

/**
 * The QR base URL of a target, without a trailing slash.
 * @param target an environment or an explicit base URL
 * @throws {KsefCertsError} `VALIDATION` (rule `qrBaseUrl.format`) for an unknown environment or a base URL
 *   that is not `http(s)://host[:port][/path]` without query, fragment or credentials
 */
export function resolveQrBaseUrl(target: QrTarget): string {
  if (target.environment !== undefined) {
    const endpoints = (KSEF_ENDPOINTS as Partial<Record<string, (typeof KSEF_ENDPOINTS)[KsefEnvironment]>>)[target.environment];
    if (endpoints === undefined) throw invalid("environment", "environment.unknown", `Unknown KSeF environment: use one of test, demo, production.`);
    return endpoints.qrBaseUrl;
  }
  const base = typeof target.qrBaseUrl === "string" ? target.qrBaseUrl.replace(/\/+$/, "") : "";
  // Only plain characters: the base is copied into the signed data byte for byte, so nothing may need escaping.
  if (base.length > MAX_BASE_URL_CHARS || !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~-]+)*$/.test(base)) {
    throw invalid(
      "qrBaseUrl",
      "qrBaseUrl.format",
      "The QR base URL must look like https://qr-test.ksef.mf.gov.pl (http or https, a host, optional port and path; no query or fragment).",
    );
  }
  return base;
}

/**
 * The environment whose QR base URL this is, if any.
 * @param base scheme, host and path, without a trailing slash (compared case-insensitively)
 */
export function environmentOfQrBase(base: string): KsefEnvironment | undefined {
  const lower = base.toLowerCase();
  for (const [env, endpoints] of Object.entries(KSEF_ENDPOINTS) as [KsefEnvironment, (typeof KSEF_ENDPOINTS)[KsefEnvironment]][]) {
    if (endpoints.qrBaseUrl === lower) return env;
  }
  return undefined;
}

/**
 * Whether a string is canonical base64url without padding (RFC 4648 §5): decoding and re-encoding gives it back.
 * @param text the encoded text
 */
export function isCanonicalBase64Url(text: string): boolean {
  // Non-canonical last characters only flip unused bits; accepting them lets a "tampered" link verify
  // (ksef-api #614), so equality after a round trip is required.
  return /^[A-Za-z0-9_-]*$/.test(text) && text.length % 4 !== 1 && Buffer.from(text, "base64url").toString("base64url") === text;
}

const SHA256_B64URL = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const SHA256_B64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * The invoice's SHA-256 as base64url without padding (43 characters), the form both links carry.
 * @param invoice the invoice file bytes, or its SHA-256
 * @throws {KsefCertsError} `VALIDATION` (rule `invoice.sha256`) for a hash that is not 32 bytes or not
 *   canonical base64/base64url; `TOO_LARGE` for an invoice file over {@link MAX_INVOICE_BYTES};
 *   `VALIDATION` (rule `invoice.empty`) for an empty file
 */
export function invoiceHashB64Url(invoice: InvoiceInput): string {
  if (invoice instanceof Uint8Array) {
    if (invoice.byteLength > MAX_INVOICE_BYTES) {
      throw new KsefCertsError("TOO_LARGE", `The invoice file is ${invoice.byteLength} bytes; KSeF accepts at most ${MAX_INVOICE_BYTES} bytes.`, {
        hint: "Pass the invoice XML exactly as sent to KSeF, or its SHA-256.",
        details: { sizeBytes: invoice.byteLength, limitBytes: MAX_INVOICE_BYTES },
      });
    }
    if (invoice.byteLength === 0) throw invalid("invoice", "invoice.empty", "The invoice file is empty: pass the invoice XML exactly as sent to KSeF.");
    return createHash("sha256").update(invoice).digest("base64url");
  }
  const h: unknown = (invoice as { sha256?: unknown } | null | undefined)?.sha256;
  if (h instanceof Uint8Array) {
    if (h.byteLength === 32) return Buffer.from(h.buffer, h.byteOffset, 32).toString("base64url");
  } else if (typeof h === "string") {
    if (SHA256_B64URL.test(h)) return h;
    if (SHA256_B64.test(h)) return h.slice(0, 43).replaceAll("+", "-").replaceAll("/", "_");
  }
  throw invalid(
    "invoice.sha256",
    "invoice.sha256",
    "The invoice hash must be a SHA-256: 32 bytes, 44 characters of base64 (as KSeF's invoiceHash) or 43 of base64url.",
  );
}

/**
 * The issue date (`P_1`) as the link writes it, `DD-MM-YYYY`.
 * @param issueDate `YYYY-MM-DD` (a real calendar date) or a Date (its UTC date)
 * @throws {KsefCertsError} `VALIDATION` (rule `issueDate.format`) for anything else
 */
export function linkDate(issueDate: string | Date): string {
  let y: number;
  let m: number;
  let d: number;
  if (issueDate instanceof Date) {
    if (Number.isNaN(issueDate.getTime())) throw badDate();
    y = issueDate.getUTCFullYear();
    m = issueDate.getUTCMonth() + 1;
    d = issueDate.getUTCDate();
  } else {
    const match = typeof issueDate === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(issueDate) : null;
    if (match === null) throw badDate();
    y = Number(match[1]);
    m = Number(match[2]);
    d = Number(match[3]);
    if (!isCalendarDate(y, m, d)) throw badDate();
  }
  if (y < 1000 || y > 9999) throw badDate();
  return `${String(d).padStart(2, "0")}-${String(m).padStart(2, "0")}-${y}`;
}

/**
 * Whether y-m-d exists in the proleptic Gregorian calendar.
 * @param y year
 * @param m month, 1–12
 * @param d day of the month
 */
export function isCalendarDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

function badDate(): KsefCertsError {
  return invalid("issueDate", "issueDate.format", "The issue date (P_1) must be a real date written YYYY-MM-DD, or a Date.");
}

/**
 * A one-violation `VALIDATION` error whose message is the violation's.
 * @param field the input's name
 * @param rule the stable rule id
 * @param message the human sentence
 */
export function invalid(field: string, rule: string, message: string): KsefCertsError {
  return new KsefCertsError("VALIDATION", message, { violations: [{ field, rule, message }] });
}

/**
 * Runs each check and gathers the violations of every `VALIDATION` failure, so the caller sees all
 * broken rules at once; other errors (TOO_LARGE) pass through.
 * @param checks functions that return a value or throw
 * @param violations collects the violations of failed checks
 * @returns the values of the checks that passed, in order (undefined for failed ones)
 */
export function gather<T extends readonly unknown[]>(checks: { [K in keyof T]: () => T[K] }, violations: Violation[]): { [K in keyof T]: T[K] | undefined } {
  return checks.map((check) => {
    try {
      return check();
    } catch (err) {
      if (err instanceof KsefCertsError && err.code === "VALIDATION") {
        violations.push(...err.violations);
        return undefined;
      }
      throw err;
    }
  }) as { [K in keyof T]: T[K] | undefined };
}
