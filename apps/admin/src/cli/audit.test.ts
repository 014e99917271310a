// The audit log as the CLI keeps it, on one real embedded database (PGlite in a temp data folder):
// commands key their entries with the master key and checkpoint the log's head when they close the store;
// `audit verify` finds entries removed from the end, a missing checkpoint, and refuses to work unkeyed.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendAuditBatch, AUDIT_CHECKPOINT_FILE, bindAuditKey, openStore } from "@ksef-certs/domain/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, type RunOptions } from "./__fixtures__/harness.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NIP = "5265877635";
let dir: string;
let dataDir: string;
let checkpointPath: string;
const masterKey = randomBytes(32);
const keyEnv = { KSEF_CERTS_MASTER_KEY: masterKey.toString("base64") };

async function cli(argv: readonly string[], more: Partial<RunOptions> = {}): ReturnType<typeof run> {
  return run([...argv, "--data-dir", dataDir], { cwd: dir, ...more, env: { ...keyEnv, ...more.env } });
}

/** Works on the database directly, as someone with access to it (and, where given, the master key) would. */
async function withDb(work: (db: Awaited<ReturnType<typeof openStore>>["db"]) => Promise<void>, key?: Uint8Array): Promise<void> {
  const store = await openStore({ dataDir, env: {} });
  try {
    if (key !== undefined) bindAuditKey(store.db, key);
    await work(store.db);
  } finally {
    await store.close();
  }
}

function checkpointSeq(): unknown {
  return (JSON.parse(readFileSync(checkpointPath, "utf8")) as Json)["seq"];
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ksef-certs-audit-"));
  dataDir = join(dir, "data");
  checkpointPath = join(dataDir, AUDIT_CHECKPOINT_FILE);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("audit log through the CLI", () => {
  it("keys a command's entries with the master key and checkpoints the head when the command closes the store", async () => {
    const add = await cli(["company", "add", "--nip", NIP, "--name", "Firma", "--json"]);
    expect(add.code, add.stdout).toBe(0);
    expect(statSync(checkpointPath).mode & 0o777).toBe(0o600);
    expect(checkpointSeq()).toBe(1);
    // 39 more entries appended elsewhere (e.g. by the server); any command, even a read-only one, moves the checkpoint.
    await withDb(async (db) => {
      await appendAuditBatch(
        db,
        Array.from({ length: 39 }, (_, i) => ({ actor: "admin", action: "branch.add", entityType: "branch", entityId: `b${i}` })),
      );
    }, masterKey);
    expect((await cli(["company", "list", "--json"])).code).toBe(0);
    expect(checkpointSeq()).toBe(40);
    const ok = await cli(["audit", "verify", "--json"]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.json<Json>()).toMatchObject({ ok: true, entries: 40, unkeyed: 0, checkpoint: { status: "valid", seq: 40, path: checkpointPath } });
    expect((await cli(["audit", "verify"])).stdout).toContain(`checkpoint: entry #40 at `);
  });

  it("reports the last 12 entries deleted as truncated at the first of them (exit 3), and keeps the checkpoint", async () => {
    await withDb(async (db) => {
      await db.execute("DELETE FROM audit_log WHERE seq > 28");
    });
    const bad = await cli(["audit", "verify", "--json"]);
    expect(bad.code).toBe(3);
    expect(bad.json<Json>()).toMatchObject({ ok: false, entries: 28, firstBad: { seq: 29, reason: "truncated" }, checkpoint: { status: "valid", seq: 40 } });
    const human = await cli(["audit", "verify"]);
    expect(human.code).toBe(3);
    expect(human.stdout).toContain("audit log BROKEN: 28 entries verified before entry #29");
    expect(human.stdout).toContain("entry #29: it and every later entry the checkpoint vouches for were removed from the end of the log");
    expect(human.stdout).toContain("checkpoint: entry #40 at ");
    // No command moves the checkpoint back; each one says why.
    expect(human.stderr).toContain("warning: the audit log ends at entry #28 but its checkpoint");
    expect(checkpointSeq()).toBe(40);
  });

  it("reports a deleted checkpoint, refuses to change a keyed log without the master key, and cannot verify it without the key", async () => {
    unlinkSync(checkpointPath);
    const missing = await cli(["audit", "verify", "--json"]);
    expect(missing.code).toBe(3);
    expect(missing.json<Json>()).toMatchObject({ ok: false, firstBad: { seq: 29, reason: "checkpoint" }, checkpoint: { status: "missing" } });

    const noKey = { KSEF_CERTS_MASTER_KEY: "" };
    const add = await cli(["company", "add", "--nip", "7740001454", "--name", "Inna", "--json"], { env: noKey });
    expect(add.code).toBe(7);
    expect(add.json<{ error: Json }>().error).toMatchObject({ code: "FORBIDDEN" });
    expect(add.json<{ error: Json }>().error["hint"]).toContain("KSEF_CERTS_MASTER_KEY");
    expect((await cli(["company", "list", "--json"], { env: noKey })).json<Json[]>()).toHaveLength(1);
    expect((await cli(["audit", "verify", "--json"], { env: noKey })).code).toBe(7);
  });
});
