// `audit.verify` compares the log with the server's head checkpoint: entries removed from the end are reported
// (truncated, at the first missing seq) without telling the browser where the checkpoint file lives.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AUDIT_CHECKPOINT_FILE, appendAuditBatch, checkpointAuditHead, type Store } from "@ksef-certs/domain/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "./app.js";
import { buildWorld, callerFor, DB_KINDS, openTestStore, T0 } from "./__fixtures__/world.js";
import type { ServerServices } from "./services.js";

for (const kind of DB_KINDS) {
  describe(`audit.verify with the head checkpoint [${kind}]`, () => {
    let store: Store;
    let dir: string;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    const masterKey = randomBytes(32);
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "ksef-audit-verify-"));
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
    }, 120_000);
    afterAll(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("reports the last 12 entries deleted as truncated at the first of them", async () => {
      const auditCheckpoint = join(dir, AUDIT_CHECKPOINT_FILE);
      // The server binds its master key to the store: from here on entries are keyed.
      const server = createServer({ store, masterKey, auditCheckpoint, runEnrollments: false });
      const services: ServerServices = { ...server.services, clock: () => T0 };
      await appendAuditBatch(
        store.db,
        Array.from({ length: 20 }, (_, i) => ({ actor: "admin", action: "branch.add", entityType: "branch", entityId: `b${i}` })),
      );
      const written = await checkpointAuditHead(store.db, { masterKey, path: auditCheckpoint });
      expect(written.status).toBe("written");
      const { caller } = await callerFor(store.db, services, w.sessions.superAdmin);
      const ok = await caller.audit.verify();
      expect(ok).toMatchObject({ ok: true, entries: written.head.seq, checkpoint: { status: "valid", seq: written.head.seq } });
      expect(ok.unkeyed).toBeGreaterThan(0);

      await store.db.execute(`DELETE FROM audit_log WHERE seq > ${written.head.seq - 12}`);
      const bad = await caller.audit.verify();
      expect(bad).toMatchObject({
        ok: false,
        entries: written.head.seq - 12,
        firstBad: { seq: written.head.seq - 11, reason: "truncated" },
        checkpoint: { status: "valid", seq: written.head.seq },
      });
      expect(JSON.stringify(bad)).not.toContain(dir);
    });
  });
}
