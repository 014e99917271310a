/**
 * `users.*`: accounts and role grants. A super-admin manages everyone; a company admin creates accounts
 * and grants roles only within its company (company_admin, branch_admin, auditor of that company), and
 * sees only accounts holding a role there.
 */
import { z } from "zod";
import { createUser, getUser, grantRole, hasRole, listUsers, revokeRole, type Principal, type RoleGrantInput, type UserWithRoles } from "@ksef-certs/core/access";
import { KsefCertsError } from "@ksef-certs/core/errors";
import type { Db } from "@ksef-certs/core/store";
import { actorOf, authedProcedure, mutationProcedure, requireEntity, router } from "../trpc.js";

const id = z.string().max(64);
const role = z.enum(["super_admin", "company_admin", "branch_admin", "auditor"]);
const grantInput = z.object({ userId: id, role, companyId: id.nullish(), branchId: id.nullish() });

/** Throws unless the caller may grant this role over this scope (super-admin; company admin inside its company, not super-admin or all-company auditor). */
async function checkGrant(ctx: { db: Db; principal: Principal }, g: { role: string; companyId?: string | null | undefined; branchId?: string | null | undefined }): Promise<void> {
  if (hasRole(ctx.principal, "super_admin")) return;
  if (!hasRole(ctx.principal, "company_admin")) throw new KsefCertsError("FORBIDDEN", "Your role may not manage accounts.");
  if (g.role === "super_admin") throw new KsefCertsError("FORBIDDEN", "Only a super-admin grants super-admin.");
  if (g.branchId !== undefined && g.branchId !== null) {
    await requireEntity(ctx, "branch", g.branchId, "write");
    return;
  }
  if (g.companyId === undefined || g.companyId === null) throw new KsefCertsError("FORBIDDEN", "Only a super-admin grants roles over every company.");
  await requireEntity(ctx, "company", g.companyId, "write");
}

function view(u: UserWithRoles) {
  return { id: u.id, login: u.login, displayName: u.displayName, locale: u.locale, disabled: u.disabledAt !== null, createdAt: u.createdAt.toISOString(), roles: u.roles };
}

/** The `users` router. */
export const usersRouter = router({
  /** Accounts the caller may manage (super-admin: all; company admin: those with a role in its companies). */
  list: authedProcedure.query(async ({ ctx }) => {
    const all = await listUsers(ctx.db);
    if (hasRole(ctx.principal, "super_admin")) return all.map(view);
    const mine = new Set(ctx.principal.roles.filter((r) => r.role === "company_admin").map((r) => r.companyId));
    if (mine.size === 0) throw new KsefCertsError("FORBIDDEN", "Your role may not manage accounts.");
    return all.filter((u) => u.roles.some((r) => r.companyId !== null && mine.has(r.companyId))).map(view);
  }),
  /** `{ login, displayName, password, role, companyId?, branchId? }` → the account. */
  create: mutationProcedure
    .input(z.object({ login: z.string().max(200), displayName: z.string().max(300), password: z.string().max(1100), role, companyId: id.nullish(), branchId: id.nullish(), locale: z.enum(["pl", "en"]).optional() }))
    .mutation(async ({ ctx, input }) => {
      await checkGrant(ctx, input);
      const u = await createUser(
        ctx.db,
        {
          login: input.login,
          displayName: input.displayName,
          password: input.password,
          ...(input.locale === undefined ? {} : { locale: input.locale }),
          role: { role: input.role, companyId: input.companyId ?? null, branchId: input.branchId ?? null },
        },
        { actor: actorOf(ctx.principal), at: ctx.services.clock() },
      );
      return view(u);
    }),
  /** `{ userId, role, companyId?, branchId? }` → `{ grant, added }`. */
  grant: mutationProcedure.input(grantInput).mutation(async ({ ctx, input }) => {
    await checkGrant(ctx, input);
    await visibleUser(ctx, input.userId);
    return grantRole(ctx.db, input as RoleGrantInput, { actor: actorOf(ctx.principal), at: ctx.services.clock() });
  }),
  /** `{ userId, role, companyId?, branchId? }` → `{ removed }` (the account's sessions end). */
  revoke: mutationProcedure.input(grantInput).mutation(async ({ ctx, input }) => {
    await checkGrant(ctx, input);
    await visibleUser(ctx, input.userId);
    return revokeRole(ctx.db, input as RoleGrantInput, { actor: actorOf(ctx.principal), at: ctx.services.clock() });
  }),
});

/** NOT_FOUND unless the caller may see the account (super-admin, or it has a role in the caller's company; a new account without roles is visible to company admins too). */
async function visibleUser(ctx: { db: Db; principal: Principal }, userId: string): Promise<void> {
  const u = await getUser(ctx.db, userId);
  if (hasRole(ctx.principal, "super_admin")) return;
  const mine = new Set(ctx.principal.roles.filter((r) => r.role === "company_admin").map((r) => r.companyId));
  if (u.roles.length > 0 && !u.roles.some((r) => r.companyId !== null && mine.has(r.companyId))) {
    throw new KsefCertsError("NOT_FOUND", `No account with id ${JSON.stringify(userId)}.`);
  }
}
