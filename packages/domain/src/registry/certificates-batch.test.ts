import { generateKeyPairSync } from "node:crypto";
import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { auditLog, certificates } from "../store/schema.js";
import { DAY, testCertificate, testKey } from "./__fixtures__/certs.js";
import { promoteQueued, recordCertificate, recordCertificates, type RecordCertificateInput, type RecordOutcome } from "./certificates.js";
import { inTransaction } from "./internal.js";
import { addBranch, addCompany, addOperator } from "./organisation.js";

const T0 = new Date("2026-11-30T12:00:00Z");
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);
const META = { actor: "importer", at: T0 };
const MISSING = "00000000-0000-4000-8000-000000000000";

type Der = Uint8Array;
interface Material {
  keyFile: Uint8Array;
  plainKey: Uint8Array;
  /** [type, validFrom day, days] → DER, made once so both runs see the same serials. */
  der: Record<string, Der>;
}

async function material(): Promise<Material> {
  const key = await testKey();
  const plainKey = new TextEncoder().encode(key.keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  const specs: [string, "Authentication" | "Offline", number, number][] = [
    ["auth1", "Authentication", -10, 400],
    ["auth2", "Authentication", -5, 400],
    ["auth3", "Authentication", -1, 400],
    ["auth4", "Authentication", -2, 400],
    ["off1", "Offline", -10, 400],
    ["off2", "Offline", -3, 400],
    ["off3", "Offline", -4, 400],
    ["expired", "Authentication", -400, 30],
    ["oldCurrent", "Offline", -400, 395],
    ["due", "Offline", -20, 400],
    ["op1", "Authentication", -1, 100],
    ["pre", "Authentication", -30, 400],
  ];
  const der: Record<string, Der> = {};
  for (const [name, type, from, days] of specs) der[name] = await testCertificate(key, type, at(from), days);
  // A key KSeF never certifies: the batch refuses it as UNSUPPORTED, as one by one does.
  der["p384"] = await testCertificate({ ...key, keys: generateKeyPairSync("ec", { namedCurve: "secp384r1" }) }, "Authentication", at(-1), 400);
  return { keyFile: key.keyFile, plainKey, der };
}

/**
 * The same organisation and registry state on an empty database, and a batch touching every rule:
 * limit, one current, queued needs current, one queued, duplicate serial (in the registry and within the batch),
 * unknown and malformed scopes, an expired certificate, a plain key, a damaged certificate, and a due queued
 * successor that takes over before the batch counts.
 */
async function scenario(db: Db, m: Material): Promise<RecordCertificateInput[]> {
  const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, META);
  const b1 = await addBranch(db, { companyId: company.id, code: "O1", name: "Kraków" }, META);
  const b2 = await addBranch(db, { companyId: company.id, code: "O2", name: "Gdańsk" }, META);
  const jan = await addOperator(db, { companyId: company.id, name: "Jan Kowalski", pesel: "44051401359", branchIds: [b1.id] }, META);
  const pair = (
    scope: RecordCertificateInput["scope"],
    der: string,
    mode: "current" | "queued",
    extra: Partial<RecordCertificateInput> = {},
  ): RecordCertificateInput => ({
    scope,
    environment: "test",
    mode,
    name: `Cert ${der}`,
    certificateDer: m.der[der] ?? new Uint8Array(),
    keyFile: m.keyFile,
    source: "imported",
    ...extra,
  });
  const companyScope = { type: "company", companyId: company.id } as const;
  const b1Scope = { type: "branch", branchId: b1.id } as const;
  const b2Scope = { type: "branch", branchId: b2.id } as const;
  // Registry before the batch: b2's Offline current expires at day -5 with a queued successor due: promoted first.
  await recordCertificate(db, pair(b2Scope, "oldCurrent", "current"), { actor: "admin", at: at(-200) });
  await recordCertificate(db, pair(b2Scope, "due", "queued"), { actor: "admin", at: at(-15) });
  await recordCertificate(db, pair(companyScope, "pre", "current", { environment: "demo" }), META);
  return [
    pair(companyScope, "auth1", "current"),
    pair(companyScope, "auth2", "queued"),
    pair(companyScope, "auth3", "current"), // limit (2 active) or one current (limit 3)
    pair(companyScope, "auth4", "queued"), // limit (2 active) or one queued (limit 3)
    pair(b1Scope, "off1", "queued"), // queued needs a current one
    pair(b1Scope, "off1", "current"),
    pair(b1Scope, "off2", "current"), // one current
    pair(b1Scope, "off3", "queued"),
    pair(b1Scope, "auth4", "queued"), // needs a current (Authentication slot of b1 is empty)
    pair(b1Scope, "auth1", "current"), // duplicate serial within the batch
    pair(companyScope, "pre", "current", { environment: "demo" }), // duplicate serial in the registry
    pair(b2Scope, "pre", "current", { environment: "test" }), // same serial, other environment: fine
    pair(companyScope, "pre", "current", { environment: "production" }), // issued by KSeF's test CA: never production
    pair(b1Scope, "p384", "current"), // an EC P-384 key: not a KSeF certificate
    pair(b2Scope, "off2", "current"), // the promoted successor is current now
    pair(b2Scope, "off3", "queued"),
    pair({ type: "branch", branchId: MISSING }, "auth3", "current"),
    pair({ type: "operator", operatorId: "not-a-uuid" }, "auth3", "current"),
    pair({ type: "operator", operatorId: jan.id }, "op1", "current"),
    pair({ type: "operator", operatorId: jan.id }, "expired", "current"),
    pair({ type: "operator", operatorId: jan.id }, "auth3", "current", { keyFile: m.plainKey }),
    pair({ type: "operator", operatorId: jan.id }, "auth3", "current", { certificateDer: new Uint8Array([0x30, 0x03, 0x02, 0x01]) }),
    pair({ type: "operator", operatorId: jan.id }, "auth3", "current", { name: "" }),
  ];
}

/** An outcome without the random ids, to compare two runs. */
function normalise(o: RecordOutcome, ids: Map<string, string>): unknown {
  const scrub = (text: string): string => [...ids].reduce((t, [id, name]) => t.replaceAll(id, name), text);
  if (o.ok)
    return {
      ok: true,
      serial: o.row.serialNumber,
      mode: o.row.mode,
      scopeType: o.row.scopeType,
      environment: o.row.environment,
      type: o.row.certificateType,
      name: o.row.name,
    };
  return {
    ok: false,
    code: o.error.code,
    rule: (o.error.details as { rule?: string } | undefined)?.rule,
    message: scrub(o.error.message),
    violations: o.error.violations.map((v) => v.rule),
  };
}

async function registryState(db: Db): Promise<unknown[]> {
  const rows = await db.select().from(certificates);
  return rows.map((r) => `${r.environment}|${r.serialNumber}|${r.scopeType}|${r.mode}|${r.status}`).sort();
}

async function auditActions(db: Db): Promise<string[]> {
  return (await db.select({ action: auditLog.action }).from(auditLog)).map((r) => r.action).sort();
}

describeEachDb("recordCertificates (batch) against recordCertificate one by one", (ctx) => {
  it.each([
    [2, ["MALFORMED", "NOT_FOUND", "UNSUPPORTED", "VALIDATION", "maxActive", "oneCurrent", "queuedNeedsCurrent", "uniqueSerial"]],
    [3, ["MALFORMED", "NOT_FOUND", "UNSUPPORTED", "VALIDATION", "oneCurrent", "oneQueued", "queuedNeedsCurrent", "uniqueSerial"]],
  ])("with at most %i active per slot: the same outcome per input, the same registry and a verifying audit chain", async (maxActive, expectedRules) => {
    const test = ctx();
    const db = test.db;
    const m = await material();

    const single: RecordOutcome[] = [];
    for (const input of await scenario(db, m)) {
      try {
        single.push({ ok: true, row: await recordCertificate(db, input, META, { maxActive }) });
      } catch (err) {
        if (!(err instanceof KsefCertsError)) throw err;
        single.push({ ok: false, error: err });
      }
    }
    // One by one, a failing pair's transaction also rolls back the promotion it started; the batch keeps it (as any reader
    // would make it: listCertificates promotes first). Compare the registry as readers see it.
    await promoteQueued(db, { at: T0 });
    const singleIds = new Map((await db.select({ id: certificates.id, serial: certificates.serialNumber }).from(certificates)).map((r) => [r.id, r.serial]));
    const singleState = await registryState(db);
    const singleAudit = await auditActions(db);

    await test.truncate();
    const batch = await recordCertificates(db, await scenario(db, m), META, { maxActive });
    await promoteQueued(db, { at: T0 });
    const batchIds = new Map((await db.select({ id: certificates.id, serial: certificates.serialNumber }).from(certificates)).map((r) => [r.id, r.serial]));

    expect(batch.map((o) => normalise(o, batchIds))).toEqual(single.map((o) => normalise(o, singleIds)));
    // Every rule is exercised: the comparison above would pass trivially otherwise.
    const rules = new Set(batch.flatMap((o) => (o.ok ? [] : [(o.error.details as { rule?: string } | undefined)?.rule ?? o.error.code])));
    expect([...rules].sort()).toEqual([...expectedRules].sort());
    expect(batch.filter((o) => o.ok).length).toBeGreaterThan(4);
    expect(await registryState(db)).toEqual(singleState);
    expect(await auditActions(db)).toEqual(singleAudit);
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true });
    // The rows handed back are the stored rows.
    for (const o of batch) {
      if (!o.ok) continue;
      const [stored] = await db.select().from(certificates).where(eq(certificates.id, o.row.id));
      expect(stored?.serialNumber).toBe(o.row.serialNumber);
      expect(Buffer.from(stored?.keyFile ?? []).equals(Buffer.from(o.row.keyFile))).toBe(true);
      expect(stored?.validTo.getTime()).toBe(o.row.validTo.getTime());
    }
  });

  it("inside a transaction that fails, keeps nothing (what an atomic import relies on)", async () => {
    const { db } = ctx();
    const m = await material();
    const inputs = await scenario(db, m);
    const before = await registryState(db);
    const auditBefore = await auditActions(db);
    await expect(
      inTransaction(db, async (tx) => {
        const outcomes = await recordCertificates(tx, inputs, META);
        const failed = outcomes.find((o) => !o.ok);
        if (failed?.ok === false) throw failed.error;
      }),
    ).rejects.toBeInstanceOf(KsefCertsError);
    expect(await registryState(db)).toEqual(before);
    expect(await auditActions(db)).toEqual(auditBefore);
  });

  it("refuses a maxActive out of range and returns early for an all-invalid batch", async () => {
    const { db } = ctx();
    await expect(recordCertificates(db, [], META, { maxActive: 0 })).rejects.toMatchObject({ code: "VALIDATION" });
    const out = await recordCertificates(
      db,
      [
        {
          scope: { type: "company", companyId: MISSING },
          environment: "test",
          mode: "current",
          name: "",
          certificateDer: new Uint8Array(),
          keyFile: new Uint8Array(),
          source: "imported",
        },
      ],
      META,
    );
    expect(out.map((o) => (o.ok ? "ok" : o.error.code))).toEqual(["VALIDATION"]);
    expect(await db.select().from(auditLog)).toEqual([]);
  });
});
