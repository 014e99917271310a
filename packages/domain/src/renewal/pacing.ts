/**
 * A KSeF rate limiter shared through the database, so that every process and server on one database together stay
 * under KSeF's published limits (ksef-docs `limity/limity-api.md`; the windows per operation come from the KSeF
 * client's operation table). KSeF counts per operation, client IP and subject; servers behind one address share its
 * counters, and a fleet of one NIP shares one subject, so every call is counted as if one subject made them all: the
 * safe reading, at 120 certificate enrollments per hour per KSeF environment.
 *
 * Each grant is a row (`ksef_call_grants`). Taking one is a short transaction under a transaction-scoped advisory
 * lock per key: count the grants inside each window (with the client's safety margin), insert one if every window has
 * room, else compute the wait. The wait is spent outside the transaction, on the injected clock.
 */
import { and, eq, gt, lt, sql } from "drizzle-orm";
import { type KsefRateLimiter, type RateWindow, waitForWindows, windowMarginMs } from "@ksef-certs/ksef/api";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Db } from "../store/db.js";
import { ksefCallGrants } from "../store/schema.js";

/** Options of {@link createSharedRateLimiter}. */
export interface SharedRateLimiterOptions {
  readonly db: Db;
  /** The clock (Unix ms); the same one the KSeF client is given. */
  readonly now: () => number;
  /** Sleeps `ms` (real time); default `setTimeout`. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Prefix of every key, e.g. the environment (`test`, `demo`, `production`): each has its own counters at KSeF. */
  readonly prefix: string;
  /** Called when a call has to wait (ms), for logs and progress. */
  readonly onWait?: (key: string, waitMs: number) => void;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new KsefCertsError("IO", msg("server.stopping"), { details: { reason: "aborted" } }));
      return;
    }
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(new KsefCertsError("IO", msg("server.stopping"), { details: { reason: "aborted" } }));
      },
      { once: true },
    );
  });
}

/**
 * The shared limiter (see the module comment).
 * @param options database, clock, key prefix
 * @returns a limiter for `createKsefClient({ rateLimiter })`
 */
export function createSharedRateLimiter(options: SharedRateLimiterOptions): KsefRateLimiter {
  const sleep = options.sleep ?? defaultSleep;
  const blocked = new Map<string, number>();
  let lastPrune = 0;

  /** Takes a grant now, or says how long to wait. */
  async function take(key: string, windows: readonly RateWindow[]): Promise<number> {
    const now = options.now();
    const longest = Math.max(0, ...windows.map((w) => w.windowMs + windowMarginMs(w.windowMs)));
    return options.db.transaction(async (txRaw) => {
      const tx = txRaw as unknown as Db;
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`ksef-rate:${key}`}))`);
      const rows = await tx
        .select({ at: ksefCallGrants.at })
        .from(ksefCallGrants)
        .where(and(eq(ksefCallGrants.key, key), gt(ksefCallGrants.at, new Date(now - longest))))
        .orderBy(ksefCallGrants.at);
      const wait = waitForWindows(
        rows.map((r) => r.at.getTime()),
        windows,
        now,
      );
      if (wait > 0) return wait;
      await tx.insert(ksefCallGrants).values({ key, at: new Date(now) });
      if (now - lastPrune > 60_000) {
        lastPrune = now;
        // Grants no window can see any more (one hour and its margin, doubled for clocks that differ a little).
        await tx.delete(ksefCallGrants).where(lt(ksefCallGrants.at, new Date(now - 2 * 3_780_000)));
      }
      return 0;
    });
  }

  return {
    async acquire(operation, windows, signal) {
      const key = `${options.prefix}|${operation}`;
      for (;;) {
        const block = (blocked.get(key) ?? 0) - options.now();
        const wait = block > 0 ? block : await take(key, windows);
        if (wait <= 0) return;
        options.onWait?.(key, wait);
        await sleep(wait, signal);
      }
    },
    block(operation, untilMs) {
      const key = `${options.prefix}|${operation}`;
      blocked.set(key, Math.max(blocked.get(key) ?? 0, untilMs));
    },
  };
}
