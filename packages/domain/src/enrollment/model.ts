/**
 * The public shapes of the enrollment service (its ports, inputs and results) and the pure helpers over
 * them: the sealing AADs and the secret-free summary of a row. Kept apart from the
 * driver (`service.ts`) and the steps (`steps/`) so both can import them without importing each other.
 */
import { createHash } from "node:crypto";
import type { Principal } from "../access/rules.js";
import type { KsefCertsError } from "@ksef-certs/ksef/errors";
import type { KsefClient, KsefEnvironment } from "@ksef-certs/ksef/api";
import type { KeyAlgorithm } from "@ksef-certs/ksef/crypto";
import type { PasswordProfile } from "@ksef-certs/ksef/policies";
import type { Scope } from "../registry/certificates.js";
import type { Db } from "../store/db.js";
import type { enrollments } from "../store/schema.js";
import type { XadesSigner } from "@ksef-certs/ksef/xades";
import type { Vault } from "../vault/index.js";
import type { EnrollmentProgressEvent } from "./events.js";
import type { EnrollmentState } from "./states.js";

/** A stored enrollment row, secrets included (encrypted key, sealed password and session). */
export type EnrollmentRow = typeof enrollments.$inferSelect;

/** A KSeF environment (the same union as `KsefEnvironment`). */
export type EnrollmentEnvironment = KsefEnvironment;

/** The KSeF client operations an enrollment uses; a real {@link KsefClient} fits, tests pass a fake. */
export type EnrollmentKsefClient = Pick<
  KsefClient,
  | "challenge"
  | "submitXadesSignature"
  | "waitForAuthentication"
  | "redeemToken"
  | "refreshAccessToken"
  | "certificateLimits"
  | "enrollmentData"
  | "enrollCertificate"
  | "waitForEnrollment"
  | "retrieveCertificates"
  | "queryCertificates"
>;

/**
 * The folder hand-off as the enrollment sees it ({@link createFolderHandoff} implements it over `src/handoff`;
 * tests use a fake): `publish` writes `xml` (the unsigned AuthTokenRequest, UTF-8) for the person at the
 * workstation and returns the file's path; `signed` resolves with the signed file's bytes once one matching
 * `challenge` has arrived complete and verified, and rejects when `signal` aborts (the challenge expired
 * or the run was cancelled). A rejection with `details.reason = "challenge-expired"` counts as expiry.
 * `signed` may be called in a later process than `publish` (a restart while the person signs): it gets
 * everything again (`xml` is rebuilt byte for byte, `file` is what `publish` returned).
 */
export interface EnrollmentHandoff {
  publish(req: {
    enrollmentId: string;
    workstationId: string;
    challenge: string;
    xml: Uint8Array;
    expiresAt: Date;
    contextIdentifier: { type: "Nip"; value: string };
  }): Promise<{ file: string }>;
  signed(req: {
    enrollmentId: string;
    challenge: string;
    signal: AbortSignal;
    workstationId: string;
    xml: Uint8Array;
    file: string;
    expiresAt: Date;
    contextIdentifier: { type: "Nip"; value: string };
  }): Promise<Uint8Array>;
}

/** A progress report for the person watching (CLI line, UI toast); never contains secrets. */
export interface EnrollmentProgress {
  readonly enrollmentId: string;
  /** The enrollment state when the message was written. */
  readonly state: string;
  /** The step in English, for the CLI and logs; a UI should say {@link EnrollmentProgress.event} in its own language instead. */
  readonly message: string;
  /** The same step, machine-readable: one of the kinds of `ENROLLMENT_EVENTS` with the values `message` states. */
  readonly event: EnrollmentProgressEvent;
}

/** What the enrollment service needs; only `db` and `client` are required. */
export interface EnrollmentDeps {
  readonly db: Db;
  /** The KSeF client of an environment (a real `createKsefClient(...)`, or the simulator's base URL in tests). */
  client(environment: EnrollmentEnvironment): EnrollmentKsefClient;
  /** The clock; default `new Date()`. Every timestamp the service writes comes from here. */
  now?(): Date;
  /** Waits `ms` (cancellable); default real time. Used for the challenge expiry and the reconcile grace period. */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
  /** Automatic authentication: the signer of a held Authentication certificate (key unlocked), for `authMethod: "certificate"`. */
  signerFor?(certificateId: string): Promise<XadesSigner>;
  /** The hand-off port, for `authMethod: "handoff"`. */
  readonly handoff?: EnrollmentHandoff;
  /**
   * The vault (`vaultFromMasterKey` of `./vault`): seals and unseals secrets (the new key's password when
   * unattended, the KSeF refresh token) under the master key. Absent → nothing is sealed.
   */
  readonly vault?: Pick<Vault, "seal" | "unseal">;
  onProgress?(event: EnrollmentProgress): void;
  /** Registry rule: most active certificates per scope, environment and type (default 2). */
  readonly maxActive?: number;
  /**
   * How long after `submittedAt` a row found in `submitting` waits for KSeF to show a certificate for its
   * key before the key is discarded, in ms (default 120 000: KSeF issues asynchronously).
   */
  readonly reconcileGraceMs?: number;
  /** Pause between KSeF certificate queries while reconciling, in ms (default 10 000). */
  readonly reconcilePollMs?: number;
  /** How often a hand-off challenge is renewed (a new auth.xml) before `run` returns `waiting` (default 5: 50 minutes). */
  readonly maxChallengeRenewals?: number;
  /** Options of the KSeF status polls (`waitForAuthentication`, `waitForEnrollment`), e.g. a short interval in tests. */
  readonly pollOptions?: { readonly intervalMs?: number; readonly timeoutMs?: number };
}

/** Input of {@link EnrollmentService.request}. */
export interface EnrollmentRequestInput {
  readonly scope: Scope;
  readonly environment: EnrollmentEnvironment;
  readonly certificateType: "Authentication" | "Offline";
  /** `current`, or `queued` (takes over when the current one of the same scope, environment and type ends). */
  readonly mode: "current" | "queued";
  /** KSeF `certificateName`: 5–100 characters (`checkCertificateName`, profile `ksef-api`). */
  readonly name: string;
  /** Requested start of validity (ISO 8601 or a Date); default: from issuance. */
  readonly validFrom?: Date | string;
  /** `certificate`: signed automatically with a held Authentication certificate; `handoff`: a person signs auth.xml. */
  readonly authMethod: "certificate" | "handoff";
  /** For `certificate`: the held Authentication certificate (same environment, active) to authenticate with. */
  readonly signingCertificateId?: string;
  /** For `handoff`: the workstation whose outbox/inbox folders carry auth.xml. */
  readonly workstationId?: string;
  /** The password the new key is encrypted with (`checkPassword`, profile `passwordProfile`). Never stored in plaintext. */
  readonly keyPassword: string;
  /** Keep the password sealed under the master key for unattended use (needs a vault). Default false. */
  readonly sealPassword?: boolean;
  /** Password rules; default `ksef-app` (the same rules as the ministry's web app, so the `.key` works everywhere). */
  readonly passwordProfile?: PasswordProfile;
  /** The new key's algorithm; default `EC-P256` (KSeF certifies EC P-256 and RSA-2048, `certyfikaty-KSeF.md`). */
  readonly keyAlgorithm?: KeyAlgorithm;
}

/** How a {@link EnrollmentService.run} ended. */
export type EnrollmentOutcome =
  /** The certificate is recorded (`certificateId`). */
  | "completed"
  /** The enrollment failed for good (`failureCode`, `failureReason`). */
  | "failed"
  /** A person is needed: a signature that did not come in time, or the key password. State kept; run again. */
  | "waiting"
  /** A rule or an authentication problem after KSeF got the request; state, reference and key kept; run again once resolved. */
  | "blocked"
  /** A transient fault (network, 5xx, 429, KSeF 550, a poll timeout); state kept; run again later. */
  | "retry";

/** The row without secrets (for output, `--json` and the audit log). */
export interface EnrollmentSummary {
  readonly id: string;
  readonly state: string;
  readonly scopeType: "company" | "branch" | "operator";
  readonly companyId: string;
  readonly branchId: string | null;
  readonly operatorId: string | null;
  readonly environment: EnrollmentEnvironment;
  readonly certificateType: "Authentication" | "Offline";
  readonly mode: "current" | "queued";
  readonly name: string;
  readonly validFrom: Date | null;
  readonly authMethod: "certificate" | "handoff";
  readonly signingCertificateId: string | null;
  readonly workstationId: string | null;
  /** SHA-256 of the new key's SubjectPublicKeyInfo (64 uppercase hex), once generated. */
  readonly publicKeySha256: string | null;
  readonly passwordSealed: boolean;
  readonly challenge: string | null;
  readonly challengeExpiresAt: Date | null;
  readonly handoffFile: string | null;
  readonly authReferenceNumber: string | null;
  readonly submittedAt: Date | null;
  readonly ksefReferenceNumber: string | null;
  readonly certificateSerialNumber: string | null;
  readonly certificateId: string | null;
  readonly failureCode: number | null;
  readonly failureReason: string | null;
  readonly attempts: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Result of {@link EnrollmentService.run}. */
export interface EnrollmentRunResult {
  readonly outcome: EnrollmentOutcome;
  readonly enrollment: EnrollmentSummary;
  /** Why it stopped, for `waiting`/`blocked`/`retry`/`failed` (English). */
  readonly message?: string;
  /** The same reason, machine-readable; set whenever `message` is. */
  readonly event?: EnrollmentProgressEvent;
  /** The error behind a `blocked`, `retry` or `failed` outcome. */
  readonly error?: KsefCertsError;
}

/** Who requests an enrollment (see {@link EnrollmentService.request}). */
export interface EnrollmentRequestMeta {
  /** Audit actor, e.g. `user:<login>` or `cli:<os user>`. */
  readonly actor: string;
  /**
   * The signed-in account asking (the admin server passes it): the request is authorised against it (core
   * `authorizeEnrollmentRequest`). Absent for the local system (the CLI run by someone holding the data folder).
   */
  readonly principal?: Principal;
  /**
   * The id the new enrollment gets (a UUID), chosen by a caller that records it before the enrollment exists (the
   * renewal scheduler, so that a crash between the two never starts a second enrollment). Default: a new one.
   */
  readonly enrollmentId?: string;
}

/** The enrollment use cases. */
export interface EnrollmentService {
  /**
   * Validates and stores a new enrollment in state `requested` (with its audit entry). Nothing is sent to KSeF.
   * The password is kept in this service's memory for `run`, and sealed on the row when `sealPassword` is set.
   * @throws {KsefCertsError} VALIDATION listing every broken rule (name, password, enums, auth method, validFrom, signing certificate)
   * @throws {KsefCertsError} NOT_FOUND for an unknown scope, signing certificate or workstation
   * @throws {KsefCertsError} CONFLICT when the registry's slot rules already forbid the certificate (limit, one current, queued needs a current one)
   * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN when `meta.principal` may not act on the scope, use the signing certificate or see the workstation
   */
  request(input: EnrollmentRequestInput, meta: EnrollmentRequestMeta): Promise<EnrollmentSummary>;
  /**
   * Drives one enrollment as far as it can go (see the module comment). Returns instead of throwing for
   * every expected stop; a cancelled `signal` rejects with the abort error and leaves a resumable state.
   * @param options `signal`; `keyPassword` when this process did not make the request and the password is not sealed; `actor` (default `system`)
   * @throws {KsefCertsError} NOT_FOUND for an unknown id; CONFLICT when the enrollment is already running here or
   *   another process changed it meanwhile; IO when cancelled; any unexpected error unchanged (the state stays resumable)
   */
  run(enrollmentId: string, options?: EnrollmentRunOptions): Promise<EnrollmentRunResult>;
  /**
   * Runs every enrollment not completed or failed, oldest first, hand-offs (which wait for people) last.
   * @throws {KsefCertsError} IO when cancelled
   */
  resumeAll(options?: { readonly signal?: AbortSignal; readonly actor?: string }): Promise<EnrollmentRunResult[]>;
  /**
   * One enrollment without secrets.
   * @throws {KsefCertsError} NOT_FOUND for an unknown id
   */
  get(enrollmentId: string): Promise<EnrollmentSummary>;
  /** Enrollments, newest first, optionally only those in the given states. */
  list(filter?: { readonly states?: readonly EnrollmentState[] }): Promise<EnrollmentSummary[]>;
}

/** Options of {@link EnrollmentService.run}. */
export interface EnrollmentRunOptions {
  readonly signal?: AbortSignal;
  /** The key password, when this service did not take the request and the password is not sealed. */
  readonly keyPassword?: string;
  /** Who drives the run, for the audit log; default `system`. */
  readonly actor?: string;
}

/** A KSeF challenge is valid 10 minutes (ksef-docs `uwierzytelnianie.md`). */
export const CHALLENGE_LIFETIME_MS = 10 * 60_000;

/**
 * AAD of an enrollment's sealed key password (`seal` of `@ksef-certs/ksef/crypto`); re-sealed to
 * `sealedPasswordAad(certificateId)` when the certificate is recorded.
 * @param enrollmentId the enrollment row id
 */
export function enrollmentPasswordAad(enrollmentId: string): string {
  return `enrollment:${enrollmentId}:password`;
}

/**
 * AAD of an enrollment's sealed KSeF session (refresh token and its expiry, JSON).
 * @param enrollmentId the enrollment row id
 */
export function enrollmentSessionAad(enrollmentId: string): string {
  return `enrollment:${enrollmentId}:session`;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").toUpperCase();
}

/**
 * The row without secrets.
 * @param row a stored enrollment
 */
export function summarizeEnrollment(row: EnrollmentRow): EnrollmentSummary {
  return {
    id: row.id,
    state: row.state,
    scopeType: row.scopeType,
    companyId: row.companyId,
    branchId: row.branchId,
    operatorId: row.operatorId,
    environment: row.environment,
    certificateType: row.certificateType,
    mode: row.mode,
    name: row.name,
    validFrom: row.validFrom,
    authMethod: row.authMethod,
    signingCertificateId: row.signingCertificateId,
    workstationId: row.workstationId,
    publicKeySha256: row.publicKeySpki === null ? null : sha256Hex(row.publicKeySpki),
    passwordSealed: row.sealedPassword !== null,
    challenge: row.challenge,
    challengeExpiresAt: row.challengeExpiresAt,
    handoffFile: row.handoffFile,
    authReferenceNumber: row.authReferenceNumber,
    submittedAt: row.submittedAt,
    ksefReferenceNumber: row.ksefReferenceNumber,
    certificateSerialNumber: row.certificateSerialNumber,
    certificateId: row.certificateId,
    failureCode: row.failureCode,
    failureReason: row.failureReason,
    attempts: row.attempts,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
