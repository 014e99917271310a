import { describe, expect, it } from "vitest";
import { isKsefCertsError } from "../../errors.js";
import { VirtualClock } from "./__fixtures__/virtual-clock.js";
import { KSEF_OPERATIONS } from "./operations.js";
import { RateLimiter, waitForWindows, windowMarginMs, type ThrottleEvent } from "./rate-limiter.js";

const CERT_LIMITS = KSEF_OPERATIONS.queryCertificates.rateLimits;

/** Largest number of grants inside any half-open window (t − windowMs, t] ending at a grant. */
function maxInWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (const end of times) max = Math.max(max, times.filter((t) => t > end - windowMs && t <= end).length);
  return max;
}

describe("RateLimiter", () => {
  it("keeps 35 calls to one certificates endpoint within 10 per 1 s and 30 per 60 s, in virtual time", async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const throttles: ThrottleEvent[] = [];
    const limiter = new RateLimiter({ clock, onThrottle: (e) => throttles.push(e) });
    const granted: number[] = [];
    await Promise.all(Array.from({ length: 35 }, () => limiter.acquire("POST /certificates/query", CERT_LIMITS).then(() => granted.push(clock.now()))));
    expect(granted).toHaveLength(35);
    expect(maxInWindow(granted, 1_000)).toBe(10);
    expect(maxInWindow(granted, 60_000)).toBe(30);
    // The windows carry a safety margin (100 ms on a second, 3 s on a minute) against uneven network delay.
    expect(maxInWindow(granted, 1_100)).toBe(10);
    expect(maxInWindow(granted, 63_000)).toBe(30);
    // As fast as the windows allow: 10 at 0 s, 10 at 1.1 s, 10 at 2.2 s, then the 31st waits for the first to leave the minute.
    expect(granted.slice(0, 10).every((t) => t === start)).toBe(true);
    expect(granted[10]).toBe(start + 1_100);
    expect(granted[29]).toBe(start + 2_200);
    expect(granted[30]).toBe(start + 63_000);
    expect(throttles.length).toBeGreaterThan(0);
    expect(throttles.every((e) => e.operation === "POST /certificates/query" && e.reason === "client-limit" && e.waitMs > 0)).toBe(true);
  });

  it("counts each endpoint separately", async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ clock });
    const t0 = clock.now();
    const at: Record<string, number[]> = { a: [], b: [] };
    await Promise.all([
      ...Array.from({ length: 10 }, () => limiter.acquire("GET /certificates/limits", CERT_LIMITS).then(() => at["a"]?.push(clock.now()))),
      ...Array.from({ length: 10 }, () => limiter.acquire("GET /limits/subject", CERT_LIMITS).then(() => at["b"]?.push(clock.now()))),
    ]);
    expect(at["a"]?.every((t) => t === t0)).toBe(true);
    expect(at["b"]?.every((t) => t === t0)).toBe(true);
  });

  it("serves waiters first-in, first-out", async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ clock });
    const order: number[] = [];
    const windows = [{ limit: 1, windowMs: 100 }];
    await Promise.all(Array.from({ length: 6 }, (_, i) => limiter.acquire("k", windows).then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("holds an endpoint blocked by a server 429 until the block ends, and reports it as a server block", async () => {
    const clock = new VirtualClock();
    const throttles: ThrottleEvent[] = [];
    const limiter = new RateLimiter({ clock, onThrottle: (e) => throttles.push(e) });
    const t0 = clock.now();
    limiter.block("k", t0 + 7_000);
    limiter.block("k", t0 + 3_000); // never shortens
    await limiter.acquire("k", CERT_LIMITS);
    expect(clock.now()).toBe(t0 + 7_000);
    expect(throttles).toEqual([{ operation: "k", waitMs: 7_000, reason: "server-block" }]);
  });

  it("rejects an aborted waiter without taking its slot, and the queue goes on", async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ clock });
    const windows = [{ limit: 1, windowMs: 1_000 }];
    const t0 = clock.now();
    await limiter.acquire("k", windows);
    const ac = new AbortController();
    const cancelled = limiter.acquire("k", windows, ac.signal);
    const next = limiter.acquire("k", windows);
    ac.abort();
    const err: unknown = await cancelled.catch((e: unknown) => e);
    expect(isKsefCertsError(err, "IO")).toBe(true);
    await next;
    expect(clock.now()).toBe(t0 + 1_100);
    await limiter.acquire("k", windows);
    expect(clock.now()).toBe(t0 + 2_200);
  });

  it("waitForWindows: a request fits once the grant that fills the window is older than the window plus its margin", () => {
    const w = [{ limit: 2, windowMs: 1_000 }];
    expect(windowMarginMs(1_000)).toBe(100);
    expect(windowMarginMs(3_600_000)).toBe(180_000);
    expect(waitForWindows([], w, 0)).toBe(0);
    expect(waitForWindows([0], w, 500)).toBe(0);
    expect(waitForWindows([0, 100], w, 500)).toBe(600);
    expect(waitForWindows([0, 100], w, 1_000)).toBe(100);
    expect(waitForWindows([0, 100], w, 1_099)).toBe(1);
    expect(waitForWindows([0, 100], w, 1_100)).toBe(0);
    expect(waitForWindows([0, 100, 1_000], w, 1_000)).toBe(200);
  });

  it("the hourly window also binds: 120 per hour", async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ clock });
    const granted: number[] = [];
    for (let i = 0; i < 125; i++) {
      await limiter.acquire("k", CERT_LIMITS);
      granted.push(clock.now());
    }
    expect(maxInWindow(granted, 3_600_000)).toBe(120);
    expect(maxInWindow(granted, 60_000)).toBe(30);
    expect((granted[120] ?? 0) - (granted[0] ?? 0)).toBe(3_780_000);
  });
});
