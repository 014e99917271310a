/**
 * Getting back in when an account's password is lost (the first admin's, printed once, included): for whoever
 * holds the installation itself (the data folder, or `DATABASE_URL`), through the CLI. The account gets the new
 * password, every session of it ends, its sign-in throttle is cleared, and the reset is audited.
 */
import { eq, like } from "drizzle-orm";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { inTransaction, type ChangeMeta } from "../registry/internal.js";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { loginThrottle, users, webSessions } from "../store/schema.js";
import { hashPassword, MAX_PASSWORD_CHARS } from "./password.js";
import { checkAccountPassword, MIN_ACCOUNT_PASSWORD_CHARS, normalizeLogin } from "./users.js";

/**
 * Sets a new password for the account `login` without knowing the old one (local operator of the installation only:
 * no procedure of the web API calls this). Ends every session of the account and clears its throttle.
 * @param db the database
 * @param input the login and the new password (the account password rules apply)
 * @param meta audit actor (e.g. `cli:<os user>`) and clock
 * @returns the account's id
 * @throws {KsefCertsError} NOT_FOUND for an unknown login; VALIDATION for a password that breaks the rules (field `password`)
 */
export async function resetPassword(
  db: Db,
  input: { readonly login: string; readonly password: string },
  meta: ChangeMeta,
): Promise<{ readonly userId: string }> {
  const login = normalizeLogin(input.login);
  const v = checkAccountPassword(input.password, "password");
  if (v.length > 0)
    throw new KsefCertsError("VALIDATION", msg("password.accountLength", { min: MIN_ACCOUNT_PASSWORD_CHARS, max: MAX_PASSWORD_CHARS }), { violations: v });
  const [user] = login === "" ? [] : await db.select({ id: users.id }).from(users).where(eq(users.login, login));
  if (user === undefined)
    throw new KsefCertsError("NOT_FOUND", msg("reset.unknownLogin", { login: JSON.stringify(login) }), {
      hint: msg("reset.unknownLogin.hint"),
    });
  const passwordHash = await hashPassword(input.password);
  const at = meta.at ?? new Date();
  await inTransaction(db, async (tx) => {
    await tx.update(users).set({ passwordHash, updatedAt: at }).where(eq(users.id, user.id));
    await tx.delete(webSessions).where(eq(webSessions.userId, user.id));
    await tx.delete(loginThrottle).where(like(loginThrottle.key, `login:${login.replace(/[\\%_]/g, (c) => `\\${c}`)}|%`));
    await appendAudit(tx, { actor: meta.actor, action: "user.resetPassword", entityType: "user", entityId: user.id, at });
  });
  return { userId: user.id };
}
