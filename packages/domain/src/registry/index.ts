/**
 * `@ksef-certs/domain/registry`: the registry use cases: the organisation (companies,
 * branches, operators, workstations), the certificates held for them and their rules, queued
 * successors taking over, resolution for ERP adapters, and the renewal and coverage reports.
 * Every use case takes a `Db` (a transaction works too) and writes its audit entry in the same transaction.
 */
export {
  DEFAULT_MAX_ACTIVE,
  assertKsefCertificateFits,
  certificateStateAt,
  defaultCertificateName,
  getCertificate,
  getCertificateSecrets,
  listCertificates,
  promoteQueued,
  recordCertificate,
  revokeCertificateLocally,
  scopeOf,
  sealedPasswordAad,
  type CertificateFilter,
  type CertificateRow,
  type CertificateRuleOptions,
  type CertificateSecrets,
  type CertificateState,
  type CertificateSummary,
  type Promotion,
  type PromotionFilter,
  type RecordCertificateInput,
  type ResolvedScope,
  type Scope,
} from "./certificates.js";
export { CERTIFICATE_TYPES, ENVIRONMENTS, type CertificateTypeName, type ChangeMeta, type Environment } from "./internal.js";
export {
  addBranch,
  addCompany,
  addOperator,
  addWorkstation,
  assignOperatorToBranch,
  findCompanyByNip,
  getBranch,
  getCompany,
  getOperator,
  getWorkstation,
  listBranches,
  listCompanies,
  listOperators,
  listWorkstations,
  type AddBranchInput,
  type AddOperatorInput,
  type AddWorkstationInput,
  type Branch,
  type Company,
  type Operator,
  type Workstation,
} from "./organisation.js";
export { importCertificatePair, importPkcs12, type ImportCertificatePairInput, type ImportPkcs12Input } from "./import.js";
export { assignCertificate, type AssignResult } from "./assign.js";
export {
  KSEF_ALREADY_REVOKED,
  REVOCATION_REASONS,
  revokeCertificate,
  type RevocationReason,
  type RevokeCertificateInput,
  type RevokeCertificateResult,
  type RevokeInKsef,
  type RevokeKsefClient,
} from "./revoke.js";
export { certificateFor, type CertificateForInput, type CertificateResolution, type ResolutionRule } from "./resolve.js";
export {
  DEFAULT_RENEWAL_WINDOW_DAYS,
  coverageGaps,
  renewalWarnings,
  type CoverageGap,
  type CoverageGapsInput,
  type RenewalWarning,
  type RenewalWarningsInput,
} from "./reports.js";
