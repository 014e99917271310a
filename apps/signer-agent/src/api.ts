/**
 * The agent's side of the HTTP contract with the admin server: pairing, the workstation, the long poll of signing
 * requests, uploading a signed file unchanged and reporting a local failure. The contract lives in
 * `@ksef-certs/ksef/agent-protocol` (the admin server validates and types with the same schemas): what is sent is
 * typed with it and every answer is parsed with its schemas before use; error answers become `KsefCertsError`s
 * with the HTTP status in `details.status`.
 */
import { createHash } from "node:crypto";
import type { z } from "zod";
import {
  AGENT_API_PREFIX,
  CONTENT_SHA256_HEADER,
  MAX_FAILURE_REASON_LENGTH,
  MAX_WAIT_MS,
  SIGNED_UPLOAD_CONTENT_TYPE,
  agentErrorBodySchema,
  failedAnswerSchema,
  pairAnswerSchema,
  requestsAnswerSchema,
  signedUploadAnswerSchema,
  workstationSchema,
  type FailedReport,
  type PairRequest,
  type RequestsQueryInput,
  type SigningRequest,
  type Workstation,
} from "@ksef-certs/ksef/agent-protocol";
import { KsefCertsError, violation, type ErrorCode } from "@ksef-certs/ksef/errors";
import { isMessageId, msg, translate, type MessageParams, type MessageRef } from "@ksef-certs/ksef/messages";

export type { SigningRequest };

/** Largest JSON answer read, bytes (a page of requests with their auth.xml is a few KiB each). */
const MAX_RESPONSE_BYTES = 4 * 1_048_576;

/** The answer to pairing. */
export interface PairResult {
  /** The workstation token (bearer); store it 0600 and never log it. */
  readonly token: string;
  /** The workstation this agent now stands for. */
  readonly workstation: Workstation;
  /** The server's version, when it says. */
  readonly serverVersion?: string;
}

/** The answer to an upload: `signed` (accepted now) or `duplicate` (these bytes were accepted before; no second submission). */
export interface UploadResult {
  readonly status: "signed" | "duplicate";
  readonly signer?: Readonly<Record<string, unknown>>;
}

const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: "VALIDATION",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  410: "CONFLICT",
  413: "TOO_LARGE",
  429: "IO",
  503: "IO",
};

/**
 * Whether an error means the workstation token is no longer accepted (HTTP 401): the agent must stop and be paired again.
 * @param error anything thrown by {@link AgentApiClient}
 */
export function isTokenRevoked(error: unknown): boolean {
  return error instanceof KsefCertsError && error.details["reason"] === "token-revoked";
}

/**
 * Whether an error is the server's "challenge expired" (HTTP 410), with the renewed request's id when it has one.
 * @param error anything thrown by {@link AgentApiClient.uploadSigned}
 * @returns `{ replacedBy }` for a 410, else `undefined`
 */
export function expiredChallengeOf(error: unknown): { replacedBy?: string } | undefined {
  if (!(error instanceof KsefCertsError) || error.details["status"] !== 410) return undefined;
  const replacedBy = error.details["replacedBy"];
  return typeof replacedBy === "string" ? { replacedBy } : {};
}

/** A client of the admin server's agent API (one per server URL and token). */
export class AgentApiClient {
  private readonly base: string;

  /**
   * @param server the admin server's base URL (e.g. `http://127.0.0.1:8080`); `/agent/v1` is appended
   * @param token the workstation token; absent only for {@link pair}
   * @param fetchImpl the fetch to use (tests); default the global one
   * @throws {KsefCertsError} VALIDATION for a URL that is not http(s)
   */
  constructor(
    server: string,
    private readonly token?: string,
    private readonly fetchImpl: typeof fetch = globalThis.fetch,
  ) {
    this.base = normalizeServerUrl(server) + AGENT_API_PREFIX;
  }

  /**
   * Exchanges a one-time pairing code for a workstation token (`POST /pair`).
   * @param code the code shown in the admin app (`XXXX-XXXX`; dash and case do not matter)
   * @param label what this agent says about itself (host name, agent version); display only
   * @throws {KsefCertsError} NOT_FOUND for a wrong, expired or used code; IO (retryable) for 429 and network failures
   */
  async pair(code: string, label: string, signal?: AbortSignal): Promise<PairResult> {
    const request: PairRequest = { code, label };
    const body = await this.call("POST", "/pair", { json: request, auth: false, ...(signal === undefined ? {} : { signal }) });
    const parsed = parse(pairAnswerSchema, body, "pairing");
    return { token: parsed.token, workstation: parsed.workstation, ...(parsed.server.version === undefined ? {} : { serverVersion: parsed.server.version }) };
  }

  /**
   * The workstation this token stands for (`GET /workstation`).
   * @throws {KsefCertsError} FORBIDDEN with `details.reason = "token-revoked"` for 401; IO for network failures
   */
  async workstation(signal?: AbortSignal): Promise<Workstation> {
    return parse(workstationSchema, await this.call("GET", "/workstation", signal === undefined ? {} : { signal }), "workstation");
  }

  /**
   * The pending requests and the ones changed since `cursor` (`GET /requests`, a long poll of up to `waitMs`).
   * @param waitMs how long the server may hold the answer, ms (capped at {@link MAX_WAIT_MS})
   * @param cursor the cursor of the previous answer
   * @param signal cancels the poll
   */
  async requests(waitMs: number, cursor: string | undefined, signal?: AbortSignal): Promise<{ requests: SigningRequest[]; cursor?: string }> {
    const query: RequestsQueryInput = {
      waitMs: String(Math.max(0, Math.min(MAX_WAIT_MS, Math.round(waitMs)))),
      ...(cursor === undefined ? {} : { after: cursor }),
    };
    const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    const body = parse(requestsAnswerSchema, await this.call("GET", `/requests?${q.toString()}`, signal === undefined ? {} : { signal }), "requests");
    return { requests: body.requests, ...(body.cursor === undefined || body.cursor === null ? {} : { cursor: body.cursor }) };
  }

  /**
   * Uploads the signed file's bytes exactly as read (`POST /requests/:id/signed`, `X-Content-SHA256`).
   * @param requestId the signing request
   * @param bytes the signed file, unchanged
   * @throws {KsefCertsError} CONFLICT with `details.status = 410` (and `details.replacedBy`) when the challenge expired,
   *   CONFLICT 409 when other bytes were accepted already, NOT_FOUND, VALIDATION (the server's verifier refused), IO
   */
  async uploadSigned(requestId: string, bytes: Uint8Array, signal?: AbortSignal): Promise<UploadResult> {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const body = await this.call("POST", `/requests/${encodeURIComponent(requestId)}/signed`, {
      bytes,
      headers: { "content-type": SIGNED_UPLOAD_CONTENT_TYPE, [CONTENT_SHA256_HEADER]: sha256 },
      ...(signal === undefined ? {} : { signal }),
    });
    const parsed = parse(signedUploadAnswerSchema, body, "upload");
    return { status: parsed.status, ...(parsed.signer === undefined ? {} : { signer: parsed.signer }) };
  }

  /**
   * Tells the server a request failed on this workstation (`POST /requests/:id/failed`).
   * @param requestId the signing request
   * @param reason a sentence for the admin (no secrets); cut to `MAX_FAILURE_REASON_LENGTH` (1000) characters
   */
  async reportFailed(requestId: string, reason: string, signal?: AbortSignal): Promise<void> {
    const report: FailedReport = { reason: reason.slice(0, MAX_FAILURE_REASON_LENGTH) };
    const body = await this.call("POST", `/requests/${encodeURIComponent(requestId)}/failed`, {
      json: report,
      ...(signal === undefined ? {} : { signal }),
    });
    parse(failedAnswerSchema, body, "failed");
  }

  private async call(
    method: string,
    path: string,
    opts: { json?: unknown; bytes?: Uint8Array; headers?: Record<string, string>; auth?: boolean; signal?: AbortSignal },
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
    if (opts.auth !== false) {
      if (this.token === undefined) throw new KsefCertsError("INTERNAL", msg("agent.api.noToken"));
      headers["authorization"] = `Bearer ${this.token}`;
    }
    let body: Uint8Array<ArrayBuffer> | string | undefined;
    if (opts.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.bytes !== undefined) {
      body = new Uint8Array(opts.bytes);
    }
    // One controller per call, linked to the caller's signal and unlinked afterwards: fetch would otherwise leave a
    // listener on a long-lived signal for every request (thousands over a day of long polls).
    const controller = new AbortController();
    const onAbort = (): void => {
      controller.abort();
    };
    if (opts.signal?.aborted === true) controller.abort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    let response: Response;
    try {
      response = await this.fetchImpl(this.base + path, { method, headers, ...(body === undefined ? {} : { body }), signal: controller.signal });
    } catch (cause) {
      opts.signal?.removeEventListener("abort", onAbort);
      if (opts.signal?.aborted === true) throw new KsefCertsError("IO", msg("agent.api.cancelled"), { details: { reason: "aborted" }, cause });
      throw new KsefCertsError("IO", msg("agent.api.unreachable", { server: this.base }), {
        retryable: true,
        hint: msg("agent.api.unreachable.hint"),
        cause,
      });
    }
    let text: string;
    try {
      text = await readLimited(response);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
    let json: unknown = undefined;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      /* a proxy's HTML error page: handled by the status below */
    }
    if (response.ok) return json;
    throw errorFromResponse(response.status, json);
  }
}

/**
 * The server URL without a trailing slash; http(s) only.
 * @param server as given by the user
 * @throws {KsefCertsError} VALIDATION otherwise
 */
export function normalizeServerUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw invalidUrl(server);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalidUrl(server);
  return url.toString().replace(/\/+$/, "");
}

function invalidUrl(server: string): KsefCertsError {
  return new KsefCertsError("VALIDATION", msg("agent.api.invalidUrl", { server: server.slice(0, 200) }), {
    violations: [violation("server", "server.url")],
  });
}

async function readLimited(response: Response): Promise<string> {
  const length = Number(response.headers.get("content-length") ?? "0");
  if (length > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw new KsefCertsError("TOO_LARGE", msg("agent.api.responseTooLarge", { length, limit: MAX_RESPONSE_BYTES }));
  }
  const buf = Buffer.from(await response.arrayBuffer());
  if (buf.byteLength > MAX_RESPONSE_BYTES) throw new KsefCertsError("TOO_LARGE", msg("agent.api.responseOverLimit", { limit: MAX_RESPONSE_BYTES }));
  return buf.toString("utf8");
}

function errorFromResponse(status: number, json: unknown): KsefCertsError {
  const parsed = agentErrorBodySchema.safeParse(json);
  const body = parsed.success ? parsed.data.error : undefined;
  const message = body === undefined ? msg("agent.api.httpStatus", { status }) : serverRef(body.messageId, body.params, body.message);
  const hint = body?.hint === undefined ? undefined : serverRef(body.hintId, body.hintParams, body.hint);
  const replacedBy = parsed.success ? (parsed.data.replacedBy ?? undefined) : undefined;
  if (status === 401) {
    return new KsefCertsError("FORBIDDEN", msg("agent.api.tokenRevoked"), {
      hint: msg("agent.api.tokenRevoked.hint"),
      details: { status, reason: "token-revoked", serverMessage: body?.message ?? translate("en", message) },
    });
  }
  const code: ErrorCode = STATUS_CODES[status] ?? (status >= 500 ? "IO" : "INTERNAL");
  return new KsefCertsError(code, message, {
    ...(hint === undefined ? {} : { hint }),
    retryable: status === 429 || status >= 500,
    details: { status, ...(replacedBy === undefined ? {} : { replacedBy }) },
  });
}

/**
 * A sentence the server sent: by its catalogue id when the server named one this agent knows and renders to the same
 * English text (so both sides mean the same sentence; rendered later in the operator's language), else the server's
 * text as it is (`error.legacy`).
 */
function serverRef(id: string | undefined, params: MessageParams | undefined, text: string): MessageRef {
  if (id !== undefined && isMessageId(id)) {
    const ref: MessageRef = params === undefined ? { id } : { id, params };
    if (translate("en", ref) === text) return ref;
  }
  return msg("error.legacy", { text });
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: "pairing" | "workstation" | "requests" | "upload" | "failed"): T {
  const r = schema.safeParse(body);
  if (!r.success)
    throw new KsefCertsError("MALFORMED", msg(`agent.api.contract.${what}`), {
      details: { issues: r.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`) },
    });
  return r.data;
}
