/**
 * The registry's certificate use cases as a principal acts through them: reading one certificate with its
 * exports and history, resolving which certificate serves a scope, importing a pair or a PKCS#12 file, and moving a
 * certificate to another scope. Each authorizes first (rules.ts); the CLI acts through them as the local system.
 */
import { listCertificateExports, type CertificateExportRecord } from "../adapters/export.js";
import { assignCertificate, type AssignResult } from "../registry/assign.js";
import { getCertificate, type CertificateRow, type CertificateSummary } from "../registry/certificates.js";
import { importCertificatePair, importPkcs12, type ImportCertificatePairInput, type ImportPkcs12Input } from "../registry/import.js";
import type { ChangeMeta } from "../registry/internal.js";
import { certificateFor, type CertificateForInput, type CertificateResolution } from "../registry/resolve.js";
import type { AuditEntry } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { listAuditEntries } from "./audit.js";
import { listVisibleCertificates, type VisibleCertificate } from "./certificates.js";
import { authorizeEntity, type Principal } from "./rules.js";
import { authorizeScopeRef, type ScopeRef } from "./scope.js";

/** One certificate as {@link getCertificateDetailAs} shows it. */
export interface CertificateDetail {
  /** The certificate with its DER (never the key or a password). */
  readonly certificate: CertificateSummary & { readonly certificateDer: Uint8Array };
  /** Its row as the principal's list shows it (with scope names); null if the list cannot find it. */
  readonly listed: VisibleCertificate | null;
  /** Where it was exported to, newest first. */
  readonly exports: CertificateExportRecord[];
  /** Its audit entries (up to 200), newest first. */
  readonly audit: AuditEntry[];
}

/**
 * One certificate with its exports and audit history, when the principal may read it.
 * @param db the database
 * @param principal who asks
 * @param id the certificate
 * @param at the clock for its state
 * @throws {KsefCertsError} NOT_FOUND for an unknown certificate or one the principal may not read
 */
export async function getCertificateDetailAs(db: Db, principal: Principal, id: string, at: Date): Promise<CertificateDetail> {
  await authorizeEntity(db, principal, "certificate", id, "read");
  const certificate = await getCertificate(db, id, at);
  const page = await listVisibleCertificates(db, principal, { at, search: certificate.serialNumber, environment: certificate.environment, limit: 200 });
  const listed = page.items.find((x) => x.id === certificate.id) ?? null;
  const exports = await listCertificateExports(db, id);
  const audit = (await listAuditEntries(db, { entityId: id, limit: 200 })).entries;
  return { certificate, listed, exports, audit };
}

/**
 * Which certificate serves a scope (registry `certificateFor`), when the principal may read every entity named: the
 * operator and the branch separately (an operator may work at several branches), each of the company given.
 * @param db the database
 * @param principal who asks
 * @param input the company, and optionally the branch and the operator, with environment, type and clock
 * @returns the resolution (its certificate may be of a wider scope: a branch admin reads its company's certificates)
 * @throws {KsefCertsError} NOT_FOUND for what the principal may not read; VALIDATION for an entity of another company
 */
export async function resolveCertificateAs(
  db: Db,
  principal: Principal,
  input: ScopeRef & Omit<CertificateForInput, "operatorId" | "branchId" | "companyId">,
): Promise<CertificateResolution> {
  if (input.branchId !== undefined) await authorizeScopeRef(db, principal, { companyId: input.companyId, branchId: input.branchId }, "read");
  await authorizeScopeRef(db, principal, input, "read");
  const { branchId, operatorId, ...rest } = input;
  return certificateFor(db, { ...rest, ...(branchId === undefined ? {} : { branchId }), ...(operatorId === undefined ? {} : { operatorId }) });
}

/**
 * Imports a certificate with its key file into a scope the principal may change (registry `importCertificatePair`).
 * @param db the database
 * @param principal who acts
 * @param input the import, its scope given by ids
 * @param meta actor and clock
 * @returns the stored certificate row
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN / VALIDATION for the scope (see {@link authorizeScopeRef}); the import's errors
 */
export async function importCertificatePairAs(
  db: Db,
  principal: Principal,
  input: Omit<ImportCertificatePairInput, "scope"> & { readonly scope: ScopeRef },
  meta: ChangeMeta,
): Promise<CertificateRow> {
  const { scope } = await authorizeScopeRef(db, principal, input.scope, "write");
  return importCertificatePair(db, { ...input, scope }, meta);
}

/**
 * Imports a PKCS#12 file into a scope the principal may change (registry `importPkcs12`).
 * @param db the database
 * @param principal who acts
 * @param input the import, its scope given by ids
 * @param meta actor and clock
 * @returns the stored certificate row
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN / VALIDATION for the scope (see {@link authorizeScopeRef}); the import's errors
 */
export async function importPkcs12As(
  db: Db,
  principal: Principal,
  input: Omit<ImportPkcs12Input, "scope"> & { readonly scope: ScopeRef },
  meta: ChangeMeta,
): Promise<CertificateRow> {
  const { scope } = await authorizeScopeRef(db, principal, input.scope, "write");
  return importPkcs12(db, { ...input, scope }, meta);
}

/**
 * Moves a certificate to another scope of its company (registry `assignCertificate`): the principal must change both
 * the certificate and the target scope.
 * @param db the database
 * @param principal who acts
 * @param id the certificate
 * @param target the new scope by ids
 * @param meta actor and clock
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN for the certificate or the target; the assignment's errors
 */
export async function assignCertificateAs(db: Db, principal: Principal, id: string, target: ScopeRef, meta: ChangeMeta): Promise<AssignResult> {
  await authorizeEntity(db, principal, "certificate", id, "write");
  const { scope } = await authorizeScopeRef(db, principal, target, "write");
  return assignCertificate(db, id, scope, meta);
}
