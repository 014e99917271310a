/** `@ksef-certs/ksef/api`. */
export {};
export {
  AUTH_CHALLENGE_PATTERN,
  AUTH_TOKEN_REQUEST_NAMESPACE_2_0,
  AUTH_TOKEN_REQUEST_NAMESPACE_2_1,
  MAX_ALLOWED_IPS_PER_KIND,
  assertAuthTokenRequestInput,
  authTokenRequestNamespace,
  buildAuthTokenRequest,
  checkAuthTokenRequestInput,
  type AuthContextIdentifierType,
  type AuthTokenRequestInput,
} from "./auth-token-request.js";

// KSeF environments and hosts.
export { KSEF_ENDPOINTS, KSEF_ENVIRONMENTS, isKsefEnvironment, type KsefEndpoints, type KsefEnvironment } from "./environments.js";

// Which environment a certificate belongs to, by its issuer.
export {
  KSEF_PRODUCTION_ISSUER,
  issuerCommonName,
  issuerEnvironmentViolation,
  ksefIssuerOf,
  type IssuedCertificate,
  type IssuerRuleOptions,
  type KsefIssuer,
} from "./issuers.js";

// KSeF API 2.0 client (H3).
export * from "./client/index.js";

// Request/response shapes of the operations the client calls, generated from spec/open-api.json.
import type { components } from "./openapi.js";
type KsefSchemas = components["schemas"];
/** `POST /auth/challenge` answer: `{challenge, timestamp, timestampMs, clientIp}`. */
export type AuthenticationChallengeResponse = KsefSchemas["AuthenticationChallengeResponse"];
/** `POST /auth/xades-signature` (202) answer: `{referenceNumber, authenticationToken:{token, validUntil}}`. */
export type AuthenticationInitResponse = KsefSchemas["AuthenticationInitResponse"];
/** `GET /auth/{referenceNumber}` answer: `{startDate, status:{code, description, details}, authenticationMethodInfo, …}`. */
export type AuthenticationOperationStatusResponse = KsefSchemas["AuthenticationOperationStatusResponse"];
/** `POST /auth/token/redeem` answer: `{accessToken, refreshToken}` each `{token, validUntil}`. */
export type AuthenticationTokensResponse = KsefSchemas["AuthenticationTokensResponse"];
/** `POST /auth/token/refresh` answer: `{accessToken:{token, validUntil}}`. */
export type AuthenticationTokenRefreshResponse = KsefSchemas["AuthenticationTokenRefreshResponse"];
/** `GET /auth/sessions` page: `{items, continuationToken?}`. */
export type AuthenticationListResponse = KsefSchemas["AuthenticationListResponse"];
/** One session of {@link AuthenticationListResponse}. */
export type AuthenticationListItem = KsefSchemas["AuthenticationListItem"];
/** `{code, description, details?}` of KSeF's status objects. */
export type KsefStatusInfo = KsefSchemas["StatusInfo"];
/** `{token, validUntil}` (JWT and ISO 8601 expiry). */
export type KsefTokenInfo = KsefSchemas["TokenInfo"];
/** `GET /certificates/limits` answer: `{canRequest, enrollment:{limit, remaining}, certificate:{limit, remaining}}`. */
export type CertificateLimitsResponse = KsefSchemas["CertificateLimitsResponse"];
/** `GET /certificates/enrollments/data` answer: the subject DN values the CSR must carry. */
export type CertificateEnrollmentDataResponse = KsefSchemas["CertificateEnrollmentDataResponse"];
/** `POST /certificates/enrollments` body: `{certificateName, certificateType, csr (base64 DER), validFrom?}`. */
export type EnrollCertificateRequest = KsefSchemas["EnrollCertificateRequest"];
/** `POST /certificates/enrollments` (202) answer: `{referenceNumber, timestamp}`. */
export type EnrollCertificateResponse = KsefSchemas["EnrollCertificateResponse"];
/** `GET /certificates/enrollments/{ref}` answer: `{requestDate, status, certificateSerialNumber?}`. */
export type CertificateEnrollmentStatusResponse = KsefSchemas["CertificateEnrollmentStatusResponse"];
/** `POST /certificates/retrieve` answer: `{certificates:[{certificate (DER base64), certificateName, certificateSerialNumber, certificateType}]}`. */
export type RetrieveCertificatesResponse = KsefSchemas["RetrieveCertificatesResponse"];
/** One certificate of {@link RetrieveCertificatesResponse}. */
export type RetrieveCertificatesListItem = KsefSchemas["RetrieveCertificatesListItem"];
/** `POST /certificates/query` filter: `{certificateSerialNumber?, name?, type?, status?, expiresAfter?}`. */
export type QueryCertificatesRequest = KsefSchemas["QueryCertificatesRequest"];
/** `POST /certificates/query` page: `{certificates, hasMore}`. */
export type QueryCertificatesResponse = KsefSchemas["QueryCertificatesResponse"];
/** One certificate of {@link QueryCertificatesResponse}. */
export type CertificateListItem = KsefSchemas["CertificateListItem"];
export type { KsefCertificateType } from "../vocabulary.js";
/** `Active`, `Blocked`, `Revoked` or `Expired`. */
export type CertificateListItemStatus = KsefSchemas["CertificateListItemStatus"];
/** `Unspecified`, `Superseded` or `KeyCompromise`. */
export type CertificateRevocationReason = KsefSchemas["CertificateRevocationReason"];
/** `GET /limits/subject` answer: `{enrollment:{maxEnrollments}, certificate:{maxCertificates}}`. */
export type EffectiveSubjectLimits = KsefSchemas["EffectiveSubjectLimits"];
/** One entry of `GET /security/public-key-certificates`. */
export type PublicKeyCertificate = KsefSchemas["PublicKeyCertificate"];
export { openKsefSession, type KsefSessionClient, type OpenKsefSessionInput } from "./authenticate.js";
export type { components, paths } from "./openapi.js";
