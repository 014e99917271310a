/**
 * Reading the SPEC's `format: date-time` strings (RFC 3339 §5.6) into instants, and the range of
 * instants a certificate can carry.
 *
 * Every form the OpenAPI validator lets through (ajv-formats `date-time`) is read here, exactly:
 * `T`, `t` or a space between date and time; `Z`, `z`, `+hh`, `+hhmm` or `+hh:mm` offsets; any
 * number of fractional digits; a leap second `:60` where the validator allows one. Only an hour 24 or
 * a minute 60 is refused although the validator passes it: its leap-second rule looks at the UTC hour
 * and minute alone, so `24:59:00+01:00` gets through. `new Date()` cannot be used instead: it answers
 * NaN for `+hh` offsets and for leap seconds; nor `Date.UTC`, which turns years 0000–0099 into 1900–1999.
 */

/** A date-time as RFC 3339 §5.6 writes it, with the relaxations ajv-formats accepts. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

/** Days per month of a common year. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Milliseconds per day. */
export const MS_PER_DAY = 86_400_000;

/**
 * Earliest instant an X.509 certificate can carry, ms since the epoch: GeneralizedTime has a
 * four-digit year (RFC 5280 §4.1.2.5.2), so 0000-01-01T00:00:00Z.
 */
export const EARLIEST_CERTIFICATE_TIME_MS = Date.parse("0000-01-01T00:00:00Z");

/** Latest instant an X.509 certificate can carry, ms since the epoch: 9999-12-31T23:59:59Z (RFC 5280 §4.1.2.5.2). */
export const LATEST_CERTIFICATE_TIME_MS = Date.parse("9999-12-31T23:59:59Z");

/** What {@link parseDateTime} makes of a string. */
export type ParsedDateTime =
  /** The instant, to the millisecond (further fractional digits are cut off). */
  | { readonly kind: "instant"; readonly date: Date }
  /** A valid leap second (`23:59:60` in UTC): RFC 3339 allows it, a JavaScript Date and an X.509 time cannot hold it. */
  | { readonly kind: "leap-second" }
  /** Not a date-time at all (wrong shape, month 13, 30 February, offset +24:00, …). */
  | { readonly kind: "invalid" };

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/**
 * Reads a `format: date-time` string (RFC 3339 §5.6, https://www.rfc-editor.org/rfc/rfc3339#section-5.6).
 * Leap seconds are recognised where RFC 3339 §5.7 places them: at 23:59:60 UTC once the offset is applied.
 * @param text the string as received
 * @returns the instant, `leap-second`, or `invalid`; never throws
 */
export function parseDateTime(text: string): ParsedDateTime {
  const m = DATE_TIME.exec(text);
  if (m === null) return { kind: "invalid" };
  const n = (i: number): number => Number(m[i] ?? "0");
  const [year, month, day, hour, minute, second] = [n(1), n(2), n(3), n(4), n(5), n(6)];
  const monthDays = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 60) return { kind: "invalid" };
  const sign = m[9] === "-" ? -1 : 1;
  const offsetHours = n(10);
  const offsetMinutes = n(11);
  if (offsetHours > 23 || offsetMinutes > 59) return { kind: "invalid" };
  const offsetMs = m[8] === undefined ? sign * (offsetHours * 60 + offsetMinutes) * 60_000 : 0;
  const wallClock = new Date(0);
  // setUTCFullYear keeps years 0000-0099 as written (Date.UTC would turn them into 1900-1999).
  wallClock.setUTCFullYear(year, month - 1, day);
  wallClock.setUTCHours(hour, minute, 0, 0);
  const utcMinute = new Date(wallClock.getTime() - offsetMs);
  if (second === 60) {
    return utcMinute.getUTCHours() === 23 && utcMinute.getUTCMinutes() === 59 ? { kind: "leap-second" } : { kind: "invalid" };
  }
  const millis = Number((m[7] ?? "").slice(0, 3).padEnd(3, "0"));
  return { kind: "instant", date: new Date(utcMinute.getTime() + second * 1000 + millis) };
}
