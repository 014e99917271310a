import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { describeEachDb } from "./__fixtures__/test-db.js";
import { AUDIT_GENESIS_HASH, appendAudit, canonicalJson, verifyAuditLog } from "./audit.js";
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

  it("canonical JSON sorts keys and ignores undefined", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "ż"], c: undefined })).toBe('{"a":[true,null,"ż"],"b":1}');
  });
});
