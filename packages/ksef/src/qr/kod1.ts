/**
 * KOD I: the invoice verification link printed on every invoice shown outside KSeF (online and
 * offline). Source: ksef-docs `kody-qr.md`.
 */
import { KsefCertsError, type Violation } from "../errors.js";
import { checkNip } from "../policies/identifiers.js";
import { gather, type InvoiceInput, invoiceHashB64Url, linkDate, type QrTarget, resolveQrBaseUrl } from "./common.js";

/** Input of {@link kod1Url}: where the link points, and the invoice. */
export type Kod1Input = QrTarget & {
  /** NIP of the seller (Podmiot1), 10 digits. */
  readonly sellerNip: string;
  /** Issue date `P_1`: `YYYY-MM-DD` or a Date (its UTC calendar date). */
  readonly issueDate: string | Date;
  /** The invoice XML bytes exactly as sent to KSeF, or its SHA-256 (bytes, base64 or base64url). */
  readonly invoice: InvoiceInput;
};

/**
 * Builds a KOD I link: `{qrBase}/invoice/{sellerNip}/{DD-MM-YYYY}/{SHA-256 of the invoice, base64url, no padding}`,
 * e.g. `https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE`.
 * Label under its QR code: the KSeF number, or `OFFLINE` before the invoice has one (`kod1Label`).
 * Source: ksef-docs `kody-qr.md`.
 * @param input target (environment or base URL), seller NIP, issue date, invoice
 * @returns the link (ASCII)
 * @throws {KsefCertsError} `VALIDATION` listing every broken rule (`nip.*` on `sellerNip`, `issueDate.format`,
 *   `invoice.sha256`, `invoice.empty`, `qrBaseUrl.format`); `TOO_LARGE` for an invoice over 3 MiB
 */
export function kod1Url(input: Kod1Input): string {
  const violations: Violation[] = [];
  const [base, date, hash] = gather<[string, string, string]>(
    [() => resolveQrBaseUrl(input), () => linkDate(input.issueDate), () => invoiceHashB64Url(input.invoice)],
    violations,
  );
  const nip = typeof input.sellerNip === "string" ? input.sellerNip : "";
  violations.push(...checkNip(nip, "sellerNip"));
  if (violations.length > 0 || base === undefined || date === undefined || hash === undefined) {
    throw new KsefCertsError("VALIDATION", `Cannot build the KOD I link: ${violations.map((v) => v.message).join("; ")}`, { violations });
  }
  return `${base}/invoice/${nip}/${date}/${hash}`;
}
