/**
 * The certificates a company holds, per scope (company, branch, operator), environment and type, and
 * the rules the F2000 ERP model puts on them:
 *
 * - at most `maxActive` (default 2) active certificates per (scope, environment, type); "active" =
 *   status `active` and not expired at the clock of the change (a not-yet-valid certificate counts:
 *   KSeF counts future-dated certificates against its own limit too, as seen in the field);
 * - one `current` per slot; a `queued` one needs a current one and there is at most one queued;
 * - a KSeF serial appears once per environment (KSeF serials are unique per issuing CA, and each
 *   environment has its own CA);
 * - only what KSeF issues is stored ({@link assertKsefCertificateFits}): a key KSeF certifies (EC P-256 or
 *   RSA-2048), and a certificate whose issuer fits the environment (`ksef/issuers.ts`, docs/ksef-issuers.md):
 *   one from KSeF's test CA never as production, one from the production CA never as test or demo, one
 *   from another CA as production only when `allowUnknownIssuer` says so;
 * - a queued successor becomes current once the current one has expired or was revoked: readers (resolution,
 *   reports) already treat it so at any date without writing, and {@link promoteQueued}, run by whatever does
 *   background work (the server's takeover job, `ksef-certs cert takeover`), persists it once with its audit entry.
 *
 * Private keys are stored only as the encrypted PKCS#8 file, bytes unchanged; passwords only sealed
 * (AES-256-GCM under the master key, `seal` of `@ksef-certs/ksef/crypto`) with the AAD {@link sealedPasswordAad}.
 * Every change writes its audit entry in the same transaction.
 */
import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, gt, inArray, lte, type SQL, sql } from "drizzle-orm";
import { alias, type AnyPgColumn } from "drizzle-orm/pg-core";
import { assertKsefKey, inspectPrivateKey, KSEF_COMMON_NAME_SUFFIXES, MAX_OBJECT_BYTES, parseCertificate, type CertificateInfo } from "@ksef-certs/ksef/crypto";
import { KsefCertsError, type Violation, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { issuerEnvironmentViolation } from "@ksef-certs/ksef/api";
import { appendAudit, appendAuditBatch, type AuditEntryInput } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { branches, certificates, companies, operators } from "../store/schema.js";
import {
  assertValid,
  type CertificateTypeName,
  type ChangeMeta,
  ENVIRONMENTS,
  type Environment,
  inTransaction,
  isUniqueViolation,
  isUuid,
  MS_PER_DAY,
  notFound,
} from "./internal.js";

/** Who a certificate is held for: the company itself, one of its branches, or one of its operators. */
export type Scope = { type: "company"; companyId: string } | { type: "branch"; branchId: string } | { type: "operator"; operatorId: string };

/** A {@link Scope} with its owner filled in, as stored on a certificate row. */
export interface ResolvedScope {
  readonly type: "company" | "branch" | "operator";
  /** The company that owns the scope (always set). */
  readonly companyId: string;
  /** Set for branch scope only. */
  readonly branchId: string | null;
  /** Set for operator scope only. */
  readonly operatorId: string | null;
}

/** A stored certificate row, secrets included (only {@link recordCertificate} and {@link getCertificateSecrets} hand these out). */
export type CertificateRow = typeof certificates.$inferSelect;

/** What {@link recordCertificate} stores. */
export interface RecordCertificateInput {
  readonly scope: Scope;
  readonly environment: Environment;
  readonly mode: "current" | "queued";
  /** 1–100 characters (KSeF's `certificateName` limit, SPEC `EnrollCertificateRequest`). */
  readonly name: string;
  /** The certificate, DER (at most 64 KiB). */
  readonly certificateDer: Uint8Array;
  /** The private key file exactly as encrypted PKCS#8 (PEM text bytes or DER); a plain key is refused. */
  readonly keyFile: Uint8Array;
  /** The key's password sealed under the master key with AAD `sealedPasswordAad(id)` (pass `id` to know it in advance). */
  readonly sealedPassword?: Uint8Array;
  readonly source: "enrolled" | "imported";
  readonly enrollmentId?: string;
  /** The row id to use (a UUID), for callers that seal the password to the row before recording it; default random. */
  readonly id?: string;
}

/** Registry rule settings. */
export interface CertificateRuleOptions {
  /** Most active certificates per (scope, environment, type), 1..100; default {@link DEFAULT_MAX_ACTIVE}. */
  readonly maxActive?: number;
  /**
   * Record a production certificate whose issuer is not KSeF's production CA (default false: refused with rule
   * `certificate.issuer`). For tests and simulators with a CA of their own; production KSeF would refuse such a certificate.
   */
  readonly allowUnknownIssuer?: boolean;
}

/** The F2000 default: at most two active certificates per scope, environment and type. */
export const DEFAULT_MAX_ACTIVE = 2;

/** Largest sealed password blob accepted (version ‖ nonce ‖ ciphertext ‖ tag of a password stays far below). */
const MAX_SEALED_BYTES = 4096;

/**
 * The AAD a certificate's password is sealed with, binding the sealed blob to its row so it cannot be
 * moved to another certificate (`seal` of `@ksef-certs/ksef/crypto`: `seal(masterKey, password, aad)`).
 * @param certificateId the certificate row id
 * @returns `certificate:<id>:password`
 */
export function sealedPasswordAad(certificateId: string): string {
  return `certificate:${certificateId}:password`;
}

/**
 * Resolves a scope to its owner ids, checking it exists.
 * @param db the database
 * @param scope company, branch or operator by id
 * @returns the scope type with company, branch and operator ids as a certificate row stores them
 * @throws {KsefCertsError} NOT_FOUND when the company, branch or operator does not exist
 * @throws {KsefCertsError} VALIDATION when the scope type is not one of the three
 */
export async function scopeOf(db: Db, scope: Scope): Promise<ResolvedScope> {
  switch (scope.type) {
    case "company": {
      if (!isUuid(scope.companyId)) throw notFound("company", String(scope.companyId));
      const [row] = await db.select({ id: companies.id }).from(companies).where(eq(companies.id, scope.companyId));
      if (row === undefined) throw notFound("company", scope.companyId);
      return { type: "company", companyId: row.id, branchId: null, operatorId: null };
    }
    case "branch": {
      if (!isUuid(scope.branchId)) throw notFound("branch", String(scope.branchId));
      const [row] = await db.select({ id: branches.id, companyId: branches.companyId }).from(branches).where(eq(branches.id, scope.branchId));
      if (row === undefined) throw notFound("branch", scope.branchId);
      return { type: "branch", companyId: row.companyId, branchId: row.id, operatorId: null };
    }
    case "operator": {
      if (!isUuid(scope.operatorId)) throw notFound("operator", String(scope.operatorId));
      const [row] = await db.select({ id: operators.id, companyId: operators.companyId }).from(operators).where(eq(operators.id, scope.operatorId));
      if (row === undefined) throw notFound("operator", scope.operatorId);
      return { type: "operator", companyId: row.companyId, branchId: null, operatorId: row.id };
    }
    default:
      throw new KsefCertsError("VALIDATION", msg("certificates.scope.type"), {
        violations: [{ field: "scope", rule: "scope.type", message: "The scope type must be company, branch or operator." }],
      });
  }
}

/**
 * The rows of one slot: same scope, environment and type.
 * @param s the resolved scope
 * @param environment KSeF environment
 * @param certificateType KSeF type
 */
export function slotCondition(s: ResolvedScope, environment: Environment, certificateType: CertificateTypeName): SQL {
  const table = certificates;
  const owner =
    s.type === "company"
      ? and(eq(table.scopeType, "company"), eq(table.companyId, s.companyId))
      : s.type === "branch"
        ? and(eq(table.scopeType, "branch"), eq(table.branchId, s.branchId ?? ""))
        : and(eq(table.scopeType, "operator"), eq(table.operatorId, s.operatorId ?? ""));
  return and(owner, eq(table.environment, environment), eq(table.certificateType, certificateType)) as SQL;
}

function slotOfRow(row: Pick<CertificateRow, "scopeType" | "companyId" | "branchId" | "operatorId">): ResolvedScope {
  return {
    type: row.scopeType,
    companyId: row.companyId,
    branchId: row.scopeType === "branch" ? row.branchId : null,
    operatorId: row.scopeType === "operator" ? row.operatorId : null,
  };
}

/**
 * Serialises rule checks and changes on one slot across connections and processes (two concurrent
 * imports must not both see "one active" and make three), for the rest of the transaction.
 * The audit log's table lock is taken first, as `appendAudit` takes it later anyway: always the same
 * order (audit, then slot), so a caller whose transaction already appended an entry cannot deadlock
 * with another change of the same slot.
 */
async function lockSlot(tx: Db, s: ResolvedScope, environment: Environment, certificateType: CertificateTypeName): Promise<void> {
  const owner = s.type === "company" ? s.companyId : s.type === "branch" ? s.branchId : s.operatorId;
  const key = `ksef-certs:slot:${s.type}:${owner ?? ""}:${environment}:${certificateType}`;
  await tx.execute(sql`LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE`);
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
}

/** The columns of the certificates table or of an alias of it. */
type CertificateColumns = { readonly status: AnyPgColumn; readonly validFrom: AnyPgColumn; readonly validTo: AnyPgColumn };

/** Active = status `active` and not expired at `at` (not-yet-valid ones count). */
function activeAt(at: Date, table: CertificateColumns = certificates): SQL {
  return and(eq(table.status, "active"), gt(table.validTo, at)) as SQL;
}

/** Valid = active and already started at `at`. */
function validAt(at: Date, table: CertificateColumns = certificates): SQL {
  return and(eq(table.status, "active"), lte(table.validFrom, at), gt(table.validTo, at)) as SQL;
}

/**
 * The name KSeF gave the certificate: its CN without the " (uwierzytelnienie)"/" (offline)" suffix
 * (ksef-docs `certyfikaty-KSeF.md`), else the one-line subject; at most 100 characters.
 * @param info the parsed certificate
 */
export function defaultCertificateName(info: CertificateInfo): string {
  let name = info.commonName ?? info.subjectText;
  for (const suffix of Object.values(KSEF_COMMON_NAME_SUFFIXES)) {
    if (name.endsWith(suffix)) name = name.slice(0, -suffix.length);
  }
  name = name.trim();
  if (name.length === 0) name = `Certificate ${info.serialNumber}`;
  return Array.from(name).slice(0, 100).join("");
}

/** The row without secrets and without the DER, as written to the audit log. */
function auditView(row: CertificateRow): Record<string, unknown> {
  const { keyFile: _k, sealedPassword, certificateDer: _d, ...rest } = row;
  return { ...rest, passwordSealed: sealedPassword !== null };
}

function checkRecordInput(input: RecordCertificateInput): Violation[] {
  const v: Violation[] = [];
  if (!(ENVIRONMENTS as readonly string[]).includes(input.environment)) {
    v.push({ field: "environment", rule: "environment.known", message: `The environment must be one of ${ENVIRONMENTS.join(", ")}.` });
  }
  if (!["current", "queued"].includes(input.mode)) v.push({ field: "mode", rule: "mode.known", message: "The mode must be current or queued." });
  if (!["enrolled", "imported"].includes(input.source)) v.push(violation("source", "source.known"));
  const nameLength = typeof input.name === "string" ? Array.from(input.name.trim()).length : 0;
  if (nameLength < 1 || nameLength > 100) {
    v.push(violation("name", "name.length", { min: 1, max: 100 }));
  }
  if (!(input.keyFile instanceof Uint8Array) || input.keyFile.byteLength === 0) {
    v.push(violation("keyFile", "keyFile.required"));
  } else if (input.keyFile.byteLength > MAX_OBJECT_BYTES) {
    v.push(violation("keyFile", "keyFile.size", { max: MAX_OBJECT_BYTES }));
  }
  if (
    input.sealedPassword !== undefined &&
    (!(input.sealedPassword instanceof Uint8Array) || input.sealedPassword.byteLength === 0 || input.sealedPassword.byteLength > MAX_SEALED_BYTES)
  ) {
    v.push(violation("sealedPassword", "sealedPassword.size", { max: MAX_SEALED_BYTES }));
  }
  if (input.id !== undefined && !isUuid(input.id)) v.push(violation("id", "id.uuid"));
  if (input.enrollmentId !== undefined && !isUuid(input.enrollmentId)) v.push(violation("enrollmentId", "enrollmentId.uuid"));
  return v;
}

/**
 * What every way into the registry checks first, before a key is decrypted or anything written: the
 * certificate's key is one KSeF issues certificates for, and its issuer fits the environment (module comment).
 * Imports call it as soon as they have the certificate; {@link recordCertificate} runs the same checks again.
 * @param info the parsed certificate
 * @param environment the environment it is to be recorded for (an unknown name is left to the record's own check)
 * @param options `allowUnknownIssuer` (see {@link CertificateRuleOptions})
 * @throws {KsefCertsError} `UNSUPPORTED` naming the key type and what KSeF issues (`details.scheme`), from `assertKsefKey`
 * @throws {KsefCertsError} `VALIDATION` with one violation, rule `certificate.environment` (issued for another environment; the
 *   message names it) or `certificate.issuer` (not KSeF's production CA, for production)
 */
export function assertKsefCertificateFits(
  info: CertificateInfo,
  environment: Environment,
  options: Pick<CertificateRuleOptions, "allowUnknownIssuer"> = {},
): void {
  assertKsefKey(info.keyDescription, { what: "The certificate's key" });
  const violation = issuerViolation(info, environment, options);
  if (violation === undefined) return;
  throw new KsefCertsError("VALIDATION", msg("certificates.issuerUnfit", { reason: violation.message }), {
    hint: violation.rule === "certificate.environment" ? msg("certificates.issuerUnfit.environment.hint") : msg("certificates.issuerUnfit.production.hint"),
    violations: [violation],
    details: { issuer: info.issuerText, environment },
  });
}

function issuerViolation(info: CertificateInfo, environment: Environment, options: Pick<CertificateRuleOptions, "allowUnknownIssuer">): Violation | undefined {
  if (!(ENVIRONMENTS as readonly string[]).includes(environment)) return undefined;
  return issuerEnvironmentViolation(info, environment, options.allowUnknownIssuer === true ? { allowUnknownIssuer: true } : {});
}

/** Reads the certificate and the key file far enough to apply the rules; adds violations for what cannot be stored. */
function inspectMaterial(input: RecordCertificateInput, at: Date, v: Violation[], options: CertificateRuleOptions): CertificateInfo | undefined {
  let info: CertificateInfo | undefined;
  if (!(input.certificateDer instanceof Uint8Array) || input.certificateDer.byteLength === 0) {
    v.push(violation("certificate", "certificate.required"));
  } else {
    // MALFORMED / TOO_LARGE from the parser are the right answer for a file that is not a certificate: let them through.
    info = parseCertificate(input.certificateDer);
    // A key KSeF never certifies is not a KSeF certificate at all: UNSUPPORTED, as every import reports it.
    assertKsefKey(info.keyDescription, { what: "The certificate's key" });
    const issuer = issuerViolation(info, input.environment, options);
    if (issuer !== undefined) v.push(issuer);
    if (info.ksefType === undefined) {
      v.push(violation("certificate", "certificate.ksefType"));
    } else if (!info.typeCheck.consistent) {
      v.push(violation("certificate", "certificate.typeConsistent"));
    }
    if (new Date(info.validTo).getTime() <= at.getTime()) {
      v.push(violation("certificate", "certificate.expired", { validTo: info.validTo }));
    }
  }
  if (input.keyFile instanceof Uint8Array && input.keyFile.byteLength > 0 && input.keyFile.byteLength <= MAX_OBJECT_BYTES) {
    let encrypted: boolean;
    try {
      encrypted = inspectPrivateKey(input.keyFile).format === "pkcs8-encrypted";
    } catch {
      encrypted = false;
    }
    if (!encrypted) v.push(violation("keyFile", "keyFile.encrypted"));
  }
  return info;
}

/**
 * Records a certificate for a scope: parses it (KSeF type, serial, validity, subject identifier,
 * fingerprint, one-line subject), applies the rules (module comment), inserts it and its audit entry
 * (`certificate.record`) in one transaction; runs inside the caller's transaction when given one.
 * Queued successors due at `meta.at` are promoted first, so an expired current one does not block.
 * @param db the database or a transaction
 * @param input scope, environment, mode, name, certificate DER, encrypted key file, optional sealed password
 * @param meta actor and clock (`at`, default now) of the change
 * @param options `maxActive` (default 2), `allowUnknownIssuer` (default false)
 * @returns the stored row (secrets included: it is the caller's own input)
 * @throws {KsefCertsError} VALIDATION listing every broken input rule (unknown KSeF type, expired certificate, plain key, name length,
 *   an issuer that does not fit the environment: rules `certificate.environment`, `certificate.issuer`…)
 * @throws {KsefCertsError} UNSUPPORTED when the certificate's key is not one KSeF certifies (EC P-256, RSA-2048)
 * @throws {KsefCertsError} MALFORMED or TOO_LARGE when `certificateDer` is not a certificate
 * @throws {KsefCertsError} NOT_FOUND when the scope does not exist
 * @throws {KsefCertsError} CONFLICT when a rule forbids it: limit reached, a second current, a queued one without a current
 *   one or beside another queued one, or the serial already recorded in that environment
 */
export async function recordCertificate(
  db: Db,
  input: RecordCertificateInput,
  meta: ChangeMeta,
  options: CertificateRuleOptions = {},
): Promise<CertificateRow> {
  const at = meta.at ?? new Date();
  const maxActive = checkMaxActive(options.maxActive);
  const info = validateRecordInput(input, at, options);

  return inTransaction(db, async (tx) => {
    const s = await scopeOf(tx, input.scope);
    await lockSlot(tx, s, input.environment, info.ksefType);
    await promoteInSlot(tx, s, input.environment, info.ksefType, at, "system");

    const [duplicate] = await tx
      .select({ id: certificates.id })
      .from(certificates)
      .where(and(eq(certificates.environment, input.environment), eq(certificates.serialNumber, info.serialNumber)));
    if (duplicate !== undefined) throw duplicateSerial(info.serialNumber, input.environment, duplicate.id);

    const active = await tx
      .select({ id: certificates.id, mode: certificates.mode, validTo: certificates.validTo })
      .from(certificates)
      .where(and(slotCondition(s, input.environment, info.ksefType), activeAt(at)));
    const broken = slotRuleError(s, input, info.ksefType, active, maxActive);
    if (broken !== undefined) throw broken;

    let row: CertificateRow | undefined;
    try {
      [row] = await tx
        .insert(certificates)
        .values(certificateValues(input, s, info, at))
        .returning();
    } catch (err) {
      // The serial check above runs under the slot lock, but a certificate of another type or scope may carry the same serial.
      if (isUniqueViolation(err)) throw duplicateSerial(info.serialNumber, input.environment, input.id ?? "");
      throw err;
    }
    if (row === undefined) throw new KsefCertsError("INTERNAL", msg("certificates.notInserted"));
    await appendAudit(tx, recordAuditEntry(row, meta.actor, at));
    return row;
  });
}

function checkMaxActive(maxActive: number = DEFAULT_MAX_ACTIVE): number {
  if (!Number.isSafeInteger(maxActive) || maxActive < 1 || maxActive > 100) {
    throw new KsefCertsError("VALIDATION", msg("certificates.maxActive.range", { min: 1, max: 100 }), {
      violations: [violation("maxActive", "maxActive.range", { min: 1, max: 100 })],
    });
  }
  return maxActive;
}

type TypedCertificateInfo = CertificateInfo & { readonly ksefType: CertificateTypeName };

/** The input rules that need no database: every broken one in one VALIDATION error; MALFORMED/TOO_LARGE from the parser, UNSUPPORTED for a key KSeF never certifies. */
function validateRecordInput(input: RecordCertificateInput, at: Date, options: CertificateRuleOptions): TypedCertificateInfo {
  const violations = checkRecordInput(input);
  const info = inspectMaterial(input, at, violations, options);
  assertValid(violations, "The certificate");
  if (info === undefined || info.ksefType === undefined) throw new KsefCertsError("INTERNAL", msg("certificates.unreadable"));
  return info as TypedCertificateInfo;
}

/** The slot rules (limit, one current, queued needs a current, one queued) against the slot's active rows; undefined when they allow `input`. */
function slotRuleError(
  s: ResolvedScope,
  input: Pick<RecordCertificateInput, "environment" | "mode">,
  certificateType: CertificateTypeName,
  active: readonly { readonly id: string; readonly mode: "current" | "queued"; readonly validTo: Date }[],
  maxActive: number,
): KsefCertsError | undefined {
  const slot = { scopeType: s.type, environment: input.environment, certificateType };
  if (active.length >= maxActive) {
    return new KsefCertsError("CONFLICT", msg("certificates.slot.maxActive", { ...slot, count: active.length, max: maxActive }), {
      hint: msg("certificates.slot.maxActive.hint"),
      details: { rule: "maxActive", maxActive, activeIds: active.map((r) => r.id) },
    });
  }
  const current = active.find((r) => r.mode === "current");
  const queued = active.find((r) => r.mode === "queued");
  if (input.mode === "current" && current !== undefined) {
    return new KsefCertsError("CONFLICT", msg("certificates.slot.oneCurrent", { ...slot, validTo: current.validTo.toISOString() }), {
      hint: msg("certificates.slot.oneCurrent.hint"),
      details: { rule: "oneCurrent", currentId: current.id },
    });
  }
  if (input.mode === "queued" && current === undefined) {
    return new KsefCertsError("CONFLICT", msg("certificates.slot.queuedNeedsCurrent", slot), {
      hint: msg("certificates.slot.queuedNeedsCurrent.hint"),
      details: { rule: "queuedNeedsCurrent" },
    });
  }
  if (input.mode === "queued" && queued !== undefined) {
    return new KsefCertsError("CONFLICT", msg("certificates.slot.oneQueued", slot), {
      hint: msg("certificates.slot.oneQueued.hint"),
      details: { rule: "oneQueued", queuedId: queued.id },
    });
  }
  return undefined;
}

/** The row to insert for `input` in scope `s`. */
function certificateValues(
  input: RecordCertificateInput,
  s: ResolvedScope,
  info: TypedCertificateInfo,
  at: Date,
): typeof certificates.$inferInsert & { id: string } {
  return {
    id: input.id ?? randomUUID(),
    scopeType: s.type,
    companyId: s.companyId,
    branchId: s.branchId,
    operatorId: s.operatorId,
    environment: input.environment,
    certificateType: info.ksefType,
    mode: input.mode,
    name: input.name.trim(),
    serialNumber: info.serialNumber,
    subjectIdentifierType: info.subjectIdentifier.type,
    subjectIdentifierValue: info.subjectIdentifier.value,
    subject: info.subjectText,
    fingerprint: info.fingerprintSha256,
    validFrom: new Date(info.validFrom),
    validTo: new Date(info.validTo),
    status: "active",
    certificateDer: info.der,
    keyFile: input.keyFile,
    sealedPassword: input.sealedPassword ?? null,
    source: input.source,
    enrollmentId: input.enrollmentId ?? null,
    createdAt: at,
    updatedAt: at,
  };
}

function recordAuditEntry(row: CertificateRow, actor: string, at: Date): AuditEntryInput {
  return { actor, action: "certificate.record", entityType: "certificate", entityId: row.id, after: auditView(row), at };
}

/** What {@link recordCertificates} did with one input: the stored row, or the error {@link recordCertificate} would have thrown. */
export type RecordOutcome = { readonly ok: true; readonly row: CertificateRow } | { readonly ok: false; readonly error: KsefCertsError };

/** Rows per multi-row certificate insert (25 columns each: well under PostgreSQL's 65 535 parameters). */
const INSERT_ROWS = 500;
/** Ids per `IN (…)` list. */
const IN_LIST = 1000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function slotKey(s: ResolvedScope, environment: Environment, certificateType: CertificateTypeName): string {
  const owner = s.type === "company" ? s.companyId : s.type === "branch" ? s.branchId : s.operatorId;
  return `ksef-certs:slot:${s.type}:${owner ?? ""}:${environment}:${certificateType}`;
}

function scopeKey(scope: Scope): string {
  return `${scope.type}:${scope.type === "company" ? scope.companyId : scope.type === "branch" ? scope.branchId : scope.operatorId}`;
}

/** Resolves distinct scopes with one query per scope kind; an unknown one maps to the error {@link scopeOf} throws for it. */
async function scopesOf(tx: Db, scopes: readonly Scope[]): Promise<Map<string, ResolvedScope | KsefCertsError>> {
  const key = scopeKey;
  const out = new Map<string, ResolvedScope | KsefCertsError>();
  const wanted = { company: new Set<string>(), branch: new Set<string>(), operator: new Set<string>() };
  for (const scope of scopes) {
    const k = key(scope);
    if (out.has(k)) continue;
    // Scopes come from outside: the type may be none of the three and the id not a string.
    const raw = scope as unknown as Record<string, unknown>;
    const id = typeof raw["type"] === "string" ? raw[`${raw["type"]}Id`] : undefined;
    if (!isUuid(id) || !Object.hasOwn(wanted, scope.type)) {
      // No query happens for these: scopeOf throws before it asks the database.
      out.set(k, await scopeOf(tx, scope).then((): KsefCertsError => new KsefCertsError("INTERNAL", msg("certificates.scopeMalformed")), asRecordError));
      continue;
    }
    wanted[scope.type].add(id);
    out.set(k, notFound(scope.type, id));
  }
  for (const ids of chunks([...wanted.company], IN_LIST)) {
    for (const r of await tx.select({ id: companies.id }).from(companies).where(inArray(companies.id, ids)))
      out.set(`company:${r.id}`, { type: "company", companyId: r.id, branchId: null, operatorId: null });
  }
  for (const ids of chunks([...wanted.branch], IN_LIST)) {
    for (const r of await tx.select({ id: branches.id, companyId: branches.companyId }).from(branches).where(inArray(branches.id, ids))) {
      out.set(`branch:${r.id}`, { type: "branch", companyId: r.companyId, branchId: r.id, operatorId: null });
    }
  }
  for (const ids of chunks([...wanted.operator], IN_LIST)) {
    for (const r of await tx.select({ id: operators.id, companyId: operators.companyId }).from(operators).where(inArray(operators.id, ids))) {
      out.set(`operator:${r.id}`, { type: "operator", companyId: r.companyId, branchId: null, operatorId: r.id });
    }
  }
  return new Map(scopes.map((scope) => [key(scope), out.get(key(scope)) as ResolvedScope | KsefCertsError]));
}

function asRecordError(err: unknown): KsefCertsError {
  if (err instanceof KsefCertsError) return err;
  throw err;
}

type ActiveRow = { readonly id: string; readonly mode: "current" | "queued"; readonly validFrom: Date; readonly validTo: Date };

/** The active rows of every slot in `slots` (keyed by {@link slotKey}), in a few set-wise queries. */
async function activeRowsOf(
  tx: Db,
  slots: ReadonlyMap<string, { s: ResolvedScope; environment: Environment; certificateType: CertificateTypeName }>,
  at: Date,
): Promise<Map<string, ActiveRow[]>> {
  const out = new Map<string, ActiveRow[]>([...slots.keys()].map((k) => [k, []]));
  const owners = { company: new Set<string>(), branch: new Set<string>(), operator: new Set<string>() };
  for (const { s } of slots.values()) owners[s.type].add((s.type === "company" ? s.companyId : s.type === "branch" ? s.branchId : s.operatorId) ?? "");
  const column = { company: certificates.companyId, branch: certificates.branchId, operator: certificates.operatorId } as const;
  for (const type of ["company", "branch", "operator"] as const) {
    for (const ids of chunks([...owners[type]], IN_LIST)) {
      const rows = await tx
        .select({ id: certificates.id, mode: certificates.mode, validFrom: certificates.validFrom, validTo: certificates.validTo, ...SLOT_COLUMNS })
        .from(certificates)
        .where(and(eq(certificates.scopeType, type), inArray(column[type], ids), activeAt(at)))
        .orderBy(asc(certificates.createdAt), asc(certificates.id));
      for (const r of rows)
        out.get(slotKey(slotOfRow(r), r.environment, r.certificateType))?.push({ id: r.id, mode: r.mode, validFrom: r.validFrom, validTo: r.validTo });
    }
  }
  return out;
}

/**
 * Records many certificates in one transaction, with the same rules and the same outcome per input as
 * calling {@link recordCertificate} for each in order and skipping the ones that throw (an earlier input
 * counts against a later one in the same slot, a serial repeated in the batch is a duplicate). Set-wise:
 * scopes, slot locks, active rows and serials are read with a few queries for the whole batch, rows and
 * their `certificate.record` audit entries are written with multi-row inserts. Due queued successors in
 * the batch's slots are promoted first, as any reader would. Meant for imports of many pairs.
 * @param db the database or a transaction (the caller's transaction is used when given: an atomic caller
 *   throws when an outcome failed, so nothing is kept)
 * @param inputs the certificates, in the order they count
 * @param meta actor and clock (`at`, default now)
 * @param options `maxActive` (default 2), `allowUnknownIssuer` (default false)
 * @returns one outcome per input, in order: the stored row, or the VALIDATION / UNSUPPORTED / MALFORMED / TOO_LARGE / NOT_FOUND /
 *   CONFLICT error recordCertificate would have thrown for it
 * @throws {KsefCertsError} VALIDATION for a `maxActive` out of range; CONFLICT (rule `uniqueSerial`) when a concurrent
 *   writer recorded one of the serials meanwhile (nothing of the batch is kept: retry, or record one by one)
 */
export async function recordCertificates(
  db: Db,
  inputs: readonly RecordCertificateInput[],
  meta: ChangeMeta,
  options: CertificateRuleOptions = {},
): Promise<RecordOutcome[]> {
  const at = meta.at ?? new Date();
  const maxActive = checkMaxActive(options.maxActive);
  const outcomes = new Array<RecordOutcome | undefined>(inputs.length);
  const valid: { index: number; input: RecordCertificateInput; info: TypedCertificateInfo }[] = [];
  inputs.forEach((input, index) => {
    try {
      valid.push({ index, input, info: validateRecordInput(input, at, options) });
    } catch (err) {
      outcomes[index] = { ok: false, error: asRecordError(err) };
    }
  });
  if (valid.length === 0) return outcomes as RecordOutcome[];

  return inTransaction(db, async (tx) => {
    const scopes = await scopesOf(
      tx,
      valid.map((v) => v.input.scope),
    );
    const slots = new Map<string, { s: ResolvedScope; environment: Environment; certificateType: CertificateTypeName }>();
    const placed = valid.flatMap((v) => {
      const s = scopes.get(scopeKey(v.input.scope));
      if (s === undefined || s instanceof KsefCertsError) {
        outcomes[v.index] = { ok: false, error: s ?? new KsefCertsError("INTERNAL", msg("certificates.scopeUnresolved")) };
        return [];
      }
      const key = slotKey(s, v.input.environment, v.info.ksefType);
      slots.set(key, { s, environment: v.input.environment, certificateType: v.info.ksefType });
      return [{ ...v, s, key }];
    });
    if (placed.length === 0) return outcomes as RecordOutcome[];

    // The same locks as lockSlot, in one order (audit log first, then the slots sorted), so batches and single changes cannot deadlock.
    await tx.execute(sql`LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE`);
    for (const keys of chunks([...slots.keys()].sort(), IN_LIST)) {
      await tx.execute(
        sql`SELECT pg_advisory_xact_lock(hashtextextended(v.k, 0)) FROM (VALUES ${sql.join(
          keys.map((k) => sql`(${k})`),
          sql`, `,
        )}) AS v(k)`,
      );
    }
    const active = await activeRowsOf(tx, slots, at);
    for (const [key, rows] of active) {
      const due = !rows.some((r) => r.mode === "current") && rows.some((r) => r.mode === "queued" && r.validFrom.getTime() <= at.getTime());
      const slot = slots.get(key);
      if (!due || slot === undefined) continue;
      await promoteInSlot(tx, slot.s, slot.environment, slot.certificateType, at, "system");
      const reread = await tx
        .select({ id: certificates.id, mode: certificates.mode, validFrom: certificates.validFrom, validTo: certificates.validTo })
        .from(certificates)
        .where(and(slotCondition(slot.s, slot.environment, slot.certificateType), activeAt(at)))
        .orderBy(asc(certificates.createdAt), asc(certificates.id));
      active.set(key, reread);
    }

    const existing = new Map<string, string>();
    for (const serials of chunks([...new Set(placed.map((p) => p.info.serialNumber))], IN_LIST)) {
      const rows = await tx
        .select({ id: certificates.id, environment: certificates.environment, serialNumber: certificates.serialNumber })
        .from(certificates)
        .where(inArray(certificates.serialNumber, serials));
      for (const r of rows) existing.set(`${r.environment}|${r.serialNumber}`, r.id);
    }

    const values: (typeof certificates.$inferInsert & { id: string })[] = [];
    for (const p of placed) {
      const serialKey = `${p.input.environment}|${p.info.serialNumber}`;
      const duplicate = existing.get(serialKey);
      const slotRows = active.get(p.key) ?? [];
      const error =
        duplicate !== undefined
          ? duplicateSerial(p.info.serialNumber, p.input.environment, duplicate)
          : slotRuleError(p.s, p.input, p.info.ksefType, slotRows, maxActive);
      if (error !== undefined) {
        outcomes[p.index] = { ok: false, error };
        continue;
      }
      const v = certificateValues(p.input, p.s, p.info, at);
      values.push(v);
      existing.set(serialKey, v.id);
      slotRows.push({ id: v.id, mode: p.input.mode, validFrom: new Date(p.info.validFrom), validTo: new Date(p.info.validTo) });
      active.set(p.key, slotRows);
      outcomes[p.index] = { ok: true, row: { ...v, revokedAt: null, revocationReason: null } as CertificateRow };
    }
    try {
      for (const part of chunks(values, INSERT_ROWS)) await tx.insert(certificates).values(part);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new KsefCertsError("CONFLICT", msg("certificates.batchRace"), {
          hint: msg("certificates.batchRace.hint"),
          details: { rule: "uniqueSerial" },
          cause: err,
        });
      }
      throw err;
    }
    await appendAuditBatch(
      tx,
      outcomes.flatMap((o) => (o?.ok === true ? [recordAuditEntry(o.row, meta.actor, at)] : [])),
    );
    return outcomes as RecordOutcome[];
  });
}

function duplicateSerial(serial: string, environment: Environment, existingId: string): KsefCertsError {
  return new KsefCertsError("CONFLICT", msg("certificates.duplicateSerial", { serial, environment }), {
    hint: msg("certificates.duplicateSerial.hint"),
    details: { rule: "uniqueSerial", serialNumber: serial, environment, ...(existingId === "" ? {} : { existingId }) },
  });
}

/** The columns that name a slot (scope, environment, type): what {@link promoteQueued} and the reports group by. */
export const SLOT_COLUMNS = {
  scopeType: certificates.scopeType,
  companyId: certificates.companyId,
  branchId: certificates.branchId,
  operatorId: certificates.operatorId,
  environment: certificates.environment,
  certificateType: certificates.certificateType,
};

/** One promotion done by {@link promoteQueued}. */
export interface Promotion {
  /** The queued certificate that became current. */
  readonly certificateId: string;
  /** The current certificate it replaces (expired or revoked), if one is recorded. */
  readonly replacedId: string | null;
  readonly scope: ResolvedScope;
  readonly environment: Environment;
  readonly certificateType: CertificateTypeName;
}

/** Which slots {@link promoteQueued} looks at (all when empty). */
export interface PromotionFilter {
  readonly companyId?: string;
  readonly environment?: Environment;
  readonly certificateType?: CertificateTypeName;
}

/**
 * Queued successors take over by themselves: for each (scope, environment, type) that has no current
 * certificate valid-or-pending at `at` (its current one expired or was revoked) and a queued one valid
 * at `at`, the queued one becomes current, with an audit entry `certificate.promote` (its `after.effectiveAt` is
 * the moment the takeover happened: the later of the successor's start and the end of the one it replaces). Cheap
 * when there is nothing to do (one query). Background work calls it with the real clock; readers never do.
 * @param db the database or a transaction
 * @param meta the clock (`at`, default now) and actor (default `system`)
 * @param filter limit to one company / environment / type
 * @returns the promotions made
 */
export async function promoteQueued(db: Db, meta: { readonly at?: Date; readonly actor?: string } = {}, filter: PromotionFilter = {}): Promise<Promotion[]> {
  const at = meta.at ?? new Date();
  const actor = meta.actor ?? "system";
  const cur = alias(certificates, "cur");
  const conditions: SQL[] = [eq(certificates.mode, "queued"), validAt(at)];
  if (filter.companyId !== undefined) {
    if (!isUuid(filter.companyId)) return [];
    conditions.push(eq(certificates.companyId, filter.companyId));
  }
  if (filter.environment !== undefined) conditions.push(eq(certificates.environment, filter.environment));
  if (filter.certificateType !== undefined) conditions.push(eq(certificates.certificateType, filter.certificateType));
  // Two small queries instead of one anti-join: the due queued certificates are few (the partial index
  // certificates_queued finds them), while an anti-join against every current certificate scanned the whole
  // table (measured with 100 000 certificates: 6x the raw report; bench/registry.ts).
  const queued = await db
    .select(SLOT_COLUMNS)
    .from(certificates)
    .where(and(...conditions));
  if (queued.length === 0) return [];
  const slotKey = (r: (typeof queued)[number]): string =>
    [r.scopeType, r.companyId, r.branchId ?? "", r.operatorId ?? "", r.environment, r.certificateType].join("|");
  const companyIds = [...new Set(queued.map((q) => q.companyId))];
  const covering = await db
    .select({
      scopeType: cur.scopeType,
      companyId: cur.companyId,
      branchId: cur.branchId,
      operatorId: cur.operatorId,
      environment: cur.environment,
      certificateType: cur.certificateType,
    })
    .from(cur)
    .where(and(eq(cur.mode, "current"), activeAt(at, cur), inArray(cur.companyId, companyIds)));
  const covered = new Set(covering.map(slotKey));
  const seen = new Set<string>();
  const candidates = queued.filter((q) => {
    const k = slotKey(q);
    if (covered.has(k) || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const done: Promotion[] = [];
  for (const c of candidates) {
    const s = slotOfRow(c);
    const promoted = await inTransaction(db, async (tx) => {
      await lockSlot(tx, s, c.environment, c.certificateType);
      return promoteInSlot(tx, s, c.environment, c.certificateType, at, actor);
    });
    if (promoted !== undefined) done.push(promoted);
  }
  return done;
}

/** Promotes the slot's queued certificate if its current one is gone; call with the slot locked. */
async function promoteInSlot(
  tx: Db,
  s: ResolvedScope,
  environment: Environment,
  certificateType: CertificateTypeName,
  at: Date,
  actor: string,
): Promise<Promotion | undefined> {
  const rows = await tx
    .select()
    .from(certificates)
    .where(and(slotCondition(s, environment, certificateType), activeAt(at)));
  if (rows.some((r) => r.mode === "current")) return undefined;
  const successor = rows
    .filter((r) => r.mode === "queued" && r.validFrom.getTime() <= at.getTime())
    .sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime())[0];
  if (successor === undefined) return undefined;
  const [replaced] = await tx
    .select({ id: certificates.id, status: certificates.status, validTo: certificates.validTo, revokedAt: certificates.revokedAt })
    .from(certificates)
    .where(and(slotCondition(s, environment, certificateType), eq(certificates.mode, "current")))
    .orderBy(desc(certificates.validTo))
    .limit(1);
  const [after] = await tx.update(certificates).set({ mode: "current", updatedAt: at }).where(eq(certificates.id, successor.id)).returning();
  if (after === undefined) return undefined;
  await appendAudit(tx, {
    actor,
    action: "certificate.promote",
    entityType: "certificate",
    entityId: successor.id,
    before: { mode: "queued" },
    after: {
      mode: "current",
      replacedId: replaced?.id ?? null,
      replacedBecause: replaced === undefined ? "none" : replaced.status === "revoked" ? "revoked" : "expired",
      effectiveAt: new Date(
        Math.max(successor.validFrom.getTime(), replaced === undefined ? 0 : Math.min(replaced.validTo.getTime(), replaced.revokedAt?.getTime() ?? Infinity)),
      ).toISOString(),
    },
    at,
  });
  return { certificateId: successor.id, replacedId: replaced?.id ?? null, scope: s, environment, certificateType };
}

/** What a certificate is at a given moment. */
export type CertificateState = "active" | "notYetValid" | "expired" | "revoked";

/** A certificate as listed: no key file, no sealed password, no DER. */
export type CertificateSummary = Omit<CertificateRow, "keyFile" | "sealedPassword" | "certificateDer"> & {
  /** Whether a sealed password is stored (unattended use possible). */
  readonly passwordSealed: boolean;
  /** At the clock of the query. */
  readonly state: CertificateState;
  /** Whole days from the clock of the query to `validTo`, rounded down; negative once expired. */
  readonly daysToExpiry: number;
};

/** {@link listCertificates} filter. */
export interface CertificateFilter {
  readonly companyId?: string;
  /** Branch-scope certificates of this branch. */
  readonly branchId?: string;
  /** Operator-scope certificates of this operator. */
  readonly operatorId?: string;
  readonly scopeType?: "company" | "branch" | "operator";
  readonly environment?: Environment;
  readonly certificateType?: CertificateTypeName;
  readonly mode?: "current" | "queued";
  /** `active`: not revoked and not expired at `at` (not-yet-valid included); `expired`; `revoked`. */
  readonly status?: "active" | "expired" | "revoked";
  /** Active certificates whose `validTo` is within this many days after `at`. */
  readonly expiringWithinDays?: number;
  readonly serialNumber?: string;
  /** The clock for states, expiry and promotion; default now. */
  readonly at?: Date;
  /** Page size (1..10 000) and offset; default all rows. */
  readonly limit?: number;
  readonly offset?: number;
}

const summaryColumns = {
  id: certificates.id,
  scopeType: certificates.scopeType,
  companyId: certificates.companyId,
  branchId: certificates.branchId,
  operatorId: certificates.operatorId,
  environment: certificates.environment,
  certificateType: certificates.certificateType,
  mode: certificates.mode,
  name: certificates.name,
  serialNumber: certificates.serialNumber,
  subjectIdentifierType: certificates.subjectIdentifierType,
  subjectIdentifierValue: certificates.subjectIdentifierValue,
  subject: certificates.subject,
  fingerprint: certificates.fingerprint,
  validFrom: certificates.validFrom,
  validTo: certificates.validTo,
  status: certificates.status,
  revokedAt: certificates.revokedAt,
  revocationReason: certificates.revocationReason,
  source: certificates.source,
  enrollmentId: certificates.enrollmentId,
  createdAt: certificates.createdAt,
  updatedAt: certificates.updatedAt,
  passwordSealed: sql<boolean>`${certificates.sealedPassword} IS NOT NULL`,
};

type SummaryRow = Omit<CertificateSummary, "state" | "daysToExpiry">;

/**
 * The state of a certificate at `at`.
 * @param row status and validity
 * @param at the clock
 */
export function certificateStateAt(row: Pick<CertificateRow, "status" | "validFrom" | "validTo">, at: Date): CertificateState {
  if (row.status === "revoked") return "revoked";
  if (row.validTo.getTime() <= at.getTime()) return "expired";
  if (row.validFrom.getTime() > at.getTime()) return "notYetValid";
  return "active";
}

/**
 * Adds `state` and `daysToExpiry` at `at`.
 * @param row a summary row
 * @param at the clock
 */
export function summarize(row: SummaryRow, at: Date): CertificateSummary {
  return {
    ...row,
    passwordSealed: row.passwordSealed,
    state: certificateStateAt(row, at),
    daysToExpiry: Math.floor((row.validTo.getTime() - at.getTime()) / MS_PER_DAY),
  };
}

/** Selects summaries (no secrets, no DER) matching `where`. */
export function selectSummaries(db: Db, where: SQL | undefined): Promise<SummaryRow[]> {
  return db.select(summaryColumns).from(certificates).where(where);
}

/**
 * Lists certificates with their state and days to expiry, soonest expiry first, as stored (a read: queued
 * successors' takeovers are persisted by background work, never here).
 * @param db the database
 * @param filter see {@link CertificateFilter}
 * @returns summaries without key file, sealed password or DER (see {@link getCertificateSecrets})
 * @throws {KsefCertsError} VALIDATION for a negative `expiringWithinDays` or a page size out of range
 */
export async function listCertificates(db: Db, filter: CertificateFilter = {}): Promise<CertificateSummary[]> {
  const at = filter.at ?? new Date();
  const v: Violation[] = [];
  if (filter.expiringWithinDays !== undefined && !(Number.isFinite(filter.expiringWithinDays) && filter.expiringWithinDays >= 0)) {
    v.push(violation("expiringWithinDays", "expiringWithinDays.range"));
  }
  if (filter.limit !== undefined && !(Number.isSafeInteger(filter.limit) && filter.limit >= 1 && filter.limit <= 10_000)) {
    v.push({ field: "limit", rule: "limit.range", message: "limit must be an integer from 1 to 10000." });
  }
  if (filter.offset !== undefined && !(Number.isSafeInteger(filter.offset) && filter.offset >= 0)) {
    v.push(violation("offset", "offset.range"));
  }
  assertValid(v, "The certificate filter");
  for (const id of [filter.companyId, filter.branchId, filter.operatorId]) if (id !== undefined && !isUuid(id)) return [];

  const c: SQL[] = [];
  if (filter.companyId !== undefined) c.push(eq(certificates.companyId, filter.companyId));
  if (filter.branchId !== undefined) c.push(eq(certificates.branchId, filter.branchId));
  if (filter.operatorId !== undefined) c.push(eq(certificates.operatorId, filter.operatorId));
  if (filter.scopeType !== undefined) c.push(eq(certificates.scopeType, filter.scopeType));
  if (filter.environment !== undefined) c.push(eq(certificates.environment, filter.environment));
  if (filter.certificateType !== undefined) c.push(eq(certificates.certificateType, filter.certificateType));
  if (filter.mode !== undefined) c.push(eq(certificates.mode, filter.mode));
  if (filter.serialNumber !== undefined) c.push(eq(certificates.serialNumber, filter.serialNumber.toUpperCase()));
  if (filter.status === "active") c.push(activeAt(at));
  if (filter.status === "expired") c.push(and(eq(certificates.status, "active"), lte(certificates.validTo, at)) as SQL);
  if (filter.status === "revoked") c.push(eq(certificates.status, "revoked"));
  if (filter.expiringWithinDays !== undefined) {
    c.push(activeAt(at), lte(certificates.validTo, new Date(at.getTime() + filter.expiringWithinDays * MS_PER_DAY)));
  }
  let query = db
    .select(summaryColumns)
    .from(certificates)
    .where(c.length === 0 ? undefined : and(...c))
    .orderBy(asc(certificates.validTo), asc(certificates.id))
    .$dynamic();
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  if (filter.offset !== undefined) query = query.offset(filter.offset);
  const rows = (await query) as unknown as SummaryRow[];
  return rows.map((r) => summarize(r, at));
}

/**
 * One certificate with its DER (for display and export), without secrets.
 * @param db the database
 * @param id certificate id
 * @param at clock for state and days to expiry; default now
 * @throws {KsefCertsError} NOT_FOUND for an unknown id
 */
export async function getCertificate(db: Db, id: string, at: Date = new Date()): Promise<CertificateSummary & { readonly certificateDer: Uint8Array }> {
  if (!isUuid(id)) throw notFound("certificate", String(id));
  const [row] = await db
    .select({ ...summaryColumns, certificateDer: certificates.certificateDer })
    .from(certificates)
    .where(eq(certificates.id, id));
  if (row === undefined) throw notFound("certificate", id);
  const { certificateDer, ...rest } = row as unknown as SummaryRow & { certificateDer: Uint8Array };
  return { ...summarize(rest, at), certificateDer };
}

/** What {@link getCertificateSecrets} returns: what it takes to use or export the key. */
export interface CertificateSecrets {
  readonly id: string;
  readonly certificateDer: Uint8Array;
  /** The encrypted PKCS#8 key file, bytes exactly as stored. */
  readonly keyFile: Uint8Array;
  /** The sealed password, or null when none was sealed (ask the person). */
  readonly sealedPassword: Uint8Array | null;
  /** The AAD to unseal it with ({@link sealedPasswordAad}). */
  readonly sealedPasswordAad: string;
}

/**
 * The key file and sealed password of one certificate (the only reader that returns them).
 * @param db the database
 * @param id certificate id
 * @throws {KsefCertsError} NOT_FOUND for an unknown id
 */
export async function getCertificateSecrets(db: Db, id: string): Promise<CertificateSecrets> {
  if (!isUuid(id)) throw notFound("certificate", String(id));
  const [row] = await db
    .select({ id: certificates.id, certificateDer: certificates.certificateDer, keyFile: certificates.keyFile, sealedPassword: certificates.sealedPassword })
    .from(certificates)
    .where(eq(certificates.id, id));
  if (row === undefined) throw notFound("certificate", id);
  return { ...row, sealedPasswordAad: sealedPasswordAad(row.id) };
}

/**
 * Marks a certificate revoked here (status `revoked`, `revokedAt`, reason) with an audit entry
 * `certificate.revoke`, and promotes its queued successor when it was the current one. Revoking it in
 * KSeF (`POST /certificates/{serial}/revoke`) is the caller's business, before or after.
 * @param db the database
 * @param id certificate id
 * @param reason why (free text, 1–200 characters; KSeF's reasons are Unspecified, Superseded, KeyCompromise)
 * @param meta actor and clock
 * @returns the updated certificate, and the promotion if one happened
 * @throws {KsefCertsError} NOT_FOUND for an unknown id; CONFLICT when already revoked; VALIDATION for an empty or long reason
 */
export async function revokeCertificateLocally(
  db: Db,
  id: string,
  reason: string,
  meta: ChangeMeta,
): Promise<{ certificate: CertificateSummary; promoted: Promotion | undefined }> {
  const at = meta.at ?? new Date();
  const text = typeof reason === "string" ? reason.trim() : "";
  if (text.length === 0 || Array.from(text).length > 200) {
    throw new KsefCertsError("VALIDATION", msg("certificates.revocationReason.length", { min: 1, max: 200 }), {
      violations: [violation("reason", "reason.length", { min: 1, max: 200 })],
    });
  }
  if (!isUuid(id)) throw notFound("certificate", String(id));
  return inTransaction(db, async (tx) => {
    const [before] = await tx.select().from(certificates).where(eq(certificates.id, id));
    if (before === undefined) throw notFound("certificate", id);
    const s = slotOfRow(before);
    await lockSlot(tx, s, before.environment, before.certificateType);
    const [row] = await tx
      .update(certificates)
      .set({ status: "revoked", revokedAt: at, revocationReason: text, updatedAt: at })
      .where(and(eq(certificates.id, id), eq(certificates.status, "active")))
      .returning();
    if (row === undefined) {
      throw new KsefCertsError("CONFLICT", msg("certificates.alreadyRevoked", { serial: before.serialNumber }), {
        details: { id, revokedAt: before.revokedAt?.toISOString() ?? null },
      });
    }
    await appendAudit(tx, {
      actor: meta.actor,
      action: "certificate.revoke",
      entityType: "certificate",
      entityId: id,
      before: { status: before.status },
      after: { status: "revoked", revokedAt: at, revocationReason: text },
      at,
    });
    const promoted = await promoteInSlot(tx, s, before.environment, before.certificateType, at, "system");
    const { keyFile: _k, sealedPassword, certificateDer: _d, ...rest } = row;
    return { certificate: summarize({ ...rest, passwordSealed: sealedPassword !== null }, at), promoted };
  });
}

export { ENVIRONMENTS, type CertificateTypeName, type ChangeMeta, type Environment };
