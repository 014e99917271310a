/**
 * `org.*`: the organisation tree the caller may see, and adding companies, branches, operators and
 * workstations (registry use cases of `@ksef-certs/domain/registry`; checks in `@ksef-certs/domain/access`).
 */
import { z } from "zod";
import { addCompanyAs, visibleOrganisation } from "@ksef-certs/domain/access";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { addBranch, addOperator, addWorkstation, assignOperatorToBranch } from "@ksef-certs/domain/registry";
import { actorOf, authedProcedure, mutationProcedure, requireEntity, requireScope, router } from "../trpc.js";
import { TRPCError } from "@trpc/server";

const id = z.string().max(64);
const text = (max: number) => z.string().max(max);

/** The `org` router. */
export const orgRouter = router({
  /**
   * `[{ id, nip, name, branches: [{ id, code, name, internalId, workstations: [{ id, name, outboxDir, inboxDir, paired }] }],
   * operators: [{ id, name, pesel, nip, branchIds }] }]`, only what the caller may read (a branch admin: its company's
   * name, its branch, the operators working there).
   */
  tree: authedProcedure.query(({ ctx }) => visibleOrganisation(ctx.db, ctx.principal)),
  /** `{ nip, name }` → the company (super-admin only: a company admin is bound to an existing company). */
  addCompany: mutationProcedure
    .input(z.object({ nip: text(32), name: text(300) }))
    .mutation(({ ctx, input }) => addCompanyAs(ctx.db, ctx.principal, input, { actor: actorOf(ctx.principal), at: ctx.services.clock() })),
  /** `{ companyId, code, name, internalId? }` → the branch (company admin of that company). */
  addBranch: mutationProcedure
    .input(z.object({ companyId: id, code: text(64), name: text(300), internalId: text(64).optional() }))
    .mutation(async ({ ctx, input }) => {
      await requireEntity(ctx, "company", input.companyId, "write");
      return addBranch(
        ctx.db,
        { companyId: input.companyId, code: input.code, name: input.name, ...(input.internalId ? { internalId: input.internalId } : {}) },
        { actor: actorOf(ctx.principal), at: ctx.services.clock() },
      );
    }),
  /** `{ companyId, name, pesel?, nip?, branchIds? }` → the operator (company admin; a branch admin when `branchIds` includes its branch). */
  addOperator: mutationProcedure
    .input(z.object({ companyId: id, name: text(300), pesel: text(32).optional(), nip: text(32).optional(), branchIds: z.array(id).max(100).optional() }))
    .mutation(async ({ ctx, input }) => {
      const company = await requireEntity(ctx, "company", input.companyId, "read");
      if (company.kind === "global") throw new TRPCError({ code: "INTERNAL_SERVER_ERROR" });
      for (const b of input.branchIds ?? []) {
        const s = await requireEntity(ctx, "branch", b, "read");
        if (s.kind !== "branch" || s.companyId !== input.companyId)
          throw new KsefCertsError("VALIDATION", msg("server.org.branchOtherCompany"), {
            violations: [{ field: "branchIds", rule: "branchIds.company", message: "Every branch must belong to the operator's company." }],
          });
      }
      requireScope(ctx, { kind: "operator", companyId: input.companyId, operatorId: "", branchIds: input.branchIds ?? [] }, "write");
      return addOperator(
        ctx.db,
        {
          companyId: input.companyId,
          name: input.name,
          ...(input.pesel ? { pesel: input.pesel } : {}),
          ...(input.nip ? { nip: input.nip } : {}),
          ...(input.branchIds ? { branchIds: input.branchIds } : {}),
        },
        { actor: actorOf(ctx.principal), at: ctx.services.clock() },
      );
    }),
  /** `{ branchId, name, outboxDir, inboxDir }` → the workstation (admins of that branch or its company). */
  addWorkstation: mutationProcedure
    .input(z.object({ branchId: id, name: text(300), outboxDir: text(2048), inboxDir: text(2048) }))
    .mutation(async ({ ctx, input }) => {
      await requireEntity(ctx, "branch", input.branchId, "write");
      return addWorkstation(ctx.db, input, { actor: actorOf(ctx.principal), at: ctx.services.clock() });
    }),
  /** `{ operatorId, branchId }` → `{ added }` (admins who may change the branch and read the operator). */
  assignOperatorToBranch: mutationProcedure.input(z.object({ operatorId: id, branchId: id })).mutation(async ({ ctx, input }) => {
    const op = await requireEntity(ctx, "operator", input.operatorId, "read");
    const branch = await requireEntity(ctx, "branch", input.branchId, "write");
    if (op.kind !== "operator" || branch.kind !== "branch" || op.companyId !== branch.companyId) {
      throw new KsefCertsError("VALIDATION", msg("server.org.operatorBranchCompanies"), {
        violations: [{ field: "branchId", rule: "branchId.company", message: "The branch must belong to the operator's company." }],
      });
    }
    return assignOperatorToBranch(ctx.db, input, { actor: actorOf(ctx.principal), at: ctx.services.clock() });
  }),
});
