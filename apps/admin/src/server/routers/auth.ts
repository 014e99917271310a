/**
 * `auth.*`: sign-in (throttled, sets the HttpOnly session cookie), sign-out, who am I, language and
 * password. The CSRF token is returned by `login` and `me`; the client sends it in `x-csrf-token`.
 */
import { z } from "zod";
import { authenticate, changePassword, endSession, setUserLocale, tokenHash, type Principal } from "@ksef-certs/domain/access";
import { authedProcedure, mutationProcedure, publicProcedure, router, SESSION_COOKIE, changeMeta } from "../trpc.js";

/**
 * The `Set-Cookie` header of the session cookie (HttpOnly, SameSite=Strict, Path=/, Secure over https).
 * @param token the session token, or "" to clear it
 * @param maxAgeSeconds lifetime (0 clears)
 * @param secure add `Secure`
 */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${secure ? "; Secure" : ""}`;
}

function me(principal: Principal, csrfToken: string) {
  return {
    user: { id: principal.userId, login: principal.login, displayName: principal.displayName, locale: principal.locale },
    roles: principal.roles.map((r) => ({ role: r.role, companyId: r.companyId, branchId: r.branchId })),
    csrfToken,
  };
}

/** The `auth` router. */
export const authRouter = router({
  /** `{ login, password }` → `{ user, roles, csrfToken }`; sets the cookie. UNAUTHORIZED for wrong credentials, TOO_MANY_REQUESTS while throttled. */
  login: publicProcedure.input(z.object({ login: z.string().max(200), password: z.string().max(1100) })).mutation(async ({ ctx, input }) => {
    const at = ctx.services.clock();
    const session = await authenticate(ctx.db, { login: input.login, password: input.password, clientKey: ctx.clientKey, at });
    // A session cookie already present (another account, or a stale one) is replaced: no session fixation.
    if (ctx.sessionToken !== null) await endSession(ctx.db, ctx.sessionToken);
    ctx.setCookie(sessionCookie(session.token, (session.expiresAt.getTime() - at.getTime()) / 1000, ctx.secure));
    return me(session.principal, session.csrfToken);
  }),
  /** Ends the session and clears the cookie. */
  logout: mutationProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionToken !== null) await endSession(ctx.db, ctx.sessionToken);
    ctx.setCookie(sessionCookie("", 0, ctx.secure));
    return { ok: true as const };
  }),
  /** The signed-in account, its roles and the CSRF token; null when not signed in. */
  me: publicProcedure.query(({ ctx }) => (ctx.principal === null || ctx.session === null ? null : me(ctx.principal, ctx.session.csrfToken))),
  /** Sets the UI language. */
  setLocale: mutationProcedure.input(z.object({ locale: z.enum(["pl", "en"]) })).mutation(async ({ ctx, input }) => {
    await setUserLocale(ctx.db, ctx.principal.userId, input.locale);
    return { locale: input.locale };
  }),
  /** Changes the password (ends the account's other sessions). WRONG_PASSWORD (BAD_REQUEST) with a violation on `current`. */
  changePassword: mutationProcedure.input(z.object({ current: z.string().max(1100), next: z.string().max(1100) })).mutation(async ({ ctx, input }) => {
    await changePassword(
      ctx.db,
      {
        userId: ctx.principal.userId,
        current: input.current,
        next: input.next,
        ...(ctx.sessionToken === null ? {} : { keepSessionHash: tokenHash(ctx.sessionToken) }),
      },
      changeMeta(ctx),
    );
    return { ok: true as const };
  }),
  /** Keeps the session alive (a query that touches it). */
  ping: authedProcedure.query(() => ({ ok: true as const })),
});
