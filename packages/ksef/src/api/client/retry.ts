/**
 * Retry rules of the KSeF client: `Retry-After` parsing (RFC 9110 §10.2.3), full-jitter exponential
 * back-off (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015) and the classification of
 * network faults into "certainly not sent" versus "outcome unknown".
 */

/** How hard the client tries again. */
export interface RetryPolicy {
  /** Attempts in total, the first one included (≥ 1). Default 4. */
  readonly maxAttempts: number;
  /** Back-off base in ms: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs·2^(n−1))). Default 200. */
  readonly baseDelayMs: number;
  /** Back-off cap in ms. Default 5 000. */
  readonly maxDelayMs: number;
  /**
   * Budget in ms from the first attempt: a retry whose wait would end later is not made and the last
   * error is thrown instead (so a long `Retry-After` surfaces to the caller). Default 60 000.
   */
  readonly maxElapsedMs: number;
}

/** The defaults named in {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5_000, maxElapsedMs: 60_000 };

/**
 * The wait before retry number `retry` (1 = the first retry), full jitter.
 * @param retry 1-based retry number
 * @param policy back-off parameters
 * @param random uniform source in [0, 1) (injectable for tests)
 * @returns delay in ms, an integer in [0, min(maxDelayMs, baseDelayMs·2^(retry−1))]
 */
export function backoffDelayMs(retry: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * @param value the header value, or null when absent
 * @param nowMs current time in Unix ms (for the HTTP-date form)
 * @returns the wait in ms (≥ 0), or `undefined` when absent or unreadable
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  // Only RFC 9110 date forms carry a weekday and a GMT/zone suffix; Date.parse reads all three of them.
  if (!/[a-z]{3}/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** What a thrown `fetch` error means for retrying. */
export type FetchFailureKind =
  /** The connection was never established (refused, DNS failure, unreachable, connect timeout): KSeF never saw the request. */
  | "not-sent"
  /** The request may have reached KSeF (reset, closed socket, response timeout, unknown fault). */
  | "unknown"
  /** The caller's signal aborted it. */
  | "aborted";

/** Error codes that only occur before a request is written (TCP connect or name resolution). */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * The `code` properties found in an error, its `cause` chain and `AggregateError.errors`
 * (undici wraps socket errors as `TypeError("fetch failed")` with the system error as `cause`;
 * Happy Eyeballs yields an AggregateError of one error per address).
 * @param err a thrown value
 */
export function errorCodesIn(err: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (depth > 6 || typeof e !== "object" || e === null || seen.has(e)) return;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") out.push(code);
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const x of errors) visit(x, depth + 1);
    visit((e as { cause?: unknown }).cause, depth + 1);
  };
  visit(err, 0);
  return out;
}

/**
 * Classifies a `fetch` rejection.
 * @param err what `fetch` threw
 * @param callerSignal the caller's signal (its abort is `aborted`, whereas our own timeout is `unknown`)
 */
export function classifyFetchFailure(err: unknown, callerSignal: AbortSignal | undefined): FetchFailureKind {
  if (callerSignal?.aborted === true) return "aborted";
  const codes = errorCodesIn(err);
  return codes.length > 0 && codes.every((c) => NOT_SENT_CODES.has(c)) ? "not-sent" : "unknown";
}
