/**
 * One KSeF HTTP exchange with everything reliability needs around it: the client-side rate limiter,
 * retries (429 with `Retry-After`; 5xx and network faults only for idempotent operations or when the
 * request certainly never left), timeouts, bounded response sizes, `X-System-Warning` reporting and the
 * translation of failures into {@link KsefApiError}.
 */
import { KsefCertsError } from "../../errors.js";
import { abortError, type Clock } from "./clock.js";
import { KsefApiError, apiErrorFromResponse, parseKsefProblem } from "./errors.js";
import { operationId, type KsefOperation } from "./operations.js";
import type { KsefRateLimiter } from "./rate-limiter.js";
import { backoffDelayMs, classifyFetchFailure, errorCodesIn, parseRetryAfter, type RetryPolicy } from "./retry.js";
import { parseSystemWarnings, type SystemWarning } from "./warnings.js";
import { msg } from "../../messages/index.js";

/** Version sent in `User-Agent: ksef-certs/<version>`; `http.test.ts` keeps it equal to package.json. */
export const KSEF_CERTS_VERSION = "0.1.0";

/** A retry about to happen, reported to `onRetry` before its wait. */
export interface RetryEvent {
  /** `METHOD /path/template`. */
  readonly operation: string;
  /** The attempt that failed (1 = the first request). */
  readonly attempt: number;
  /** Wait before the next attempt, in ms (for 429: KSeF's `Retry-After`, enforced by the limiter). */
  readonly delayMs: number;
  /** Why: KSeF answered 429, KSeF answered 5xx, or the network failed. */
  readonly reason: "rate-limited" | "server-error" | "network";
  /** Response status, when there was a response. */
  readonly httpStatus?: number;
}

/** Warnings KSeF attached to a response, reported to `onSystemWarning`. */
export interface SystemWarningEvent {
  /** `METHOD /path/template`. */
  readonly operation: string;
  readonly warnings: readonly SystemWarning[];
}

/** Everything the transport needs; {@link KsefClient} fills it from its options. */
export interface KsefHttpConfig {
  /** API base URL without trailing slash, e.g. `https://api-test.ksef.mf.gov.pl/v2`. */
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  readonly limiter: KsefRateLimiter;
  readonly retry: RetryPolicy;
  /** Uniform random source in [0, 1) for back-off jitter. */
  readonly random: () => number;
  /** Per-attempt timeout in ms (real time, applies to headers and body). */
  readonly timeoutMs: number;
  readonly userAgent: string;
  /** Response bodies larger than this (bytes) are refused with TOO_LARGE. */
  readonly maxResponseBytes: number;
  readonly onRetry?: ((event: RetryEvent) => void) | undefined;
  readonly onSystemWarning?: ((event: SystemWarningEvent) => void) | undefined;
}

/** One request to send. */
export interface KsefRequest {
  /** Values for `{name}` segments of the path template (URL-encoded here). */
  readonly pathParams?: Readonly<Record<string, string>>;
  /** Query parameters; `undefined` values are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly bearer?: string;
  /** JSON body (serialised with `JSON.stringify`). */
  readonly json?: unknown;
  /** Raw body, sent byte for byte. */
  readonly raw?: { readonly bytes: Uint8Array; readonly contentType: string };
  readonly signal?: AbortSignal | undefined;
  /** Success statuses (e.g. `[200]`, `[202]`, `[204]`). */
  readonly expect: readonly number[];
}

/** A successful response. */
export interface KsefResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON body, or `undefined` when empty. */
  readonly body: unknown;
}

/** Calls a hook without letting its failure break the request. */
function safely<T>(hook: ((e: T) => void) | undefined, event: T): void {
  try {
    hook?.(event);
  } catch {
    // Hooks are for progress output; a broken hook must not turn a good KSeF answer into a failure.
  }
}

/**
 * Reads a body up to `limit` bytes.
 * @throws {KsefCertsError} TOO_LARGE when the body is larger
 */
async function readCapped(res: Response, limit: number, label: string): Promise<Uint8Array> {
  const tooLarge = (): KsefCertsError =>
    new KsefCertsError("TOO_LARGE", msg("ksef.client.answerTooLarge", { operation: label, limitBytes: limit }), {
      details: { limitBytes: limit },
    });
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (res.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function decodeJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; text: string } {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, text };
  }
}

/**
 * Builds the URL of an operation.
 * @param baseUrl API base URL
 * @param op the operation (its path template)
 * @param req path and query values
 * @throws {KsefCertsError} INTERNAL when a path parameter is missing (a bug in the caller)
 */
export function buildUrl(baseUrl: string, op: KsefOperation, req: Pick<KsefRequest, "pathParams" | "query">): string {
  const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = req.pathParams?.[name];
    if (v === undefined) throw new KsefCertsError("INTERNAL", msg("ksef.client.pathParameter", { name, operation: operationId(op) }));
    return encodeURIComponent(v);
  });
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return `${baseUrl}${path}${qs === "" ? "" : `?${qs}`}`;
}

/**
 * Sends `req` as operation `op`, waiting for rate-limit slots and retrying as the operation allows.
 * @param config transport configuration
 * @param op the operation
 * @param req the request
 * @returns the successful response (status in `req.expect`)
 * @throws {KsefApiError} for error statuses and network faults (see {@link KsefApiError.outcomeUnknown})
 * @throws {KsefCertsError} IO when `req.signal` aborts; TOO_LARGE when a body exceeds `maxResponseBytes`;
 *   MALFORMED when a success body is not JSON
 */
export async function sendKsefRequest(config: KsefHttpConfig, op: KsefOperation, req: KsefRequest): Promise<KsefResponse> {
  const key = operationId(op);
  const url = buildUrl(config.baseUrl, op, req);
  const headers: Record<string, string> = {
    Accept: "application/json",
    "X-Error-Format": "problem-details",
    "User-Agent": config.userAgent,
    ...req.headers,
  };
  if (req.bearer !== undefined) headers["Authorization"] = `Bearer ${req.bearer}`;
  let body: Uint8Array<ArrayBuffer> | string | undefined;
  if (req.raw !== undefined) {
    headers["Content-Type"] = req.raw.contentType;
    // A private copy: same bytes, but the caller cannot change them between retries, and fetch's BodyInit wants an ArrayBuffer-backed view.
    body = new Uint8Array(req.raw.bytes);
  } else if (req.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(req.json);
  }

  const { retry, clock, signal } = { retry: config.retry, clock: config.clock, signal: req.signal };
  const started = clock.now();
  for (let attempt = 1; ; attempt++) {
    await config.limiter.acquire(key, op.rateLimits, signal);
    const timeout = AbortSignal.timeout(config.timeoutMs);
    const fetchSignal = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);

    let failure: KsefApiError;
    let delayMs: number;
    let reason: RetryEvent["reason"];
    let httpStatus: number | undefined;
    let mayRetry: boolean;
    try {
      // KSeF does not redirect API calls; following one would carry the bearer token to another address.
      const res = await config.fetch(url, { method: op.method, headers, ...(body === undefined ? {} : { body }), signal: fetchSignal, redirect: "error" });
      const warnings = parseSystemWarnings(res.headers.get("x-system-warning"));
      if (warnings.length > 0) safely(config.onSystemWarning, { operation: key, warnings });
      const bytes = await readCapped(res, config.maxResponseBytes, op.label);
      const decoded = decodeJson(bytes);
      if (req.expect.includes(res.status)) {
        if (!decoded.ok) {
          throw new KsefCertsError("MALFORMED", msg("ksef.client.bodyNotJson", { operation: op.label }), {
            details: { operation: key, httpStatus: res.status },
          });
        }
        return { status: res.status, headers: res.headers, body: decoded.value };
      }
      httpStatus = res.status;
      const problem = parseKsefProblem(decoded.ok ? decoded.value : decoded.text);
      const retryAfterMs = res.status === 429 ? parseRetryAfter(res.headers.get("retry-after"), clock.now()) : undefined;
      const serverError = res.status >= 500;
      failure = apiErrorFromResponse({
        operation: key,
        label: op.label,
        httpStatus: res.status,
        problem,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        outcomeUnknown: serverError && !op.idempotent,
      });
      if (res.status === 429) {
        // KSeF did not process a rate-limited request, so even non-idempotent operations may repeat it.
        delayMs = retryAfterMs ?? backoffDelayMs(attempt, retry, config.random);
        config.limiter.block(key, clock.now() + delayMs);
        reason = "rate-limited";
        mayRetry = true;
      } else if (serverError) {
        delayMs = backoffDelayMs(attempt, retry, config.random);
        reason = "server-error";
        mayRetry = op.idempotent;
      } else {
        throw failure;
      }
    } catch (err) {
      if (err instanceof KsefCertsError) throw err;
      const kind = classifyFetchFailure(err, signal);
      if (kind === "aborted") throw abortError(signal as AbortSignal, `sending the ${op.label} to KSeF`);
      const timedOut = timeout.aborted;
      const codes = errorCodesIn(err);
      const what = timedOut
        ? `KSeF did not answer the ${op.label} within ${Math.round(config.timeoutMs / 1000)} s`
        : `Could not reach KSeF for the ${op.label}${codes.length > 0 ? ` (${[...new Set(codes)].join(", ")})` : ""}`;
      const outcomeUnknown = kind === "unknown" && !op.idempotent;
      failure = new KsefApiError("IO", `${what}${outcomeUnknown ? "; KSeF may have processed it anyway" : ""}.`, {
        operation: key,
        retryable: true,
        outcomeUnknown,
        cause: err,
        hint: outcomeUnknown
          ? "Check whether KSeF acted on the request (e.g. query certificates or the operation's status) before repeating it."
          : "Check the network connection and the KSeF address, then try again.",
      });
      delayMs = backoffDelayMs(attempt, retry, config.random);
      reason = "network";
      mayRetry = kind === "not-sent" || op.idempotent;
    }

    if (!mayRetry || attempt >= retry.maxAttempts || clock.now() + delayMs - started > retry.maxElapsedMs) throw failure;
    safely(config.onRetry, { operation: key, attempt, delayMs, reason, ...(httpStatus === undefined ? {} : { httpStatus }) });
    // After a 429 the limiter holds the endpoint for Retry-After (for every caller), so no extra sleep here.
    if (reason !== "rate-limited") await clock.sleep(delayMs, signal);
  }
}
