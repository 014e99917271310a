/**
 * `@ksef-certs/ksef-simulator`: a local KSeF API 2.0 for tests and offline trials. Follows the
 * official OpenAPI contract (`spec/open-api.json`): challenge and XAdES authentication verified for
 * real, certificate enrollment issued by a test CA the way KSeF issues, the published rate limits,
 * both error formats, and fault injection.
 */
export { createSimulatorApp, startSimulator, type RunningSimulator, type StartSimulatorOptions } from "./app.js";
export { API_PREFIX, MAX_BODY_BYTES, Simulator, type SimulatorApp, type SimulatorOptions, type TokenLifetimes } from "./simulator.js";
export {
  PUBLISHED_CERTIFICATE_LIMITS,
  SimulatorState,
  type AuthOperation,
  type CertificateLimits,
  type CertificateRecord,
  type EnrollmentRecord,
  type Faults,
  type SimulatorCounters,
  type ViolationRecord,
} from "./state.js";
export type { RateLimitMode } from "./rate-limit.js";
export type { AuthTokenRequestVerifier, VerifiedAuthTokenRequest } from "./xades-verifier.js";
export type { PublicKeyCertificateEntry } from "./routes/misc.js";
