/**
 * The one place where core errors become tRPC errors (router contract: `error.data.ksef`).
 * `KsefCertsError` codes map to tRPC codes here; the error formatter in trpc.ts copies
 * `{ code, message, hint, violations }` into `data.ksef` so forms can place each violation by field and rule.
 */
import { TRPCError } from "@trpc/server";
import { KsefCertsError, type ErrorCode, type Violation } from "@ksef-certs/ksef/errors";

/** tRPC error codes used by the server (`TRPCError["code"]`). */
export type TrpcCode = TRPCError["code"];

const BY_CODE: Record<ErrorCode, TrpcCode> = {
  VALIDATION: "BAD_REQUEST",
  MALFORMED: "BAD_REQUEST",
  TOO_LARGE: "PAYLOAD_TOO_LARGE",
  PASSWORD_REQUIRED: "BAD_REQUEST",
  WRONG_PASSWORD: "BAD_REQUEST",
  UNSUPPORTED: "BAD_REQUEST",
  KEY_MISMATCH: "BAD_REQUEST",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  FORBIDDEN: "FORBIDDEN",
  IO: "INTERNAL_SERVER_ERROR",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

/**
 * The tRPC code of a core error. FORBIDDEN with `details.reason` `throttled` is TOO_MANY_REQUESTS and
 * `credentials` UNAUTHORIZED (a failed sign-in); a retryable IO error is SERVICE_UNAVAILABLE.
 * @param err the core error
 */
export function trpcCodeOf(err: KsefCertsError): TrpcCode {
  if (err.code === "FORBIDDEN" && err.details["reason"] === "throttled") return "TOO_MANY_REQUESTS";
  if (err.code === "FORBIDDEN" && err.details["reason"] === "credentials") return "UNAUTHORIZED";
  if (err.code === "IO" && err.retryable) return "SERVICE_UNAVAILABLE";
  return BY_CODE[err.code];
}

/**
 * A core error as a TRPCError (the original kept as `cause` for the formatter); other errors unchanged.
 * @param err anything a resolver threw (tRPC hands it over wrapped: its `cause` is looked at too)
 */
export function toTrpcError(err: unknown): unknown {
  const core = findCoreError(err);
  if (core === undefined) return err;
  return new TRPCError({ code: trpcCodeOf(core), message: core.message, cause: core });
}

/**
 * The core error in `err` or its `cause`, if any.
 * @param err anything
 */
export function findCoreError(err: unknown): KsefCertsError | undefined {
  for (let e: unknown = err, depth = 0; e !== null && e !== undefined && depth < 4; depth++) {
    if (e instanceof KsefCertsError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The parts of a zod issue a violation is made of. */
interface ZodLikeIssue {
  readonly path?: readonly (string | number | symbol)[];
  readonly code?: string;
  readonly message?: string;
  readonly maximum?: number | bigint;
  readonly minimum?: number | bigint;
  readonly values?: readonly unknown[];
}

/**
 * One zod issue as a typed violation: `field` is the input path joined by dots, `rule` is `input.<zod issue code>`
 * (`input.too_big`, `input.invalid_type`…, one wording per rule in the catalogues), `params` the limit or the values
 * allowed; the message is zod's sentence (or the schema's own), never the whole issue list.
 * @param issue a zod issue
 */
export function violationOfIssue(issue: ZodLikeIssue): Violation {
  const field = (issue.path ?? []).map(String).join(".") || "input";
  const params: Record<string, string | number> = {};
  if (issue.maximum !== undefined) params["max"] = Number(issue.maximum);
  if (issue.minimum !== undefined) params["min"] = Number(issue.minimum);
  if (issue.values !== undefined) params["allowed"] = issue.values.map(String).join(", ");
  return {
    field,
    rule: `input.${issue.code ?? "invalid"}`,
    message: (issue.message ?? "Invalid value.").slice(0, 300),
    ...(Object.keys(params).length === 0 ? {} : { params }),
  };
}

/** What `error.data.ksef` carries (router contract). */
export interface KsefErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string | null;
  readonly violations: readonly Violation[];
  /** Seconds to wait before signing in again (throttled sign-ins only). */
  readonly retryAfterSeconds?: number;
}

/**
 * The `data.ksef` of an error: from a core error, or VALIDATION violations from a zod input error
 * ({@link violationOfIssue}).
 * @param err the TRPCError's cause
 */
export function ksefErrorData(err: unknown): KsefErrorData | null {
  const core = findCoreError(err);
  if (core !== undefined) {
    const retry = core.details["retryAfterSeconds"];
    return {
      code: core.code,
      // INTERNAL messages may describe internals: the page gets a generic sentence, the log the details.
      message: core.code === "INTERNAL" ? "Internal error." : core.message,
      hint: core.hint ?? null,
      violations: core.violations,
      ...(typeof retry === "number" ? { retryAfterSeconds: retry } : {}),
    };
  }
  const issues = (err as { issues?: unknown } | null)?.issues;
  if (Array.isArray(issues)) {
    return { code: "VALIDATION", message: "The input is not valid.", hint: null, violations: (issues as ZodLikeIssue[]).map(violationOfIssue) };
  }
  return null;
}
