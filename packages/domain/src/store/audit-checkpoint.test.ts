import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { rehashAuditFrom } from "./__fixtures__/audit-attacks.js";
import { describeEachDb } from "./__fixtures__/test-db.js";
import { appendAudit, appendAuditBatch, verifyAuditLog, type AuditEntryInput } from "./audit.js";
import { AUDIT_CHECKPOINT_FILE, auditCheckpointPath, checkpointAuditHead, startAuditCheckpoints, type AuditCheckpointResult } from "./audit-checkpoint.js";
import { bindAuditKey } from "./audit-keys.js";
import type { Db } from "./db.js";

const T0 = new Date("2026-11-30T10:00:00.000Z");
const dirs: string[] = [];

function scratchDir(): string {
  const d = mkdtempSync(join(tmpdir(), "ksef-audit-head-"));
  dirs.push(d);
  return d;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function entries(n: number, from = 1): AuditEntryInput[] {
  return Array.from({ length: n }, (_, i) => ({ actor: "admin", action: "certificate.import", entityType: "certificate", entityId: `c${from + i}` }));
}

function fileOf(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

describe("where the checkpoint lives", () => {
  it("KSEF_CERTS_AUDIT_CHECKPOINT wins, else the data folder; an in-memory store has none", () => {
    expect(auditCheckpointPath({ dataDir: "/srv/ksef", env: {} })).toBe(join("/srv/ksef", AUDIT_CHECKPOINT_FILE));
    expect(auditCheckpointPath({ env: { KSEF_CERTS_DATA_DIR: "/var/lib/ksef" } })).toBe(join("/var/lib/ksef", AUDIT_CHECKPOINT_FILE));
    expect(auditCheckpointPath({ dataDir: "/srv/ksef", env: { KSEF_CERTS_AUDIT_CHECKPOINT: "/etc/ksef/head.json" } })).toBe("/etc/ksef/head.json");
    expect(auditCheckpointPath({ dataDir: ":memory:", env: {} })).toBeUndefined();
    // Two PostgreSQL databases used from one data folder: two checkpoints.
    const a = auditCheckpointPath({ dataDir: "/srv/ksef", env: {}, database: "postgres://ksef@db1:5432/a" });
    const b = auditCheckpointPath({ dataDir: "/srv/ksef", env: {}, database: "postgres://ksef@db1:5432/b" });
    expect(a).toMatch(/^\/srv\/ksef\/audit-head-[0-9a-f]{16}\.json$/);
    expect(a).not.toBe(b);
    expect(() => auditCheckpointPath({ env: { KSEF_CERTS_AUDIT_CHECKPOINT: "a\0b" } })).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });
});

describeEachDb("audit head checkpoint", (ctx) => {
  let masterKey: Buffer;
  let db: Db;
  let path: string;
  beforeEach(() => {
    masterKey = randomBytes(32);
    db = ctx().handle();
    bindAuditKey(db, masterKey);
    path = join(scratchDir(), AUDIT_CHECKPOINT_FILE);
  });
  const checkpoint = (now = T0): Promise<AuditCheckpointResult> => checkpointAuditHead(db, { masterKey, path, now: () => now });

  it("is written atomically, mode 0600, and names the head; a later head moves it forward", async () => {
    expect(await checkpoint()).toMatchObject({ status: "unchanged", head: { seq: 0 } });
    expect(() => statSync(path)).toThrow();
    await appendAuditBatch(db, entries(5));
    const first = await checkpoint();
    expect(first).toMatchObject({ status: "written", head: { seq: 5 } });
    expect(first.previous).toBeUndefined();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(fileOf(path)).toMatchObject({ format: "ksef-certs audit head", version: 1, seq: 5, hash: first.head.hash, at: T0.toISOString() });
    expect(await checkpoint()).toMatchObject({ status: "unchanged" });
    await appendAudit(db, entries(1, 6)[0]!);
    const later = new Date(T0.getTime() + 60_000);
    expect(await checkpoint(later)).toMatchObject({ status: "written", head: { seq: 6 }, previous: { seq: 5, hash: first.head.hash } });
    expect(fileOf(path)).toMatchObject({ seq: 6, at: later.toISOString() });
    // No temporary file left beside it.
    expect(readdirSync(join(path, ".."))).toEqual([AUDIT_CHECKPOINT_FILE]);
  });

  it("reports the last 12 entries deleted as truncated at the first of them; the writer refuses to move back", async () => {
    await appendAuditBatch(db, entries(40));
    await checkpoint();
    await db.execute(sql`DELETE FROM audit_log WHERE seq > 28`);
    // The chain alone still looks whole: the checkpoint is what tells.
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true, entries: 28 });
    expect(await verifyAuditLog(db, { checkpoint: path })).toMatchObject({
      ok: false,
      entries: 28,
      firstBad: { seq: 29, reason: "truncated" },
      checkpoint: { status: "valid", checkpoint: { seq: 40 } },
    });
    expect(await checkpoint()).toMatchObject({ status: "behind", head: { seq: 28 }, previous: { seq: 40 } });
    expect(fileOf(path)).toMatchObject({ seq: 40 });
    // Every entry removed (an empty log) is truncated from the first.
    await db.execute(sql`DELETE FROM audit_log`);
    expect(await verifyAuditLog(db, { checkpoint: path })).toMatchObject({ ok: false, entries: 0, firstBad: { seq: 1, reason: "truncated" } });
  });

  it("reports a missing checkpoint when the log has keyed entries, and a checkpoint edited or sealed with another key", async () => {
    await appendAuditBatch(db, entries(7));
    await checkpoint();
    expect(await verifyAuditLog(db, { checkpoint: path })).toMatchObject({ ok: true, entries: 7, checkpoint: { status: "valid" } });

    const original = readFileSync(path, "utf8");
    unlinkSync(path);
    expect(await verifyAuditLog(db, { checkpoint: path })).toMatchObject({
      ok: false,
      entries: 7,
      firstBad: { seq: 8, reason: "checkpoint" },
      checkpoint: { status: "missing" },
    });

    // Lowering its seq (to hide a truncation) without the key: the MAC fails.
    writeFileSync(path, original.replace('"seq":7', '"seq":3'));
    expect(await verifyAuditLog(db, { checkpoint: path })).toMatchObject({
      ok: false,
      firstBad: { seq: 8, reason: "checkpoint" },
      checkpoint: { status: "invalid", problem: "mac" },
    });
    expect(await checkpoint()).toMatchObject({ status: "invalid" });
    expect(readFileSync(path, "utf8")).toContain('"seq":3');

    for (const damaged of ["", "{", "[]", original.replace(/"mac":"[0-9a-f]+"/, '"mac":"zz"'), original.replace('"version":1', '"version":2')]) {
      writeFileSync(path, damaged);
      expect(await verifyAuditLog(db, { checkpoint: path })).toMatchObject({
        ok: false,
        firstBad: { reason: "checkpoint" },
        checkpoint: { status: "invalid", problem: "malformed" },
      });
    }

    // A checkpoint written under another master key does not authenticate either.
    unlinkSync(path);
    const other = ctx().handle();
    const otherKey = randomBytes(32);
    bindAuditKey(other, otherKey);
    await checkpointAuditHead(db, { masterKey: otherKey, path });
    expect(await verifyAuditLog(db, { checkpoint: path })).toMatchObject({ ok: false, checkpoint: { status: "invalid", problem: "mac" } });

    // Verifying against a checkpoint needs a key.
    await expect(verifyAuditLog(ctx().db, { checkpoint: path })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("a missing checkpoint is no finding while the log has no keyed entry", async () => {
    await appendAuditBatch(ctx().db, entries(3));
    expect(await verifyAuditLog(ctx().db, { masterKey, checkpoint: path })).toMatchObject({
      ok: true,
      entries: 3,
      unkeyed: 3,
      checkpoint: { status: "missing" },
    });
  });

  it("reports a rewritten unkeyed log at the checkpoint's seq, and the writer will not move on from it", async () => {
    // A log from before the master key existed, checkpointed once the key was there.
    const plain = ctx().db;
    await appendAuditBatch(plain, entries(6));
    const at6 = await checkpoint();
    expect(at6).toMatchObject({ status: "written", head: { seq: 6 } });
    // Edited and re-hashed without a key: the chain is consistent again, but seq 6 has another hash.
    await plain.execute(sql`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`);
    await rehashAuditFrom(plain, 2);
    expect(await verifyAuditLog(plain)).toMatchObject({ ok: true, entries: 6 });
    expect(await verifyAuditLog(plain, { masterKey, checkpoint: path })).toMatchObject({ ok: false, entries: 5, firstBad: { seq: 6, reason: "checkpoint" } });
    await appendAudit(db, entries(1, 7)[0]!);
    expect(await checkpoint()).toMatchObject({ status: "mismatch", head: { seq: 7 }, previous: { seq: 6 } });
    expect(fileOf(path)).toMatchObject({ seq: 6, hash: at6.head.hash });
  });

  it("concurrent writers and appends leave the checkpoint at the final head, never behind it", async () => {
    await appendAuditBatch(db, entries(3));
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        await appendAudit(db, entries(1, 4 + i)[0]!);
        const r = await checkpoint();
        expect(["written", "unchanged"]).toContain(r.status);
        seen.push(fileOf(path)["seq"] as number);
      }),
    );
    expect(fileOf(path)).toMatchObject({ seq: 11 });
    expect(await verifyAuditLog(db, { checkpoint: path })).toMatchObject({ ok: true, entries: 11 });
    expect(Math.max(...seen)).toBe(11);
  });

  it("a schedule checkpoints a changed head on its timer and once more on stop, and reports a log behind its checkpoint", async () => {
    const results: AuditCheckpointResult[] = [];
    const errors: unknown[] = [];
    const schedule = startAuditCheckpoints(db, {
      masterKey,
      path,
      intervalMs: 10,
      now: () => T0,
      onResult: (r) => results.push(r),
      onError: (e) => errors.push(e),
    });
    await appendAuditBatch(db, entries(4));
    for (let i = 0; i < 500 && results.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(results[0]).toMatchObject({ status: "written", head: { seq: 4 } });
    await appendAudit(db, entries(1, 5)[0]!);
    await schedule.stop();
    expect(fileOf(path)).toMatchObject({ seq: 5 });
    await schedule.stop();

    await db.execute(sql`DELETE FROM audit_log WHERE seq > 2`);
    const again = startAuditCheckpoints(db, { masterKey, path, intervalMs: 60_000, onResult: (r) => results.push(r), onError: (e) => errors.push(e) });
    await again.stop();
    expect(results.at(-1)).toMatchObject({ status: "behind", head: { seq: 2 }, previous: { seq: 5 } });
    expect(errors).toEqual([]);
  });

  it("a checkpoint that cannot be written is an IO error, and leaves nothing behind", async () => {
    await appendAuditBatch(db, entries(2));
    const dir = scratchDir();
    writeFileSync(join(dir, "not-a-folder"), "x");
    await expect(checkpointAuditHead(db, { masterKey, path: join(dir, "not-a-folder", AUDIT_CHECKPOINT_FILE) })).rejects.toMatchObject({ code: "IO" });
    expect(readdirSync(dir)).toEqual(["not-a-folder"]);
  });
});
