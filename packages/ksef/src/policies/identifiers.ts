/**
 * Polish and KSeF identifiers: NIP, PESEL and InternalId, with their check digits.
 */
import { assertNoViolations, violation, type Violation } from "../errors.js";
import { msg } from "../messages/index.js";

const NIP_WEIGHTS = [6, 5, 7, 2, 3, 4, 5, 6, 7] as const;
const PESEL_WEIGHTS = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3] as const;
/** KSeF XSD `TNIP` (schemat_auth_v2-0.xsd): no leading zero, and digits 2–3 not both zero. */
const KSEF_NIP_PATTERN = /^[1-9]((\d[1-9])|([1-9]\d))\d{7}$/;

const digits = (s: string): number[] => Array.from(s).map((c) => c.charCodeAt(0) - 48);

/**
 * Strips what people type around a NIP: spaces, dashes and a `PL` prefix (`PL 526-587-76-35` → `5265877635`).
 * @param input text as typed
 */
export function normalizeNip(input: string): string {
  return input.replace(/^\s*PL/i, "").replace(/[\s-]/g, "");
}

/**
 * NIP check digit (Ministry of Finance regulation on NIP, weights 6,5,7,2,3,4,5,6,7, sum mod 11; a
 * remainder of 10 is never issued).
 * @param first9 the first nine digits
 * @returns the check digit, or `undefined` when no valid NIP starts with these digits
 */
export function nipCheckDigit(first9: string): number | undefined {
  const sum = digits(first9).reduce((acc, d, i) => acc + d * (NIP_WEIGHTS[i] ?? 0), 0) % 11;
  return sum === 10 ? undefined : sum;
}

/**
 * Checks a NIP (10 digits, no separators; see {@link normalizeNip}).
 * @param value the NIP
 * @param field field name used in violations (default `nip`)
 * @returns violations: `nip.format` (not 10 digits), `nip.pattern` (KSeF XSD `TNIP`), `nip.checksum`
 */
export function checkNip(value: string, field = "nip"): Violation[] {
  if (!/^\d{10}$/.test(value)) return [violation(field, "nip.format")];
  const v: Violation[] = [];
  if (!KSEF_NIP_PATTERN.test(value)) v.push(violation(field, "nip.pattern"));
  if (nipCheckDigit(value.slice(0, 9)) !== Number(value[9])) v.push(violation(field, "nip.checksum"));
  return v;
}

/**
 * Whether `value` is a valid NIP ({@link checkNip} finds nothing).
 * @param value the NIP
 */
export function isValidNip(value: string): boolean {
  return checkNip(value).length === 0;
}

/**
 * Birth date encoded in a PESEL (month offsets: +80 for 1800s, +0 for 1900s, +20 for 2000s, +40 for
 * 2100s, +60 for 2200s), or `undefined` when the date does not exist.
 * @param pesel 11 digits
 * @returns ISO date `YYYY-MM-DD`
 */
export function peselBirthDate(pesel: string): string | undefined {
  if (!/^\d{11}$/.test(pesel)) return undefined;
  const yy = Number(pesel.slice(0, 2));
  const mm = Number(pesel.slice(2, 4));
  const dd = Number(pesel.slice(4, 6));
  const century = [1900, 2000, 2100, 2200, 1800][Math.floor(mm / 20)];
  const month = mm % 20;
  if (century === undefined || month < 1 || month > 12) return undefined;
  const year = century + yy;
  const date = new Date(Date.UTC(year, month - 1, dd));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== dd) return undefined;
  return date.toISOString().slice(0, 10);
}

/**
 * PESEL check digit (weights 1,3,7,9,1,3,7,9,1,3; (10 − sum mod 10) mod 10).
 * @param first10 the first ten digits
 */
export function peselCheckDigit(first10: string): number {
  const sum = digits(first10).reduce((acc, d, i) => acc + d * (PESEL_WEIGHTS[i] ?? 0), 0);
  return (10 - (sum % 10)) % 10;
}

/**
 * Checks a PESEL.
 * @param value the PESEL
 * @param field field name used in violations (default `pesel`)
 * @returns violations: `pesel.format` (not 11 digits), `pesel.birthDate` (no such date), `pesel.checksum`
 */
export function checkPesel(value: string, field = "pesel"): Violation[] {
  if (!/^\d{11}$/.test(value)) return [violation(field, "pesel.format")];
  const v: Violation[] = [];
  if (peselBirthDate(value) === undefined) v.push(violation(field, "pesel.birthDate"));
  if (peselCheckDigit(value.slice(0, 10)) !== Number(value[10])) v.push(violation(field, "pesel.checksum"));
  return v;
}

/**
 * Whether `value` is a valid PESEL ({@link checkPesel} finds nothing).
 * @param value the PESEL
 */
export function isValidPesel(value: string): boolean {
  return checkPesel(value).length === 0;
}

/**
 * InternalId check digit: over the NIP's 10 digits and the first 4 of the suffix, weights 1 and 3
 * alternating from the first digit, sum mod 10. Source: the official Java client's identifier
 * generator, CIRFMF/ksef-client-java `pl.akmf.ksef.sdk.util.IdentifierGeneratorUtils.getInternalIdCheckSum`
 * (used by its `generateInternalIdentifier` and by the sub-unit permission E2E test against KSeF TEST).
 * The ministry's docs state the `NIP-NNNNN` format only (XSD `TIID`), not the check digit.
 * @param nip the NIP part (10 digits)
 * @param first4 the first four digits of the 5-digit suffix
 */
export function internalIdCheckDigit(nip: string, first4: string): number {
  return digits(nip + first4).reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 1 : 3), 0) % 10;
}

/**
 * Checks a KSeF InternalId (identyfikator wewnętrzny): `NIP-NNNNN` (KSeF XSD `TIID`), where the NIP
 * is valid and the last digit is the check digit ({@link internalIdCheckDigit}).
 * @param value the InternalId
 * @param field field name used in violations (default `internalId`)
 * @returns violations: `internalId.format`, the NIP part's `nip.*` rules, `internalId.checksum`
 */
export function checkInternalId(value: string, field = "internalId"): Violation[] {
  const m = /^(\d{10})-(\d{4})(\d)$/.exec(value);
  if (!m) return [violation(field, "internalId.format")];
  const [, nip = "", first4 = "", check = ""] = m;
  const v = checkNip(nip, field);
  if (internalIdCheckDigit(nip, first4) !== Number(check)) v.push(violation(field, "internalId.checksum"));
  return v;
}

/**
 * Whether `value` is a valid InternalId ({@link checkInternalId} finds nothing).
 * @param value the InternalId
 */
export function isValidInternalId(value: string): boolean {
  return checkInternalId(value).length === 0;
}

/**
 * {@link checkNip} that throws.
 * @param value the NIP
 * @param field field name used in violations (default `nip`)
 * @throws {KsefCertsError} `VALIDATION` listing every violation
 */
export function assertNip(value: string, field = "nip"): void {
  assertNoViolations(checkNip(value, field), msg("policy.nip.invalid"));
}

/**
 * {@link checkPesel} that throws.
 * @param value the PESEL
 * @param field field name used in violations (default `pesel`)
 * @throws {KsefCertsError} `VALIDATION` listing every violation
 */
export function assertPesel(value: string, field = "pesel"): void {
  assertNoViolations(checkPesel(value, field), msg("policy.pesel.invalid"));
}

/**
 * {@link checkInternalId} that throws.
 * @param value the InternalId
 * @param field field name used in violations (default `internalId`)
 * @throws {KsefCertsError} `VALIDATION` listing every violation
 */
export function assertInternalId(value: string, field = "internalId"): void {
  assertNoViolations(checkInternalId(value, field), msg("policy.internalId.invalid"));
}

/**
 * Throws when `value` is not a valid identifier of `kind`.
 * @param kind `nip`, `pesel` or `internalId`
 * @param value the identifier
 * @throws {KsefCertsError} `VALIDATION` listing every violation
 */
export function assertIdentifier(kind: "nip" | "pesel" | "internalId", value: string): void {
  const check = { nip: checkNip, pesel: checkPesel, internalId: checkInternalId }[kind];
  assertNoViolations(check(value), msg(`policy.${kind}.invalid`));
}
