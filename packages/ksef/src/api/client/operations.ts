/**
 * The KSeF API 2.0 operations the client calls, with what reliability needs to know about each:
 * whether repeating it is harmless, and KSeF's published rate limits.
 *
 * Rate limits are copied from each operation's `x-rate-limits` in `spec/open-api.json` (ksef-docs `limity/limity-api.md`:
 * counted per endpoint, sliding windows of 1 s / 60 s / 60 min); `operations.test.ts` re-reads the
 * spec so a drift fails the build.
 */

/** HTTP methods the KSeF operations use. */
export type HttpMethod = "GET" | "POST" | "DELETE";

/** One sliding window: at most `limit` requests in any `windowMs` milliseconds. */
export interface RateWindow {
  readonly limit: number;
  readonly windowMs: number;
}

/** Static description of one KSeF operation. */
export interface KsefOperation {
  /** HTTP method. */
  readonly method: HttpMethod;
  /** Path template relative to the API base URL, as in the spec (e.g. `/auth/{referenceNumber}`). */
  readonly path: string;
  /** Words for messages: "KSeF refused the {label}". */
  readonly label: string;
  /**
   * Whether sending it twice is harmless. Non-idempotent operations are retried only when the request
   * certainly did not reach KSeF (429, connection refused, DNS failure).
   */
  readonly idempotent: boolean;
  /** KSeF's published limits for this endpoint (`x-rate-limits`). */
  readonly rateLimits: readonly RateWindow[];
}

const AUTH_LIMITS: readonly RateWindow[] = [{ limit: 60, windowMs: 1_000 }];
/** The "other" group: 10/s, 30/min, 120/h (ksef-docs `certyfikaty-KSeF.md`, `limity/limity-api.md`). */
const OTHER_LIMITS: readonly RateWindow[] = [
  { limit: 10, windowMs: 1_000 },
  { limit: 30, windowMs: 60_000 },
  { limit: 120, windowMs: 3_600_000 },
];

/** Every operation of the client, keyed by the client method's name. */
export const KSEF_OPERATIONS = {
  challenge: { method: "POST", path: "/auth/challenge", label: "authentication challenge", idempotent: true, rateLimits: AUTH_LIMITS },
  submitXadesSignature: { method: "POST", path: "/auth/xades-signature", label: "signed authentication request", idempotent: false, rateLimits: AUTH_LIMITS },
  authenticationStatus: { method: "GET", path: "/auth/{referenceNumber}", label: "authentication status query", idempotent: true, rateLimits: AUTH_LIMITS },
  redeemToken: { method: "POST", path: "/auth/token/redeem", label: "token redemption", idempotent: false, rateLimits: AUTH_LIMITS },
  refreshAccessToken: { method: "POST", path: "/auth/token/refresh", label: "access-token refresh", idempotent: true, rateLimits: AUTH_LIMITS },
  listSessions: { method: "GET", path: "/auth/sessions", label: "session list", idempotent: true, rateLimits: OTHER_LIMITS },
  revokeCurrentSession: {
    method: "DELETE",
    path: "/auth/sessions/current",
    label: "revocation of the current session",
    idempotent: true,
    rateLimits: OTHER_LIMITS,
  },
  revokeSession: { method: "DELETE", path: "/auth/sessions/{referenceNumber}", label: "session revocation", idempotent: true, rateLimits: OTHER_LIMITS },
  certificateLimits: { method: "GET", path: "/certificates/limits", label: "certificate limits query", idempotent: true, rateLimits: OTHER_LIMITS },
  enrollmentData: { method: "GET", path: "/certificates/enrollments/data", label: "enrollment data query", idempotent: true, rateLimits: OTHER_LIMITS },
  enrollCertificate: { method: "POST", path: "/certificates/enrollments", label: "enrollment", idempotent: false, rateLimits: OTHER_LIMITS },
  enrollmentStatus: {
    method: "GET",
    path: "/certificates/enrollments/{referenceNumber}",
    label: "enrollment status query",
    idempotent: true,
    rateLimits: OTHER_LIMITS,
  },
  retrieveCertificates: { method: "POST", path: "/certificates/retrieve", label: "certificate retrieval", idempotent: true, rateLimits: OTHER_LIMITS },
  queryCertificates: { method: "POST", path: "/certificates/query", label: "certificate query", idempotent: true, rateLimits: OTHER_LIMITS },
  revokeCertificate: {
    method: "POST",
    path: "/certificates/{certificateSerialNumber}/revoke",
    label: "certificate revocation",
    idempotent: true,
    rateLimits: OTHER_LIMITS,
  },
  subjectLimits: { method: "GET", path: "/limits/subject", label: "subject limits query", idempotent: true, rateLimits: OTHER_LIMITS },
  publicKeyCertificates: {
    method: "GET",
    path: "/security/public-key-certificates",
    label: "public-key certificate list",
    idempotent: true,
    rateLimits: AUTH_LIMITS,
  },
} as const satisfies Record<string, KsefOperation>;

/** Name of a client operation (a key of {@link KSEF_OPERATIONS}). */
export type KsefOperationName = keyof typeof KSEF_OPERATIONS;

/**
 * The operation's name as messages and hooks show it, e.g. `POST /certificates/enrollments`.
 * @param op an entry of {@link KSEF_OPERATIONS}
 */
export function operationId(op: KsefOperation): string {
  return `${op.method} ${op.path}`;
}
