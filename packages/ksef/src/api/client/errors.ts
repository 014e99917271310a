/**
 * Errors of the KSeF client: {@link KsefApiError} for an HTTP exchange that failed (error status or
 * network fault) and {@link KsefStatusError} for an operation KSeF accepted but then finished with a
 * failure status (authentication 4xx/5xx codes, rejected enrollment).
 *
 * Both are {@link KsefCertsError}s, so edges map them through the one taxonomy: 400 → VALIDATION,
 * 401/403 → FORBIDDEN, 404/410 → NOT_FOUND, 409 → CONFLICT, 413 → TOO_LARGE, 429/5xx/network → IO
 * (retryable). Messages quote KSeF's own code and description; they never contain tokens.
 *
 * Error body formats (ksef-docs `limity/limity-api.md`; spec `components.schemas`): `BadRequestProblemDetails`,
 * `UnauthorizedProblemDetails`, `ForbiddenProblemDetails`, `GoneProblemDetails`,
 * `TooManyRequestsProblemDetails` (`application/problem+json`, sent because the client asks with
 * `X-Error-Format: problem-details`), the deprecated `ExceptionResponse` and `TooManyRequestsResponse`.
 */
import { KsefCertsError, type ErrorCode, type Violation } from "../../errors.js";
import type { MessageRef } from "../../messages/index.js";

/** One KSeF error entry: `errors[]` of Problem Details or `exceptionDetailList[]` of the legacy form. */
export interface KsefErrorEntry {
  /** KSeF's numeric code, e.g. 25003 (ksef-docs `limity/limity-api.md` lists the certificate and auth codes). */
  readonly code: number;
  /** KSeF's description (Polish). */
  readonly description: string;
  /** Extra lines KSeF attached, possibly empty. */
  readonly details: readonly string[];
}

/** Which of KSeF's error shapes a body had. */
export type KsefProblemFormat = "problem-details" | "legacy-exception" | "legacy-status" | "unparsed";

/**
 * A KSeF error body, normalised from whichever shape arrived. Fields absent from the body are absent here.
 */
export interface KsefProblem {
  readonly format: KsefProblemFormat;
  /** Problem Details `title` (e.g. "Bad Request"), or the legacy 429 `status.description`. */
  readonly title?: string;
  /** HTTP status as the body states it. */
  readonly status?: number;
  /** Problem Details `detail`: KSeF's general sentence. */
  readonly detail?: string;
  /** Problem Details `instance` (the request path). */
  readonly instance?: string;
  /** Problem Details `traceId`, or the legacy `exception.serviceCode`: quote it when reporting a problem to MF. */
  readonly traceId?: string;
  /** When KSeF says the error happened (ISO 8601). */
  readonly timestamp?: string;
  /** 403 reason: `missing-permissions`, `ip-not-allowed`, `insufficient-resource-access`, `auth-method-not-allowed`, `security-service-blocked`, `context-type-not-allowed`. */
  readonly reasonCode?: string;
  /** 403 extra data depending on `reasonCode` (e.g. `requiredAnyOfPermissions`, `clientIp`). */
  readonly security?: Readonly<Record<string, unknown>>;
  /** Legacy `exception.referenceNumber`. */
  readonly referenceNumber?: string;
  /** Coded errors, in the order KSeF listed them (empty for 401/403/410/429 and unparsed bodies). */
  readonly errors: readonly KsefErrorEntry[];
  /** For `unparsed` bodies: the first 300 characters of the text, for diagnosis. */
  readonly excerpt?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function entry(code: unknown, description: unknown, details: unknown): KsefErrorEntry | undefined {
  if (typeof code !== "number" || !Number.isInteger(code)) return undefined;
  return { code, description: str(description) ?? "", details: strings(details) };
}

/** Copies only the optional string fields that are present (exactOptionalPropertyTypes forbids `undefined` values). */
function pickStrings(src: Record<string, unknown>, keys: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [from, to] of Object.entries(keys)) {
    const v = str(src[from]);
    if (v !== undefined) out[to] = v;
  }
  return out;
}

/**
 * Normalises a KSeF error body (already JSON-parsed, or the raw text when it was not JSON).
 *
 * Accepts Problem Details (`{title,status,detail,errors[{code,description,details}],traceId,reasonCode,…}`),
 * the legacy `{exception:{exceptionDetailList:[{exceptionCode,exceptionDescription,details}],…}}` and the
 * legacy 429 `{status:{code,description,details}}`; anything else becomes `format: "unparsed"` with an excerpt.
 * Never throws.
 * @param body parsed JSON value, or a string when the body was not JSON, or `undefined` when empty
 */
export function parseKsefProblem(body: unknown): KsefProblem | undefined {
  if (body === undefined || body === "") return undefined;
  if (typeof body === "string") return { format: "unparsed", errors: [], excerpt: body.slice(0, 300) };
  if (!isRecord(body)) return { format: "unparsed", errors: [], excerpt: JSON.stringify(body).slice(0, 300) };

  const exception = body["exception"];
  if (isRecord(exception)) {
    const list = Array.isArray(exception["exceptionDetailList"]) ? exception["exceptionDetailList"] : [];
    const errors = list.flatMap((d: unknown) => {
      if (!isRecord(d)) return [];
      const e = entry(d["exceptionCode"], d["exceptionDescription"], d["details"]);
      return e === undefined ? [] : [e];
    });
    return {
      format: "legacy-exception",
      errors,
      ...pickStrings(exception, { serviceCode: "traceId", timestamp: "timestamp", referenceNumber: "referenceNumber" }),
    };
  }

  const status = body["status"];
  if (isRecord(status)) {
    const details = strings(status["details"]);
    return {
      format: "legacy-status",
      errors: [],
      ...(typeof status["code"] === "number" ? { status: status["code"] } : {}),
      ...pickStrings(status, { description: "title" }),
      ...(details.length > 0 ? { detail: details.join(" ") } : {}),
    };
  }

  if ("title" in body || "detail" in body || "errors" in body || "reasonCode" in body) {
    const list = Array.isArray(body["errors"]) ? body["errors"] : [];
    const errors = list.flatMap((d: unknown) => {
      if (!isRecord(d)) return [];
      const e = entry(d["code"], d["description"], d["details"]);
      return e === undefined ? [] : [e];
    });
    const security = body["security"];
    return {
      format: "problem-details",
      errors,
      ...(typeof status === "number" ? { status } : {}),
      ...pickStrings(body, { title: "title", detail: "detail", instance: "instance", traceId: "traceId", timestamp: "timestamp", reasonCode: "reasonCode" }),
      ...(isRecord(security) ? { security } : {}),
    };
  }
  return { format: "unparsed", errors: [], excerpt: JSON.stringify(body).slice(0, 300) };
}

/**
 * The taxonomy code of an HTTP status (the one place this mapping lives).
 * 400 and other 4xx → VALIDATION; 401/403 → FORBIDDEN; 404/410 → NOT_FOUND; 409 → CONFLICT;
 * 413 → TOO_LARGE; 429, 5xx and anything unexpected → IO.
 * @param httpStatus response status
 */
export function errorCodeOfHttpStatus(httpStatus: number): ErrorCode {
  switch (httpStatus) {
    case 401:
    case 403:
      return "FORBIDDEN";
    case 404:
    case 410:
      return "NOT_FOUND";
    case 409:
      return "CONFLICT";
    case 413:
      return "TOO_LARGE";
    case 429:
      return "IO";
    default:
      return httpStatus >= 400 && httpStatus < 500 ? "VALIDATION" : "IO";
  }
}

/** Construction data of {@link KsefApiError}. */
export interface KsefApiErrorInit {
  /** e.g. `POST /certificates/enrollments`. */
  readonly operation: string;
  /** Response status; absent when no response arrived (network fault, timeout). */
  readonly httpStatus?: number;
  readonly problem?: KsefProblem;
  /** How long KSeF asked to wait (from `Retry-After`), in ms. */
  readonly retryAfterMs?: number;
  /** True when a non-idempotent request may have been processed although no success arrived. */
  readonly outcomeUnknown?: boolean;
  readonly retryable: boolean;
  readonly hint?: string;
  readonly violations?: readonly Violation[];
  readonly cause?: unknown;
}

/**
 * A KSeF request that failed: an error status, or no usable response at all.
 *
 * `code` follows the taxonomy ({@link errorCodeOfHttpStatus}; network faults → IO). `ksefCodes` are
 * KSeF's numeric codes from the body. `outcomeUnknown` is set when a non-idempotent request
 * (enrollment, XAdES submission, token redemption) got a 5xx, a timeout or a broken connection: KSeF may
 * have acted on it, so the caller must reconcile (look the result up) before sending it again.
 */
export class KsefApiError extends KsefCertsError {
  override readonly name: string = "KsefApiError";
  /** `METHOD /path/template` of the failed operation. */
  readonly operation: string;
  /** Response status, or `undefined` when no response arrived. */
  readonly httpStatus: number | undefined;
  /** KSeF's numeric error codes (`errors[].code` or `exceptionCode`), possibly empty. */
  readonly ksefCodes: readonly number[];
  /** The normalised error body, when there was one. */
  readonly problem: KsefProblem | undefined;
  /** `Retry-After` in ms, when KSeF sent one. */
  readonly retryAfterMs: number | undefined;
  /** Whether KSeF may have processed the request anyway (see class doc). */
  readonly outcomeUnknown: boolean;

  /**
   * @param code taxonomy code
   * @param message human sentence, quoting KSeF's codes
   * @param init the exchange's facts
   */
  constructor(code: ErrorCode, message: string, init: KsefApiErrorInit) {
    super(code, message, {
      retryable: init.retryable,
      ...(init.hint === undefined ? {} : { hint: init.hint }),
      ...(init.violations === undefined ? {} : { violations: init.violations }),
      ...(init.cause === undefined ? {} : { cause: init.cause }),
      details: {
        operation: init.operation,
        ...(init.httpStatus === undefined ? {} : { httpStatus: init.httpStatus }),
        ksefCodes: (init.problem?.errors ?? []).map((e) => e.code),
        ...(init.problem?.traceId === undefined ? {} : { traceId: init.problem.traceId }),
        ...(init.problem?.reasonCode === undefined ? {} : { reasonCode: init.problem.reasonCode }),
        ...(init.retryAfterMs === undefined ? {} : { retryAfterMs: init.retryAfterMs }),
        ...(init.outcomeUnknown === true ? { outcomeUnknown: true } : {}),
      },
    });
    this.operation = init.operation;
    this.httpStatus = init.httpStatus;
    this.problem = init.problem;
    this.ksefCodes = (init.problem?.errors ?? []).map((e) => e.code);
    this.retryAfterMs = init.retryAfterMs;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
  }
}

function describeEntries(errors: readonly KsefErrorEntry[]): string {
  return errors.map((e) => `${e.code} ${e.description}`.trim() + (e.details.length > 0 ? ` (${e.details.join("; ")})` : "")).join("; ");
}

const FORBIDDEN_HINTS: Readonly<Record<string, string>> = {
  "missing-permissions": "Ask an administrator of the context to grant the missing permission, then authenticate again.",
  "ip-not-allowed": "Call from an IP address allowed by the authentication's AuthorizationPolicy, or authenticate again without that restriction.",
  "auth-method-not-allowed": "Authenticate with a certificate (XAdES): KSeF tokens cannot manage certificates.",
  "context-type-not-allowed": "Authenticate in a context type this operation allows (e.g. Nip or InternalId).",
  "security-service-blocked": "KSeF blocked the request for security reasons; contact MF support quoting the incident id.",
};

/** Facts of a failed HTTP exchange, from which {@link apiErrorFromResponse} writes the error. */
export interface FailedResponse {
  readonly operation: string;
  /** The operation's words for messages, e.g. `enrollment`. */
  readonly label: string;
  readonly httpStatus: number;
  readonly problem: KsefProblem | undefined;
  readonly retryAfterMs?: number;
  readonly outcomeUnknown?: boolean;
}

/**
 * Builds the {@link KsefApiError} of an error response, with a message quoting KSeF's code and
 * description ("KSeF refused the enrollment: 25003 …") and a hint.
 * @param f the failed exchange
 */
export function apiErrorFromResponse(f: FailedResponse): KsefApiError {
  const { httpStatus, problem, label } = f;
  const code = errorCodeOfHttpStatus(httpStatus);
  const errors = problem?.errors ?? [];
  const said =
    errors.length > 0
      ? describeEntries(errors)
      : [problem?.reasonCode, problem?.detail ?? problem?.title ?? problem?.excerpt].filter((s) => s !== undefined && s !== "").join(": ");
  const quote = said === "" ? "" : ` — ${said}`;
  let message: string;
  let hint: string | undefined;
  const retryable = httpStatus === 429 || httpStatus >= 500;
  if (httpStatus === 429) {
    const wait = f.retryAfterMs === undefined ? "" : `; KSeF asks to wait ${Math.ceil(f.retryAfterMs / 1000)} s`;
    message = `KSeF rate-limited the ${label} (HTTP 429)${wait}${quote}`;
    hint = "Wait and try again; KSeF counts requests per endpoint in 1 s, 1 min and 1 h windows.";
  } else if (httpStatus >= 500) {
    message = `KSeF failed while handling the ${label} (HTTP ${httpStatus})${quote}`;
    hint = "KSeF had an internal problem; try again later.";
  } else if (errors.length > 0) {
    message = `KSeF refused the ${label}: ${said}`;
  } else if (httpStatus === 401) {
    message = `KSeF refused the ${label}: not authenticated (HTTP 401)${quote}`;
    hint = "Authenticate again: the token is missing, expired or revoked.";
  } else if (httpStatus === 403) {
    message = `KSeF refused the ${label}: forbidden (HTTP 403)${quote}`;
    hint = FORBIDDEN_HINTS[problem?.reasonCode ?? ""] ?? "The authenticated subject may not do this in this context.";
  } else if (httpStatus === 404 || httpStatus === 410) {
    message = `KSeF no longer has, or never had, what the ${label} asked for (HTTP ${httpStatus})${quote}`;
    if (httpStatus === 410) hint = "KSeF keeps authentication status 7 days and enrollment status 30 days.";
  } else {
    message = `KSeF refused the ${label} (HTTP ${httpStatus})${quote}`;
  }
  if (f.outcomeUnknown === true) {
    message += "; KSeF may have processed it anyway";
    hint = "Check whether KSeF acted on the request (e.g. query certificates or the operation's status) before repeating it.";
  }
  const violations: Violation[] =
    code === "VALIDATION" ? errors.map((e) => ({ field: "ksef", rule: `ksef.${e.code}`, message: describeEntries([e]), params: { ksefCode: e.code } })) : [];
  return new KsefApiError(code, `${message}.`, {
    operation: f.operation,
    httpStatus,
    ...(problem === undefined ? {} : { problem }),
    ...(f.retryAfterMs === undefined ? {} : { retryAfterMs: f.retryAfterMs }),
    ...(f.outcomeUnknown === true ? { outcomeUnknown: true } : {}),
    retryable,
    ...(hint === undefined ? {} : { hint }),
    ...(violations.length > 0 ? { violations } : {}),
  });
}

/**
 * KSeF's numeric error codes carried by `err`: those of a {@link KsefApiError}, also when it sits in
 * the `cause` chain of another error; `[]` for anything else.
 * @param err anything caught
 */
export function ksefCodesOf(err: unknown): readonly number[] {
  let cur: unknown = err;
  for (let depth = 0; depth < 8 && cur !== undefined && cur !== null; depth++) {
    if (cur instanceof KsefApiError) return cur.ksefCodes;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return [];
}

/** Construction data of {@link KsefStatusError}. */
export interface KsefStatusErrorInit {
  /** e.g. `GET /certificates/enrollments/{referenceNumber}`. */
  readonly operation: string;
  /** The polled operation's reference number. */
  readonly referenceNumber: string;
  /** `status.code` KSeF reported (e.g. 460, 550). */
  readonly statusCode: number;
  readonly statusDescription: string;
  readonly statusDetails: readonly string[];
}

/**
 * An operation KSeF accepted finished with a failure status: authentication (`GET /auth/{ref}`
 * codes 415, 425, 450, 460, 470, 480, 500, 550; ksef-docs `uwierzytelnianie.md`) or enrollment
 * (`GET /certificates/enrollments/{ref}` codes 400, 500, 550; ksef-docs `certyfikaty-KSeF.md`).
 * 550 ("cancelled by the system, retry") is `retryable`; repeat the whole operation, not the poll.
 */
export class KsefStatusError extends KsefCertsError {
  override readonly name: string = "KsefStatusError";
  readonly operation: string;
  readonly referenceNumber: string;
  /** KSeF's `status.code`. */
  readonly statusCode: number;
  readonly statusDescription: string;
  readonly statusDetails: readonly string[];

  /**
   * @param code taxonomy code
   * @param message human sentence quoting the status
   * @param init the status KSeF reported
   * @param hint what to do
   */
  constructor(code: ErrorCode, message: MessageRef | string, init: KsefStatusErrorInit, hint?: MessageRef) {
    super(code, message, {
      retryable: init.statusCode === 550,
      ...(hint === undefined ? {} : { hint }),
      details: { operation: init.operation, referenceNumber: init.referenceNumber, statusCode: init.statusCode },
    });
    this.operation = init.operation;
    this.referenceNumber = init.referenceNumber;
    this.statusCode = init.statusCode;
    this.statusDescription = init.statusDescription;
    this.statusDetails = init.statusDetails;
  }
}
