/**
 * The signer agent's HTTP API, a Hono sub-app the admin server mounts at `AGENT_API_PREFIX` (`/agent/v1`). The
 * contract lives in `@ksef-certs/ksef/agent-protocol`: every body and query is parsed with its schemas and every
 * answer is typed with them (its client, the signer agent, parses the answers with the same schemas). Thin: bodies
 * are size-limited and validated here, the use cases are core `./agent`, and core errors become HTTP answers in
 * one place ({@link agentErrorResponse}).
 *
 * - `POST /pair` `{ code, label }` → `{ token, workstation, server: { version } }` (429 after 5 wrong codes per client per 10 min)
 * - `GET /workstation` → the workstation
 * - `GET /requests?waitMs=&after=` → `{ requests: [...], cursor }`: long poll; answers at once when anything is new
 *   since `after` (without `after`: when anything is pending), else on the first change or after `waitMs` (≤ 30 000)
 * - `POST /requests/:id/signed` (octet-stream, `X-Content-SHA256`) → `{ status: "signed" | "duplicate", signer? }`
 * - `POST /requests/:id/failed` `{ reason }` → `{ status }`
 *
 * Every route but `/pair` needs `Authorization: Bearer <token>` (401 with `WWW-Authenticate: Bearer` otherwise).
 */
import { createRequire } from "node:module";
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { z } from "zod";
import {
  CONTENT_SHA256_HEADER,
  MAX_JSON_BYTES,
  MAX_WAIT_MS,
  SIGNED_UPLOAD_CONTENT_TYPE,
  contentSha256Schema,
  failedReportSchema,
  pairRequestSchema,
  requestsQuerySchema,
  type AgentErrorBody,
  type FailedAnswer,
  type PairAnswer,
  type RequestsAnswer,
  type SignedUploadAnswer,
  type SigningRequestInput,
  type Workstation,
} from "@ksef-certs/ksef/agent-protocol";
import {
  acceptSignedFile,
  authenticateWorkstation,
  markSigningRequestFailed,
  pairWorkstation,
  waitForSigningRequests,
  type AgentWorkstation,
  type DeliveredSigningRequest,
  type SigningRequestNotifier,
} from "@ksef-certs/domain/agent";
import { KsefCertsError, type ErrorCode } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { MAX_HANDOFF_FILE_BYTES } from "@ksef-certs/ksef/handoff";
import type { Db } from "@ksef-certs/domain/store";
import { createPairingThrottle, type PairingThrottleOptions } from "./throttle.js";

export { type PairingThrottleOptions } from "./throttle.js";

/** The logging the API does (pino's methods fit). Never given tokens, codes or file bytes. */
export interface AgentApiLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What {@link createAgentApi} needs. */
export interface AgentApiDeps {
  readonly db: Db;
  /** Shared with `createAgentHandoff` of the same process (wakes long polls and waiting enrollments). */
  readonly notifier: SigningRequestNotifier;
  /** The clock; default `new Date()`. */
  readonly now?: () => Date;
  readonly logger?: AgentApiLogger;
  /** `server.version` in the pairing answer; default the admin package's version. */
  readonly version?: string;
  /** The throttling key of a request; default the peer address (`@hono/node-server`), else `local`. */
  readonly clientKey?: (c: Context) => string;
  /** Pairing throttle limits (default 5 wrong codes per 10 minutes). */
  readonly pairingThrottle?: PairingThrottleOptions;
}

/** Variables the bearer middleware sets for the routes behind it. */
export type AgentApiEnv = { Variables: { workstation: AgentWorkstation; tokenId: string } };

const HTTP_STATUS: Record<ErrorCode, 400 | 401 | 403 | 404 | 409 | 410 | 413 | 429 | 500 | 503> = {
  VALIDATION: 400,
  MALFORMED: 400,
  TOO_LARGE: 413,
  PASSWORD_REQUIRED: 400,
  WRONG_PASSWORD: 400,
  UNSUPPORTED: 400,
  KEY_MISMATCH: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FORBIDDEN: 403,
  IO: 500,
  INTERNAL: 500,
};

/**
 * The HTTP status of a core error (agent contract): the table above; a retryable IO error 503; CONFLICT with
 * `details.reason = "challenge-expired"` 410; FORBIDDEN `unauthenticated` 401; FORBIDDEN `throttled` 429.
 * @param err the core error
 */
export function agentHttpStatus(err: KsefCertsError): 400 | 401 | 403 | 404 | 409 | 410 | 413 | 429 | 500 | 503 {
  if (err.code === "CONFLICT" && err.details["reason"] === "challenge-expired") return 410;
  if (err.code === "FORBIDDEN" && err.details["reason"] === "unauthenticated") return 401;
  if (err.code === "FORBIDDEN" && err.details["reason"] === "throttled") return 429;
  if (err.code === "IO" && err.retryable) return 503;
  return HTTP_STATUS[err.code];
}

/**
 * The one mapping of errors to answers: `{ error: { code, message, hint?, violations? } }` (plus `replacedBy`
 * on a 410), `WWW-Authenticate: Bearer` on 401, `Retry-After` on 429. Anything not a core error is a 500
 * without internals, logged with its cause.
 * @param c the Hono context
 * @param err what was thrown
 * @param logger where unexpected errors go
 */
export function agentErrorResponse(c: Context, err: unknown, logger?: AgentApiLogger): Response {
  const core = err instanceof KsefCertsError ? err : new KsefCertsError("INTERNAL", msg("server.agent.internal"), { cause: err });
  const status = agentHttpStatus(core);
  if (status === 500) logger?.error({ err: core.cause ?? core, path: c.req.path }, "agent API error");
  if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="ksef-certs agent"');
  const retryAfter = core.details["retryAfterSeconds"];
  if (status === 429 && typeof retryAfter === "number") c.header("Retry-After", String(retryAfter));
  const replacedBy = core.details["replacedBy"];
  const body: AgentErrorBody = {
    error: {
      code: core.code,
      message: core.message,
      ...(core.hint === undefined ? {} : { hint: core.hint }),
      ...(core.violations.length === 0 ? {} : { violations: [...core.violations] }),
      ...(typeof core.details["reason"] === "string" ? { reason: core.details["reason"] } : {}),
    },
    ...(status === 410 && typeof replacedBy === "string" ? { replacedBy } : {}),
  };
  return c.json(body, status);
}

function tooLarge(limitBytes: number): KsefCertsError {
  return new KsefCertsError("TOO_LARGE", msg("server.agent.bodyTooLarge", { limitBytes }), { details: { limitBytes } });
}

/** Parses a JSON body with a zod schema; bad JSON or a schema miss is VALIDATION with one violation per issue. */
async function jsonBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new KsefCertsError("MALFORMED", msg("server.agent.notJson"), { hint: msg("server.agent.notJson.hint") });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const violations = parsed.error.issues.map((i) => {
      const field = i.path.join(".") || "body";
      return { field, rule: `${field}.${i.code}`, message: i.message };
    });
    throw new KsefCertsError("VALIDATION", msg("server.agent.invalidBody", { problems: violations.map((v) => `${v.field}: ${v.message}`).join("; ") }), {
      violations,
    });
  }
  return parsed.data;
}

/** The wire form of a request (the contract's `signingRequestSchema`). */
function wireRequest(r: DeliveredSigningRequest): SigningRequestInput {
  return {
    id: r.id,
    enrollmentId: r.enrollmentId,
    challenge: r.challenge,
    contextIdentifier: { type: r.contextIdentifier.type, value: r.contextIdentifier.value },
    fileName: r.fileName,
    xmlBase64: Buffer.from(r.xml).toString("base64"),
    expiresAt: r.expiresAt.toISOString(),
    status: r.status,
    ...(r.replacedBy === undefined ? {} : { replacedBy: r.replacedBy }),
    ...(r.failureReason === null ? {} : { failureReason: r.failureReason }),
  };
}

function defaultVersion(): string {
  try {
    // src/server/agent and dist/server/agent are both three levels below the package root.
    return (createRequire(import.meta.url)("../../../package.json") as { version: string }).version;
  } catch {
    return "unknown";
  }
}

function defaultClientKey(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "local";
  } catch {
    return "local"; // not served by @hono/node-server (app.request in tests)
  }
}

/**
 * Creates the agent API sub-app (mount it at `AGENT_API_PREFIX`, `/agent/v1`).
 * @param deps database, notifier, clock, logger, version, client key, throttle limits
 * @returns the Hono app; every answer is JSON, errors as {@link agentErrorResponse} writes them
 */
export function createAgentApi(deps: AgentApiDeps): Hono<AgentApiEnv> {
  const { db, notifier, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const version = deps.version ?? defaultVersion();
  const clientKey = deps.clientKey ?? defaultClientKey;
  const throttle = createPairingThrottle(deps.pairingThrottle);
  const jsonLimit = bodyLimit({
    maxSize: MAX_JSON_BYTES,
    onError: () => {
      throw tooLarge(MAX_JSON_BYTES);
    },
  });
  const app = new Hono<AgentApiEnv>();

  app.onError((err, c) => agentErrorResponse(c, err, logger));
  app.notFound((c) => agentErrorResponse(c, new KsefCertsError("NOT_FOUND", msg("server.agent.noRoute", { method: c.req.method, path: c.req.path }))));

  app.post("/pair", jsonLimit, async (c) => {
    const key = clientKey(c);
    const retryAfterSeconds = throttle.retryAfterSeconds(key, now().getTime());
    if (retryAfterSeconds !== undefined) {
      logger?.warn({ client: key }, "pairing throttled");
      throw new KsefCertsError("FORBIDDEN", msg("server.agent.pairThrottled"), {
        hint: msg("server.agent.pairThrottled.hint", { seconds: retryAfterSeconds }),
        details: { reason: "throttled", retryAfterSeconds },
      });
    }
    const body = await jsonBody(c, pairRequestSchema);
    try {
      const paired = await pairWorkstation(db, { code: body.code, label: body.label, now: now() });
      logger?.info({ workstationId: paired.workstation.id, tokenId: paired.tokenId }, "workstation paired");
      const answer: PairAnswer = { token: paired.token, workstation: paired.workstation, server: { version } };
      return c.json(answer);
    } catch (err) {
      if (err instanceof KsefCertsError && err.code === "NOT_FOUND") throttle.fail(key, now().getTime());
      throw err;
    }
  });

  app.use("*", async (c, next) => {
    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const { tokenId, workstation } = await authenticateWorkstation(db, match?.[1] ?? "", { now: now() });
    c.set("workstation", workstation);
    c.set("tokenId", tokenId);
    await next();
  });

  app.get("/workstation", (c) => {
    const answer: Workstation = c.var.workstation;
    return c.json(answer);
  });

  app.get("/requests", async (c) => {
    // Only waitMs can be wrong (after is any string; the core refuses a foreign cursor).
    const query = requestsQuerySchema.safeParse({ waitMs: c.req.query("waitMs"), after: c.req.query("after") });
    if (!query.success) {
      throw new KsefCertsError("VALIDATION", msg("server.agent.waitMs", { max: MAX_WAIT_MS }), {
        violations: [{ field: "waitMs", rule: "agent.waitMs.range", message: `Between 0 and ${MAX_WAIT_MS} ms.`, params: { min: 0, max: MAX_WAIT_MS } }],
      });
    }
    const { waitMs, after } = query.data;
    const result = await waitForSigningRequests(db, c.var.workstation.id, {
      waitMs,
      notifier,
      now,
      signal: c.req.raw.signal,
      ...(after === undefined || after === "" ? {} : { after }),
    });
    const answer: RequestsAnswer = { requests: result.requests.map(wireRequest), cursor: result.cursor };
    return c.json(answer);
  });

  app.post(
    "/requests/:id/signed",
    bodyLimit({
      maxSize: MAX_HANDOFF_FILE_BYTES,
      onError: () => {
        throw tooLarge(MAX_HANDOFF_FILE_BYTES);
      },
    }),
    async (c) => {
      const type = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
      if (type !== SIGNED_UPLOAD_CONTENT_TYPE) {
        throw new KsefCertsError("VALIDATION", msg("server.agent.uploadContentType"), {
          violations: [{ field: "Content-Type", rule: "agent.upload.contentType", message: "Must be application/octet-stream." }],
        });
      }
      const sha256 = c.req.header(CONTENT_SHA256_HEADER)?.trim() ?? "";
      if (!contentSha256Schema.safeParse(sha256).success) {
        throw new KsefCertsError("VALIDATION", msg("server.agent.uploadSha256"), {
          violations: [{ field: CONTENT_SHA256_HEADER, rule: "agent.upload.sha256", message: "64 hexadecimal digits." }],
        });
      }
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      const workstation = c.var.workstation;
      const accepted = await acceptSignedFile(db, {
        workstationId: workstation.id,
        requestId: c.req.param("id"),
        bytes,
        sha256,
        now: now(),
        actor: `agent:${workstation.name}`,
        notifier,
      });
      logger?.info({ workstationId: workstation.id, requestId: accepted.request.id, status: accepted.status }, "signed file received");
      const answer: SignedUploadAnswer = { status: accepted.status, ...(accepted.signer === undefined ? {} : { signer: { ...accepted.signer } }) }; // a copy: the contract reads the summary as a plain record
      return c.json(answer);
    },
  );

  app.post("/requests/:id/failed", jsonLimit, async (c) => {
    const body = await jsonBody(c, failedReportSchema);
    const workstation = c.var.workstation;
    const failed = await markSigningRequestFailed(db, {
      workstationId: workstation.id,
      requestId: c.req.param("id"),
      reason: body.reason,
      now: now(),
      actor: `agent:${workstation.name}`,
      notifier,
    });
    const answer: FailedAnswer = { status: failed.status };
    return c.json(answer);
  });

  return app;
}
