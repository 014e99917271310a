/**
 * `ksef-certs audit verify`: checks the hash chain of the append-only audit log (issue 4, item 6;
 * core `src/store/audit.ts`): every entry's SHA-256 and its link to the previous entry.
 */
import type { Command } from "commander";
import { type Db, verifyAuditLog } from "@ksef-certs/core/store";
import { exitCodeFor } from "../exit-codes.js";
import { type CommandEnv, examples } from "../options.js";
import { Output } from "../output.js";
import { addStoreOptions, type StoreOptions, withStore } from "../store.js";

/** Exit code of `audit verify` when the chain is broken: 3, the code of damaged input (`MALFORMED`). */
export const EXIT_AUDIT_BROKEN = exitCodeFor("MALFORMED");

/** What is shown about the first entry that fails verification (never its before/after values). */
export interface BadAuditEntry {
  readonly seq: number;
  readonly reason: "hash" | "chain" | "sequence";
  readonly at?: string;
  readonly actor?: string;
  readonly action?: string;
  readonly entityType?: string;
  readonly entityId?: string | null;
}

const REASONS: Readonly<Record<BadAuditEntry["reason"], string>> = {
  hash: "its content does not match its hash (it was changed)",
  chain: "it does not link to the entry before it (an entry was changed, removed or inserted)",
  sequence: "an entry before it is missing",
};

/**
 * Registers `audit verify`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerAudit(program: Command, env: CommandEnv): void {
  const group = program.command("audit").summary("check the audit log").description("The append-only, hash-chained log of every registry change.");
  const verify = group
    .command("verify")
    .summary("verify the audit log's hash chain")
    .description(
      `Verify every entry's SHA-256 and its link to the previous one. Prints the number of entries checked and OK (exit 0),\nor the first bad entry and why (exit ${EXIT_AUDIT_BROKEN}, the code of damaged input). With --json: { ok, entries, head, firstBad? }.`,
    );
  addStoreOptions(verify).addHelpText("after", examples(["ksef-certs audit verify", "ksef-certs audit verify --json"]));
  verify.action(async (opts: StoreOptions) => {
    const out = new Output(env.io, opts.json === true);
    const result = await withStore(env, opts, async (s) => {
      const v = await verifyAuditLog(s.db, (n) => {
        if (n > 0 && n % 10_000 === 0) out.note(`checked ${n} entries…`);
      });
      return { ...v, firstBad: v.firstBad === undefined ? undefined : await describeEntry(s.db, v.firstBad.seq, v.firstBad.reason) };
    });
    if (result.ok) {
      out.result({ ok: true, entries: result.entries, head: result.head }, [`audit log OK: ${result.entries} entries checked`, `head: ${result.head}`]);
      return;
    }
    const bad = result.firstBad;
    env.state.exitCode = EXIT_AUDIT_BROKEN;
    out.result({ ok: false, entries: result.entries, head: result.head, firstBad: bad ?? null }, [
      `audit log BROKEN: ${result.entries} entries verified before entry #${bad?.seq ?? "?"}`,
      `entry #${bad?.seq ?? "?"}${bad?.action === undefined ? "" : ` (${bad.action} of ${bad.entityType ?? "?"} ${bad.entityId ?? ""} by ${bad.actor ?? "?"} at ${bad.at ?? "?"})`}: ${bad === undefined ? "?" : REASONS[bad.reason]}`,
      "Restore the database from a backup taken before that entry, and find out who changed it.",
    ]);
  });
}

/** The stored fields of one entry, read with plain SQL (the seq is an integer from the database, not user input). */
async function describeEntry(db: Db, seq: number, reason: BadAuditEntry["reason"]): Promise<BadAuditEntry> {
  if (!Number.isSafeInteger(seq)) return { seq, reason };
  const result: unknown = await db.execute(`SELECT seq, at, actor, action, entity_type, entity_id FROM audit_log WHERE seq = ${seq}`);
  const rows = Array.isArray(result) ? (result as Record<string, unknown>[]) : ((result as { rows?: Record<string, unknown>[] }).rows ?? []);
  const row = rows[0];
  if (row === undefined) return { seq, reason };
  const text = (v: unknown): string => (v instanceof Date ? v.toISOString() : typeof v === "string" || typeof v === "number" ? String(v) : "?");
  return {
    seq,
    reason,
    at: text(row["at"]),
    actor: text(row["actor"]),
    action: text(row["action"]),
    entityType: text(row["entity_type"]),
    entityId: row["entity_id"] === null ? null : text(row["entity_id"]),
  };
}
