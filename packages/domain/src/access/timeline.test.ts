import { rejection } from "@ksef-certs/ksef/testing";
import { beforeAll, expect, it } from "vitest";
import { DAY, testCertificate, testKey, type TestKey } from "../registry/__fixtures__/certs.js";
import { recordCertificate, revokeCertificateLocally, type Scope } from "../registry/certificates.js";
import { addBranch, addCompany, addOperator } from "../registry/organisation.js";
import { coverageGaps } from "../registry/reports.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import type { Principal } from "./rules.js";
import { certificateTimelineAs, type TimelineRow } from "./timeline.js";

const T0 = new Date("2026-03-01T12:00:00Z");
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);
const META = { actor: "test", at: T0 };
let key: TestKey;
beforeAll(async () => {
  key = await testKey();
});

const principal = (roles: Principal["roles"]): Principal => ({ userId: "u", login: "u", displayName: "U", locale: "en", roles });

/** Two companies; the first with branches B1 (Jan) and B2 (Anna) and certificates that leave gaps on some days. */
async function world(db: Db) {
  const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, META);
  const other = await addCompany(db, { nip: "7740001454", name: "Inna" }, META);
  const b1 = await addBranch(db, { companyId: company.id, code: "B1", name: "Kraków" }, META);
  const b2 = await addBranch(db, { companyId: company.id, code: "B2", name: "Gdańsk" }, META);
  const jan = await addOperator(db, { companyId: company.id, name: "Jan", branchIds: [b1.id] }, META);
  await addOperator(db, { companyId: company.id, name: "Anna", branchIds: [b2.id] }, META);
  const record = async (scope: Scope, type: "Authentication" | "Offline", mode: "current" | "queued", fromDay: number, days: number) =>
    recordCertificate(
      db,
      {
        scope,
        environment: "test",
        mode,
        name: `${type} ${fromDay}`,
        certificateDer: await testCertificate(key, type, at(fromDay), days),
        keyFile: key.keyFile,
        source: "imported",
      },
      META,
    );
  const certs = {
    company: await record({ type: "company", companyId: company.id }, "Authentication", "current", -10, 120),
    b1: await record({ type: "branch", branchId: b1.id }, "Authentication", "current", -10, 40),
    b1Next: await record({ type: "branch", branchId: b1.id }, "Authentication", "queued", 50, 100),
    jan: await record({ type: "operator", operatorId: jan.id }, "Authentication", "current", -10, 25),
    b2Offline: await record({ type: "branch", branchId: b2.id }, "Offline", "current", -10, 200),
    other: await record({ type: "company", companyId: other.id }, "Offline", "current", -10, 200),
  };
  await revokeCertificateLocally(db, certs.b2Offline.id, "Superseded", { actor: "test", at: at(5) });
  return { company, other, b1, b2, jan, certs };
}

const SUPER = principal([{ role: "super_admin", companyId: null, branchId: null }]);
const key_ = (r: { scope: TimelineRow["scope"]; certificateType: string }): string =>
  `${r.scope.type}:${r.scope.branchId ?? r.scope.operatorId ?? r.scope.companyId}/${r.certificateType}`;

describeEachDb("access: the expiry timeline", (ctx) => {
  it("has a gap on a day exactly where the coverage-gap report names the slot, for every day of the range", async () => {
    const { db } = ctx();
    await world(db);
    const { rows } = await certificateTimelineAs(db, SUPER, { environment: "test", from: at(-5), to: at(130), at: T0 });
    for (const day of [-5, 0, 4, 5, 14, 15, 29, 30, 45, 49, 50, 100, 109, 110, 129]) {
      const on = at(day).getTime();
      const fromTimeline = rows
        .filter((r) => r.gaps.some((g) => g.from.getTime() <= on && on < g.to.getTime()))
        .map(key_)
        .sort();
      const fromReport = (await coverageGaps(db, { on: at(day), environment: "test", at: T0 })).map(key_).sort();
      expect({ day, gaps: fromTimeline }).toEqual({ day, gaps: fromReport });
    }
  });

  it("cuts a revoked certificate's span at its revocation and orders spans and rows", async () => {
    const { db } = ctx();
    const w = await world(db);
    const { rows, truncated } = await certificateTimelineAs(db, SUPER, { companyId: w.company.id, environment: "test", from: at(-5), to: at(130), at: T0 });
    expect(truncated).toBe(false);
    expect(rows.map((r) => `${r.label.branchCode ?? r.label.operatorName ?? r.label.companyNip} ${r.certificateType}`)).toEqual([
      "5265877635 Authentication",
      "5265877635 Offline",
      "B1 Authentication",
      "B1 Offline",
      "B2 Authentication",
      "B2 Offline",
      "Anna Authentication",
      "Anna Offline",
      "Jan Authentication",
      "Jan Offline",
    ]);
    const b2Offline = rows.find((r) => r.scope.branchId === w.b2.id && r.certificateType === "Offline");
    expect(b2Offline?.spans.map((s) => [s.id, s.validTo.toISOString()])).toEqual([[w.certs.b2Offline.id, at(5).toISOString()]]);
    expect(b2Offline?.gaps.map((g) => [g.from.toISOString(), g.to.toISOString()])).toEqual([[at(5).toISOString(), at(130).toISOString()]]);
    const b1 = rows.find((r) => r.scope.branchId === w.b1.id && r.certificateType === "Authentication");
    expect(b1?.spans.map((s) => [s.id, s.mode])).toEqual([
      [w.certs.b1.id, "current"],
      [w.certs.b1Next.id, "queued"],
    ]);
    expect(b1?.gaps.map((g) => [g.from.toISOString(), g.to.toISOString()])).toEqual([[at(30).toISOString(), at(50).toISOString()]]);
  });

  it("shows a branch admin its branch, its operators and the company row only, and hides other companies", async () => {
    const { db } = ctx();
    const w = await world(db);
    const admin = principal([{ role: "branch_admin", companyId: w.company.id, branchId: w.b1.id }]);
    const { rows } = await certificateTimelineAs(db, admin, { environment: "test", from: at(-5), to: at(130), at: T0 });
    expect([...new Set(rows.map((r) => r.scope.branchId ?? r.scope.operatorId ?? r.scope.companyId))]).toEqual([w.company.id, w.b1.id, w.jan.id]);
    expect(rows.flatMap((r) => r.spans.map((s) => s.id))).not.toContain(w.certs.b2Offline.id);
    expect((await rejection(certificateTimelineAs(db, admin, { companyId: w.other.id, environment: "test", from: at(0), to: at(10), at: T0 }))).code).toBe(
      "NOT_FOUND",
    );
    const nobody = principal([]);
    expect((await certificateTimelineAs(db, nobody, { environment: "test", from: at(0), to: at(10), at: T0 })).rows).toEqual([]);
  });

  it("refuses an empty, reversed or over-long range with the rule broken", async () => {
    const { db } = ctx();
    for (const [from, to] of [
      [at(0), at(0)],
      [at(10), at(0)],
      [at(0), at(3 * 366 + 1)],
    ] as const) {
      const err = await rejection(certificateTimelineAs(db, SUPER, { environment: "test", from, to, at: T0 }));
      expect(err.code).toBe("VALIDATION");
      expect(err.violations.map((v) => v.rule)).toEqual(["to.range"]);
    }
  });
});
