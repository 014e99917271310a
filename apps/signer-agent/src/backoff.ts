/**
 * Reconnect delays: "full jitter" exponential backoff (AWS Architecture Blog, "Exponential Backoff And
 * Jitter", 2015): a uniformly random delay in [0, min(cap, base·2^attempt)], so many agents that lost the
 * server at once do not come back in step.
 */

/** Default first ceiling, ms. */
export const BACKOFF_BASE_MS = 500;
/** Default largest delay, ms (reconnect with backoff, at most 30 s, so a restarted server is found again within half a minute). */
export const BACKOFF_MAX_MS = 30_000;

/**
 * The delay before reconnect attempt `attempt` (0 = the first retry).
 * @param attempt how many attempts failed in a row, from 0
 * @param random a number in [0, 1) (tests pass fixed values); default `Math.random()`
 * @param baseMs the first ceiling, ms
 * @param maxMs the cap, ms
 * @returns a delay in ms, 0 ≤ delay ≤ min(maxMs, baseMs·2^attempt)
 */
export function fullJitterDelay(attempt: number, random: number = Math.random(), baseMs = BACKOFF_BASE_MS, maxMs = BACKOFF_MAX_MS): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.floor(Math.min(Math.max(random, 0), 1) * ceiling);
}
