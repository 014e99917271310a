/**
 * Throttling of failed pairing attempts per client (agent contract: 5 wrong codes per client per 10 minutes
 * → 429). In memory: pairing codes are short-lived and a restart that resets the counters still leaves an
 * attacker 2^40 codes to try against codes valid 10 minutes.
 */

/** Limits of {@link createPairingThrottle}. */
export interface PairingThrottleOptions {
  /** Wrong codes allowed per client and window; default 5. */
  readonly maxFailures?: number;
  /** Window length, ms; default 600 000. */
  readonly windowMs?: number;
  /** Most clients tracked at once (oldest windows dropped first); default 10 000. */
  readonly maxClients?: number;
}

/** The throttle: ask before trying a code, record each wrong one. */
export interface PairingThrottle {
  /**
   * Whether `key` may try a code now.
   * @returns `undefined` when allowed, else the seconds until it may try again (≥ 1)
   */
  retryAfterSeconds(key: string, now: number): number | undefined;
  /** Records a wrong code of `key` at `now` (ms since epoch). */
  fail(key: string, now: number): void;
}

/**
 * Creates an in-memory pairing throttle.
 * @param options limits
 */
export function createPairingThrottle(options: PairingThrottleOptions = {}): PairingThrottle {
  const maxFailures = options.maxFailures ?? 5;
  const windowMs = options.windowMs ?? 600_000;
  const maxClients = options.maxClients ?? 10_000;
  const clients = new Map<string, { failures: number; windowStart: number }>();
  const current = (key: string, now: number): { failures: number; windowStart: number } | undefined => {
    const entry = clients.get(key);
    if (entry !== undefined && now - entry.windowStart >= windowMs) {
      clients.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    retryAfterSeconds(key, now) {
      const entry = current(key, now);
      if (entry === undefined || entry.failures < maxFailures) return undefined;
      return Math.max(1, Math.ceil((entry.windowStart + windowMs - now) / 1000));
    },
    fail(key, now) {
      const entry = current(key, now);
      if (entry !== undefined) {
        entry.failures++;
        return;
      }
      if (clients.size >= maxClients) {
        // Maps iterate in insertion order: the first key is the oldest window.
        const oldest = clients.keys().next();
        if (oldest.done !== true) clients.delete(oldest.value);
      }
      clients.set(key, { failures: 1, windowStart: now });
    },
  };
}
