import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser, tokenHash, type NewSession } from "@ksef-certs/domain/access";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { buildWorld, callerFor, DB_KINDS, openTestStore, PASSWORD, T0, trpcCode } from "../__fixtures__/world.js";
import type { ServerServices } from "../services.js";

const services: ServerServices = { clock: () => T0 };
const META = { actor: "test", at: T0 };
const NEW_PASSWORD = "Zupelnie-nowe-haslo-2";

/** The core error behind a refused call. */
async function coreError(p: Promise<unknown>): Promise<KsefCertsError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError && err.cause instanceof KsefCertsError) return err.cause;
    throw err;
  }
  throw new Error("expected a refusal");
}

for (const kind of DB_KINDS) {
  describe(`auth router: sessions and passwords [${kind}]`, () => {
    let store: Store;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
    }, 120_000);
    afterAll(async () => {
      await store.close();
    });

    /** Signs in through `auth.login` as the browser does, holding `held` (a cookie already present) or none. */
    async function signIn(login: string, password: string, held: NewSession | null = null): Promise<NewSession> {
      const { caller, record } = await callerFor(store.db, services, held);
      const answer = await caller.auth.login({ login, password });
      const token = /^ksef_certs_session=([A-Za-z0-9_-]+);/.exec(record.cookies.at(-1) ?? "")?.[1];
      if (token === undefined) throw new Error(`no session cookie in ${JSON.stringify(record.cookies)}`);
      // callerFor reads only the token and the CSRF token; the principal comes from the database on each call.
      return {
        token,
        csrfToken: answer.csrfToken,
        expiresAt: T0,
        principal: { userId: answer.user.id, login: answer.user.login, displayName: answer.user.displayName, locale: answer.user.locale, roles: answer.roles },
      };
    }

    /** Whether the cookie `s` still opens a session (a query and a mutation with its CSRF token). */
    async function works(s: NewSession): Promise<[boolean, string, string]> {
      const { caller } = await callerFor(store.db, services, s);
      return [(await caller.auth.me()) !== null, await trpcCode(caller.org.tree()), await trpcCode(caller.auth.setLocale({ locale: "pl" }))];
    }
    const ALIVE: [boolean, string, string] = [true, "OK", "OK"];
    const DEAD: [boolean, string, string] = [false, "UNAUTHORIZED", "UNAUTHORIZED"];

    async function stored(token: string): Promise<number> {
      return (await store.db.select({ tokenHash: schema.webSessions.tokenHash }).from(schema.webSessions)).filter((r) => r.tokenHash === tokenHash(token))
        .length;
    }

    it("logout deletes the session: the old cookie, replayed, is refused", async () => {
      const s = await signIn("audytor", PASSWORD);
      const other = await signIn("audytor", PASSWORD);
      expect(await works(s)).toEqual(ALIVE);
      const { caller, record } = await callerFor(store.db, services, s);
      expect(await caller.auth.logout()).toEqual({ ok: true });
      expect(record.cookies).toEqual(["ksef_certs_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"]);
      expect(await stored(s.token)).toBe(0);
      expect(await works(s)).toEqual(DEAD);
      // Only that session ended: the same account's other sign-in goes on.
      expect(await works(other)).toEqual(ALIVE);
    });

    it("signing in while holding a session cookie ends the held session and hands out a new token (no session fixation)", async () => {
      // An attacker's own valid session planted in the victim's browser.
      const planted = await signIn("b1-admin", PASSWORD);
      const victim = await signIn("firma-admin", PASSWORD, planted);
      expect(victim.token).not.toBe(planted.token);
      expect(await works(planted)).toEqual(DEAD);
      expect(await stored(planted.token)).toBe(0);
      expect(await works(victim)).toEqual(ALIVE);
      expect((await (await callerFor(store.db, services, victim)).caller.auth.me())?.user.login).toBe("firma-admin");
      // The same account signing in again: the held cookie is replaced too.
      const again = await signIn("firma-admin", PASSWORD, victim);
      expect(await works(victim)).toEqual(DEAD);
      expect(await works(again)).toEqual(ALIVE);
      // A token the client made up is never adopted: the server issues its own.
      const madeUp: NewSession = { token: "A".repeat(43), csrfToken: "x", expiresAt: T0, principal: victim.principal };
      const fresh = await signIn("firma-admin", PASSWORD, madeUp);
      expect(fresh.token).not.toBe(madeUp.token);
      expect(await stored(madeUp.token)).toBe(0);
    });

    it("changing the password: a wrong current one is WRONG_PASSWORD on `current`, a weak new one a violation, and neither changes anything", async () => {
      await createUser(store.db, { login: "ewa", displayName: "Ewa", password: PASSWORD, role: { role: "auditor", companyId: w.company.id } }, META);
      const s = await signIn("ewa", PASSWORD);
      const other = await signIn("ewa", PASSWORD);
      const { caller } = await callerFor(store.db, services, s);
      const wrong = await coreError(caller.auth.changePassword({ current: "Nie-to-haslo-123", next: NEW_PASSWORD }));
      expect([wrong.code, wrong.violations.map((v) => [v.field, v.rule])]).toEqual(["WRONG_PASSWORD", [["current", "current.wrong"]]]);
      expect(await trpcCode(caller.auth.changePassword({ current: "Nie-to-haslo-123", next: NEW_PASSWORD }))).toBe("BAD_REQUEST");
      // Twelve characters are the minimum, counted as characters: eleven two-byte letters are too short.
      for (const next of ["krótkie", "ąęółżźćńśąę", "x".repeat(1025)]) {
        const weak = await coreError(caller.auth.changePassword({ current: PASSWORD, next }));
        expect([next.length, weak.code, weak.violations.map((v) => [v.field, v.rule])]).toEqual([next.length, "VALIDATION", [["next", "password.length"]]]);
      }
      // The wrong current password is checked first: a weak new one does not reveal whether the current one was right.
      expect((await coreError(caller.auth.changePassword({ current: "Nie-to-haslo-123", next: "krótkie" }))).code).toBe("WRONG_PASSWORD");
      expect(JSON.stringify(wrong)).not.toContain(NEW_PASSWORD);
      expect(await works(other)).toEqual(ALIVE);
      expect(await works(s)).toEqual(ALIVE);
      await expect(signIn("ewa", PASSWORD)).resolves.toBeDefined();
    });

    it("changing the password ends the account's other sessions, keeps the current one and nobody else's", async () => {
      const jan = await createUser(
        store.db,
        { login: "jan", displayName: "Jan", password: PASSWORD, role: { role: "auditor", companyId: w.company.id } },
        META,
      );
      const current = await signIn("jan", PASSWORD);
      const others = [await signIn("jan", PASSWORD), await signIn("jan", PASSWORD)];
      const someoneElse = await signIn("audytor", PASSWORD);
      const { caller } = await callerFor(store.db, services, current);
      // Exactly twelve characters (the minimum), two of them outside ASCII.
      const next = "Hasło-żółw12";
      expect(Array.from(next)).toHaveLength(12);
      expect(await caller.auth.changePassword({ current: PASSWORD, next })).toEqual({ ok: true });
      expect(await works(current)).toEqual(ALIVE);
      for (const s of others) expect(await works(s)).toEqual(DEAD);
      expect(await works(someoneElse)).toEqual(ALIVE);
      expect(await trpcCode(signIn("jan", PASSWORD))).toBe("UNAUTHORIZED");
      await expect(signIn("jan", next)).resolves.toBeDefined();
      const audit = (await store.db.select().from(schema.auditLog)).filter((e) => e.action === "user.changePassword");
      expect(audit.map((e) => [e.actor, e.entityType, e.entityId])).toEqual([["user:jan", "user", jan.id]]);
      expect(JSON.stringify(audit)).not.toContain(next);
      expect(JSON.stringify(audit)).not.toContain(PASSWORD);
    });
  });
}
