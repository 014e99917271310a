/**
 * Client-side rate limiter that keeps each KSeF endpoint under its published limits, so a busy
 * caller waits its turn instead of collecting 429s (KSeF's `Retry-After` grows with repeated
 * violations, ksef-docs `limity/limity-api.md`).
 *
 * Each key (one endpoint: method + path template) has its own sliding windows, exactly as KSeF
 * counts them; callers of one key are served first-in, first-out. A 429 from the server blocks the key
 * until its `Retry-After` has passed.
 */
import { abortError, type Clock } from "./clock.js";
import type { RateWindow } from "./operations.js";

/** A wait the limiter imposed, reported to `onThrottle` before it starts. */
export interface ThrottleEvent {
  /** The key (`METHOD /path/template`). */
  readonly operation: string;
  /** How long the head of the queue will wait, in ms. */
  readonly waitMs: number;
  /** `client-limit`: our own windows are full; `server-block`: KSeF answered 429 and asked us to wait. */
  readonly reason: "client-limit" | "server-block";
}

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  readonly clock: Clock;
  /** Called each time a request has to wait (for progress output). Must not throw. */
  readonly onThrottle?: (event: ThrottleEvent) => void;
}

interface Waiter {
  readonly windows: readonly RateWindow[];
  readonly resolve: () => void;
}

interface KeyState {
  /** Grant times (Unix ms), ascending, pruned to the longest window. */
  grants: number[];
  blockedUntil: number;
  readonly queue: Waiter[];
  pumping: boolean;
  /** Cancels the pump's current sleep when every waiter has gone. */
  sleepAbort: AbortController | undefined;
}

/**
 * What the client needs of a limiter: {@link RateLimiter} in one process; a shared one (the domain's, over the
 * database) when several processes talk to KSeF from one IP and must stay under its limits together.
 */
export interface KsefRateLimiter {
  /**
   * Waits until a request under `key` fits every window of `windows`, and counts it.
   * @throws {KsefCertsError} IO when `signal` aborts first
   */
  acquire(key: string, windows: readonly RateWindow[], signal?: AbortSignal): Promise<void>;
  /** Holds requests under `key` until `untilMs` (Unix ms) after KSeF answered 429 with `Retry-After`. */
  block(key: string, untilMs: number): void;
}

/**
 * Sliding-window limiter with FIFO queues per key. One instance may be shared by several clients that
 * talk to KSeF from the same IP and context (KSeF counts per context and IP).
 */
export class RateLimiter implements KsefRateLimiter {
  private readonly clock: Clock;
  private readonly onThrottle: ((event: ThrottleEvent) => void) | undefined;
  private readonly states = new Map<string, KeyState>();

  /** @param options clock and throttle hook */
  constructor(options: RateLimiterOptions) {
    this.clock = options.clock;
    this.onThrottle = options.onThrottle;
  }

  /**
   * Waits until a request under `key` may be sent without breaking any of `windows`, and counts it.
   * @param key endpoint key, e.g. `POST /certificates/enrollments`
   * @param windows the endpoint's limits
   * @param signal cancels the wait
   * @throws {KsefCertsError} IO when `signal` aborts first (the slot is not taken)
   */
  acquire(key: string, windows: readonly RateWindow[], signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal, "waiting for a free KSeF rate-limit slot"));
    const state = this.stateOf(key);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = state.queue.indexOf(waiter);
        if (i >= 0) state.queue.splice(i, 1);
        if (state.queue.length === 0) state.sleepAbort?.abort();
        reject(abortError(signal as AbortSignal, "waiting for a free KSeF rate-limit slot"));
      };
      const waiter: Waiter = {
        windows,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      state.queue.push(waiter);
      if (!state.pumping) void this.pump(key, state);
    });
  }

  /**
   * Holds every request under `key` until `untilMs` (after a 429 with `Retry-After`). Never shortens an existing block.
   * @param key endpoint key
   * @param untilMs Unix ms
   */
  block(key: string, untilMs: number): void {
    const state = this.stateOf(key);
    state.blockedUntil = Math.max(state.blockedUntil, untilMs);
  }

  private stateOf(key: string): KeyState {
    let s = this.states.get(key);
    if (s === undefined) {
      s = { grants: [], blockedUntil: 0, queue: [], pumping: false, sleepAbort: undefined };
      this.states.set(key, s);
    }
    return s;
  }

  /** Serves the queue head whenever every window has room; sleeps (on the injected clock) otherwise. */
  private async pump(key: string, s: KeyState): Promise<void> {
    s.pumping = true;
    try {
      for (;;) {
        const head = s.queue[0];
        if (head === undefined) return;
        const now = this.clock.now();
        const blockWait = s.blockedUntil - now;
        const windowWait = waitForWindows(s.grants, head.windows, now);
        const wait = Math.max(blockWait, windowWait);
        if (wait <= 0) {
          s.queue.shift();
          s.grants.push(now);
          const longest = Math.max(...head.windows.map((w) => w.windowMs + windowMarginMs(w.windowMs)));
          while (s.grants.length > 0 && (s.grants[0] ?? 0) <= now - longest) s.grants.shift();
          head.resolve();
          continue;
        }
        this.onThrottle?.({ operation: key, waitMs: wait, reason: blockWait >= windowWait ? "server-block" : "client-limit" });
        s.sleepAbort = new AbortController();
        try {
          await this.clock.sleep(wait, s.sleepAbort.signal);
        } catch {
          // Woken early because every waiter left; the loop sees the empty queue and stops.
        } finally {
          s.sleepAbort = undefined;
        }
      }
    } finally {
      s.pumping = false;
    }
  }
}

/**
 * How long until one more request fits every window (≤ 0: now).
 * A request fits a window when fewer than `limit` grants lie in `(now − windowMs, now]`.
 * @param grants ascending grant times
 * @param windows the limits
 * @param now Unix ms
 */
export function waitForWindows(grants: readonly number[], windows: readonly RateWindow[], now: number): number {
  let wait = 0;
  for (const w of windows) {
    const windowMs = w.windowMs + windowMarginMs(w.windowMs);
    const inWindow = grants.filter((t) => t > now - windowMs);
    if (inWindow.length >= w.limit) {
      // The grant that must leave the window for the count to drop below the limit.
      const leaving = inWindow[inWindow.length - w.limit] ?? now;
      wait = Math.max(wait, leaving + windowMs - now);
    }
  }
  return wait;
}

/**
 * Safety margin added to each window, ms: the larger of 100 ms and 5 % of the window.
 * KSeF counts arrivals, we count departures; without a margin, uneven network delay lets the first
 * request of a window arrive late and the eleventh early, and KSeF answers 429 although we kept 10/s
 * (seen against the simulator under load). Costs about 9 % of the 1-second throughput.
 * @param windowMs the published window length, ms
 */
export function windowMarginMs(windowMs: number): number {
  return Math.max(100, Math.round(windowMs * 0.05));
}
