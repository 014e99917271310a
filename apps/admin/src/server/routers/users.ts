/**
 * `users.*`: accounts and role grants. Who may see and change which account is decided by the core use cases
 * (`@ksef-certs/domain/access`, users.ts): a super-admin manages everyone; a company admin the accounts holding a
 * role in its companies, with roles over its companies only; nobody revokes its own roles.
 */
import { z } from "zod";
import { createUserAs, getUserAs, grantRoleAs, listUsersAs, revokeRoleAs, type RoleGrantInput, type UserWithRoles } from "@ksef-certs/domain/access";
import { authedProcedure, mutationProcedure, router, changeMeta } from "../trpc.js";

const id = z.string().max(64);
const role = z.enum(["super_admin", "company_admin", "branch_admin", "auditor"]);
const grantInput = z.object({ userId: id, role, companyId: id.nullish(), branchId: id.nullish() });

function grantOf(input: z.infer<typeof grantInput>): RoleGrantInput {
  return { userId: input.userId, role: input.role, companyId: input.companyId ?? null, branchId: input.branchId ?? null };
}

function view(u: UserWithRoles) {
  return {
    id: u.id,
    login: u.login,
    displayName: u.displayName,
    locale: u.locale,
    disabled: u.disabledAt !== null,
    createdAt: u.createdAt.toISOString(),
    roles: u.roles,
  };
}

/** The `users` router. */
export const usersRouter = router({
  /** Accounts the caller manages, each with the roles it may see (super-admin: all; company admin: those with a role in its companies). */
  list: authedProcedure.query(async ({ ctx }) => (await listUsersAs(ctx.db, ctx.principal)).map(view)),
  /** `{ id }` → one account as `list` shows it; NOT_FOUND for an account the caller does not manage. */
  get: authedProcedure.input(z.object({ id })).query(async ({ ctx, input }) => view(await getUserAs(ctx.db, ctx.principal, input.id))),
  /** `{ login, displayName, password, role, companyId?, branchId? }` → the account. */
  create: mutationProcedure
    .input(
      z.object({
        login: z.string().max(200),
        displayName: z.string().max(300),
        password: z.string().max(1100),
        role,
        companyId: id.nullish(),
        branchId: id.nullish(),
        locale: z.enum(["pl", "en"]).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const u = await createUserAs(
        ctx.db,
        ctx.principal,
        {
          login: input.login,
          displayName: input.displayName,
          password: input.password,
          ...(input.locale === undefined ? {} : { locale: input.locale }),
          role: { role: input.role, companyId: input.companyId ?? null, branchId: input.branchId ?? null },
        },
        changeMeta(ctx),
      );
      return view(u);
    }),
  /** `{ userId, role, companyId?, branchId? }` → `{ grant, added }`. */
  grant: mutationProcedure.input(grantInput).mutation(({ ctx, input }) => grantRoleAs(ctx.db, ctx.principal, grantOf(input), changeMeta(ctx))),
  /** `{ userId, role, companyId?, branchId? }` → `{ removed }` (the account's sessions end). */
  revoke: mutationProcedure.input(grantInput).mutation(({ ctx, input }) => revokeRoleAs(ctx.db, ctx.principal, grantOf(input), changeMeta(ctx))),
});
