/**
 * `org.*`: the organisation tree the caller may see, and adding companies, branches, operators and
 * workstations (registry use cases of `@ksef-certs/domain/registry`; checks in `@ksef-certs/domain/access`).
 */
import { z } from "zod";
import { addBranchAs, addCompanyAs, addOperatorAs, addWorkstationAs, assignOperatorToBranchAs, visibleOrganisation } from "@ksef-certs/domain/access";
import { authedProcedure, changeMeta, mutationProcedure, router } from "../trpc.js";

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
    .mutation(({ ctx, input }) => addCompanyAs(ctx.db, ctx.principal, input, changeMeta(ctx))),
  /** `{ companyId, code, name, internalId? }` → the branch (company admin of that company). */
  addBranch: mutationProcedure
    .input(z.object({ companyId: id, code: text(64), name: text(300), internalId: text(64).optional() }))
    .mutation(({ ctx, input }) =>
      addBranchAs(
        ctx.db,
        ctx.principal,
        { companyId: input.companyId, code: input.code, name: input.name, ...(input.internalId ? { internalId: input.internalId } : {}) },
        changeMeta(ctx),
      ),
    ),
  /** `{ companyId, name, pesel?, nip?, branchIds? }` → the operator (company admin; a branch admin when `branchIds` includes its branch). */
  addOperator: mutationProcedure
    .input(z.object({ companyId: id, name: text(300), pesel: text(32).optional(), nip: text(32).optional(), branchIds: z.array(id).max(100).optional() }))
    .mutation(({ ctx, input }) =>
      addOperatorAs(
        ctx.db,
        ctx.principal,
        {
          companyId: input.companyId,
          name: input.name,
          ...(input.pesel ? { pesel: input.pesel } : {}),
          ...(input.nip ? { nip: input.nip } : {}),
          ...(input.branchIds ? { branchIds: input.branchIds } : {}),
        },
        changeMeta(ctx),
      ),
    ),
  /** `{ branchId, name, outboxDir, inboxDir }` → the workstation (admins of that branch or its company). */
  addWorkstation: mutationProcedure
    .input(z.object({ branchId: id, name: text(300), outboxDir: text(2048), inboxDir: text(2048) }))
    .mutation(({ ctx, input }) => addWorkstationAs(ctx.db, ctx.principal, input, changeMeta(ctx))),
  /** `{ operatorId, branchId }` → `{ added }` (admins who may change the branch and read the operator). */
  assignOperatorToBranch: mutationProcedure
    .input(z.object({ operatorId: id, branchId: id }))
    .mutation(({ ctx, input }) => assignOperatorToBranchAs(ctx.db, ctx.principal, input, changeMeta(ctx))),
});
