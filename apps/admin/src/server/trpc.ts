/**
 * tRPC setup of the admin server (the router contract): the request
 * {@link Context}, the procedure builders and the role/scope helpers every router uses.
 *
 * - {@link publicProcedure}: anyone; core errors mapped to tRPC errors (errors.ts) by one middleware.
 * - {@link authedProcedure}: a valid session is required (UNAUTHORIZED otherwise), and EVERY mutation
 *   through it must carry the session's CSRF token in header `x-csrf-token` (FORBIDDEN otherwise), so a
 *   new mutation cannot forget the check.
 * - {@link mutationProcedure}: the same builder, named for readability at mutation sites.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { checkCsrf, type ActiveSession, type Principal } from "@ksef-certs/domain/access";
import { KsefCertsError, localizeError, type Violation } from "@ksef-certs/ksef/errors";
import { isMessageId, LOCALES, msg, parseLocale, translate, type Locale } from "@ksef-certs/ksef/messages";
import type { Db } from "@ksef-certs/domain/store";
import { findCoreError, ksefErrorData, toTrpcError } from "./errors.js";
import type { ServerServices } from "./services.js";

/** Name of the session cookie. */
export const SESSION_COOKIE = "ksef_certs_session";
/** Header carrying the CSRF token on mutations. */
export const CSRF_HEADER = "x-csrf-token";
/** Header carrying the web app's UI language (`pl` or `en`); wins over `Accept-Language`. */
export const LOCALE_HEADER = "x-ksef-certs-locale";

/**
 * The language errors are worded in for one request: the app's {@link LOCALE_HEADER}, else the first language of
 * `Accept-Language` (RFC 9110 §12.5.4, by quality) that ksef-certs speaks, else Polish (the web app's default).
 * @param headers the request's headers
 */
export function requestLocale(headers: Pick<Headers, "get">): Locale {
  const chosen = parseLocale(headers.get(LOCALE_HEADER) ?? "");
  if (chosen !== undefined) return chosen;
  const ranked = (headers.get("accept-language") ?? "")
    .split(",")
    .map((part, i) => {
      const [tag = "", ...rest] = part.trim().split(";");
      const q = rest.map((r) => /^\s*q=([0-9.]+)\s*$/.exec(r)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((l) => l.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    const locale = parseLocale(tag);
    if (locale !== undefined) return locale;
  }
  return LOCALES[0];
}

/**
 * Violations worded in `locale` through their catalogue message `rule.<rule>` (as reported when the catalogue has none).
 * @param violations as a core error or a refused input reports them
 * @param locale the reader's language
 */
export function localizeViolations(violations: readonly Violation[], locale: Locale): readonly Violation[] {
  return violations.map((v) => {
    const id = `rule.${v.rule}`;
    return isMessageId(id) ? { ...v, message: translate(locale, v.params === undefined ? { id } : { id, params: v.params }) } : v;
  });
}

/** The per-request context of every procedure. */
export type Context = {
  /** The database (PGlite or PostgreSQL). */
  readonly db: Db;
  /** Server-wide services (clock, enrollment runner, KSeF URLs, logger). */
  readonly services: ServerServices;
  /** The signed-in account, or null. */
  readonly principal: Principal | null;
  /** The valid session (hashes only) and its CSRF token, or null. */
  readonly session: ActiveSession | null;
  /** The session cookie's token, or null (needed to end the session and rotate on sign-in). */
  readonly sessionToken: string | null;
  /** The CSRF header of this request, or null. */
  readonly csrfHeader: string | null;
  /** The client's address (throttling key). */
  readonly clientKey: string;
  /** Whether the request came over https (cookie `Secure`). */
  readonly secure: boolean;
  /** Adds a `Set-Cookie` header to the response (no-op in in-process callers). */
  readonly setCookie: (header: string) => void;
  /** The language error violations are worded in ({@link requestLocale}); Polish when not given. */
  readonly locale?: Locale;
};

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error, ctx }) {
    const data = ksefErrorData(error.cause);
    // Internal failures are logged with their cause by the server; the page gets no stack or internals.
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    // `message` and `hint` stay English (logs, scripts, existing clients); the ids and parameters let the web app
    // say them in its reader's language, and the violations are worded in the request's language already.
    const locale = ctx?.locale ?? LOCALES[0];
    const core = findCoreError(error.cause);
    const said = core !== undefined && core.code !== "INTERNAL" ? localizeError(core, locale) : undefined;
    const ksef =
      data === null
        ? null
        : {
            ...data,
            ...(said?.messageId === undefined ? {} : { messageId: said.messageId, ...(said.params === undefined ? {} : { params: said.params }) }),
            ...(said?.hintId === undefined ? {} : { hintId: said.hintId, ...(said.hintParams === undefined ? {} : { hintParams: said.hintParams }) }),
            violations: localizeViolations(data.violations, locale),
          };
    // A refused input says so in one sentence; the violations carry the details (never zod's JSON dump).
    return {
      ...shape,
      message: internal ? (ksef?.message ?? "Internal error.") : ksef !== null ? ksef.message : shape.message,
      data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path, ksef },
    };
  },
});

/** Builds a router from procedures and sub-routers. */
export const router = t.router;
/** Makes a server-side caller factory of a router (tests, benchmark). */
export const createCallerFactory = t.createCallerFactory;

const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const mapped = toTrpcError(result.error.cause ?? result.error);
    if (mapped instanceof TRPCError) throw mapped;
  }
  return result;
});

/**
 * Refuses, before any schema or use case sees them, strings that no field may hold: NUL characters (PostgreSQL text
 * cannot store them) and lone UTF-16 surrogates (not encodable as UTF-8). The violation names the field.
 */
const refuseUnstorableStrings = t.middleware(async ({ getRawInput, next }) => {
  const bad = unstorableStringField(await getRawInput());
  if (bad !== undefined) {
    const message = msg("server.input.unstorable");
    const english = new KsefCertsError("VALIDATION", message).message;
    throw new KsefCertsError("VALIDATION", message, { violations: [{ field: bad, rule: "input.characters", message: english }] });
  }
  return next();
});

/** A procedure anyone may call (core errors mapped). */
export const publicProcedure = t.procedure.use(mapErrors).use(refuseUnstorableStrings);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The path (`a.b.0.c`) of the first string in `value` holding a NUL character or a lone surrogate, or undefined.
 * Iterative, so a deeply nested input cannot exhaust the stack.
 * @param value a parsed JSON input
 */
export function unstorableStringField(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, ""]];
  for (let n = 0; stack.length > 0 && n < 1_000_000; n++) {
    const [v, path] = stack.pop() as [unknown, string];
    if (typeof v === "string") {
      if (v.includes("\u0000") || LONE_SURROGATE.test(v)) return path === "" ? "input" : path;
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push([x, path === "" ? String(i) : `${path}.${i}`]));
    } else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes("\u0000") || LONE_SURROGATE.test(k)) return path === "" ? "input" : path;
        stack.push([x, path === "" ? k : `${path}.${k}`]);
      }
    }
  }
  return undefined;
}

/** A procedure for a signed-in account; mutations also need the CSRF header. `ctx.principal` and `ctx.session` are non-null. */
export const authedProcedure = publicProcedure.use(({ ctx, type, next }) => {
  if (ctx.principal === null || ctx.session === null) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  if (type === "mutation" && !checkCsrf(ctx.session.session, ctx.csrfHeader)) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "The CSRF token is missing or wrong; reload the page.",
      cause: new KsefCertsError("FORBIDDEN", msg("server.csrf"), { details: { reason: "csrf" } }),
    });
  }
  return next({ ctx: { ...ctx, principal: ctx.principal, session: ctx.session } });
});

/**
 * The builder for mutations of signed-in accounts (the same checks as {@link authedProcedure}: session + CSRF).
 * @alias
 */
export const mutationProcedure = authedProcedure;

/** The audit actor of a principal: `user:<login>`. */
export function actorOf(principal: Principal): string {
  return `user:${principal.login}`;
}

/**
 * The audit actor and the clock of a change the signed-in caller makes (registry `ChangeMeta`).
 * @param ctx the signed-in context
 */
export function changeMeta(ctx: { principal: Principal; services: { clock(): Date } }): { actor: string; at: Date } {
  return { actor: actorOf(ctx.principal), at: ctx.services.clock() };
}
