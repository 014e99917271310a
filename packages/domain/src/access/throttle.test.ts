// Sign-in throttling as an attacker meets it: parallel guesses, hammering a locked login, spraying one password
// over many logins, and an owner who must never be locked out for long (delays of seconds to minutes).
import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { authenticate, CLIENT_FREE_ATTEMPTS, CLIENT_MAX_DELAY_MS, LOGIN_FREE_ATTEMPTS, LOGIN_MAX_DELAY_MS, THROTTLE_WINDOW_MS } from "./sessions.js";
import { createUser } from "./users.js";

// Far from the real date on purpose: a throttle that reads the process clock instead of `at` shows here.
const T0 = new Date("2031-06-01T08:00:00Z");
const PASSWORD = "Dlugie-haslo-admina-1";
const after = (ms: number): Date => new Date(T0.getTime() + ms);

async function attempt(
  db: Db,
  login: string,
  password: string,
  clientKey: string,
  at: Date,
): Promise<{ outcome: "ok" | "credentials" | "throttled"; retryAfterSeconds?: number; lockedUntil?: string }> {
  try {
    await authenticate(db, { login, password, clientKey, at });
    return { outcome: "ok" };
  } catch (err) {
    if (!(err instanceof KsefCertsError)) throw err;
    const reason = err.details["reason"];
    if (reason === "credentials") return { outcome: "credentials" };
    if (reason === "throttled")
      return { outcome: "throttled", retryAfterSeconds: err.details["retryAfterSeconds"] as number, lockedUntil: err.details["lockedUntil"] as string };
    throw err;
  }
}

describeEachDb("access: sign-in throttling", (ctx) => {
  async function accounts(): Promise<Db> {
    const { db } = ctx();
    await db.execute(sql`TRUNCATE users, login_throttle, web_sessions CASCADE`);
    for (const login of ["ewa", "anna"]) await createUser(db, { login, displayName: login, password: PASSWORD }, { actor: "test", at: T0 });
    return db;
  }

  it("counts before it checks: of 50 parallel guesses at most the free attempts are evaluated, the rest refused unseen", async () => {
    const db = await accounts();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(db, "ewa", `guess-${i}`, "10.0.0.9", T0)));
    const evaluated = results.filter((r) => r.outcome === "credentials").length;
    expect(evaluated).toBeGreaterThan(0);
    expect(evaluated).toBeLessThanOrEqual(LOGIN_FREE_ATTEMPTS);
    expect(results.filter((r) => r.outcome === "throttled").length).toBe(50 - evaluated);
    // Even the right password is not evaluated while the delay lasts: no oracle.
    const right = await attempt(db, "ewa", PASSWORD, "10.0.0.9", after(100));
    expect(right.outcome).toBe("throttled");
    // The retry time is measured on the injected clock.
    expect(right.retryAfterSeconds).toBe(Math.max(1, Math.ceil((Date.parse(right.lockedUntil ?? "") - after(100).getTime()) / 1000)));
    expect(right.retryAfterSeconds).toBeLessThanOrEqual(LOGIN_MAX_DELAY_MS / 1000);
  });

  it("a guesser cannot lock out the owner from elsewhere, nor other accounts from the same address", async () => {
    const db = await accounts();
    for (let i = 0; i < 40; i++) await attempt(db, "ewa", `guess-${i}`, "10.0.0.9", after(i));
    expect((await attempt(db, "ewa", PASSWORD, "10.0.0.9", after(50))).outcome).toBe("throttled");
    // The owner at their own desk, at once.
    expect((await attempt(db, "ewa", PASSWORD, "192.168.1.20", after(60))).outcome).toBe("ok");
    // Another admin from the guesser's own address (a shared office NAT, or localhost): not locked.
    expect((await attempt(db, "anna", PASSWORD, "10.0.0.9", after(70))).outcome).toBe("ok");
  });

  it("delays grow from a second to minutes and stop at the maximum; hammering while locked does not extend them", async () => {
    const db = await accounts();
    let at = T0;
    for (let i = 0; i < LOGIN_FREE_ATTEMPTS - 1; i++) expect((await attempt(db, "ewa", "wrong", "c", at)).outcome).toBe("credentials");
    const delays: number[] = [];
    for (let i = 0; i < 14; i++) {
      expect((await attempt(db, "ewa", "wrong", "c", at)).outcome).toBe("credentials");
      const locked = await attempt(db, "ewa", "wrong", "c", at);
      expect(locked.outcome).toBe("throttled");
      const until = Date.parse(locked.lockedUntil ?? "");
      delays.push((until - at.getTime()) / 1000);
      // Ten more tries inside the delay change nothing.
      for (let k = 0; k < 10; k++) await attempt(db, "ewa", "wrong", "c", new Date(until - 1));
      expect(Date.parse((await attempt(db, "ewa", "wrong", "c", new Date(until - 1))).lockedUntil ?? "")).toBe(until);
      at = new Date(until);
    }
    expect(delays.slice(0, 9)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
    expect(delays.slice(9)).toEqual(Array(5).fill(LOGIN_MAX_DELAY_MS / 1000));
    // The right password once the delay is over: signed in, and the count is cleared.
    expect((await attempt(db, "ewa", PASSWORD, "c", at)).outcome).toBe("ok");
    expect((await attempt(db, "ewa", "wrong", "c", at)).outcome).toBe("credentials");
  });

  it("spraying one password over many logins from one address is slowed for that address only, for a minute at most", async () => {
    const db = await accounts();
    const results = [];
    for (let i = 0; i < CLIENT_FREE_ATTEMPTS + 5; i++) results.push(await attempt(db, `user${i}`, "Lato2026!", "10.0.0.66", after(i)));
    expect(results.slice(0, CLIENT_FREE_ATTEMPTS).every((r) => r.outcome === "credentials")).toBe(true);
    const slowed = results.slice(CLIENT_FREE_ATTEMPTS).filter((r) => r.outcome === "throttled");
    expect(slowed.length).toBeGreaterThan(0);
    for (const r of slowed) expect(r.retryAfterSeconds).toBeLessThanOrEqual(CLIENT_MAX_DELAY_MS / 1000);
    expect((await attempt(db, "ewa", PASSWORD, "10.0.0.7", after(100))).outcome).toBe("ok");
    expect((await attempt(db, "ewa", PASSWORD, "10.0.0.66", after(100 + CLIENT_MAX_DELAY_MS))).outcome).toBe("ok");
  });

  it("a quiet spell restarts the count; unknown logins answer exactly like wrong passwords", async () => {
    const db = await accounts();
    for (let i = 0; i < LOGIN_FREE_ATTEMPTS - 1; i++) await attempt(db, "ewa", "wrong", "c", T0);
    const quiet = after(THROTTLE_WINDOW_MS + 1);
    for (let i = 0; i < LOGIN_FREE_ATTEMPTS - 1; i++) expect((await attempt(db, "ewa", "wrong", "c", quiet)).outcome).toBe("credentials");
    const refusal = (login: string): Promise<KsefCertsError> =>
      authenticate(db, { login, password: "x", clientKey: "d", at: T0 }).then(
        () => {
          throw new Error("signed in");
        },
        (e: unknown) => e as KsefCertsError,
      );
    const unknown = await refusal("nobody");
    const wrong = await refusal("ewa");
    expect([unknown.message, unknown.details["reason"]]).toEqual([wrong.message, wrong.details["reason"]]);
  });
});
