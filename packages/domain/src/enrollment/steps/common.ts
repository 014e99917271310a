/**
 * What every enrollment step shares: the report a step makes (`Said`), the non-failure stop (`Stop`), the
 * per-run memory (`RunContext`) and the small helpers over KSeF errors and keys.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { KsefApiError, KsefStatusError, ksefCodesOf, type KsefSession } from "@ksef-certs/ksef/api";
import type { Scope } from "../../registry/certificates.js";
import { enrollmentEvent, type EnrollmentEventKind, type EnrollmentEventParams, type EnrollmentProgressEvent } from "../events.js";
import type { EnrollmentRow } from "../model.js";

/** Enrollment states before a KSeF session exists: authenticating there moves the state on; later it keeps it. */
export const PRE_AUTH_STATES: readonly string[] = ["key_generated", "authenticating", "awaiting_signature"];
/** UTF-8 encoder of the XML, passwords and sealed JSON the steps write. */
export const utf8 = new TextEncoder();
/** UTF-8 decoder of the sealed secrets the steps read. */
export const utf8Decoder = new TextDecoder();

/** A step's report: the machine-readable event and its English sentence. */
export interface Said {
  readonly event: EnrollmentProgressEvent;
  readonly message: string;
}

/**
 * A step's report, typing `params` by `kind`.
 * @param kind one of `ENROLLMENT_EVENTS`
 * @param params the values `message` states
 * @param message the English sentence
 */
export function said<K extends EnrollmentEventKind>(kind: K, params: EnrollmentEventParams[K], message: string): Said {
  return { event: enrollmentEvent(kind, params), message };
}

/** A stop that is not a failure: `run` returns it as its outcome (`waiting`, `blocked` or `retry`). */
export class Stop extends Error {
  readonly event: EnrollmentProgressEvent;
  /**
   * @param outcome what `run` returns
   * @param report why, for the person watching
   * @param error the error behind it, if any
   * @param row the row as it was left, when the stop changed it
   */
  constructor(
    readonly outcome: "waiting" | "blocked" | "retry",
    report: Said,
    readonly error?: KsefCertsError,
    readonly row?: EnrollmentRow,
  ) {
    super(report.message);
    this.event = report.event;
  }
}

/** Per-run memory: never persisted. Steps fill `session` and `privateKey` for the steps after them in the same run. */
export interface RunContext {
  /** Audit actor of the run. */
  readonly actor: string;
  readonly signal: AbortSignal | undefined;
  /** The key password given to `run`, if any. */
  readonly keyPassword: string | undefined;
  session: KsefSession | undefined;
  privateKey: KeyObject | undefined;
}

/**
 * Whether `signal` has aborted. Not inlined: TypeScript would keep an earlier narrowing of `signal.aborted` across awaits.
 * @param signal the run's signal, if any
 */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * The error of a cancelled run: `IO`, not retryable; the state stays resumable.
 * @param signal the aborted signal (its reason becomes the cause)
 * @param what what the run was doing: enrolling, or waiting for the signed auth.xml
 */
export function cancelled(signal: AbortSignal | undefined, what: "enrolling" | "waitingAuthXml"): KsefCertsError {
  return new KsefCertsError("IO", msg(`enrollment.run.cancelled.${what}`), { cause: signal?.reason, details: { aborted: true } });
}

/**
 * The SPKI DER re-encoded by node:crypto, so two encodings of one key compare equal.
 * @param spki a SubjectPublicKeyInfo, DER
 */
export function normalisedSpki(spki: Uint8Array): Buffer {
  return createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).export({ type: "spki", format: "der" });
}

/**
 * The registry scope an enrollment row is for.
 * @param row a stored enrollment
 */
export function scopeOfRow(row: EnrollmentRow): Scope {
  if (row.scopeType === "operator") return { type: "operator", operatorId: row.operatorId ?? "" };
  if (row.scopeType === "branch") return { type: "branch", branchId: row.branchId ?? "" };
  return { type: "company", companyId: row.companyId };
}

/**
 * KSeF's code for a failure: the enrollment/auth status code, else the first error code of the response, else the HTTP status.
 * @param err the error that failed the enrollment
 */
export function failureCodeOf(err: KsefCertsError): number | null {
  if (err instanceof KsefStatusError) return err.statusCode;
  const codes = ksefCodesOf(err);
  if (codes.length > 0) return codes[0] ?? null;
  if (err instanceof KsefApiError && err.httpStatus !== undefined) return err.httpStatus;
  return null;
}

/**
 * The stored reason of a failure: message and hint, at most 2000 characters.
 * @param err the error
 */
export function reasonOf(err: KsefCertsError): string {
  const text = err.hint === undefined ? err.message : `${err.message} ${err.hint}`;
  return Array.from(text).slice(0, 2000).join("");
}

/** The shape of the ids this package generates (`randomUUID`); anything else cannot name a row. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `NOT_FOUND` for an unknown id (at most 60 characters of it are repeated).
 * @param what the entity
 * @param id the id asked for
 */
export function notFound(what: "enrollment" | "certificate" | "workstation" | "company", id: string): KsefCertsError {
  return new KsefCertsError("NOT_FOUND", msg(`enrollment.notFound.${what}`, { id: JSON.stringify(id.slice(0, 60)) }), {
    details: { entity: what, id: id.slice(0, 60) },
  });
}

/**
 * `CONFLICT` (`details.concurrent`) when another process moved the row while a step ran.
 * @param id the enrollment id
 */
export function concurrentChange(id: string): KsefCertsError {
  return new KsefCertsError("CONFLICT", msg("enrollment.run.concurrentChange", { id }), {
    hint: msg("enrollment.run.concurrentChange.hint"),
    details: { concurrent: true, enrollmentId: id },
  });
}
