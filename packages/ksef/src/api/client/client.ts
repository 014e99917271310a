/**
 * KSeF API 2.0 client for what ksef-certs needs: XAdES authentication, sessions, the certificate
 * endpoints, subject limits and MF's public-key certificates (ksef-docs `uwierzytelnianie.md`, `certyfikaty-KSeF.md`, `limity/limity-api.md`; paths and
 * schemas from `spec/open-api.json`, types generated into `src/api/openapi.ts`).
 *
 * Reliability lives in the transport (`http.ts`): client-side rate limiting per endpoint, retries that
 * never repeat a possibly processed enrollment/submission/redemption, `X-System-Warning` reporting.
 */
import { KsefCertsError, violation, type Violation } from "../../errors.js";
import { KSEF_ENDPOINTS, isKsefEnvironment, type KsefEnvironment } from "../environments.js";
import type { components } from "../openapi.js";
import { abortError, systemClock, type Clock } from "./clock.js";
import { KsefApiError, KsefStatusError } from "./errors.js";
import { KSEF_CERTS_VERSION, sendKsefRequest, type KsefHttpConfig, type KsefRequest, type RetryEvent, type SystemWarningEvent } from "./http.js";
import { KSEF_OPERATIONS, operationId, type KsefOperationName } from "./operations.js";
import { type KsefRateLimiter, RateLimiter, type ThrottleEvent } from "./rate-limiter.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
import { KsefSession, type AccessToken } from "./session.js";
import { msg, type MessageRef } from "../../messages/index.js";

type Schemas = components["schemas"];

/** Largest signed AuthTokenRequest the client sends, in bytes (a signed request is a few KiB; XAdES-LT with chains stays far below). */
export const MAX_SIGNED_XML_BYTES = 2 * 1024 * 1024;
/** Default cap on a response body, in bytes. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Default per-attempt timeout, in ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Options of {@link KsefClient}. Give exactly one of `environment` and `baseUrl`. */
export interface KsefClientOptions {
  /** Official environment; its API base URL comes from `KSEF_ENDPOINTS`. */
  readonly environment?: KsefEnvironment;
  /** Custom API base URL (e.g. a local simulator `http://127.0.0.1:PORT/v2`); `http:` only for loopback hosts. */
  readonly baseUrl?: string;
  /** `fetch` implementation. Default: the global one (Node 20 undici). */
  readonly fetch?: typeof fetch;
  /** Time source for limiter, back-off and polling. Default: the real clock. */
  readonly clock?: Clock;
  /** Jitter source in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** Per-attempt timeout in ms (real time). Default 30 000. */
  readonly timeoutMs?: number;
  /** Overrides of {@link DEFAULT_RETRY_POLICY}. */
  readonly retry?: Partial<RetryPolicy>;
  /** Share one limiter between clients that use the same KSeF context from the same IP. Default: a new one per client. */
  readonly rateLimiter?: KsefRateLimiter;
  /** Default `ksef-certs/<version>`. */
  readonly userAgent?: string;
  /** Cap on response bodies in bytes. Default 4 MiB. */
  readonly maxResponseBytes?: number;
  /** Reports retries (for progress output). */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Reports limiter waits; only for the limiter the client creates itself (an injected one has its own hook). */
  readonly onThrottle?: (event: ThrottleEvent) => void;
  /** Receives KSeF's `X-System-Warning`s. */
  readonly onSystemWarning?: (event: SystemWarningEvent) => void;
}

/** Cancellation of one call. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** Options of the `waitFor…` polling methods. */
export interface WaitOptions<S> extends CallOptions {
  /** Give up after this many ms (on the client's clock). */
  readonly timeoutMs?: number;
  /** Pause between polls in ms; the rate limiter may stretch it. */
  readonly intervalMs?: number;
  /** Called with every status read while the operation is still in progress (code 100). */
  readonly onProgress?: (status: S) => void;
}

/** `GET /certificates/enrollments/{ref}` once it succeeded: the serial is present. */
export type CompletedEnrollmentStatus = Schemas["CertificateEnrollmentStatusResponse"] & { readonly certificateSerialNumber: string };

const REFERENCE_NUMBER = /^[0-9A-Za-z-]{1,100}$/;
const SERIAL = /^[0-9A-F]{16}$/;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

function invalid(message: MessageRef, violations: Violation[]): KsefCertsError {
  return new KsefCertsError("VALIDATION", message, { violations });
}

function checkReference(field: string, value: string): void {
  if (!REFERENCE_NUMBER.test(value)) {
    throw invalid(msg("ksef.client.referenceNumber", { field }), [violation(field, "ksef.referenceNumber")]);
  }
}

function normaliseSerial(field: string, value: string): string {
  const serial = value.trim().toUpperCase();
  if (!SERIAL.test(serial)) {
    throw invalid(msg("ksef.client.serialNumber", { field, value: value.slice(0, 40) }), [violation(field, "ksef.serialNumber")]);
  }
  return serial;
}

function checkIntRange(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(msg("ksef.client.intRange", { field, min, max }), [violation(field, `${field}.range`, { field, min, max })]);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks the one thing every caller relies on (an object, or an array for lists); the fields follow the
 * generated schema types, which KSeF's contract promises.
 */
function expectShape(body: unknown, name: KsefOperationName, shape: "object" | "array"): void {
  const ok = shape === "array" ? Array.isArray(body) : isRecord(body);
  if (!ok) {
    const op = KSEF_OPERATIONS[name];
    throw new KsefCertsError("MALFORMED", msg(shape === "array" ? "ksef.client.notJsonArray" : "ksef.client.notJsonObject", { operation: op.label }), {
      details: { operation: operationId(op) },
    });
  }
}

function resolveBaseUrl(options: KsefClientOptions): string {
  if ((options.environment === undefined) === (options.baseUrl === undefined)) {
    throw invalid(msg("ksef.client.target"), [violation("environment", "ksef.client.target")]);
  }
  if (options.environment !== undefined) {
    if (!isKsefEnvironment(options.environment)) {
      throw invalid(msg("ksef.client.environment", { environment: String(options.environment) }), [violation("environment", "ksef.environment")]);
    }
    return KSEF_ENDPOINTS[options.environment].apiBaseUrl;
  }
  let url: URL;
  try {
    url = new URL(options.baseUrl ?? "");
  } catch {
    throw invalid(msg("ksef.client.baseUrl"), [violation("baseUrl", "url")]);
  }
  const loopback = LOOPBACK.has(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    // Tokens travel in headers: plain HTTP is acceptable only to a simulator on this machine.
    throw invalid(msg("ksef.client.baseUrl.https"), [violation("baseUrl", "url.https")]);
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw invalid(msg("ksef.client.baseUrl.plain"), [violation("baseUrl", "url.plain")]);
  }
  return url.href.replace(/\/+$/, "");
}

const AUTH_FAILURES: Readonly<Record<number, { code: KsefCertsError["code"]; hint: MessageRef }>> = {
  415: { code: "FORBIDDEN", hint: msg("ksef.status.auth.415.hint") },
  425: { code: "FORBIDDEN", hint: msg("ksef.status.auth.425.hint") },
  450: { code: "VALIDATION", hint: msg("ksef.status.auth.450.hint") },
  460: {
    code: "VALIDATION",
    hint: msg("ksef.status.auth.460.hint"),
  },
  470: { code: "FORBIDDEN", hint: msg("ksef.status.auth.470.hint") },
  480: { code: "FORBIDDEN", hint: msg("ksef.status.auth.480.hint") },
  500: { code: "IO", hint: msg("ksef.status.auth.500.hint") },
  550: { code: "IO", hint: msg("ksef.status.auth.550.hint") },
};

const ENROLLMENT_FAILURES: Readonly<Record<number, { code: KsefCertsError["code"]; hint: MessageRef }>> = {
  400: { code: "CONFLICT", hint: msg("ksef.status.enrollment.400.hint") },
  500: { code: "IO", hint: msg("ksef.status.enrollment.500.hint") },
  550: { code: "IO", hint: msg("ksef.status.enrollment.550.hint") },
};

function statusText(s: Schemas["StatusInfo"]): string {
  const details = s.details ?? [];
  return `${s.code} ${s.description}${details.length > 0 ? ` (${details.join("; ")})` : ""}`;
}

function statusOf(body: unknown, name: KsefOperationName): Schemas["StatusInfo"] {
  const status = isRecord(body) ? body["status"] : undefined;
  if (!isRecord(status) || typeof status["code"] !== "number") {
    throw new KsefCertsError("MALFORMED", msg("ksef.client.noStatus", { operation: KSEF_OPERATIONS[name].label }), {
      details: { operation: operationId(KSEF_OPERATIONS[name]) },
    });
  }
  return status as unknown as Schemas["StatusInfo"];
}

/**
 * The KSeF API 2.0 client.
 *
 * @example
 * const ksef = createKsefClient({ environment: "test", onSystemWarning: ({ warnings }) => log(warnings) });
 * const { challenge } = await ksef.challenge();
 * const init = await ksef.submitXadesSignature(signedBytes);
 * await ksef.waitForAuthentication(init.referenceNumber, init.authenticationToken.token);
 * const session = await ksef.openSession(init.authenticationToken.token);
 * const limits = await ksef.certificateLimits(session);
 */
export class KsefClient {
  /** The API base URL in use (no trailing slash). */
  readonly baseUrl: string;
  private readonly http: KsefHttpConfig;
  private readonly clock: Clock;

  /**
   * @param options target and behaviour
   * @throws {KsefCertsError} VALIDATION when the target is missing, doubled, unknown or not https
   */
  constructor(options: KsefClientOptions) {
    this.baseUrl = resolveBaseUrl(options);
    this.clock = options.clock ?? systemClock;
    const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    checkIntRange("retry.maxAttempts", retry.maxAttempts, 1, 100);
    this.http = {
      baseUrl: this.baseUrl,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      clock: this.clock,
      limiter: options.rateLimiter ?? new RateLimiter({ clock: this.clock, ...(options.onThrottle === undefined ? {} : { onThrottle: options.onThrottle }) }),
      retry,
      random: options.random ?? Math.random,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      userAgent: options.userAgent ?? `ksef-certs/${KSEF_CERTS_VERSION}`,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      onRetry: options.onRetry,
      onSystemWarning: options.onSystemWarning,
    };
  }

  private send(name: KsefOperationName, req: KsefRequest): Promise<{ status: number; body: unknown }> {
    return sendKsefRequest(this.http, KSEF_OPERATIONS[name], req);
  }

  /** Runs `call` with a bearer token; with a refreshing source, one 401 triggers a refresh and a second try. */
  private async authorized<T>(auth: AccessToken, signal: AbortSignal | undefined, call: (token: string) => Promise<T>): Promise<T> {
    if (typeof auth === "string") return call(auth);
    const token = await auth.accessToken({ signal });
    try {
      return await call(token);
    } catch (err) {
      // A 401 means KSeF did not act on the request, so repeating even an enrollment is safe.
      if (!(err instanceof KsefApiError) || err.httpStatus !== 401) throw err;
      return call(await auth.accessToken({ forceRefresh: true, signal }));
    }
  }

  // ---------------------------------------------------------------- authentication

  /**
   * `POST /auth/challenge`: a challenge for the AuthTokenRequest (valid 10 minutes; ksef-docs `uwierzytelnianie.md`).
   * @param options cancellation
   * @returns `{challenge, timestamp, timestampMs, clientIp}`
   * @throws {KsefApiError} on error responses or network faults
   */
  async challenge(options: CallOptions = {}): Promise<Schemas["AuthenticationChallengeResponse"]> {
    const res = await this.send("challenge", { expect: [200], signal: options.signal });
    expectShape(res.body, "challenge", "object");
    return res.body as Schemas["AuthenticationChallengeResponse"];
  }

  /**
   * `POST /auth/xades-signature`: submits the signed AuthTokenRequest. The bytes go out unchanged
   * (`Content-Type: application/xml`): re-encoding a signed file breaks it (ksef-api #168, 21217).
   * Not retried after a 5xx/timeout: the error then has `outcomeUnknown` (start over with a new challenge).
   * @param signedXml the signed XML document, ≤ {@link MAX_SIGNED_XML_BYTES} bytes
   * @param options `verifyCertificateChain` forces chain + OCSP/CRL checks on TEST (query parameter; omitted when undefined)
   * @returns `{referenceNumber, authenticationToken:{token, validUntil}}` (HTTP 202)
   * @throws {KsefCertsError} VALIDATION when empty; TOO_LARGE when over the limit
   * @throws {KsefApiError} e.g. 400 with 21111 (challenge), 9105 (signature), 21115 (certificate)
   */
  async submitXadesSignature(
    signedXml: Uint8Array,
    options: CallOptions & { readonly verifyCertificateChain?: boolean } = {},
  ): Promise<Schemas["AuthenticationInitResponse"]> {
    if (signedXml.byteLength === 0) {
      throw invalid(msg("ksef.client.signedXml.empty"), [violation("signedXml", "required")]);
    }
    if (signedXml.byteLength > MAX_SIGNED_XML_BYTES) {
      throw new KsefCertsError("TOO_LARGE", msg("ksef.client.signedXml.tooLarge", { limitBytes: MAX_SIGNED_XML_BYTES }), {
        details: { limitBytes: MAX_SIGNED_XML_BYTES },
        hint: msg("ksef.client.signedXml.tooLarge.hint"),
      });
    }
    const res = await this.send("submitXadesSignature", {
      expect: [202],
      raw: { bytes: signedXml, contentType: "application/xml" },
      query: { verifyCertificateChain: options.verifyCertificateChain },
      signal: options.signal,
    });
    expectShape(res.body, "submitXadesSignature", "object");
    return res.body as Schemas["AuthenticationInitResponse"];
  }

  /**
   * `GET /auth/{referenceNumber}` with the authentication (operation) token.
   * @param referenceNumber from {@link submitXadesSignature}
   * @param authenticationToken `authenticationToken.token` from the same answer
   * @param options cancellation
   * @throws {KsefCertsError} VALIDATION for a malformed reference number
   * @throws {KsefApiError} e.g. 410 after the 7-day retention
   */
  async authenticationStatus(
    referenceNumber: string,
    authenticationToken: string,
    options: CallOptions = {},
  ): Promise<Schemas["AuthenticationOperationStatusResponse"]> {
    checkReference("referenceNumber", referenceNumber);
    const res = await this.send("authenticationStatus", {
      expect: [200],
      pathParams: { referenceNumber },
      bearer: authenticationToken,
      signal: options.signal,
    });
    statusOf(res.body, "authenticationStatus");
    return res.body as Schemas["AuthenticationOperationStatusResponse"];
  }

  /**
   * Polls {@link authenticationStatus} until `status.code` is no longer 100.
   * @param referenceNumber authentication reference number
   * @param authenticationToken the authentication token
   * @param options `timeoutMs` (default 120 000 — DEMO/PRD wait for OCSP/CRL), `intervalMs` (default 1 000), `signal`, `onProgress`
   * @returns the final status (code 200)
   * @throws {KsefStatusError} for codes 415, 425, 460, 470, 480 (FORBIDDEN/VALIDATION), 450 (VALIDATION), 500 (IO), 550 (IO, retryable)
   * @throws {KsefCertsError} IO (retryable) when `timeoutMs` passes with the status still 100; IO when cancelled
   */
  async waitForAuthentication(
    referenceNumber: string,
    authenticationToken: string,
    options: WaitOptions<Schemas["AuthenticationOperationStatusResponse"]> = {},
  ): Promise<Schemas["AuthenticationOperationStatusResponse"]> {
    const final = await this.poll("authenticationStatus", referenceNumber, options, 120_000, 1_000, (signal) =>
      this.authenticationStatus(referenceNumber, authenticationToken, { ...(signal === undefined ? {} : { signal }) }),
    );
    const status = final.status;
    if (status.code === 200) return final;
    const known = AUTH_FAILURES[status.code] ?? {
      code: "IO" as const,
      hint: msg("ksef.status.unknown.hint"),
    };
    throw new KsefStatusError(
      known.code,
      msg("ksef.status.auth.failed", { referenceNumber, status: statusText(status) }),
      {
        operation: operationId(KSEF_OPERATIONS.authenticationStatus),
        referenceNumber,
        statusCode: status.code,
        statusDescription: status.description,
        statusDetails: status.details ?? [],
      },
      known.hint,
    );
  }

  /**
   * `POST /auth/token/redeem`: exchanges the authentication token for access and refresh tokens.
   * One-shot (a second call gets 400/21301), hence never retried after a 5xx/timeout (`outcomeUnknown`).
   * @param authenticationToken the authentication token, after {@link waitForAuthentication} succeeded
   * @param options cancellation
   * @returns `{accessToken:{token,validUntil}, refreshToken:{token,validUntil}}`
   * @throws {KsefApiError} on error responses or network faults
   */
  async redeemToken(authenticationToken: string, options: CallOptions = {}): Promise<Schemas["AuthenticationTokensResponse"]> {
    const res = await this.send("redeemToken", { expect: [200], bearer: authenticationToken, signal: options.signal });
    expectShape(res.body, "redeemToken", "object");
    return res.body as Schemas["AuthenticationTokensResponse"];
  }

  /**
   * Redeems the authentication token and wraps the tokens in a {@link KsefSession} that refreshes itself.
   * @param authenticationToken the authentication token
   * @param options cancellation
   * @throws {KsefApiError} as {@link redeemToken}
   */
  async openSession(authenticationToken: string, options: CallOptions = {}): Promise<KsefSession> {
    const tokens = await this.redeemToken(authenticationToken, options);
    return new KsefSession(tokens, (refreshToken, signal) => this.refreshAccessToken(refreshToken, signal === undefined ? {} : { signal }), this.clock);
  }

  /**
   * `POST /auth/token/refresh` with the refresh token.
   * @param refreshToken the refresh token (reusable, ≤ 7 days)
   * @param options cancellation
   * @returns `{accessToken:{token,validUntil}}`
   * @throws {KsefApiError} e.g. 401 when the session was revoked
   */
  async refreshAccessToken(refreshToken: string, options: CallOptions = {}): Promise<Schemas["AuthenticationTokenRefreshResponse"]> {
    const res = await this.send("refreshAccessToken", { expect: [200], bearer: refreshToken, signal: options.signal });
    expectShape(res.body, "refreshAccessToken", "object");
    return res.body as Schemas["AuthenticationTokenRefreshResponse"];
  }

  /**
   * `GET /auth/sessions`: active authentication sessions, newest first.
   * @param auth access token or source
   * @param options `pageSize` 10–100 (KSeF default 10), `continuationToken` from the previous page (sent as `x-continuation-token`)
   * @throws {KsefCertsError} VALIDATION for a page size out of range
   * @throws {KsefApiError} on error responses or network faults
   */
  async listSessions(
    auth: AccessToken,
    options: CallOptions & { readonly pageSize?: number; readonly continuationToken?: string } = {},
  ): Promise<Schemas["AuthenticationListResponse"]> {
    if (options.pageSize !== undefined) checkIntRange("pageSize", options.pageSize, 10, 100);
    return this.authorized(auth, options.signal, async (bearer) => {
      const res = await this.send("listSessions", {
        expect: [200],
        bearer,
        query: { pageSize: options.pageSize },
        ...(options.continuationToken === undefined ? {} : { headers: { "x-continuation-token": options.continuationToken } }),
        signal: options.signal,
      });
      expectShape(res.body, "listSessions", "object");
      return res.body as Schemas["AuthenticationListResponse"];
    });
  }

  /**
   * `DELETE /auth/sessions/current`: ends the session the token belongs to (its refresh token stops
   * working; access tokens already issued live until they expire).
   * @param token access token, refresh token, or a source
   * @param options cancellation
   * @throws {KsefApiError} on error responses or network faults
   */
  async revokeCurrentSession(token: AccessToken, options: CallOptions = {}): Promise<void> {
    await this.authorized(token, options.signal, (bearer) => this.send("revokeCurrentSession", { expect: [204], bearer, signal: options.signal }));
  }

  /**
   * `DELETE /auth/sessions/{referenceNumber}`: ends another session of the same subject.
   * @param auth access token or source
   * @param referenceNumber the session's reference number (from {@link listSessions})
   * @param options cancellation
   * @throws {KsefCertsError} VALIDATION for a malformed reference number
   * @throws {KsefApiError} on error responses or network faults
   */
  async revokeSession(auth: AccessToken, referenceNumber: string, options: CallOptions = {}): Promise<void> {
    checkReference("referenceNumber", referenceNumber);
    await this.authorized(auth, options.signal, (bearer) =>
      this.send("revokeSession", { expect: [204], bearer, pathParams: { referenceNumber }, signal: options.signal }),
    );
  }

  // ---------------------------------------------------------------- certificates

  /**
   * `GET /certificates/limits`: whether the subject may enroll, and remaining request/certificate counts.
   * @param auth access token or source
   * @param options cancellation
   * @throws {KsefApiError} on error responses or network faults
   */
  async certificateLimits(auth: AccessToken, options: CallOptions = {}): Promise<Schemas["CertificateLimitsResponse"]> {
    return this.authorized(auth, options.signal, async (bearer) => {
      const res = await this.send("certificateLimits", { expect: [200], bearer, signal: options.signal });
      expectShape(res.body, "certificateLimits", "object");
      return res.body as Schemas["CertificateLimitsResponse"];
    });
  }

  /**
   * `GET /certificates/enrollments/data`: the subject DN values the CSR must carry exactly (ksef-docs `certyfikaty-KSeF.md`).
   * @param auth access token or source (of a XAdES login: token logins get 400/25001)
   * @param options cancellation
   * @throws {KsefApiError} on error responses or network faults
   */
  async enrollmentData(auth: AccessToken, options: CallOptions = {}): Promise<Schemas["CertificateEnrollmentDataResponse"]> {
    return this.authorized(auth, options.signal, async (bearer) => {
      const res = await this.send("enrollmentData", { expect: [200], bearer, signal: options.signal });
      expectShape(res.body, "enrollmentData", "object");
      return res.body as Schemas["CertificateEnrollmentDataResponse"];
    });
  }

  /**
   * `POST /certificates/enrollments`: submits a certificate request (HTTP 202).
   * Retried only when KSeF certainly did not get it (429, refused connection); a 5xx, timeout or reset
   * throws {@link KsefApiError} with `outcomeUnknown: true` — query certificates before enrolling the key again.
   * @param auth access token or source
   * @param body `{certificateName (5–100 chars), certificateType (Authentication|Offline), csr (base64 DER PKCS#10), validFrom?}`
   * @param options cancellation
   * @returns `{referenceNumber, timestamp}`
   * @throws {KsefApiError} e.g. 400 with 25003 (CSR data ≠ enrollment data), 25004, 25006, 25007, 25010, 25011
   */
  async enrollCertificate(
    auth: AccessToken,
    body: Schemas["EnrollCertificateRequest"],
    options: CallOptions = {},
  ): Promise<Schemas["EnrollCertificateResponse"]> {
    return this.authorized(auth, options.signal, async (bearer) => {
      const res = await this.send("enrollCertificate", { expect: [202], bearer, json: body, signal: options.signal });
      expectShape(res.body, "enrollCertificate", "object");
      return res.body as Schemas["EnrollCertificateResponse"];
    });
  }

  /**
   * `GET /certificates/enrollments/{referenceNumber}`.
   * @param auth access token or source
   * @param referenceNumber from {@link enrollCertificate}
   * @param options cancellation
   * @throws {KsefCertsError} VALIDATION for a malformed reference number
   * @throws {KsefApiError} e.g. 400/25005 unknown reference, 410 after 30 days
   */
  async enrollmentStatus(auth: AccessToken, referenceNumber: string, options: CallOptions = {}): Promise<Schemas["CertificateEnrollmentStatusResponse"]> {
    checkReference("referenceNumber", referenceNumber);
    return this.authorized(auth, options.signal, async (bearer) => {
      const res = await this.send("enrollmentStatus", { expect: [200], bearer, pathParams: { referenceNumber }, signal: options.signal });
      statusOf(res.body, "enrollmentStatus");
      return res.body as Schemas["CertificateEnrollmentStatusResponse"];
    });
  }

  /**
   * Polls {@link enrollmentStatus} until the certificate is issued.
   * @param auth access token or source (a {@link KsefSession} survives long waits)
   * @param referenceNumber enrollment reference number
   * @param options `timeoutMs` (default 300 000), `intervalMs` (default 2 000: the endpoint allows 30/min), `signal`, `onProgress`
   * @returns the final status with `certificateSerialNumber`
   * @throws {KsefStatusError} 400 rejected (CONFLICT: key certified by another subject, or certificate limit), 500 (IO), 550 (IO, retryable)
   * @throws {KsefCertsError} IO (retryable) on timeout; MALFORMED when code 200 comes without a serial
   */
  async waitForEnrollment(
    auth: AccessToken,
    referenceNumber: string,
    options: WaitOptions<Schemas["CertificateEnrollmentStatusResponse"]> = {},
  ): Promise<CompletedEnrollmentStatus> {
    const final = await this.poll("enrollmentStatus", referenceNumber, options, 300_000, 2_000, (signal) =>
      this.enrollmentStatus(auth, referenceNumber, signal === undefined ? {} : { signal }),
    );
    const status = final.status;
    if (status.code === 200) {
      const serial = final.certificateSerialNumber;
      if (typeof serial !== "string" || serial === "") {
        throw new KsefCertsError("MALFORMED", msg("ksef.client.enrollment.noSerial", { referenceNumber }), {
          details: { referenceNumber },
        });
      }
      return { ...final, certificateSerialNumber: serial };
    }
    const known = ENROLLMENT_FAILURES[status.code] ?? {
      code: "IO" as const,
      hint: msg("ksef.status.unknown.hint"),
    };
    throw new KsefStatusError(
      known.code,
      msg("ksef.status.enrollment.rejected", { referenceNumber, status: statusText(status) }),
      {
        operation: operationId(KSEF_OPERATIONS.enrollmentStatus),
        referenceNumber,
        statusCode: status.code,
        statusDescription: status.description,
        statusDetails: status.details ?? [],
      },
      known.hint,
    );
  }

  /**
   * `POST /certificates/retrieve`: issued certificates (DER, base64) by serial number.
   * @param auth access token or source
   * @param serialNumbers 1–10 serials, 16 hex digits each (lower case is upper-cased)
   * @param options cancellation
   * @throws {KsefCertsError} VALIDATION for a bad count or serial
   * @throws {KsefApiError} on error responses or network faults
   */
  async retrieveCertificates(auth: AccessToken, serialNumbers: readonly string[], options: CallOptions = {}): Promise<Schemas["RetrieveCertificatesResponse"]> {
    if (serialNumbers.length < 1 || serialNumbers.length > 10) {
      throw invalid(msg("ksef.client.retrieve.count", { count: serialNumbers.length }), [
        violation("serialNumbers", "ksef.retrieve.count", { min: 1, max: 10 }),
      ]);
    }
    const certificateSerialNumbers = serialNumbers.map((s, i) => normaliseSerial(`serialNumbers[${i}]`, s));
    return this.authorized(auth, options.signal, async (bearer) => {
      const res = await this.send("retrieveCertificates", { expect: [200], bearer, json: { certificateSerialNumbers }, signal: options.signal });
      expectShape(res.body, "retrieveCertificates", "object");
      return res.body as Schemas["RetrieveCertificatesResponse"];
    });
  }

  /**
   * `POST /certificates/query`: one page of the subject's certificates, newest request first.
   * @param auth access token or source
   * @param filter `{certificateSerialNumber?, name? (contains), type?, status?, expiresAfter?}`; `{}` = all
   * @param options `pageSize` 10–50 (KSeF default 10), `pageOffset` page number from 0
   * @throws {KsefCertsError} VALIDATION for paging out of range
   * @throws {KsefApiError} on error responses or network faults
   */
  async queryCertificates(
    auth: AccessToken,
    filter: Schemas["QueryCertificatesRequest"] = {},
    options: CallOptions & { readonly pageSize?: number; readonly pageOffset?: number } = {},
  ): Promise<Schemas["QueryCertificatesResponse"]> {
    if (options.pageSize !== undefined) checkIntRange("pageSize", options.pageSize, 10, 50);
    if (options.pageOffset !== undefined) checkIntRange("pageOffset", options.pageOffset, 0, 2 ** 31 - 1);
    return this.authorized(auth, options.signal, async (bearer) => {
      const res = await this.send("queryCertificates", {
        expect: [200],
        bearer,
        json: filter,
        query: { pageSize: options.pageSize, pageOffset: options.pageOffset },
        signal: options.signal,
      });
      expectShape(res.body, "queryCertificates", "object");
      return res.body as Schemas["QueryCertificatesResponse"];
    });
  }

  /**
   * Every page of {@link queryCertificates}, following `hasMore`.
   * @param auth access token or source (a {@link KsefSession} for long listings)
   * @param filter as {@link queryCertificates}
   * @param options `pageSize` (default 50), `maxPages` safety bound (default 200), `signal`
   * @throws {KsefCertsError} IO when KSeF still reports more pages after `maxPages`
   * @throws {KsefApiError} on error responses or network faults
   */
  async *queryAllCertificates(
    auth: AccessToken,
    filter: Schemas["QueryCertificatesRequest"] = {},
    options: CallOptions & { readonly pageSize?: number; readonly maxPages?: number } = {},
  ): AsyncGenerator<Schemas["QueryCertificatesResponse"], void, undefined> {
    const pageSize = options.pageSize ?? 50;
    const maxPages = options.maxPages ?? 200;
    for (let pageOffset = 0; ; pageOffset++) {
      if (pageOffset >= maxPages) {
        throw new KsefCertsError("IO", msg("ksef.client.tooManyPages", { maxPages }), {
          details: { maxPages, pageSize },
          hint: msg("ksef.client.tooManyPages.hint"),
        });
      }
      const page = await this.queryCertificates(auth, filter, { pageSize, pageOffset, ...(options.signal === undefined ? {} : { signal: options.signal }) });
      yield page;
      if (!page.hasMore) return;
    }
  }

  /**
   * `POST /certificates/{serial}/revoke` (HTTP 204). Not available to KSeF-token logins.
   * @param auth access token or source
   * @param serialNumber 16 hex digits
   * @param options `revocationReason` (Unspecified | Superseded | KeyCompromise; omitted → KSeF's default), `signal`
   * @throws {KsefCertsError} VALIDATION for a malformed serial
   * @throws {KsefApiError} e.g. 400 with 25008 (not found) or 25009 (already revoked)
   */
  async revokeCertificate(
    auth: AccessToken,
    serialNumber: string,
    options: CallOptions & { readonly revocationReason?: Schemas["CertificateRevocationReason"] } = {},
  ): Promise<void> {
    const certificateSerialNumber = normaliseSerial("serialNumber", serialNumber);
    const body: Schemas["RevokeCertificateRequest"] = options.revocationReason === undefined ? {} : { revocationReason: options.revocationReason };
    await this.authorized(auth, options.signal, (bearer) =>
      this.send("revokeCertificate", { expect: [204], bearer, pathParams: { certificateSerialNumber }, json: body, signal: options.signal }),
    );
  }

  /**
   * `GET /limits/subject`: the subject's effective enrollment and certificate limits.
   * @param auth access token or source
   * @param options cancellation
   * @throws {KsefApiError} on error responses or network faults
   */
  async subjectLimits(auth: AccessToken, options: CallOptions = {}): Promise<Schemas["EffectiveSubjectLimits"]> {
    return this.authorized(auth, options.signal, async (bearer) => {
      const res = await this.send("subjectLimits", { expect: [200], bearer, signal: options.signal });
      expectShape(res.body, "subjectLimits", "object");
      return res.body as Schemas["EffectiveSubjectLimits"];
    });
  }

  // ---------------------------------------------------------------- security

  /**
   * `GET /security/public-key-certificates` (no authentication): MF's encryption certificates
   * (`usage` KsefTokenEncryption / SymmetricKeyEncryption; ksef-docs `tokeny-ksef.md`).
   * @param options cancellation
   * @throws {KsefApiError} on error responses or network faults
   */
  async publicKeyCertificates(options: CallOptions = {}): Promise<Schemas["PublicKeyCertificate"][]> {
    const res = await this.send("publicKeyCertificates", { expect: [200], signal: options.signal });
    expectShape(res.body, "publicKeyCertificates", "array");
    return res.body as Schemas["PublicKeyCertificate"][];
  }

  // ---------------------------------------------------------------- polling

  /** Reads `read()` until `status.code` ≠ 100, sleeping `intervalMs` between reads, within `timeoutMs`. */
  private async poll<S extends { readonly status: Schemas["StatusInfo"] }>(
    name: KsefOperationName,
    referenceNumber: string,
    options: WaitOptions<S>,
    defaultTimeoutMs: number,
    defaultIntervalMs: number,
    read: (signal: AbortSignal | undefined) => Promise<S>,
  ): Promise<S> {
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    const intervalMs = options.intervalMs ?? defaultIntervalMs;
    checkIntRange("timeoutMs", timeoutMs, 0, 24 * 3_600_000);
    checkIntRange("intervalMs", intervalMs, 0, 3_600_000);
    const deadline = this.clock.now() + timeoutMs;
    const { signal } = options;
    for (;;) {
      if (signal?.aborted === true) throw abortError(signal, `waiting for KSeF ${KSEF_OPERATIONS[name].label}`);
      const current = await read(signal);
      if (current.status.code !== 100) return current;
      try {
        options.onProgress?.(current);
      } catch {
        // Progress output must not end the wait.
      }
      if (this.clock.now() + intervalMs > deadline) {
        throw new KsefCertsError("IO", msg("ksef.client.poll.timedOut", { referenceNumber, seconds: Math.round(timeoutMs / 1000) }), {
          retryable: true,
          details: { operation: operationId(KSEF_OPERATIONS[name]), referenceNumber, lastStatusCode: current.status.code },
          hint: msg("ksef.client.poll.timedOut.hint"),
        });
      }
      await this.clock.sleep(intervalMs, signal);
    }
  }
}

/**
 * Creates a {@link KsefClient}.
 * @param options target and behaviour (see {@link KsefClientOptions})
 * @throws {KsefCertsError} VALIDATION when the target is missing, doubled, unknown or not https
 */
export function createKsefClient(options: KsefClientOptions): KsefClient {
  return new KsefClient(options);
}
