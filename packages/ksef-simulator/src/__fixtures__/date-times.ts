/**
 * fast-check arbitraries of `format: date-time` strings (RFC 3339 §5.6) with every part pushed past its
 * range, in every form the OpenAPI validator lets through (separators `T`/`t`/space, `Z`/`z`, `+hh`,
 * `+hhmm`, `+hh:mm`, any number of fractional digits), for property tests of date handling.
 */
import fc from "fast-check";

/** The parts of a date-time string, each possibly out of range. */
export interface DateTimeParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Fractional-second digits, without the dot. */
  readonly fraction: string | undefined;
  readonly separator: "T" | "t" | " ";
  /** `Z`/`z`, or an offset: sign, hours, minutes and how they are written (`+hh:mm`, `+hhmm`, `+hh`). */
  readonly zone: "Z" | "z" | { readonly sign: "+" | "-"; readonly hours: number; readonly minutes: number; readonly style: "colon" | "compact" | "hours" };
}

/** Parts with edges of every range (year 0000 and 9999, month 0 and 13, second 60 and 61, offset 24:60). */
export const dateTimeParts: fc.Arbitrary<DateTimeParts> = fc.record({
  year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 99, 100, 1949, 1950, 2049, 2050, 9997, 9998, 9999)),
  month: fc.integer({ min: 0, max: 13 }),
  day: fc.integer({ min: 0, max: 32 }),
  hour: fc.oneof(fc.integer({ min: 0, max: 24 }), fc.constant(23)),
  minute: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.constant(59)),
  second: fc.oneof(fc.integer({ min: 0, max: 61 }), fc.constant(60)),
  fraction: fc.option(fc.stringMatching(/^\d{1,12}$/), { nil: undefined }),
  separator: fc.constantFrom("T" as const, "t" as const, " " as const),
  zone: fc.oneof(
    fc.constantFrom("Z" as const, "z" as const),
    fc.record({
      sign: fc.constantFrom("+" as const, "-" as const),
      hours: fc.integer({ min: 0, max: 24 }),
      minutes: fc.integer({ min: 0, max: 60 }),
      style: fc.constantFrom("colon" as const, "compact" as const, "hours" as const),
    }),
  ),
});

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/**
 * Writes parts as a date-time string.
 * @param p the parts
 * @param canonical write `T`, `Z` and `+hh:mm` whatever the parts say (the form `Date.parse` reads reliably)
 */
export function formatDateTime(p: DateTimeParts, canonical = false): string {
  const fraction = p.fraction === undefined ? "" : `.${p.fraction}`;
  let zone: string;
  if (typeof p.zone === "string") zone = canonical ? "Z" : p.zone;
  else if (canonical || p.zone.style === "colon") zone = `${p.zone.sign}${two(p.zone.hours)}:${two(p.zone.style === "hours" ? 0 : p.zone.minutes)}`;
  else zone = `${p.zone.sign}${two(p.zone.hours)}${p.zone.style === "compact" ? two(p.zone.minutes) : ""}`;
  const separator = canonical ? "T" : p.separator;
  return `${String(p.year).padStart(4, "0")}-${two(p.month)}-${two(p.day)}${separator}${two(p.hour)}:${two(p.minute)}:${two(p.second)}${fraction}${zone}`;
}

/** Date-time-shaped strings, valid or not. */
export const dateTimeLike: fc.Arbitrary<string> = dateTimeParts.map((p) => formatDateTime(p));
