/**
 * The simulator's in-memory world: challenges, authentication operations, enrollments, certificates,
 * limit overrides, fault settings and the counters tests read. One instance per simulator; nothing
 * is persisted.
 */
import type { CertificateInfo, EnrollmentData, KsefCertificateType, SubjectIdentifier } from "@ksef-certs/ksef/crypto";
import type { KeyObject } from "node:crypto";
import type { OpenApiViolation } from "./openapi/validator.js";

/** `{code, description, details?}` as in SPEC `StatusInfo`. */
export interface StatusInfo {
  readonly code: number;
  readonly description: string;
  readonly details?: readonly string[];
}

/** An issued challenge (10-minute life, single use; ksef-docs `uwierzytelnianie.md`). */
export interface ChallengeRecord {
  readonly challenge: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly clientIp: string;
  used: boolean;
}

/** Context identifier of an authentication (SPEC `AuthenticationContextIdentifier`). */
export interface ContextIdentifier {
  readonly type: string;
  readonly value: string;
}

/** SPEC `AuthenticationMethodInfo` with the deprecated `authenticationMethod` it maps to. */
export interface AuthenticationMethodDescription {
  readonly method: "InternalCertificate" | "QualifiedSignature" | "QualifiedSeal";
  readonly info: { readonly category: "XadesSignature"; readonly code: string; readonly displayName: string };
}

/** An authentication operation (`POST /auth/xades-signature` → `GET /auth/{referenceNumber}` → redeem). */
export interface AuthOperation {
  readonly referenceNumber: string;
  readonly startDate: Date;
  readonly clientIp: string;
  /** Until this time the status is 100 ("Uwierzytelnianie w toku"). */
  readonly readyAt: Date;
  /** The status once ready (200, 460, 550, …); replaced by 425 when the session is revoked. */
  finalStatus: StatusInfo;
  readonly method: AuthenticationMethodDescription;
  readonly contextIdentifier: ContextIdentifier;
  /** Who authenticated: the subject certificate endpoints act for. */
  readonly identity: SubjectIdentifier;
  /** Enrollment data derived from the signing certificate, or undefined when it lacks CN or C. */
  readonly enrollmentData: EnrollmentData | undefined;
  /** SHA-256 fingerprint of the signing certificate (64 uppercase hex). */
  readonly signingCertificateFingerprint: string;
  redeemed: boolean;
  /** `jti` of the refresh token handed out at redeem (refresh tokens are reusable until expiry or revocation). */
  refreshTokenId: string | undefined;
  refreshTokenValidUntil: Date | undefined;
  lastTokenRefreshDate: Date | undefined;
  revoked: boolean;
}

/** A certificate enrollment (`POST /certificates/enrollments`). */
export interface EnrollmentRecord {
  readonly referenceNumber: string;
  readonly identity: SubjectIdentifier;
  readonly requestDate: Date;
  readonly certificateName: string;
  readonly certificateType: KsefCertificateType;
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, hex, to spot one key certified for two subjects. */
  readonly spkiHex: string;
  readonly enrollmentData: EnrollmentData;
  readonly validFrom: Date | undefined;
  /** The final status once processed (200, 400, 500, 550); undefined while 100. */
  status: StatusInfo | undefined;
  certificateSerialNumber: string | undefined;
  /** Why processing failed (status 500), for tests and the log; KSeF's status itself carries no details. */
  failureReason?: string;
}

/** A certificate issued by the simulator's CA. */
export interface CertificateRecord {
  readonly serialNumber: string;
  readonly der: Uint8Array;
  readonly info: CertificateInfo;
  readonly name: string;
  readonly type: KsefCertificateType;
  /** The CN without the " (uwierzytelnienie)"/" (offline)" suffix, as `/certificates/query` shows it. */
  readonly commonName: string;
  readonly identity: SubjectIdentifier;
  readonly enrollmentData: EnrollmentData;
  readonly spkiHex: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly requestDate: Date;
  revokedAt: Date | undefined;
  revocationReason: string | undefined;
  lastUseDate: Date | undefined;
}

/** Certificate-count limits of one identifier type (ksef-docs `limity/limity.md`). */
export interface CertificateLimits {
  /** Enrollment requests a subject may file. */
  readonly maxEnrollments: number;
  /** Active certificates a subject may hold. */
  readonly maxCertificates: number;
}

/** The published limits since API 2.3.0: NIP 300/100, PESEL and fingerprint 12/6 (ksef-docs `limity/limity.md`). */
export const PUBLISHED_CERTIFICATE_LIMITS: Readonly<Record<SubjectIdentifier["type"], CertificateLimits>> = {
  Nip: { maxEnrollments: 300, maxCertificates: 100 },
  Pesel: { maxEnrollments: 12, maxCertificates: 6 },
  Fingerprint: { maxEnrollments: 12, maxCertificates: 6 },
};

/**
 * Failures to inject (also settable at runtime with `setFaults` or `POST /__simulator/faults`).
 * Rates are probabilities in [0, 1] drawn from the simulator's seedable generator.
 */
export interface Faults {
  /** Share of requests answered 500 before any processing. */
  readonly errorRate?: number;
  /** Share of successful state-changing requests (POST/DELETE) answered 500 after the change was recorded. */
  readonly errorAfterProcessingRate?: number;
  /** Delay added before each request is processed, ms. */
  readonly latencyMs?: number;
  /** The next N accepted XAdES authentications end with status 550. */
  readonly authStatus550?: number;
  /** The next N accepted enrollments end with status 550. */
  readonly enrollmentStatus550?: number;
  /**
   * The next N enrollments that reach issuing fail there with an internal error, after their certificate
   * is made and before it is recorded: status 500 ("Nieznany błąd"), no certificate, other enrollments unaffected.
   */
  readonly enrollmentStatus500?: number;
  /** The next `requests` requests get 429 with `Retry-After: retryAfterSeconds`. */
  readonly rateLimitStorm?: { readonly requests: number; readonly retryAfterSeconds: number };
}

/** One recorded OpenAPI violation. */
export interface ViolationRecord {
  /** `METHOD /path/template`, e.g. `POST /certificates/enrollments`. */
  readonly operation: string;
  /** HTTP status of the response (response side only). */
  readonly status?: number;
  readonly violations: readonly OpenApiViolation[];
}

/** Counters and records tests assert on. */
export interface SimulatorCounters {
  /** Requests per operation, keyed `METHOD /path/template`. */
  readonly requests: Record<string, number>;
  enrollmentsCreated: number;
  certificatesIssued: number;
  authenticationsStarted: number;
  /** Requests answered by an injected fault (5xx or storm 429). */
  faultsInjected: number;
  /** Requests refused by the published rate limits. */
  rateLimited: number;
}

/** Everything the simulator holds; exposed read-mostly for tests. */
export class SimulatorState {
  readonly challenges = new Map<string, ChallengeRecord>();
  readonly authOperations = new Map<string, AuthOperation>();
  readonly enrollments = new Map<string, EnrollmentRecord>();
  readonly certificates = new Map<string, CertificateRecord>();
  /** Per-subject overrides from `POST /testdata/limits/subject/certificate`, keyed `Type:value`. */
  readonly limitOverrides = new Map<string, Partial<CertificateLimits>>();
  readonly counters: SimulatorCounters = {
    requests: {},
    enrollmentsCreated: 0,
    certificatesIssued: 0,
    authenticationsStarted: 0,
    faultsInjected: 0,
    rateLimited: 0,
  };
  /** OpenAPI violations: of incoming JSON bodies, and (with `validateResponses`) of the simulator's own responses. */
  readonly openApiViolations: { readonly request: ViolationRecord[]; readonly response: ViolationRecord[] } = { request: [], response: [] };
  /** Current faults; counters (`authStatus550`, …) count down as they fire. */
  faults: Faults = {};
}

/** Map key of a subject identifier. */
export function identityKey(identity: SubjectIdentifier): string {
  return `${identity.type}:${identity.value}`;
}
