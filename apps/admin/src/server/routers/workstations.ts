/**
 * `workstations.*`: pairing the signer agent of a workstation and watching its hand-offs (
 * router contract). Use cases are `@ksef-certs/domain/access`'s `…As` functions, which authorize: reading needs read access
 * to the workstation's branch (any admin of it, or an auditor); pairing and revoking need write access
 * (company admin of its company, branch admin of its branch, super-admin). A workstation or token the caller
 * may not see answers NOT_FOUND, as if it did not exist.
 *
 * - `createPairingCode({ workstationId })` → `{ code: "XXXX-XXXX", expiresAt }` (valid 10 minutes, shown once)
 * - `tokens({ workstationId })` → `[{ id, label, createdAt, lastUsedAt, revokedAt }]`, newest first
 * - `revokeToken({ tokenId })` → that token after revocation (the agent is refused at its next request)
 * - `signingRequests({ workstationId, limit? })` → `[{ id, enrollmentId, challenge, fileName, status, expiresAt,
 *   replacedBy, createdAt, deliveredAt, signedAt, signedSha256, failureReason }]`, newest first
 *
 * Dates are ISO 8601 strings.
 */
import { z } from "zod";
import { createPairingCodeAs, listSigningRequestsAs, listWorkstationTokensAs, revokeWorkstationTokenAs } from "@ksef-certs/domain/access";
import type { WorkstationTokenInfo } from "@ksef-certs/domain/agent";
import { actorOf, authedProcedure, mutationProcedure, router } from "../trpc.js";

const uuid = z.uuid();
const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

function tokenView(t: WorkstationTokenInfo): {
  id: string;
  workstationId: string;
  label: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
} {
  return {
    id: t.id,
    workstationId: t.workstationId,
    label: t.label,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: iso(t.lastUsedAt),
    revokedAt: iso(t.revokedAt),
  };
}

/** The `workstations` router. */
export const workstationsRouter = router({
  /** A one-time pairing code for the workstation's signer agent (replaces an unused earlier one); audited. */
  createPairingCode: mutationProcedure.input(z.object({ workstationId: uuid })).mutation(async ({ ctx, input }) => {
    const { code, expiresAt } = await createPairingCodeAs(ctx.db, ctx.principal, {
      workstationId: input.workstationId,
      actor: actorOf(ctx.principal),
      now: ctx.services.clock(),
    });
    return { code, expiresAt: expiresAt.toISOString() };
  }),

  /** The workstation's agent tokens (never the tokens themselves), revoked ones included. */
  tokens: authedProcedure
    .input(z.object({ workstationId: uuid }))
    .query(async ({ ctx, input }) => (await listWorkstationTokensAs(ctx.db, ctx.principal, input.workstationId)).map(tokenView)),

  /** Revokes an agent token at once; revoking a revoked token changes nothing. Audited. */
  revokeToken: mutationProcedure
    .input(z.object({ tokenId: uuid }))
    .mutation(async ({ ctx, input }) =>
      tokenView(await revokeWorkstationTokenAs(ctx.db, ctx.principal, { tokenId: input.tokenId, actor: actorOf(ctx.principal), now: ctx.services.clock() })),
    ),

  /** The workstation's signing requests (hand-offs through its agent), newest first. */
  signingRequests: authedProcedure
    .input(z.object({ workstationId: uuid, limit: z.number().int().min(1).max(1000).optional() }))
    .query(async ({ ctx, input }) => {
      const rows = await listSigningRequestsAs(ctx.db, ctx.principal, {
        workstationId: input.workstationId,
        ...(input.limit === undefined ? {} : { limit: input.limit }),
      });
      return rows.map((r) => ({
        id: r.id,
        enrollmentId: r.enrollmentId,
        challenge: r.challenge,
        contextIdentifier: { type: r.contextIdentifier.type, value: r.contextIdentifier.value },
        fileName: r.fileName,
        status: r.status,
        expiresAt: r.expiresAt.toISOString(),
        replacedBy: r.replacedBy ?? null,
        createdAt: r.createdAt.toISOString(),
        deliveredAt: iso(r.deliveredAt),
        signedAt: iso(r.signedAt),
        signedSha256: r.signedSha256,
        failureReason: r.failureReason,
      }));
    }),
});
