import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { expect, it } from "vitest";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import { auditBodyOf, auditRows as rowsOf, rehashAuditFrom as rehashFrom, restoreAuditRows as restore } from "./__fixtures__/audit-attacks.js";
import { describeEachDb } from "./__fixtures__/test-db.js";
import { AUDIT_GENESIS_HASH, appendAudit, appendAuditBatch, canonicalJson, verifyAuditLog, type AuditEntryInput } from "./audit.js";
import { bindAuditKey, boundAuditKeys } from "./audit-keys.js";
import { auditLog, companies } from "./schema.js";

function entry(i: number): AuditEntryInput {
  return { actor: "admin", action: "branch.add", entityType: "branch", entityId: `b${i}`, after: { code: `O${i}` } };
}

describeEachDb("audit log hash chain", (ctx) => {
  it("chains entries, drops secrets, and verifies", async () => {
    const { db } = ctx();
    const first = await appendAudit(db, {
      actor: "admin",
      action: "company.add",
      entityType: "company",
      entityId: "c1",
      after: { nip: "5265877635", name: "Firma" },
    });
    const second = await appendAudit(db, {
      actor: "admin",
      action: "certificate.import",
      entityType: "certificate",
      entityId: "x1",
      after: { serialNumber: "01F20A5D352AE590", keyFile: new Uint8Array([1, 2, 3]), nested: { password: "Tajne-Hasło-1!", ok: 1 } },
    });
    expect(first.prevHash).toBe(AUDIT_GENESIS_HASH);
    expect(second.prevHash).toBe(first.hash);
    expect(second.hashScheme).toBe("sha256");
    const rows = await db.select().from(auditLog);
    expect(JSON.stringify(rows)).not.toContain("Tajne");
    expect(JSON.stringify(rows)).not.toContain("keyFile");
    expect(await verifyAuditLog(db)).toEqual({ ok: true, entries: 2, unkeyed: 2, head: second.hash });
  });

  it("finds an edited entry, a deleted one and a forged re-hash", async () => {
    const { db } = ctx();
    for (let i = 0; i < 4; i++) await appendAudit(db, entry(i));
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
      Array.from({ length: 12 }, (_, i) =>
        db.transaction((tx) => appendAudit(tx as never, { actor: "w", action: "x.y", entityType: "x", entityId: String(i) })),
      ),
    );
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true, entries: 12 });
  });

  it("keeps one keyed chain under concurrent appends from two handles bound to one key", async () => {
    const masterKey = randomBytes(32);
    const [a, b] = [ctx().handle(), ctx().handle()];
    bindAuditKey(a, masterKey);
    bindAuditKey(b, masterKey);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? a : b).transaction((tx) => appendAudit(tx as never, { actor: "w", action: "x.y", entityType: "x", entityId: String(i) })),
      ),
    );
    expect(await verifyAuditLog(ctx().db, { masterKey })).toMatchObject({ ok: true, entries: 12, unkeyed: 0 });
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
    expect(await verifyAuditLog(db)).toEqual({ ok: true, entries: 2502, unkeyed: 2502, head: after.hash });
    expect(batch.map((e) => e.seq)).toEqual(inputs.map((_, i) => i + 2));
    expect(after.prevHash).toBe(batch.at(-1)?.hash);
    expect(JSON.stringify(await db.select().from(auditLog))).not.toContain("Tajne");
    // The same entries appended one by one on a fresh log give the same hashes.
    const first = await db.select().from(auditLog).orderBy(auditLog.seq);
    await db.execute(sql`DELETE FROM audit_log`);
    const single = [];
    for (const input of [{ actor: "admin", action: "company.add", entityType: "company", entityId: "c", at }, ...inputs.slice(0, 50)])
      single.push(await appendAudit(db, input));
    expect(single.map((e) => e.hash)).toEqual(first.slice(0, 51).map((r) => r.hash));
    expect(await appendAuditBatch(db, [])).toEqual([]);
  });

  it("canonical JSON sorts keys and ignores undefined", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "ż"], c: undefined })).toBe('{"a":[true,null,"ż"],"b":1}');
  });
});

describeEachDb("audit log keyed with the master key", (ctx) => {
  it("the key bound to a database reaches appends in its transactions and nested transactions, and no other handle", async () => {
    const masterKey = randomBytes(32);
    const db = ctx().handle();
    bindAuditKey(db, masterKey);
    const dialect = (db as unknown as { dialect: object }).dialect;
    const seen: object[] = [];
    await appendAudit(db, entry(1));
    await db.transaction(async (tx) => {
      seen.push((tx as unknown as { dialect: object }).dialect);
      await appendAudit(tx, entry(2));
      await tx.transaction(async (tx2) => {
        seen.push((tx2 as unknown as { dialect: object }).dialect);
        await appendAudit(tx2, entry(3));
        await tx2.transaction(async (tx3) => {
          seen.push((tx3 as unknown as { dialect: object }).dialect);
          await appendAuditBatch(tx3, [entry(4), entry(5)]);
        });
      });
    });
    expect(seen).toHaveLength(3);
    for (const d of seen) expect(d).toBe(dialect);
    expect((await rowsOf(db)).map((r) => r.hashScheme)).toEqual(["hmac-sha256", "hmac-sha256", "hmac-sha256", "hmac-sha256", "hmac-sha256"]);
    // Another handle on the same database has a dialect of its own, hence no key.
    const other = ctx().handle();
    expect((other as unknown as { dialect: object }).dialect).not.toBe(dialect);
    expect(boundAuditKeys(other)).toBeUndefined();
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true, entries: 5, unkeyed: 0 });
    expect(await verifyAuditLog(other, { masterKey })).toMatchObject({ ok: true, entries: 5 });
  });

  it("binding the same key twice is harmless; another key for the same database is refused", () => {
    const db = ctx().handle();
    const masterKey = randomBytes(32);
    bindAuditKey(db, masterKey);
    bindAuditKey(db, Uint8Array.from(masterKey));
    expect(() => {
      bindAuditKey(db, randomBytes(32));
    }).toThrow(expect.objectContaining({ code: "CONFLICT" }));
    expect(() => {
      bindAuditKey(ctx().handle(), randomBytes(31));
    }).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });

  it("an entry's hash is HMAC-SHA256 under HKDF-SHA256(master key, info 'ksef-certs audit-log entry-mac v1'), as openssl computes them", async () => {
    const masterKey = randomBytes(32);
    const db = ctx().handle();
    bindAuditKey(db, masterKey);
    const e = await appendAudit(db, {
      actor: "admin",
      action: "company.add",
      entityType: "company",
      entityId: "c1",
      after: { nip: "5265877635", name: "Zażółć" },
    });
    const derived = execFileSync(
      "openssl",
      [
        "kdf",
        "-keylen",
        "32",
        "-kdfopt",
        "digest:SHA256",
        "-kdfopt",
        `hexkey:${masterKey.toString("hex")}`,
        "-kdfopt",
        "info:ksef-certs audit-log entry-mac v1",
        "HKDF",
      ],
      {
        encoding: "utf8",
      },
    )
      .trim()
      .replaceAll(":", "")
      .toLowerCase();
    const [row] = await rowsOf(db);
    const mac = execFileSync("openssl", ["dgst", "-sha256", "-mac", "HMAC", "-macopt", `hexkey:${derived}`, "-r"], {
      input: auditBodyOf(row!, AUDIT_GENESIS_HASH),
    })
      .toString("utf8")
      .split(" ")[0];
    expect(e.hash).toBe(mac);
    expect(row?.hash).toBe(mac);
  });

  it("unkeyed entries written before the key existed verify as a prefix, and the first keyed MAC pins them", async () => {
    const masterKey = randomBytes(32);
    for (let i = 1; i <= 3; i++) await appendAudit(ctx().db, entry(i));
    const keyed = ctx().handle();
    bindAuditKey(keyed, masterKey);
    for (let i = 4; i <= 6; i++) await appendAudit(keyed, entry(i));
    expect(await verifyAuditLog(keyed)).toMatchObject({ ok: true, entries: 6, unkeyed: 3 });
    // Rewriting the unkeyed prefix consistently still breaks the link the first keyed entry's MAC covers.
    await keyed.execute(sql`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`);
    await rehashFrom(keyed, 2);
    expect(await verifyAuditLog(keyed)).toMatchObject({ ok: false, entries: 3, firstBad: { seq: 4, reason: "hash" } });
  });

  it("refuses an unkeyed append after a keyed entry, with a hint, and rolls the change back with it", async () => {
    const masterKey = randomBytes(32);
    const keyed = ctx().handle();
    bindAuditKey(keyed, masterKey);
    await appendAudit(keyed, entry(1));
    const { db } = ctx();
    const attempt = db.transaction(async (tx) => {
      await tx.insert(companies).values({ nip: "5265877635", name: "Firma" });
      await appendAudit(tx, entry(2));
    });
    await expect(attempt).rejects.toSatisfy((e: unknown) => isKsefCertsError(e) && e.code === "FORBIDDEN" && /KSEF_CERTS_MASTER_KEY/.test(e.hint ?? ""));
    await expect(appendAuditBatch(db, [entry(3)])).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await db.select().from(companies)).toEqual([]);
    expect(await rowsOf(db)).toHaveLength(1);
    // Verifying keyed entries needs the key too.
    await expect(verifyAuditLog(db)).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("flags a plain SHA-256 entry after a keyed one as unkeyed: appended by hand, or the tail relabelled and re-hashed", async () => {
    const masterKey = randomBytes(32);
    const db = ctx().handle();
    bindAuditKey(db, masterKey);
    for (let i = 1; i <= 6; i++) await appendAudit(db, entry(i));
    await rehashFrom(db, 4, { scheme: "sha256" });
    expect(await verifyAuditLog(db)).toMatchObject({ ok: false, entries: 3, firstBad: { seq: 4, reason: "unkeyed" } });
    // Control: the same re-hash on a log that never had a key verifies, so the detection comes from the key.
    await db.execute(sql`UPDATE audit_log SET hash_scheme = 'sha256'`);
    await rehashFrom(db, 1);
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true, entries: 6, unkeyed: 6 });
  });

  it("finds an edited entry whose chain was recomputed as plain SHA-256 or as HMAC under a wrong key, whatever entry and field (property)", async () => {
    const masterKey = randomBytes(32);
    const db = ctx().handle();
    bindAuditKey(db, masterKey);
    await appendAuditBatch(
      db,
      Array.from({ length: 20 }, (_, i) => entry(i)),
    );
    const saved = await rowsOf(db);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom("actor", "action", "entity_id", "after", "at"),
        fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
        async (seq, field, wrongKey) => {
          const edit = {
            actor: sql`UPDATE audit_log SET actor = 'mallory' WHERE seq = ${seq}`,
            action: sql`UPDATE audit_log SET action = 'branch.remove' WHERE seq = ${seq}`,
            entity_id: sql`UPDATE audit_log SET entity_id = 'other' WHERE seq = ${seq}`,
            after: sql`UPDATE audit_log SET after = '{"code":"X"}'::jsonb WHERE seq = ${seq}`,
            at: sql`UPDATE audit_log SET at = at - interval '1 day' WHERE seq = ${seq}`,
          }[field];
          await db.execute(edit);
          await rehashFrom(db, seq, wrongKey === undefined ? {} : { key: wrongKey });
          const v = await verifyAuditLog(db);
          await restore(db, saved);
          expect(v).toMatchObject({ ok: false, entries: seq - 1, firstBad: { seq, reason: "hash" } });
        },
      ),
      { numRuns: 12 },
    );
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true, entries: 20 });
  });

  it("control: the same edit and re-hash on an unkeyed log passes the chain check (what the key is for)", async () => {
    const { db } = ctx();
    for (let i = 1; i <= 8; i++) await appendAudit(db, entry(i));
    await db.execute(sql`UPDATE audit_log SET actor = 'mallory' WHERE seq = 5`);
    await rehashFrom(db, 5);
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true, entries: 8 });
  });

  it("reports two swapped entries at the first of them (property)", async () => {
    const masterKey = randomBytes(32);
    const db = ctx().handle();
    bindAuditKey(db, masterKey);
    await appendAuditBatch(
      db,
      Array.from({ length: 12 }, (_, i) => entry(i)),
    );
    const saved = await rowsOf(db);
    await fc.assert(
      fc.asyncProperty(
        fc
          .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }))
          .filter(([a, b]) => a !== b)
          .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
        async ([a, b]) => {
          // Three steps: the primary key is checked row by row.
          await db.execute(sql`UPDATE audit_log SET seq = -1 WHERE seq = ${a}`);
          await db.execute(sql`UPDATE audit_log SET seq = ${a} WHERE seq = ${b}`);
          await db.execute(sql`UPDATE audit_log SET seq = ${b} WHERE seq = -1`);
          const v = await verifyAuditLog(db);
          await restore(db, saved);
          expect(v).toMatchObject({ ok: false, entries: a - 1, firstBad: { seq: a } });
        },
      ),
      { numRuns: 10 },
    );
  });

  it("verifies thousands of keyed entries after an unkeyed prefix, reporting progress every 1 000", async () => {
    const masterKey = randomBytes(32);
    await appendAuditBatch(
      ctx().db,
      Array.from({ length: 10 }, (_, i) => entry(i)),
    );
    const db = ctx().handle();
    bindAuditKey(db, masterKey);
    const batch = await appendAuditBatch(
      db,
      Array.from({ length: 3000 }, (_, i) => entry(i)),
    );
    const progress: number[] = [];
    const v = await verifyAuditLog(ctx().db, {
      masterKey,
      onProgress: (n) => {
        progress.push(n);
      },
    });
    expect(v).toEqual({ ok: true, entries: 3010, unkeyed: 10, head: batch.at(-1)?.hash });
    expect(progress).toEqual([1000, 2000, 3000, 3010]);
    // With another master key nothing keyed verifies.
    expect(await verifyAuditLog(ctx().db, { masterKey: randomBytes(32) })).toMatchObject({ ok: false, firstBad: { seq: 11, reason: "hash" } });
  });
});
