/**
 * The one error taxonomy of ksef-certs.
 *
 * Core code throws only {@link KsefCertsError}; each edge (CLI exit codes, tRPC, HTTP) maps its
 * {@link ErrorCode} once. Messages are written for the person at the keyboard: they say what is
 * wrong and, in `hint`, what to do. They never contain passwords, key material or document bytes.
 */

import { isMessageId, translate, type Locale, type MessageId, type MessageParams, type MessageRef } from "./messages/index.js";

/**
 * Closed set of error codes.
 *
 * - `VALIDATION`: input breaks a rule (policy, range, required field); `violations` lists every rule broken.
 * - `MALFORMED`: input is not what it should be: not a key, not a certificate, bad PEM or base64, truncated DER.
 * - `TOO_LARGE`: input exceeds a size limit (`details.limitBytes`).
 * - `PASSWORD_REQUIRED`: the input is encrypted and no password was given.
 * - `WRONG_PASSWORD`: the password does not decrypt the input (or its MAC does not verify).
 * - `UNSUPPORTED`: the input is understood but uses a scheme or algorithm we do not support (`details.scheme` names it).
 * - `KEY_MISMATCH`: a private key does not belong to the certificate it was paired with.
 * - `NOT_FOUND`: a referenced thing (file, record) does not exist.
 * - `CONFLICT`: the operation collides with existing state.
 * - `FORBIDDEN`: the caller may not do this.
 * - `IO`: a file-system or network failure; `retryable` tells whether trying again may help.
 * - `INTERNAL`: a bug; the original error is in `cause`.
 */
export type ErrorCode =
  | "VALIDATION"
  | "MALFORMED"
  | "TOO_LARGE"
  | "PASSWORD_REQUIRED"
  | "WRONG_PASSWORD"
  | "UNSUPPORTED"
  | "KEY_MISMATCH"
  | "NOT_FOUND"
  | "CONFLICT"
  | "FORBIDDEN"
  | "IO"
  | "INTERNAL";

/** Every code, in a stable order (for exhaustive mappings and documentation). */
export const ERROR_CODES: readonly ErrorCode[] = [
  "VALIDATION",
  "MALFORMED",
  "TOO_LARGE",
  "PASSWORD_REQUIRED",
  "WRONG_PASSWORD",
  "UNSUPPORTED",
  "KEY_MISMATCH",
  "NOT_FOUND",
  "CONFLICT",
  "FORBIDDEN",
  "IO",
  "INTERNAL",
];

/**
 * One broken rule, as forms show it next to a field.
 * `field` is the input's name (e.g. `password`, `certificateName`), `rule` a stable machine id
 * (e.g. `password.length`) whose sentence is the catalogue's `rule.<rule>` message, `message` that sentence in
 * English (for logs and English-only readers; edges render `rule.<rule>` with `params` in their reader's locale).
 */
export interface Violation {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
  /** Values the message is built from (limits, allowed characters), so a UI can phrase it in another language. */
  readonly params?: Readonly<Record<string, string | number>>;
}

/**
 * Builds a {@link Violation} whose sentence is the catalogue message `rule.<rule>` (English in `message`).
 * @param field the input's name
 * @param rule stable rule id; `rule.<rule>` must exist in the catalogue (a test checks every rule used)
 * @param params the values the sentence is built from
 */
export function violation(field: string, rule: string, params?: MessageParams): Violation {
  const id = `rule.${rule}`;
  const message = isMessageId(id) ? translate("en", params === undefined ? { id } : { id, params }) : rule;
  return params === undefined ? { field, rule, message } : { field, rule, message, params };
}

/** Construction options of {@link KsefCertsError}. */
export interface KsefCertsErrorOptions {
  /** What the user can do about it, one sentence, as a catalogue message (or, in code not yet moved to the catalogue, English text). */
  readonly hint?: MessageRef | string;
  /** Every rule broken, for `VALIDATION`. */
  readonly violations?: readonly Violation[];
  /** Structured, non-secret context (scheme names, limits, file names). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Whether retrying the same operation may succeed (I/O). Defaults to `false`. */
  readonly retryable?: boolean;
  /** The underlying error, kept for logs; never shown as the message. */
  readonly cause?: unknown;
}

/**
 * The error every core function throws for an expected failure.
 *
 * @example
 * throw new KsefCertsError("WRONG_PASSWORD", msg("pkcs8.wrongPassword"), { hint: msg("pkcs8.wrongPassword.hint") });
 */
export class KsefCertsError extends Error {
  override readonly name: string = "KsefCertsError";
  readonly code: ErrorCode;
  /** The message by reference (render it with {@link localizeError}); `message` holds its English text. */
  readonly messageRef: MessageRef | undefined;
  /** The hint by reference; `hint` holds its English text. */
  readonly hintRef: MessageRef | undefined;
  readonly hint: string | undefined;
  readonly violations: readonly Violation[];
  readonly details: Readonly<Record<string, unknown>>;
  readonly retryable: boolean;

  /**
   * @param code the taxonomy code (decides exit codes and HTTP statuses)
   * @param message the sentence as a catalogue message (`msg(id, params)`); a string only for text that is not ours to
   *   translate (KSeF's own error descriptions, quoted as received) — a test refuses literal sentences at every call site
   * @param options hint, violations, details, retryable, cause
   */
  constructor(code: ErrorCode, message: MessageRef | string, options: KsefCertsErrorOptions = {}) {
    super(typeof message === "string" ? message : translate("en", message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.messageRef = typeof message === "string" ? undefined : message;
    this.hintRef = typeof options.hint === "object" ? options.hint : undefined;
    this.hint = typeof options.hint === "object" ? translate("en", options.hint) : options.hint;
    this.violations = options.violations ?? [];
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? false;
  }

  /** A JSON-safe view (for `--json` output and API error bodies), in English with the message ids; `cause` is left out on purpose. */
  toJSON(): LocalizedError {
    return localizeError(this, "en");
  }
}

/** An error as one reader sees it: sentences in their locale, with the ids and parameters they came from. */
export interface LocalizedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly messageId?: MessageId;
  readonly params?: MessageParams;
  readonly hint?: string;
  readonly hintId?: MessageId;
  readonly hintParams?: MessageParams;
  readonly violations?: readonly Violation[];
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Renders an error for a reader: message, hint and every violation in `locale` (violations through their
 * `rule.<rule>` message), keeping ids and parameters so a client can render again in its own locale.
 * @param err the error
 * @param locale the reader's language
 */
export function localizeError(err: KsefCertsError, locale: Locale): LocalizedError {
  const ref = err.messageRef;
  const hintRef = err.hintRef;
  const hint = hintRef === undefined ? err.hint : translate(locale, hintRef);
  const violations = err.violations.map((v) => {
    const id = `rule.${v.rule}`;
    return isMessageId(id) ? { ...v, message: translate(locale, v.params === undefined ? { id } : { id, params: v.params }) } : v;
  });
  // A summary that lists the broken rules (`{{reasons}}`) lists them in the reader's language too.
  const shownRef =
    ref?.params !== undefined && "reasons" in ref.params && violations.length > 0
      ? { ...ref, params: { ...ref.params, reasons: violations.map((v) => v.message).join(" ") } }
      : ref;
  return {
    code: err.code,
    message: shownRef === undefined ? err.message : translate(locale, shownRef),
    ...(shownRef === undefined ? {} : { messageId: shownRef.id, ...(shownRef.params === undefined ? {} : { params: shownRef.params }) }),
    ...(hint === undefined ? {} : { hint }),
    ...(hintRef === undefined ? {} : { hintId: hintRef.id, ...(hintRef.params === undefined ? {} : { hintParams: hintRef.params }) }),
    ...(violations.length === 0 ? {} : { violations }),
    ...(Object.keys(err.details).length === 0 ? {} : { details: err.details }),
  };
}

/**
 * Narrows `err` to a {@link KsefCertsError}, optionally of one of the given codes.
 * @param err anything caught
 * @param codes accept only these codes (any code when empty)
 */
export function isKsefCertsError(err: unknown, ...codes: ErrorCode[]): err is KsefCertsError {
  return err instanceof KsefCertsError && (codes.length === 0 || codes.includes(err.code));
}

/**
 * Throws a `VALIDATION` error listing every violation, or returns when there are none.
 * @param violations result of a policy check
 * @param message summary sentence used when there are violations
 * @throws {KsefCertsError} `VALIDATION` when `violations` is not empty
 */
export function assertNoViolations(violations: readonly Violation[], message: MessageRef | string): void {
  if (violations.length === 0) return;
  const summary = typeof message === "string" ? message : translate("en", message);
  throw new KsefCertsError("VALIDATION", typeof message === "string" ? `${summary}: ${violations.map((v) => v.message).join("; ")}` : message, { violations });
}

/**
 * Process exit code per {@link ErrorCode}, shared by the `ksef-certs` and `ksef-signer` CLIs so scripts treat both alike:
 * 1 internal, 2 usage/validation, 3 damaged or oversized input, 4 password missing or wrong, 5 unsupported scheme or
 * algorithm, 6 key does not match the certificate, 7 file missing, not accessible or I/O failure, 8 conflict (e.g. refusing
 * to overwrite). Scripts branch on these numbers: change them only with a major version.
 */
export const CLI_EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  INTERNAL: 1,
  VALIDATION: 2,
  MALFORMED: 3,
  TOO_LARGE: 3,
  PASSWORD_REQUIRED: 4,
  WRONG_PASSWORD: 4,
  UNSUPPORTED: 5,
  KEY_MISMATCH: 6,
  NOT_FOUND: 7,
  // A CLI only meets FORBIDDEN as a file it may not read or write (or a refused token), so it groups with I/O.
  FORBIDDEN: 7,
  IO: 7,
  CONFLICT: 8,
};

/** Error properties that may carry values of a failed query or request (bytes, passwords, hashes): never logged. */
const UNLOGGED_ERROR_FIELDS = new Set(["params", "parameters", "detail", "where", "query_params", "args", "body", "data", "input", "value", "values"]);

/** Error properties worth logging when they are short scalars (codes, constraint and table names, positions). */
const LOGGED_ERROR_FIELDS = [
  "code",
  "errno",
  "syscall",
  "severity",
  "constraint",
  "constraint_name",
  "table",
  "table_name",
  "column",
  "column_name",
  "schema",
  "schema_name",
  "routine",
  "position",
  "status",
  "retryable",
];

/**
 * A plain object describing an error that is safe to write to a log: class name, message and stack with any
 * query parameters cut off (drizzle's "Failed query … params: …" carries every bound value: key files, sealed
 * passwords, password hashes), short scalar codes, `details` and violation rules of a {@link KsefCertsError}
 * (secret-free by contract), and the same for up to four causes. Value-bearing fields (`params`, `parameters`,
 * `detail` of PostgreSQL errors, which quotes offending values, …) are dropped whatever the error.
 * @param err anything thrown
 * @returns `{ type, message, stack?, code?, …, cause? }`
 */
export function errorForLog(err: unknown): Record<string, unknown> {
  return describeForLog(err, 0);
}

function describeForLog(err: unknown, depth: number): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err, message: typeof err === "string" ? cutParams(err) : "(not an Error)" };
  const out: Record<string, unknown> = { type: err.constructor.name, message: cutParams(err.message) };
  if (typeof err.stack === "string") {
    // The stack's first line repeats the message: only the frames are kept.
    out["stack"] = `${err.constructor.name}: ${String(out["message"])}\n${err.stack
      .split("\n")
      .filter((l) => /^\s+at /.test(l))
      .join("\n")}`;
  }
  const bag = err as unknown as Record<string, unknown>;
  for (const key of LOGGED_ERROR_FIELDS) {
    const v = bag[key];
    if ((typeof v === "string" && v.length <= 200) || typeof v === "number" || typeof v === "boolean") out[key] = v;
  }
  if (err instanceof KsefCertsError) {
    out["details"] = err.details;
    if (err.violations.length > 0) out["violations"] = err.violations.map((v) => v.rule);
  }
  for (const key of Object.keys(bag)) if (UNLOGGED_ERROR_FIELDS.has(key)) out[`${key}Omitted`] = true;
  if (err.cause !== undefined && depth < 4) out["cause"] = describeForLog(err.cause, depth + 1);
  return out;
}

/** A message without the bound values some drivers append (`\nparams: …`) or quote (`DETAIL: …`). */
function cutParams(message: string): string {
  const cut = message.search(/\n\s*(params|parameters|DETAIL)\s*:/i);
  return (cut === -1 ? message : message.slice(0, cut)).slice(0, 2000);
}
