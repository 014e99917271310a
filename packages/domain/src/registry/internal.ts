/**
 * Small pieces every registry use case shares: who did it and when, the unique-violation test, and
 * transactions that reuse the caller's one.
 */
import { PgTransaction } from "drizzle-orm/pg-core";
import { KsefCertsError, violation, type Violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Db } from "../store/db.js";

/** Who makes a change and when (default now); written to the audit log with it. */
export interface ChangeMeta {
  /** A user name, `cli:<os user>`, or `system` for automatic steps. */
  readonly actor: string;
  /** The clock of the change; default `new Date()`. Tests inject time here. */
  readonly at?: Date;
}

export { CERTIFICATE_TYPES, ENVIRONMENTS, MS_PER_DAY, type CertificateTypeName, type Environment } from "@ksef-certs/ksef/vocabulary";

/**
 * Runs `body` in a transaction, or directly in the caller's transaction when `db` already is one, so
 * use cases compose (enrollment records a certificate inside its own completing transaction).
 * @param db the database or a transaction
 * @param body the work
 */
export async function inTransaction<T>(db: Db, body: (tx: Db) => Promise<T>): Promise<T> {
  if (isTransaction(db)) return body(db);
  return db.transaction((tx) => body(tx as unknown as Db));
}

/** Not a type guard on purpose: narrowing would lose the schema generic of {@link Db}. */
function isTransaction(db: Db): boolean {
  return db instanceof PgTransaction;
}

/**
 * Whether `err` (or one of its causes: drizzle wraps driver errors) is PostgreSQL's unique violation (SQLSTATE 23505).
 * @param err anything caught
 */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e === "object" && (e as { code?: unknown }).code === "23505") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Throws one `VALIDATION` error with every violation, or returns.
 * @param violations every broken rule (field names as a form would use them)
 * @param what the thing being checked, as its message names it ("The company")
 * @throws {KsefCertsError} VALIDATION when `violations` is not empty
 */
export function assertValid(violations: readonly Violation[], what: keyof typeof INVALID): void {
  if (violations.length === 0) return;
  throw new KsefCertsError("VALIDATION", msg(INVALID[what], { reasons: violations.map((v) => v.message).join(" ") }), { violations });
}

/** The message of {@link assertValid} for each thing checked. */
const INVALID = {
  "The certificate": "registry.invalid.certificate",
  "The certificate filter": "registry.invalid.certificateFilter",
  "The report": "registry.invalid.report",
  "The resolution": "registry.invalid.resolution",
  "The company": "registry.invalid.company",
  "The branch": "registry.invalid.branch",
  "The operator": "registry.invalid.operator",
  "The assignment": "registry.invalid.assignment",
  "The workstation": "registry.invalid.workstation",
} as const;

/**
 * A required, trimmed text field of at most `max` characters; pushes a violation otherwise.
 * @param violations where to add the violation
 * @param field form field name
 * @param value the input
 * @param max most characters allowed
 * @returns the trimmed value
 */
export function requiredText(violations: Violation[], field: string, value: unknown, max: number): string {
  const text = typeof value === "string" ? value.trim() : "";
  if (text.length === 0) violations.push(violation(field, `${field}.required`));
  else if (Array.from(text).length > max) violations.push(violation(field, `${field}.length`, { min: 1, max }));
  return text;
}

/** UUID text form (any version): ids from outside are checked before they reach a `uuid` column, which would throw a driver error. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether `value` looks like a UUID (a malformed id is simply "not found").
 * @param value the id
 */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/**
 * The `NOT_FOUND` error for an unknown id.
 * @param entity `company`, `branch`, `operator`, `workstation`, `certificate`
 * @param id the id asked for
 */
export function notFound(entity: "company" | "branch" | "operator" | "workstation" | "certificate", id: string): KsefCertsError {
  return new KsefCertsError("NOT_FOUND", msg(`registry.notFound.${entity}`, { id: JSON.stringify(id) }), {
    hint: msg(`registry.notFound.${entity}.hint`),
    details: { entity, id },
  });
}
