/**
 * `audit.*`: the audit log, newest first, and its verification (keyed chain and head checkpoint). A super-admin or an
 * all-company auditor reads everything; a company admin or company auditor everything of its company;
 * a branch admin only entries of an entity it may read (give `entityId`).
 */
import { z } from "zod";
import { listAuditEntriesAs, verifyAuditLogAs } from "@ksef-certs/domain/access";
import { authedProcedure, router } from "../trpc.js";

/** The `audit` router. */
export const auditRouter = router({
  /** `{ entityId?, companyId?, cursor?, limit? }` → `{ entries: [{ seq, at, actor, action, entityType, entityId, before, after }], nextCursor }`. */
  list: authedProcedure
    .input(
      z
        .object({
          entityId: z.string().max(64).optional(),
          companyId: z.string().max(64).optional(),
          cursor: z.number().int().positive().optional(),
          limit: z.number().int().min(1).max(500).optional(),
        })
        .default({}),
    )
    .query(async ({ ctx, input }) => {
      const page = await listAuditEntriesAs(ctx.db, ctx.principal, {
        ...(input.entityId === undefined ? {} : { entityId: input.entityId }),
        ...(input.companyId === undefined ? {} : { companyId: input.companyId }),
        ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
        ...(input.limit === undefined ? {} : { limit: input.limit }),
      });
      return {
        entries: page.entries.map((e) => ({
          seq: e.seq,
          at: e.at.toISOString(),
          actor: e.actor,
          action: e.action,
          entityType: e.entityType,
          entityId: e.entityId,
          before: e.before,
          after: e.after,
        })),
        nextCursor: page.nextCursor,
      };
    }),
  /**
   * `{ ok, entries, unkeyed, head, firstBad?: { seq, reason }, checkpoint?: { status, seq?, at? } }`: the whole
   * log checked (MACs, links, and its end against the head checkpoint; super-admins, auditors, company admins).
   */
  verify: authedProcedure.query(async ({ ctx }) => {
    const { masterKey, auditCheckpoint } = ctx.services;
    const v = await verifyAuditLogAs(ctx.db, ctx.principal, {
      ...(masterKey === undefined ? {} : { masterKey, ...(auditCheckpoint === undefined ? {} : { checkpoint: auditCheckpoint }) }),
    });
    const c = v.checkpoint;
    return {
      ok: v.ok,
      entries: v.entries,
      unkeyed: v.unkeyed,
      head: v.head,
      ...(v.firstBad === undefined ? {} : { firstBad: v.firstBad }),
      // Where the file is stays on the server: it says where the master key lives.
      ...(c === undefined
        ? {}
        : { checkpoint: c.status === "valid" ? { status: c.status, seq: c.checkpoint.seq, at: c.checkpoint.at.toISOString() } : { status: c.status } }),
    };
  }),
});
