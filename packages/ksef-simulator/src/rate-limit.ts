/**
 * KSeF's published rate limits as sliding windows (ksef-docs `limity/limity-api.md`):
 * every operation has its own counters per (client IP[, subject]), windows of 1 s, 60 s and 1 h
 * checked in parallel, thresholds from the operation's `x-rate-limits` in `spec/open-api.json`.
 * Exceeding any window → 429 with `Retry-After` = whole seconds until that window has room again.
 */

/** Thresholds of one operation, requests per window (SPEC `x-rate-limits`). */
export interface RateLimitThresholds {
  readonly perSecond?: number;
  readonly perMinute?: number;
  readonly perHour?: number;
}

/** `published` uses the SPEC values, `off` disables limiting, `{scale}` multiplies every threshold (min 1). */
export type RateLimitMode = "published" | "off" | { readonly scale: number };

const WINDOWS = [
  { key: "perSecond", ms: 1_000, label: "na sekundę" },
  { key: "perMinute", ms: 60_000, label: "na minutę" },
  { key: "perHour", ms: 3_600_000, label: "na godzinę" },
] as const;

/** Keeps the request times of each (operation, client) key for the longest window in use. */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();

  /**
   * @param mode see {@link RateLimitMode}
   */
  constructor(private readonly mode: RateLimitMode) {}

  /**
   * Records a request at `nowMs` if it fits every window, else refuses it.
   * @param key operation and client (`POST /auth/challenge|127.0.0.1|Nip:5265877635`)
   * @param thresholds the operation's published limits
   * @param nowMs current time, Unix ms
   * @returns `undefined` when allowed, else seconds to wait and the Polish detail KSeF writes
   */
  take(key: string, thresholds: RateLimitThresholds | undefined, nowMs: number): { retryAfterSeconds: number; detail: string } | undefined {
    if (this.mode === "off" || thresholds === undefined) return undefined;
    const scale = typeof this.mode === "object" ? this.mode.scale : 1;
    const times = this.hits.get(key) ?? [];
    const longest = Math.max(...WINDOWS.filter((w) => thresholds[w.key] !== undefined).map((w) => w.ms), 0);
    // Drop what no window can see any more, so memory stays bounded by the hourly threshold.
    while (times.length > 0 && (times[0] ?? 0) <= nowMs - longest) times.shift();
    for (const w of WINDOWS) {
      const published = thresholds[w.key];
      if (published === undefined) continue;
      const limit = Math.max(1, Math.floor(published * scale));
      const inWindow = times.filter((t) => t > nowMs - w.ms);
      if (inWindow.length >= limit) {
        // The window has room again once the oldest request in it leaves: limit-th newest + window.
        const oldest = inWindow[inWindow.length - limit] ?? nowMs;
        const retryAfterSeconds = Math.max(1, Math.ceil((oldest + w.ms - nowMs) / 1000));
        this.hits.set(key, times);
        return {
          retryAfterSeconds,
          detail: `Przekroczono limit ${String(limit)} żądań ${w.label}. Spróbuj ponownie po ${String(retryAfterSeconds)} sekundach.`,
        };
      }
    }
    times.push(nowMs);
    this.hits.set(key, times);
    return undefined;
  }
}
