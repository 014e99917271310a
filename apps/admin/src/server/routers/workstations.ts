/**
 * `workstations.*`: pairing the signer agent of a workstation and watching its hand-offs (
 * router contract). Use cases are core `./agent`; who may do what is core `./access`: reading needs read access
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
import {
  createPairingCode,
  listSigningRequests,
  listWorkstationTokens,
  revokeWorkstationToken,
  workstationTokenInfo,
  type WorkstationTokenInfo,
} from "@ksef-certs/domain/agent";
import { isKsefCertsError, KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { actorOf, authedProcedure, mutationProcedure, requireEntity, router } from "../trpc.js";

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
    await requireEntity(ctx, "workstation", input.workstationId, "write");
    const { code, expiresAt } = await createPairingCode(ctx.db, {
      workstationId: input.workstationId,
      actor: actorOf(ctx.principal),
      now: ctx.services.clock(),
    });
    return { code, expiresAt: expiresAt.toISOString() };
  }),

  /** The workstation's agent tokens (never the tokens themselves), revoked ones included. */
  tokens: authedProcedure.input(z.object({ workstationId: uuid })).query(async ({ ctx, input }) => {
    await requireEntity(ctx, "workstation", input.workstationId, "read");
    return (await listWorkstationTokens(ctx.db, input.workstationId)).map(tokenView);
  }),

  /** Revokes an agent token at once; revoking a revoked token changes nothing. Audited. */
  revokeToken: mutationProcedure.input(z.object({ tokenId: uuid })).mutation(async ({ ctx, input }) => {
    const hidden = new KsefCertsError("NOT_FOUND", msg("server.workstation.noToken", { id: JSON.stringify(input.tokenId) }), {
      details: { entity: "workstationToken", id: input.tokenId },
    });
    let token: WorkstationTokenInfo;
    try {
      token = await workstationTokenInfo(ctx.db, input.tokenId);
      await requireEntity(ctx, "workstation", token.workstationId, "read");
    } catch (err) {
      // A token of a workstation the caller cannot see does not exist for them (not even which workstation it is).
      if (isKsefCertsError(err, "NOT_FOUND")) throw hidden;
      throw err;
    }
    await requireEntity(ctx, "workstation", token.workstationId, "write");
    return tokenView(await revokeWorkstationToken(ctx.db, { tokenId: input.tokenId, actor: actorOf(ctx.principal), now: ctx.services.clock() }));
  }),

  /** The workstation's signing requests (hand-offs through its agent), newest first. */
  signingRequests: authedProcedure
    .input(z.object({ workstationId: uuid, limit: z.number().int().min(1).max(1000).optional() }))
    .query(async ({ ctx, input }) => {
      await requireEntity(ctx, "workstation", input.workstationId, "read");
      const rows = await listSigningRequests(ctx.db, { workstationId: input.workstationId, limit: input.limit ?? 100 });
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
