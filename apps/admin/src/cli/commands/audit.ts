/**
 * `ksef-certs audit verify`: checks the append-only audit log (core `src/store/audit.ts`): every entry's
 * MAC under the key derived from the master key (plain SHA-256 for entries written before a master key
 * existed), its link to the previous entry, and the log's end against the head checkpoint kept beside the
 * master key (core `src/store/audit-checkpoint.ts`).
 */
import type { Command } from "commander";
import { getAuditEntryHeaderAs, LOCAL_SYSTEM_PRINCIPAL, verifyAuditLogAs } from "@ksef-certs/domain/access";
import { type AuditBadReason, type AuditCheckpointRead, type Db } from "@ksef-certs/domain/store";
import { exitCodeFor } from "../exit-codes.js";
import { type CommandEnv, examples } from "../options.js";
import { Output } from "../output.js";
import { addStoreOptions, auditCheckpointOf, masterKeyOf, type StoreOptions, withStore } from "../store.js";

/** Exit code of `audit verify` when the log does not verify: 3, the code of damaged input (`MALFORMED`). */
export const EXIT_AUDIT_BROKEN = exitCodeFor("MALFORMED");

/** What is shown about the first entry that fails verification (never its before/after values). */
export interface BadAuditEntry {
  readonly seq: number;
  readonly reason: AuditBadReason;
  readonly at?: string;
  readonly actor?: string;
  readonly action?: string;
  readonly entityType?: string;
  readonly entityId?: string | null;
}

/** The checkpoint as shown: where it is and what was found there. */
interface CheckpointShown {
  readonly path: string;
  readonly status: AuditCheckpointRead["status"];
  readonly problem?: "malformed" | "mac";
  readonly seq?: number;
  readonly at?: string;
}

const REASONS: Readonly<Record<Exclude<AuditBadReason, "checkpoint">, string>> = {
  hash: "its content does not match its MAC (it was changed, or changed and re-hashed without the master key)",
  chain: "it does not link to the entry before it (an entry was changed, removed, inserted or moved)",
  sequence: "an entry before it is missing, or entries were renumbered",
  truncated: "it and every later entry the checkpoint vouches for were removed from the end of the log",
  unkeyed: "it was written, or rewritten, without the master key after entries written with it",
};

function checkpointReason(c: CheckpointShown | undefined): string {
  if (c?.status === "missing") return `the checkpoint ${c.path} is missing, so entries removed from the end cannot be ruled out from here on`;
  if (c?.status === "invalid")
    return `the checkpoint ${c.path} is damaged or does not carry a valid MAC under this master key, so entries removed from the end cannot be ruled out from here on`;
  return "it is not the entry the checkpoint recorded at this position (the log was rewritten, or the checkpoint belongs to another database)";
}

/**
 * Registers `audit verify`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerAudit(program: Command, env: CommandEnv): void {
  const group = program.command("audit").summary("check the audit log").description("The append-only, keyed and hash-chained log of every registry change.");
  const verify = group
    .command("verify")
    .summary("verify the audit log's keyed hash chain and its checkpoint")
    .description(
      "Verify every entry's MAC (HMAC-SHA256 under a key derived from the master key; plain SHA-256 for entries written\n" +
        "before a master key existed), its link to the previous one, and that the log still reaches the head checkpoint\n" +
        `($KSEF_CERTS_AUDIT_CHECKPOINT, else <data dir>/audit-head.json). Prints the number of entries checked and OK (exit 0),\nor the first bad entry and why (exit ${EXIT_AUDIT_BROKEN}, the code of damaged input). ` +
        "With --json: { ok, entries, unkeyed, head, firstBad?, checkpoint? }.",
    );
  addStoreOptions(verify).addHelpText("after", examples(["ksef-certs audit verify", "ksef-certs audit verify --json"]));
  verify.action(async (opts: StoreOptions) => {
    const out = new Output(env.io, opts.json === true);
    const path = (await masterKeyOf(env.io, opts)) === undefined ? undefined : auditCheckpointOf(env.io, opts);
    const result = await withStore(env, opts, async (s) => {
      // The master key is bound to s.db by withStore; the checkpoint needs it too.
      const v = await verifyAuditLogAs(s.db, LOCAL_SYSTEM_PRINCIPAL, {
        ...(path === undefined ? {} : { checkpoint: path }),
        onProgress: (n) => {
          if (n > 0 && n % 10_000 === 0) out.note(`checked ${n} entries…`);
        },
      });
      return { ...v, firstBad: v.firstBad === undefined ? undefined : await describeEntry(s.db, v.firstBad.seq, v.firstBad.reason) };
    });
    const checkpoint = path === undefined || result.checkpoint === undefined ? undefined : shownCheckpoint(path, result.checkpoint);
    const data = { ok: result.ok, entries: result.entries, unkeyed: result.unkeyed, head: result.head, ...(checkpoint === undefined ? {} : { checkpoint }) };
    if (result.ok) {
      out.result(data, [`audit log OK: ${result.entries} entries checked`, `head: ${result.head}`, ...okNotes(result.unkeyed, checkpoint)]);
      return;
    }
    const bad = result.firstBad;
    env.state.exitCode = EXIT_AUDIT_BROKEN;
    const why = bad === undefined ? "?" : bad.reason === "checkpoint" ? checkpointReason(checkpoint) : REASONS[bad.reason];
    out.result({ ...data, firstBad: bad ?? null }, [
      `audit log BROKEN: ${result.entries} entries verified before entry #${bad?.seq ?? "?"}`,
      `entry #${bad?.seq ?? "?"}${bad?.action === undefined ? "" : ` (${bad.action} of ${bad.entityType ?? "?"} ${bad.entityId ?? ""} by ${bad.actor ?? "?"} at ${bad.at ?? "?"})`}: ${why}`,
      ...(checkpoint?.seq === undefined ? [] : [`checkpoint: entry #${checkpoint.seq} at ${checkpoint.at ?? "?"} (${checkpoint.path})`]),
      "Restore the database from a backup taken before that entry (with the checkpoint and master key of the same time), and find out who changed it.",
    ]);
  });
}

function shownCheckpoint(path: string, c: AuditCheckpointRead): CheckpointShown {
  if (c.status === "valid") return { path, status: c.status, seq: c.checkpoint.seq, at: c.checkpoint.at.toISOString() };
  return { path, status: c.status, ...(c.status === "invalid" ? { problem: c.problem } : {}) };
}

function okNotes(unkeyed: number, checkpoint: CheckpointShown | undefined): string[] {
  const notes: string[] = [];
  if (unkeyed > 0) notes.push(`${unkeyed} entries were written before a master key existed (plain SHA-256; a later keyed entry vouches for them)`);
  if (checkpoint === undefined)
    notes.push("no master key: entries removed from the end of the log cannot be noticed (set KSEF_CERTS_MASTER_KEY or the master key file)");
  else if (checkpoint.seq !== undefined) notes.push(`checkpoint: entry #${checkpoint.seq} at ${checkpoint.at ?? "?"} (${checkpoint.path})`);
  else notes.push(`checkpoint: none yet at ${checkpoint.path} (written when this command closes the store)`);
  return notes;
}

/** The stored fields of the entry where the check failed (domain `getAuditEntryHeaderAs`, as the local system). */
async function describeEntry(db: Db, seq: number, reason: AuditBadReason): Promise<BadAuditEntry> {
  const row = await getAuditEntryHeaderAs(db, LOCAL_SYSTEM_PRINCIPAL, seq);
  if (row === undefined) return { seq, reason };
  return { seq, reason, at: row.at.toISOString(), actor: row.actor, action: row.action, entityType: row.entityType, entityId: row.entityId };
}
