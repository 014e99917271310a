import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { describeEachDb } from "./__fixtures__/test-db.js";
import { AUDIT_GENESIS_HASH, appendAudit, appendAuditBatch, canonicalJson, verifyAuditLog, type AuditEntryInput } from "./audit.js";
import { auditLog } from "./schema.js";

describeEachDb("audit log hash chain", (ctx) => {
  it("chains entries, drops secrets, and verifies", async () => {
    const { db } = ctx();
    const first = await appendAudit(db, { actor: "admin", action: "company.add", entityType: "company", entityId: "c1", after: { nip: "5265877635", name: "Firma" } });
    const second = await appendAudit(db, {
      actor: "admin",
      action: "certificate.import",
      entityType: "certificate",
      entityId: "x1",
      after: { serialNumber: "01F20A5D352AE590", keyFile: new Uint8Array([1, 2, 3]), nested: { password: "Tajne-Hasło-1!", ok: 1 } },
    });
    expect(first.prevHash).toBe(AUDIT_GENESIS_HASH);
    expect(second.prevHash).toBe(first.hash);
    const rows = await db.select().from(auditLog);
    expect(JSON.stringify(rows)).not.toContain("Tajne");
    expect(JSON.stringify(rows)).not.toContain("keyFile");
    expect(await verifyAuditLog(db)).toEqual({ ok: true, entries: 2, head: second.hash });
  });

  it("finds an edited entry, a deleted one and a forged re-hash", async () => {
    const { db } = ctx();
    for (let i = 0; i < 4; i++) await appendAudit(db, { actor: "admin", action: "branch.add", entityType: "branch", entityId: `b${i}`, after: { code: `O${i}` } });
    await db.execute(sql`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`);
    expect(await verifyAuditLog(db)).toMatchObject({ ok: false, entries: 1, firstBad: { seq: 2, reason: "hash" } });
    await db.execute(sql`UPDATE audit_log SET actor = 'admin' WHERE seq = 2`);
    expect((await verifyAuditLog(db)).ok).toBe(true);
    await db.execute(sql`DELETE FROM audit_log WHERE seq = 3`);
    expect(await verifyAuditLog(db)).toMatchObject({ ok: false, entries: 2, firstBad: { seq: 4, reason: "sequence" } });
  });

  it("keeps one chain under concurrent appends", async () => {
    const { db } = ctx();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => db.transaction((tx) => appendAudit(tx as never, { actor: "w", action: "x.y", entityType: "x", entityId: String(i) }))),
    );
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true, entries: 12 });
  });

  it("a batch append writes exactly the chain single appends write, after and before single appends", async () => {
    const { db } = ctx();
    const at = new Date("2026-11-30T10:00:00.123Z");
    const inputs: AuditEntryInput[] = Array.from({ length: 2500 }, (_, i) => ({
      actor: "importer",
      action: "certificate.record",
      entityType: "certificate",
      entityId: `c${i}`,
      after: { serialNumber: `S${i}`, keyFile: new Uint8Array([i % 256]), password: "Tajne-Hasło-1!" },
      at,
    }));
    await appendAudit(db, { actor: "admin", action: "company.add", entityType: "company", entityId: "c", at });
    const batch = await db.transaction((tx) => appendAuditBatch(tx as never, inputs));
    const after = await appendAudit(db, { actor: "admin", action: "company.edit", entityType: "company", entityId: "c", at });
    expect(await verifyAuditLog(db)).toEqual({ ok: true, entries: 2502, head: after.hash });
    expect(batch.map((e) => e.seq)).toEqual(inputs.map((_, i) => i + 2));
    expect(after.prevHash).toBe(batch.at(-1)?.hash);
    expect(JSON.stringify(await db.select().from(auditLog))).not.toContain("Tajne");
    // The same entries appended one by one on a fresh log give the same hashes.
    const first = await db.select().from(auditLog).orderBy(auditLog.seq);
    await db.execute(sql`DELETE FROM audit_log`);
    const single = [];
    for (const input of [{ actor: "admin", action: "company.add", entityType: "company", entityId: "c", at }, ...inputs.slice(0, 50)]) single.push(await appendAudit(db, input));
    expect(single.map((e) => e.hash)).toEqual(first.slice(0, 51).map((r) => r.hash));
    expect(await appendAuditBatch(db, [])).toEqual([]);
  });

  it("canonical JSON sorts keys and ignores undefined", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "ż"], c: undefined })).toBe('{"a":[true,null,"ż"],"b":1}');
  });
});
