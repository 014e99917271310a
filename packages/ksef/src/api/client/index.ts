/** KSeF API 2.0 client: public surface of `src/api/client/` (re-exported by `@ksef-certs/ksef/api`). */
export { KsefClient, createKsefClient, MAX_SIGNED_XML_BYTES, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from "./client.js";
export type { KsefClientOptions, CallOptions, WaitOptions, CompletedEnrollmentStatus } from "./client.js";
export { KsefApiError, KsefStatusError, ksefCodesOf, parseKsefProblem, errorCodeOfHttpStatus } from "./errors.js";
export type { KsefProblem, KsefProblemFormat, KsefErrorEntry } from "./errors.js";
export { KsefSession } from "./session.js";
export type { AccessToken, AccessTokenSource } from "./session.js";
export { RateLimiter } from "./rate-limiter.js";
export type { ThrottleEvent, RateLimiterOptions } from "./rate-limiter.js";
export { DEFAULT_RETRY_POLICY, parseRetryAfter } from "./retry.js";
export type { RetryPolicy } from "./retry.js";
export { KSEF_CERTS_VERSION } from "./http.js";
export type { RetryEvent, SystemWarningEvent } from "./http.js";
export { parseSystemWarnings } from "./warnings.js";
export type { SystemWarning } from "./warnings.js";
export { systemClock } from "./clock.js";
export type { Clock } from "./clock.js";
export { KSEF_OPERATIONS } from "./operations.js";
export type { KsefOperation, KsefOperationName, RateWindow } from "./operations.js";
