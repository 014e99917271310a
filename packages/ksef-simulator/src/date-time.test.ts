import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dateTimeLike, dateTimeParts, formatDateTime } from "./__fixtures__/date-times.js";
import { parseDateTime } from "./date-time.js";
import { openApiValidator } from "./openapi/validator.js";

/** A time of day with hour 24 or more, or minute 60 or more. */
const OUT_OF_RANGE_CLOCK = /^\d{4}-\d{2}-\d{2}[Tt ](?:2[4-9]|[3-9]\d):\d{2}|^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:[6-9]\d/;

/** Whether the OpenAPI validator takes the string as the `validFrom` (`format: date-time`) of an enrollment. */
function validatorAccepts(validFrom: string): boolean {
  const body = { certificateName: "Kasa 1", certificateType: "Offline", csr: "MIIB", validFrom };
  return openApiValidator().validateRequest("POST", "/certificates/enrollments", { body }).length === 0;
}

describe("parseDateTime", () => {
  it("reads what the OpenAPI validator accepts as a date-time, except the hour 24 and minute 60 its leap-second rule lets through (property)", () => {
    fc.assert(
      fc.property(fc.oneof(dateTimeLike, fc.string({ maxLength: 40 })), (text) => {
        const parsed = parseDateTime(text).kind !== "invalid";
        if (parsed) expect(validatorAccepts(text), text).toBe(true);
        else if (validatorAccepts(text)) expect(OUT_OF_RANGE_CLOCK.test(text), text).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses the hour 24 and minute 60 that ajv-formats takes for a leap second once the offset is applied", () => {
    for (const text of ["2026-01-01T24:59:00+01:00", "2026-01-01T23:60:00+00:01"]) {
      expect(validatorAccepts(text), text).toBe(true);
      expect(parseDateTime(text).kind, text).toBe("invalid");
    }
  });

  it("gives the instant Date.parse gives for the same value written canonically, to the millisecond (property)", () => {
    fc.assert(
      fc.property(dateTimeParts, (parts) => {
        const parsed = parseDateTime(formatDateTime(parts));
        fc.pre(parsed.kind === "instant");
        const canonical = formatDateTime({ ...parts, fraction: parts.fraction?.slice(0, 3) }, true);
        expect(parsed.date.getTime(), formatDateTime(parts)).toBe(Date.parse(canonical));
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps years 0000-0099 and recognises leap seconds only at 23:59:60 UTC", () => {
    expect(parseDateTime("0050-06-01T00:00:00Z")).toEqual({ kind: "instant", date: new Date("0050-06-01T00:00:00.000Z") });
    expect(parseDateTime("0000-01-01T00:30:00+01")).toEqual({ kind: "instant", date: new Date(Date.parse("0000-01-01T00:00:00Z") - 30 * 60_000) });
    expect(parseDateTime("2016-12-31T23:59:60Z").kind).toBe("leap-second");
    expect(parseDateTime("2016-12-31T23:59:60.999z").kind).toBe("leap-second");
    expect(parseDateTime("2016-12-31T18:59:60-05:00").kind).toBe("leap-second");
    expect(parseDateTime("2016-12-31T23:58:60Z").kind).toBe("invalid");
    expect(parseDateTime("2016-12-31T23:59:61Z").kind).toBe("invalid");
    expect(parseDateTime("2030-02-29T00:00:00Z").kind).toBe("invalid");
    expect(parseDateTime("2028-02-29T00:00:00+24:00").kind).toBe("invalid");
    expect(parseDateTime("+275760-09-13T00:00:00Z").kind).toBe("invalid");
  });
});
