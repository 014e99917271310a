import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { KSEF_OPERATIONS, type RateWindow } from "./operations.js";

interface SpecOperation {
  "x-rate-limits"?: { perSecond?: number; perMinute?: number; perHour?: number };
}
const spec = JSON.parse(readFileSync(new URL("../../../../../spec/open-api.json", import.meta.url), "utf8")) as {
  paths: Record<string, Record<string, SpecOperation>>;
};

function windowsOf(limits: SpecOperation["x-rate-limits"]): RateWindow[] {
  const out: RateWindow[] = [];
  if (limits?.perSecond !== undefined) out.push({ limit: limits.perSecond, windowMs: 1_000 });
  if (limits?.perMinute !== undefined) out.push({ limit: limits.perMinute, windowMs: 60_000 });
  if (limits?.perHour !== undefined) out.push({ limit: limits.perHour, windowMs: 3_600_000 });
  return out;
}

describe("KSEF_OPERATIONS", () => {
  for (const [name, op] of Object.entries(KSEF_OPERATIONS)) {
    it(`${name}: ${op.method} ${op.path} exists in spec/open-api.json with the same x-rate-limits`, () => {
      const specOp = spec.paths[op.path]?.[op.method.toLowerCase()];
      expect(specOp, `${op.method} ${op.path} not in the spec`).toBeDefined();
      expect(op.rateLimits).toEqual(windowsOf(specOp?.["x-rate-limits"]));
    });
  }
  it("marks exactly enrollment, XAdES submission and token redemption as non-idempotent", () => {
    const nonIdempotent = Object.entries(KSEF_OPERATIONS)
      .filter(([, op]) => !op.idempotent)
      .map(([n]) => n)
      .sort();
    expect(nonIdempotent).toEqual(["enrollCertificate", "redeemToken", "submitXadesSignature"]);
  });
});
