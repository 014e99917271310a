/**
 * `@ksef-certs/domain/access`: accounts, sign-in, sessions and the authorisation rules of the admin app.
 * See `rules.ts` for what each role may see and change, `users.ts` for who manages which accounts.
 */
export { DEFAULT_SCRYPT_PARAMS, MAX_PASSWORD_CHARS, dummyPasswordHash, hashPassword, verifyPassword, type ScryptParams } from "./password.js";
export {
  ROLES,
  authorizeEntity,
  authorizeScope,
  canRead,
  canWrite,
  hasRole,
  heldScope,
  hiddenEntity,
  scopeOfEntity,
  type AccessScope,
  type EntityKind,
  type Principal,
  type Role,
  type RoleGrant,
} from "./rules.js";
export {
  MIN_ACCOUNT_PASSWORD_CHARS,
  changePassword,
  checkAccountPassword,
  countUsers,
  createUser,
  createUserAs,
  getUser,
  getUserAs,
  grantRole,
  grantRoleAs,
  listUsers,
  listUsersAs,
  normalizeLogin,
  revokeRole,
  revokeRoleAs,
  setUserLocale,
  type CreateUserInput,
  type RoleGrantInput,
  type User,
  type UserWithRoles,
} from "./users.js";
export {
  CLIENT_FREE_ATTEMPTS,
  CLIENT_MAX_DELAY_MS,
  LOGIN_FREE_ATTEMPTS,
  LOGIN_MAX_DELAY_MS,
  SESSION_ABSOLUTE_MS,
  SESSION_IDLE_MS,
  THROTTLE_WINDOW_MS,
  authenticate,
  checkCsrf,
  csrfTokenFor,
  endSession,
  loadPrincipal,
  sessionFromToken,
  tokenHash,
  type ActiveSession,
  type AuthenticateInput,
  type NewSession,
  type WebSession,
} from "./sessions.js";
export { authorizeScopeRef, type ScopeRef } from "./scope.js";
export {
  assignCertificateAs,
  getCertificateDetailAs,
  importCertificatePairAs,
  importPkcs12As,
  resolveCertificateAs,
  type CertificateDetail,
} from "./registry.js";
export { acceptSignedUploadAs, getEnrollmentAs, listEnrollmentsAs, pendingAuthRequestAs } from "./enrollments.js";
export { createPairingCodeAs, listSigningRequestsAs, listWorkstationTokensAs, revokeWorkstationTokenAs } from "./workstations.js";
export {
  MAX_TIMELINE_CERTIFICATES,
  MAX_TIMELINE_DAYS,
  certificateTimelineAs,
  type CertificateTimelineInput,
  type TimelineLabel,
  type TimelineRow,
} from "./timeline.js";
export {
  certificateVisibility,
  listVisibleCertificates,
  TOTAL_COUNT_CAP,
  type CertificateScopeView,
  type VisibleCertificate,
  type VisibleCertificateFilter,
  type VisibleCertificatePage,
  type VisibleCertificateState,
} from "./certificates.js";
export {
  auditEntityType,
  getAuditEntryHeaderAs,
  listAuditEntries,
  listAuditEntriesAs,
  verifyAuditLogAs,
  type AuditEntryHeader,
  type AuditListFilter,
} from "./audit.js";
export {
  addBranchAs,
  addCompanyAs,
  addOperatorAs,
  addWorkstationAs,
  assignOperatorToBranchAs,
  visibleOrganisation,
  type OrganisationBranch,
  type OrganisationCompany,
  type OrganisationOperator,
  type OrganisationWorkstation,
} from "./organisation.js";
export { listExportDestinationsAs, type ExportDestinationView } from "./destinations.js";
export { authorizeEnrollmentRequest, authorizeHeldCertificateUse, type EnrollmentRequestTarget } from "./use.js";
export { LOCAL_SYSTEM_PRINCIPAL, revokeCertificateAs, type RevokeCertificateAsInput } from "./held.js";
export { resetPassword } from "./reset.js";
