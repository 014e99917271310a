/** Test-only: waiting for a condition the code under test brings about (never a fixed sleep as an assertion). */

/**
 * Resolves with the first truthy value of `probe`, polled every 25 ms; rejects after `timeoutMs`.
 * @param probe the condition (may be async)
 * @param timeoutMs how long to wait, ms
 * @param what named in the timeout error
 */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, what = "condition"): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
