/**
 * Signing in (with throttling) and browser sessions of the admin app.
 *
 * - A session token is 32 random bytes (base64url) sent only in an HttpOnly cookie; the database keeps
 *   its SHA-256 (`web_sessions.token_hash`), so a database dump does not sign anyone in.
 * - The CSRF token is derived from the session token (`SHA-256("csrf:" ‖ token)`, base64url): the server
 *   recomputes it from the cookie, the page gets it from `auth.login`/`auth.me` and sends it in a header;
 *   its SHA-256 is stored (`csrf_hash`) and compared in constant time.
 * - Sessions end after {@link SESSION_IDLE_MS} without use or {@link SESSION_ABSOLUTE_MS} after sign-in.
 * - Throttling (`login_throttle`), after OWASP ASVS 4.0 §2.2.1 (anti-automation with growing delays rather than
 *   hard lock-outs): every attempt is counted BEFORE the password is checked, in one row-locked transaction
 *   per key, so parallel guesses cannot all slip through; a locked key is refused without evaluating the
 *   password. Two keys per attempt:
 *   - the login name together with the client address: {@link LOGIN_FREE_ATTEMPTS} attempts, then a delay of 1 s
 *     doubling with each further attempt, up to {@link LOGIN_MAX_DELAY_MS} (5 minutes): a guesser from elsewhere
 *     cannot lock the account out for its owner, and its owner waits minutes at most;
 *   - the client address alone: {@link CLIENT_FREE_ATTEMPTS} failed attempts over all logins, then delays up to
 *     {@link CLIENT_MAX_DELAY_MS} (1 minute), which slows spraying one password over many logins.
 *   Attempts refused while locked are not counted (hammering does not extend the wait). A success clears its
 *   login key. A count restarts after {@link THROTTLE_WINDOW_MS} without attempts. Unknown logins are hashed
 *   against a dummy hash so they answer as slowly as known ones, and count like known ones.
 * @see https://github.com/OWASP/ASVS/blob/v4.0.3/4.0/en/0x11-V2-Authentication.md (V2.2.1)
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { and, eq, lt } from "drizzle-orm";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { loginThrottle, userRoles, users, webSessions } from "../store/schema.js";
import { dummyPasswordHash, MAX_PASSWORD_CHARS, verifyPassword } from "./password.js";
import type { Principal, RoleGrant } from "./rules.js";
import { normalizeLogin } from "./users.js";

/** A session ends after this long without a request (ms): 30 minutes. */
export const SESSION_IDLE_MS = 30 * 60_000;
/** A session ends this long after sign-in whatever happens (ms): 12 hours. */
export const SESSION_ABSOLUTE_MS = 12 * 3_600_000;
/** `last_seen_at` is written at most this often (ms), so reads do not each write. */
const TOUCH_EVERY_MS = 60_000;
/** Attempts of one login name from one client address before delays start. */
export const LOGIN_FREE_ATTEMPTS = 5;
/** Longest delay of one login name from one client address (ms): 5 minutes. */
export const LOGIN_MAX_DELAY_MS = 5 * 60_000;
/** Failed attempts from one client address, over all logins, before delays start. */
export const CLIENT_FREE_ATTEMPTS = 30;
/** Longest delay of one client address (ms): 1 minute. */
export const CLIENT_MAX_DELAY_MS = 60_000;
/** A count restarts after this long without attempts (ms): 15 minutes. */
export const THROTTLE_WINDOW_MS = 15 * 60_000;
/** The first delay (ms); each further attempt doubles it. */
const FIRST_DELAY_MS = 1_000;

/**
 * SHA-256 of a token, 64 lower-case hex (what the database stores).
 * @param token a session or CSRF token
 */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * The CSRF token of a session (derived, see the module comment).
 * @param sessionToken the cookie's token
 * @returns base64url, 43 characters
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHash("sha256").update(`csrf:${sessionToken}`, "utf8").digest("base64url");
}

/** A session as stored (hashes only). */
export interface WebSession {
  readonly tokenHash: string;
  readonly userId: string;
  readonly csrfHash: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
}

/** A new session: the token goes into the cookie, the CSRF token to the page; neither is stored. */
export interface NewSession {
  readonly token: string;
  readonly csrfToken: string;
  /** When the session ends at the latest (absolute expiry). */
  readonly expiresAt: Date;
  readonly principal: Principal;
}

/** Input of {@link authenticate}. */
export interface AuthenticateInput {
  readonly login: string;
  readonly password: string;
  /** The client's address (or another key for it), for per-client throttling. */
  readonly clientKey: string;
  /** The clock; default now. */
  readonly at?: Date;
}

function throttled(until: Date, at: Date): KsefCertsError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - at.getTime()) / 1000));
  return new KsefCertsError("FORBIDDEN", msg("sessions.throttled"), {
    hint: msg("sessions.throttled.hint", { seconds }),
    details: { reason: "throttled", retryAfterSeconds: seconds, lockedUntil: until.toISOString() },
  });
}

function badCredentials(): KsefCertsError {
  return new KsefCertsError("FORBIDDEN", msg("sessions.wrongCredentials"), { details: { reason: "credentials" } });
}

/** How one throttle key behaves. */
interface ThrottleRule {
  readonly free: number;
  readonly maxDelayMs: number;
}

const LOGIN_RULE: ThrottleRule = { free: LOGIN_FREE_ATTEMPTS, maxDelayMs: LOGIN_MAX_DELAY_MS };
const CLIENT_RULE: ThrottleRule = { free: CLIENT_FREE_ATTEMPTS, maxDelayMs: CLIENT_MAX_DELAY_MS };

/**
 * Counts one attempt against `key` before anything is checked (row lock: concurrent attempts take turns), and
 * sets the delay the next attempt must wait once the free attempts are used.
 * @returns undefined when the attempt may proceed, else until when the key is locked (the attempt is not counted)
 */
async function countAttempt(db: Db, key: string, rule: ThrottleRule, at: Date): Promise<Date | undefined> {
  return db.transaction(async (tx) => {
    await tx.insert(loginThrottle).values({ key, failures: 0, windowStartedAt: at, lockedUntil: null }).onConflictDoNothing();
    const [row] = await tx.select().from(loginThrottle).where(eq(loginThrottle.key, key)).for("update");
    if (row === undefined) throw new KsefCertsError("INTERNAL", msg("sessions.throttleRowVanished"));
    if (row.lockedUntil !== null && row.lockedUntil.getTime() > at.getTime()) return row.lockedUntil;
    // `window_started_at` holds the last counted attempt: a quiet spell of THROTTLE_WINDOW_MS starts afresh.
    const attempts = (at.getTime() - row.windowStartedAt.getTime() > THROTTLE_WINDOW_MS ? 0 : row.failures) + 1;
    const lockedUntil =
      attempts >= rule.free ? new Date(at.getTime() + Math.min(rule.maxDelayMs, FIRST_DELAY_MS * 2 ** Math.min(30, attempts - rule.free))) : null;
    await tx.update(loginThrottle).set({ failures: attempts, windowStartedAt: at, lockedUntil }).where(eq(loginThrottle.key, key));
    return undefined;
  });
}

/** Gives back an attempt counted by {@link countAttempt} that turned out not to be a failure. */
async function refundAttempt(db: Db, key: string, rule: ThrottleRule): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.select().from(loginThrottle).where(eq(loginThrottle.key, key)).for("update");
    if (row === undefined) return;
    const failures = Math.max(0, row.failures - 1);
    // A refund only lifts a lock this attempt set: one set by earlier failures stays.
    await tx
      .update(loginThrottle)
      .set({ failures, ...(failures < rule.free ? { lockedUntil: null } : {}) })
      .where(eq(loginThrottle.key, key));
  });
}

/**
 * Loads what the authorisation rules need about an account.
 * @param db the database
 * @param userId account id
 * @returns the principal, or undefined for an unknown or disabled account
 */
export async function loadPrincipal(db: Db, userId: string): Promise<Principal | undefined> {
  const [u] = await db
    .select({ id: users.id, login: users.login, displayName: users.displayName, locale: users.locale, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, userId));
  if (u === undefined || u.disabledAt !== null) return undefined;
  const roles: RoleGrant[] = await db
    .select({ role: userRoles.role, companyId: userRoles.companyId, branchId: userRoles.branchId })
    .from(userRoles)
    .where(eq(userRoles.userId, userId));
  return { userId: u.id, login: u.login, displayName: u.displayName, locale: u.locale, roles };
}

/**
 * Signs in: checks throttling, the password, and opens a session.
 * @param db the database
 * @param input login, password, client key, clock
 * @returns the new session (token and CSRF token to hand out once)
 * @throws {KsefCertsError} FORBIDDEN with `details.reason` `throttled` (and `retryAfterSeconds`) while the login or
 *   the client is locked, or `credentials` for a wrong login or password (the same answer for both)
 */
export async function authenticate(db: Db, input: AuthenticateInput): Promise<NewSession> {
  const at = input.at ?? new Date();
  const login = normalizeLogin(input.login).slice(0, 64);
  const clientKey = `client:${input.clientKey.slice(0, 200)}`;
  const loginKey = `login:${login}|${clientKey}`;
  // Counted before the password is looked at: the client first (the wider key), then this login from this client.
  const clientLock = await countAttempt(db, clientKey, CLIENT_RULE, at);
  if (clientLock !== undefined) throw throttled(clientLock, at);
  const loginLock = await countAttempt(db, loginKey, LOGIN_RULE, at);
  if (loginLock !== undefined) {
    await refundAttempt(db, clientKey, CLIENT_RULE);
    throw throttled(loginLock, at);
  }
  const [u] =
    login === ""
      ? []
      : await db.select({ id: users.id, passwordHash: users.passwordHash, disabledAt: users.disabledAt }).from(users).where(eq(users.login, login));
  const password = typeof input.password === "string" ? input.password.slice(0, MAX_PASSWORD_CHARS + 1) : "";
  const ok = await verifyPassword(password, u?.passwordHash ?? (await dummyPasswordHash()));
  if (u === undefined || !ok || u.disabledAt !== null) throw badCredentials();
  await db.delete(loginThrottle).where(eq(loginThrottle.key, loginKey));
  await refundAttempt(db, clientKey, CLIENT_RULE);
  const principal = await loadPrincipal(db, u.id);
  if (principal === undefined) throw badCredentials();
  const token = randomBytes(32).toString("base64url");
  const csrfToken = csrfTokenFor(token);
  const expiresAt = new Date(at.getTime() + SESSION_ABSOLUTE_MS);
  await db.transaction(async (tx) => {
    // Expired sessions of everybody are swept here, so the table does not grow without a timer.
    await tx.delete(webSessions).where(lt(webSessions.expiresAt, at));
    await tx
      .insert(webSessions)
      .values({ tokenHash: tokenHash(token), userId: u.id, csrfHash: tokenHash(csrfToken), createdAt: at, lastSeenAt: at, expiresAt });
    await appendAudit(tx, { actor: `user:${principal.login}`, action: "user.login", entityType: "user", entityId: u.id, at });
  });
  return { token, csrfToken, expiresAt, principal };
}

/** A valid session with its account. */
export interface ActiveSession {
  readonly session: WebSession;
  readonly principal: Principal;
  /** The CSRF token (recomputed from the cookie's token). */
  readonly csrfToken: string;
}

/**
 * The session of a cookie token, if it is valid at `at` (not idle too long, not past its absolute
 * expiry, account enabled); touches `last_seen_at` at most once a minute. An expired session is deleted.
 * @param db the database
 * @param token the cookie's token
 * @param at the clock; default now
 */
export async function sessionFromToken(db: Db, token: string, at: Date = new Date()): Promise<ActiveSession | undefined> {
  if (typeof token !== "string" || token.length < 20 || token.length > 200) return undefined;
  const hash = tokenHash(token);
  const [session] = await db.select().from(webSessions).where(eq(webSessions.tokenHash, hash));
  if (session === undefined) return undefined;
  if (session.expiresAt.getTime() <= at.getTime() || at.getTime() - session.lastSeenAt.getTime() >= SESSION_IDLE_MS) {
    await db.delete(webSessions).where(eq(webSessions.tokenHash, hash));
    return undefined;
  }
  const principal = await loadPrincipal(db, session.userId);
  if (principal === undefined) return undefined;
  if (at.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    await db
      .update(webSessions)
      .set({ lastSeenAt: at })
      .where(and(eq(webSessions.tokenHash, hash)));
  }
  return { session, principal, csrfToken: csrfTokenFor(token) };
}

/**
 * Whether a CSRF header value matches the session's (constant time).
 * @param session the session
 * @param presented the header value (undefined when missing)
 */
export function checkCsrf(session: WebSession, presented: string | undefined | null): boolean {
  if (typeof presented !== "string" || presented.length === 0 || presented.length > 200) return false;
  const a = Buffer.from(tokenHash(presented), "hex");
  const b = Buffer.from(session.csrfHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Ends a session (sign-out).
 * @param db the database
 * @param token the cookie's token
 */
export async function endSession(db: Db, token: string): Promise<void> {
  if (typeof token !== "string") return;
  await db.delete(webSessions).where(eq(webSessions.tokenHash, tokenHash(token)));
}
