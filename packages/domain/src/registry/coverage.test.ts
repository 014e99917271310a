import { and, eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import { certificates } from "../store/schema.js";
import { DAY, testCertificate, testKey, type TestKey } from "./__fixtures__/certs.js";
import { recordCertificate, type ResolvedScope } from "./certificates.js";
import { computeCoverage, type CoverageCertificate, coverageAtSql, coveredSpan, type MsInterval, uncovered } from "./coverage.js";
import { addCompany } from "./organisation.js";

const T0 = new Date("2026-03-01T12:00:00Z");
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);

const interval = fc.tuple(fc.integer({ min: -50, max: 150 }), fc.integer({ min: 0, max: 80 })).map(([from, len]): MsInterval => ({ from, to: from + len }));

describe("coverage: uncovered", () => {
  it("a point of the range is in a gap exactly when no span holds it; gaps are ordered, disjoint and not adjacent", () => {
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 8 }), interval, (spans, range) => {
        const gaps = uncovered(spans, range.from, range.to);
        for (let t = range.from - 2; t < range.to + 2; t++) {
          const inRange = t >= range.from && t < range.to;
          const held = spans.some((s) => s.from <= t && t < s.to);
          const inGap = gaps.some((g) => g.from <= t && t < g.to);
          expect(inGap).toBe(inRange && !held);
        }
        for (let i = 1; i < gaps.length; i++) expect((gaps[i] as MsInterval).from).toBeGreaterThan((gaps[i - 1] as MsInterval).to);
        for (const g of gaps) expect(g.to).toBeGreaterThan(g.from);
      }),
    );
  });
});

/** A certificate row for {@link coveredSpan}/{@link computeCoverage}, company scope, TEST Authentication unless given. */
function cert(id: string, fromDay: number, toDay: number, extra: Partial<CoverageCertificate> = {}): CoverageCertificate {
  return {
    id,
    scopeType: "company",
    companyId: "c1",
    branchId: null,
    operatorId: null,
    environment: "test",
    certificateType: "Authentication",
    status: "active",
    validFrom: at(fromDay),
    validTo: at(toDay),
    revokedAt: null,
    ...extra,
  };
}

describe("coverage: what covers", () => {
  it("a certificate covers from validFrom to validTo, or to its revocation when that came first", () => {
    expect(coveredSpan(cert("a", 0, 10))).toEqual({ from: at(0).getTime(), to: at(10).getTime() });
    expect(coveredSpan(cert("r", 0, 10, { status: "revoked", revokedAt: at(4) }))).toEqual({ from: at(0).getTime(), to: at(4).getTime() });
    expect(coveredSpan(cert("late", 0, 10, { status: "revoked", revokedAt: at(20) }))).toEqual({ from: at(0).getTime(), to: at(10).getTime() });
    expect(coveredSpan(cert("untimed", 0, 10, { status: "revoked" }))).toBeNull();
    expect(coveredSpan(cert("early", 5, 10, { status: "revoked", revokedAt: at(2) }))).toBeNull();
  });

  it("computes every slot asked for, in order, and ignores other slots' certificates", () => {
    const company: ResolvedScope = { type: "company", companyId: "c1", branchId: null, operatorId: null };
    const branch: ResolvedScope = { type: "branch", companyId: "c1", branchId: "b1", operatorId: null };
    const slots = computeCoverage({
      scopes: [company, branch],
      environments: ["test"],
      certificateTypes: ["Authentication", "Offline"],
      certificates: [
        cert("late", 20, 40),
        cert("early", 0, 10),
        cert("offline", 0, 40, { certificateType: "Offline" }),
        cert("branch", 0, 40, { scopeType: "branch", branchId: "b1" }),
        cert("otherBranch", 0, 40, { scopeType: "branch", branchId: "b2" }),
        cert("demo", 0, 40, { environment: "demo" }),
      ],
      from: at(0).getTime(),
      to: at(30).getTime(),
    });
    const view = slots.map((s) => [s.scope.type, s.certificateType, s.spans.map((x) => x.certificate.id), s.gaps.map((g) => [g.from, g.to])]);
    expect(view).toEqual([
      ["company", "Authentication", ["early", "late"], [[at(10).getTime(), at(20).getTime()]]],
      ["company", "Offline", ["offline"], []],
      ["branch", "Authentication", ["branch"], []],
      ["branch", "Offline", [], [[at(0).getTime(), at(30).getTime()]]],
    ]);
  });
});

let key: TestKey;
beforeAll(async () => {
  key = await testKey();
});

describeEachDb("coverage: the SQL form", (ctx) => {
  it("coverageAtSql agrees with coveredSpan on any dates, status and revocation time", async () => {
    const { db } = ctx();
    const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, { actor: "test", at: T0 });
    const row = await recordCertificate(
      db,
      {
        scope: { type: "company", companyId: company.id },
        environment: "test",
        mode: "current",
        name: "Coverage",
        certificateDer: await testCertificate(key, "Authentication", at(0), 30),
        keyFile: key.keyFile,
        source: "imported",
      },
      { actor: "test", at: T0 },
    );
    const day = fc.integer({ min: -40, max: 80 });
    await fc.assert(
      fc.asyncProperty(
        day,
        fc.integer({ min: 1, max: 60 }),
        fc.boolean(),
        fc.option(day, { nil: null }),
        day,
        async (from, len, revoked, revokedDay, onDay) => {
          const c = cert(row.id, from, from + len, { status: revoked ? "revoked" : "active", revokedAt: revokedDay === null ? null : at(revokedDay) });
          await db
            .update(certificates)
            .set({ validFrom: c.validFrom, validTo: c.validTo, status: c.status, revokedAt: c.revokedAt })
            .where(eq(certificates.id, row.id));
          const on = at(onDay);
          const hits = await db
            .select({ n: sql<number>`count(*)::int` })
            .from(certificates)
            .where(and(eq(certificates.id, row.id), coverageAtSql(on)));
          const ended = await db
            .select({ n: sql<number>`count(*)::int` })
            .from(certificates)
            .where(and(eq(certificates.id, row.id), coverageAtSql(on, true)));
          const span = coveredSpan(c);
          const covers = span !== null && span.from <= on.getTime() && on.getTime() < span.to;
          expect(hits[0]?.n === 1).toBe(covers);
          expect(ended[0]?.n === 1).toBe(c.validFrom.getTime() <= on.getTime() && !covers);
        },
      ),
      { numRuns: 60 },
    );
  });
});
