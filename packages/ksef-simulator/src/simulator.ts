/**
 * The simulator core: options, the shared request pipeline of every operation (counting, rate
 * limits, faults, bearer tokens, body validation, error rendering, response validation) and the
 * in-process app. Routes live in `routes/*.ts`; each registers through {@link Simulator.route}.
 *
 * Pipeline order per request (what KSeF does first we do first as far as it is observable):
 * count → latency fault → 429 storm fault → rate limit (per operation, client IP and, when a valid
 * bearer token is present, subject) → 5xx fault → bearer token (401) → body read, size limit and
 * OpenAPI validation (400/21405) → handler → 5xx-after-processing fault → response validation.
 */
import type { TestCertificateAuthority } from "@ksef-certs/ksef/testing";
import { createTestCertificateAuthority } from "@ksef-certs/ksef/testing";
import type { SubjectIdentifier } from "@ksef-certs/ksef/crypto";
import { randomBytes } from "node:crypto";
import { type Context, Hono } from "hono";
import { type Logger, pino } from "pino";
import { KsefErrorReply, type Reply, badRequest, renderError } from "./http-errors.js";
import { type TokenClaims, signJwt, verifyJwt } from "./jwt.js";
import { type OpenApiValidator, type OpenApiViolation, openApiValidator } from "./openapi/validator.js";
import { type RateLimitMode, SlidingWindowLimiter } from "./rate-limit.js";
import { type Random, seededRandom } from "./rng.js";
import { type AuthOperation, type CertificateLimits, type Faults, PUBLISHED_CERTIFICATE_LIMITS, SimulatorState, identityKey } from "./state.js";
import type { PublicKeyCertificateEntry } from "./routes/misc.js";
import type { AuthTokenRequestVerifier } from "./xades-verifier.js";

/** Prefix of every KSeF path (SPEC `servers`: `https://api-test.ksef.mf.gov.pl/v2`). */
export const API_PREFIX = "/v2";

/** Largest JSON or XML request body accepted, bytes (the signed AuthTokenRequest is a few kB; core's XML limit is 1 MiB). */
export const MAX_BODY_BYTES = 1_048_576;

/** Token lifetimes, ms (ksef-docs `uwierzytelnianie.md`: authentication token ≈ 45 min observed, access ≈ 15 min, refresh ≤ 7 days). */
export interface TokenLifetimes {
  readonly authenticationTokenMs: number;
  readonly accessTokenMs: number;
  readonly refreshTokenMs: number;
}

/** Options of the simulator; every one has a default fit for tests. */
export interface SimulatorOptions {
  /** Certificate authority issuing KSeF certificates; default a new `TEST CCK KSeF` CA per instance. */
  readonly ca?: TestCertificateAuthority;
  /** How long an enrollment stays at status 100 before the certificate is issued, ms; default 0. */
  readonly enrollmentDelayMs?: number;
  /** How long an authentication stays at status 100 before its outcome, ms; default 0. */
  readonly authenticationDelayMs?: number;
  /** Challenge lifetime, ms; default 10 minutes (ksef-docs `uwierzytelnianie.md`). */
  readonly challengeLifetimeMs?: number;
  /** Token lifetimes; defaults 45 min / 15 min / 7 days. */
  readonly tokenLifetimes?: Partial<TokenLifetimes>;
  /** Certificate limits per identifier type; default the published ones (NIP 300/100, PESEL/fingerprint 12/6). */
  readonly certificateLimits?: Partial<Record<SubjectIdentifier["type"], CertificateLimits>>;
  /** `published` (default), `off`, or `{scale}` to multiply every published threshold. */
  readonly rateLimits?: RateLimitMode;
  /** Faults active from the start (see {@link Faults}). */
  readonly faults?: Faults;
  /** Seed of the fault generator, for reproducible fault sequences; default random. */
  readonly seed?: number;
  /** Validate every response against the OpenAPI document and record violations; default true. */
  readonly validateResponses?: boolean;
  /** Path of `open-api.json`; default the repository's `spec/open-api.json`. */
  readonly specPath?: string;
  /** The clock; default `() => new Date()`. Tests move it to expire challenges and tokens. */
  readonly now?: () => Date;
  /** XAdES verifier; default `verifySignedAuthTokenRequest` from `@ksef-certs/ksef/xades`. */
  readonly verifier?: AuthTokenRequestVerifier;
  /**
   * Where unexpected errors are logged (a failed request, a failed enrollment); default one JSON line per
   * entry on stderr. Pass the host application's logger to keep its redaction and destination.
   */
  readonly logger?: Logger;
}

/** Which bearer token an operation takes. */
export type TokenKind = "operation" | "access" | "refresh" | "accessOrRefresh";

/** What a handler receives. */
export interface RouteContext {
  readonly c: Context;
  readonly now: Date;
  readonly clientIp: string;
  /** Request path as sent, for Problem Details `instance`. */
  readonly instance: string;
  /** Parsed JSON body (undefined without one), or the raw bytes for XML operations. */
  readonly body: unknown;
  readonly rawBody: Uint8Array | undefined;
  /** The authentication operation the bearer token belongs to, and the token's claims. */
  readonly auth: { readonly operation: AuthOperation; readonly claims: TokenClaims } | undefined;
}

/** Route registration options. */
export interface RouteOptions {
  /** Bearer token required, and which kind. */
  readonly token?: TokenKind;
  /** `json` (default for POST/PUT), `xml`, or `none`. */
  readonly body?: "json" | "xml" | "none";
  /** Skip the rate limiter and OpenAPI checks (simulator control endpoints outside the KSeF API). */
  readonly control?: boolean;
}

/** The handler of one operation. */
export type RouteHandler = (ctx: RouteContext) => Promise<Reply> | Reply;

const TOKEN_TYPES: Readonly<Record<TokenKind, readonly TokenClaims["token-type"][]>> = {
  operation: ["OperationToken"],
  access: ["ContextToken"],
  refresh: ["RefreshToken"],
  accessOrRefresh: ["ContextToken", "RefreshToken"],
};

let stderrLogger: Logger | undefined;

/** The default logger, made on first use: synchronous JSON lines on stderr, so nothing is lost when the process stops. */
function defaultLogger(): Logger {
  stderrLogger ??= pino({ name: "ksef-simulator" }, pino.destination({ dest: 2, sync: true }));
  return stderrLogger;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The client address, without the IPv4-mapped IPv6 prefix node reports for IPv4 clients on dual-stack sockets. */
function clientIpOf(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const remote = env?.incoming?.socket?.remoteAddress;
  // In-process requests (app.request) have no socket: X-Forwarded-For then stands in for the address, so tests can act as several clients.
  const address = remote ?? c.req.header("x-forwarded-for")?.split(",")[0]?.trim() ?? "127.0.0.1";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/**
 * One simulator instance: state, CA, clock, secrets and the Hono app serving `/v2/...`.
 * Created by {@link createSimulatorApp}; routes call its helpers.
 */
export class Simulator {
  /** The Hono app (mount it, or call `app.request()` in tests). */
  readonly app: Hono;
  readonly state = new SimulatorState();
  readonly validator: OpenApiValidator;
  readonly options: SimulatorOptions;
  readonly lifetimes: TokenLifetimes;
  readonly random: Random;
  private readonly secret = randomBytes(32);
  private readonly limiter: SlidingWindowLimiter;
  private caPromise: Promise<TestCertificateAuthority> | undefined;
  /** The ministry-like public-key certificates with their private keys (RSA-2048, made on first use); set by the misc routes. */
  publicKeyCertificates: () => Promise<PublicKeyCertificateEntry[]> = () => Promise.resolve([]);

  /**
   * @param options see {@link SimulatorOptions}
   * @param register the route modules to install
   * @throws {KsefCertsError} when the OpenAPI document cannot be loaded (see `loadOpenApiDocument`)
   */
  constructor(options: SimulatorOptions, register: readonly ((sim: Simulator) => void)[]) {
    this.options = options;
    this.validator = openApiValidator(options.specPath);
    this.lifetimes = {
      authenticationTokenMs: options.tokenLifetimes?.authenticationTokenMs ?? 45 * 60_000,
      accessTokenMs: options.tokenLifetimes?.accessTokenMs ?? 15 * 60_000,
      refreshTokenMs: options.tokenLifetimes?.refreshTokenMs ?? 7 * 86_400_000,
    };
    this.random = seededRandom(options.seed);
    this.limiter = new SlidingWindowLimiter(options.rateLimits ?? "published");
    this.state.faults = { ...(options.faults ?? {}) };
    if (options.ca !== undefined) this.caPromise = Promise.resolve(options.ca);
    this.app = new Hono();
    this.app.use("*", async (c, next) => {
      await next();
      // TEST echoes X-Test-System-Warning as X-System-Warning (SPEC `SystemWarning`), ASCII-folded.
      const warning = c.req.header("x-test-system-warning");
      if (warning !== undefined) c.res.headers.set("X-System-Warning", warning.normalize("NFKD").replace(/[^\x20-\x7e]/g, ""));
    });
    for (const r of register) r(this);
    // Whatever escapes a handler (the fault-control endpoints, middleware) still gets a JSON answer, never Hono's plain-text 500.
    this.app.onError((err, c) => this.toResponse(this.unexpectedError(err, c.req.method, c.req.path, this.now())));
    this.app.notFound((c) => c.json({ title: "Not Found", status: 404, detail: `No KSeF operation at ${c.req.method} ${c.req.path}.` }, 404));
  }

  /** The logger of unexpected errors (see {@link SimulatorOptions.logger}). */
  get logger(): Logger {
    return this.options.logger ?? defaultLogger();
  }

  /**
   * Answers an error no handler expected: logged with the trace id, answered 500 as Problem Details
   * (the SPEC documents no 500 body; this is the shape of KSeF's other Problem Details answers).
   * @param err what was thrown
   * @param method the request's HTTP method
   * @param instance the request path
   * @param now the current time
   */
  unexpectedError(err: unknown, method: string, instance: string, now: Date): Reply {
    const reply = renderError(
      new KsefErrorReply(500, undefined, ["Wystąpił nieoczekiwany błąd symulatora. Spróbuj ponownie."]),
      true,
      instance,
      `${method} ${instance}`,
      now,
    );
    const traceId = (reply.body as { traceId?: string } | undefined)?.traceId;
    this.logger.error({ err, method, path: instance, traceId }, "request failed");
    return reply;
  }

  /** Current time per the configured clock. */
  now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** The CA issuing certificates (created on first use unless given in the options), valid from a day before {@link now}. */
  certificateAuthority(): Promise<TestCertificateAuthority> {
    this.caPromise ??= createTestCertificateAuthority({ validFrom: new Date(this.now().getTime() - 86_400_000) });
    return this.caPromise;
  }

  /**
   * Replaces the active faults.
   * @param faults the new settings (counters restart from the given values)
   */
  setFaults(faults: Faults): void {
    this.state.faults = { ...faults };
  }

  /** Effective certificate limits of a subject: option or published defaults, then its test-data override. */
  limitsOf(identity: SubjectIdentifier): CertificateLimits {
    const base = this.options.certificateLimits?.[identity.type] ?? PUBLISHED_CERTIFICATE_LIMITS[identity.type];
    const override = this.state.limitOverrides.get(identityKey(identity));
    return { maxEnrollments: override?.maxEnrollments ?? base.maxEnrollments, maxCertificates: override?.maxCertificates ?? base.maxCertificates };
  }

  /**
   * Issues a JWT for an authentication operation.
   * @param kind the token type
   * @param operation the operation it belongs to
   * @param lifetimeMs validity from now
   * @returns the token, its `jti` and its end of validity
   */
  issueToken(kind: TokenClaims["token-type"], operation: AuthOperation, lifetimeMs: number): { token: string; jti: string; validUntil: Date } {
    const now = this.now();
    const validUntil = new Date(now.getTime() + lifetimeMs);
    const jti = randomBytes(12).toString("hex");
    const claims: TokenClaims = {
      "token-type": kind,
      "operation-reference-number": operation.referenceNumber,
      ...(kind === "OperationToken"
        ? {}
        : {
            "context-identifier-type": operation.contextIdentifier.type,
            "context-identifier-value": operation.contextIdentifier.value,
            "authentication-method": operation.method.method,
            "subject-details": JSON.stringify({ SubjectIdentifier: { Type: operation.identity.type, Value: operation.identity.value } }),
          }),
      jti,
      iat: Math.floor(now.getTime() / 1000),
      exp: Math.floor(validUntil.getTime() / 1000),
      iss: "ksef-simulator",
      aud: "ksef-simulator",
    };
    return { token: signJwt(claims, this.secret), jti, validUntil };
  }

  private authenticate(c: Context, kind: TokenKind, now: Date): { operation: AuthOperation; claims: TokenClaims } {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match?.[1] === undefined) throw new KsefErrorReply(401, undefined, [], { detail: "Wymagane jest uwierzytelnienie (nagłówek Authorization: Bearer)." });
    const verified = verifyJwt(match[1], this.secret, now);
    if (!verified.ok) {
      const detail = verified.reason === "expired" ? "Token wygasł." : "Nieprawidłowy token.";
      throw new KsefErrorReply(401, undefined, [], { detail });
    }
    const claims = verified.claims;
    if (!TOKEN_TYPES[kind].includes(claims["token-type"])) {
      throw new KsefErrorReply(401, undefined, [], { detail: `Ta operacja wymaga innego rodzaju tokena (${TOKEN_TYPES[kind].join(" lub ")}).` });
    }
    const operation = this.state.authOperations.get(claims["operation-reference-number"]);
    if (operation === undefined) throw new KsefErrorReply(401, undefined, [], { detail: "Nieprawidłowy token." });
    return { operation, claims };
  }

  /** Bearer claims without failing, so the rate limiter can count per subject. */
  private peekSubject(c: Context, now: Date): string | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (m?.[1] === undefined) return undefined;
    const v = verifyJwt(m[1], this.secret, now);
    if (!v.ok) return undefined;
    const op = this.state.authOperations.get(v.claims["operation-reference-number"]);
    return op === undefined ? undefined : identityKey(op.identity);
  }

  private async readBody(c: Context, kind: "json" | "xml" | "none"): Promise<{ body: unknown; raw: Uint8Array | undefined }> {
    if (kind === "none") return { body: undefined, raw: undefined };
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_BODY_BYTES) throw badRequest(21405, `Treść żądania przekracza ${String(MAX_BODY_BYTES)} bajtów.`);
    const raw = new Uint8Array(await c.req.raw.arrayBuffer());
    if (raw.byteLength > MAX_BODY_BYTES) throw badRequest(21405, `Treść żądania przekracza ${String(MAX_BODY_BYTES)} bajtów.`);
    if (kind === "xml") return { body: undefined, raw };
    if (raw.byteLength === 0) return { body: undefined, raw };
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json" && type !== "text/json" && !(type?.endsWith("+json") ?? false)) {
      throw badRequest(21405, `Nieobsługiwany typ treści "${type ?? ""}"; oczekiwano application/json.`);
    }
    try {
      return { body: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw)) as unknown, raw };
    } catch {
      throw badRequest(21405, "Treść żądania nie jest poprawnym dokumentem JSON (UTF-8).");
    }
  }

  private recordResponse(operation: string, method: string, template: string, reply: Reply): void {
    if (this.options.validateResponses === false) return;
    const violations: OpenApiViolation[] = this.validator.validateResponse(method, template, reply.status, reply.contentType, reply.body);
    if (violations.length > 0) this.state.openApiViolations.response.push({ operation, status: reply.status, violations });
  }

  private toResponse(reply: Reply): Response {
    const headers = new Headers(reply.headers ?? {});
    if (reply.body === undefined) return new Response(null, { status: reply.status, headers });
    headers.set("Content-Type", `${reply.contentType ?? "application/json"}; charset=utf-8`);
    return new Response(JSON.stringify(reply.body), { status: reply.status, headers });
  }

  /**
   * Registers one KSeF operation under `/v2`, with the shared pipeline (see the module comment).
   * @param method HTTP method
   * @param template path as in the SPEC (`/auth/{referenceNumber}`)
   * @param options token kind, body kind
   * @param handler the operation
   */
  route(method: "GET" | "POST" | "PUT" | "DELETE", template: string, options: RouteOptions, handler: RouteHandler): void {
    const honoPath = API_PREFIX + template.replace(/\{(\w+)\}/g, ":$1");
    const operation = `${method} ${template}`;
    const thresholds = options.control === true ? undefined : this.validator.operation(method, template)?.["x-rate-limits"];
    const bodyKind = options.body ?? (method === "POST" || method === "PUT" ? "json" : "none");
    this.app.on(method, honoPath, async (c) => {
      const now = this.now();
      const counters = this.state.counters;
      counters.requests[operation] = (counters.requests[operation] ?? 0) + 1;
      const problem = (c.req.header("x-error-format") ?? "").toLowerCase() === "problem-details";
      const instance = c.req.path;
      const clientIp = clientIpOf(c);
      let injected = false;
      let reply: Reply;
      try {
        const faults = this.state.faults;
        if (options.control !== true) {
          if ((faults.latencyMs ?? 0) > 0) await sleep(faults.latencyMs ?? 0);
          const storm = faults.rateLimitStorm;
          if (storm !== undefined && storm.requests > 0) {
            this.state.faults = { ...faults, rateLimitStorm: { ...storm, requests: storm.requests - 1 } };
            injected = true;
            counters.faultsInjected++;
            throw new KsefErrorReply(429, undefined, [], { retryAfterSeconds: storm.retryAfterSeconds });
          }
          const subject = this.peekSubject(c, now);
          const limited = this.limiter.take(`${operation}|${clientIp}|${subject ?? "-"}`, thresholds, now.getTime());
          if (limited !== undefined) {
            counters.rateLimited++;
            throw new KsefErrorReply(429, undefined, [limited.detail], { retryAfterSeconds: limited.retryAfterSeconds });
          }
          if ((faults.errorRate ?? 0) > 0 && this.random() < (faults.errorRate ?? 0)) {
            injected = true;
            counters.faultsInjected++;
            throw new KsefErrorReply(500, undefined, ["Wstrzyknięty błąd symulatora (errorRate)."]);
          }
        }
        const auth = options.token === undefined ? undefined : this.authenticate(c, options.token, now);
        const { body, raw } = await this.readBody(c, bodyKind);
        if (bodyKind === "json" && options.control !== true) {
          const violations = this.validator.validateRequest(method, template, { body });
          if (violations.length > 0) {
            this.state.openApiViolations.request.push({ operation, violations });
            throw badRequest(21405, ...violations.map((v) => `${v.path === "" ? "(treść)" : v.path}: ${v.message}`));
          }
        }
        reply = await handler({ c, now, clientIp, instance, body, rawBody: raw, auth });
        const afterRate = faults.errorAfterProcessingRate ?? 0;
        if (options.control !== true && method !== "GET" && reply.status < 300 && afterRate > 0 && this.random() < afterRate) {
          injected = true;
          counters.faultsInjected++;
          throw new KsefErrorReply(500, undefined, ["Wstrzyknięty błąd symulatora po przetworzeniu żądania (errorAfterProcessingRate)."]);
        }
      } catch (err) {
        reply = err instanceof KsefErrorReply ? renderError(err, problem, instance, operation, now) : this.unexpectedError(err, method, instance, now);
      }
      // Injected 5xx are outside the contract on purpose; everything else must conform.
      if (options.control !== true && !(injected && reply.status === 500)) this.recordResponse(operation, method, template, reply);
      return this.toResponse(reply);
    });
  }
}

/** The in-process simulator: the Hono app plus the handles tests use. */
export interface SimulatorApp {
  /** The Hono app serving `/v2/...` (and `/__simulator/faults`). */
  readonly app: Hono;
  /** Same as `app.request` (in-process requests, no socket). */
  readonly request: Hono["request"];
  /** Same as `app.fetch` (a WinterCG fetch handler). */
  readonly fetch: Hono["fetch"];
  /** State and counters (see {@link SimulatorState}). */
  readonly state: SimulatorState;
  /** Replaces the active faults. */
  setFaults(faults: Faults): void;
  /** The CA issuing certificates. */
  certificateAuthority(): Promise<TestCertificateAuthority>;
  /** The simulator object itself (clock, validator, token issuing), for advanced tests. */
  readonly simulator: Simulator;
}
