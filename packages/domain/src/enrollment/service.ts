/**
 * Enrollment of a KSeF certificate as a persisted, resumable state machine (ksef-docs
 * `uwierzytelnianie.md` authentication, `certyfikaty-KSeF.md` enrollment; docs/ksef.md for the Profil Zaufany hand-off).
 *
 * Every step writes its state (with an audit entry, in one transaction) BEFORE the external effect
 * it prepares, so a crash anywhere leaves a row `run` can carry on from (see `states.ts`):
 *
 * - the encrypted key is stored before anything is sent to KSeF;
 * - `submittedAt` and the CSR are stored, state `submitting`, before `POST /certificates/enrollments`;
 *   a row found in `submitting` is never sent again: KSeF's certificates are queried for one with this
 *   key; found → adopted; not found (after a grace period for KSeF to issue it) → the key is discarded
 *   (audited) and a NEW key is generated, so one key can never be enrolled twice;
 * - the certificate is retrieved, checked against the stored public key, and recorded in the registry
 *   in the same transaction that marks the enrollment `completed`; until then KSeF keeps it and the row
 *   keeps its serial and key, so it is never lost.
 *
 * Secrets: the key password lives only in memory, or sealed under the master key (`sealer`) when the
 * caller chose unattended use; the KSeF refresh token is kept (sealed) only when a sealer exists.
 * Nothing secret goes to the audit log or to progress messages.
 */
import { createHash, createPublicKey, randomUUID, type KeyObject } from "node:crypto";
import { authorizeEnrollmentRequest } from "../access/use.js";
import type { Principal } from "../access/rules.js";
import { and, asc, desc, eq, inArray, notInArray } from "drizzle-orm";
import { createCsr, encryptPrivateKeyPem, generateKeyPair, keyPairOf, parseCertificate, readPrivateKey } from "@ksef-certs/ksef/crypto";
import { KsefCertsError, isKsefCertsError, type Violation } from "@ksef-certs/ksef/errors";
import { buildAuthTokenRequest, type AuthTokenRequestInput } from "@ksef-certs/ksef/api";
import { KsefApiError, KsefSession, KsefStatusError, ksefCodesOf, systemClock, type Clock, type KsefClient } from "@ksef-certs/ksef/api";
import { checkCertificateName } from "@ksef-certs/ksef/policies";
import { checkPassword, type PasswordProfile } from "@ksef-certs/ksef/policies";
import { DEFAULT_MAX_ACTIVE, recordCertificate, scopeOf, sealedPasswordAad, slotCondition, type Scope } from "../registry/certificates.js";
import { ENVIRONMENTS } from "@ksef-certs/ksef/vocabulary";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import type { KsefEnvironment } from "@ksef-certs/ksef/api";
import { seal, unseal } from "@ksef-certs/ksef/crypto";
import { branches, certificates, companies, enrollments, workstations } from "../store/schema.js";
import type { XadesSigner } from "@ksef-certs/ksef/xades";
import { signAuthTokenRequest } from "@ksef-certs/ksef/xades";
import { enrollmentEvent, type EnrollmentEventKind, type EnrollmentEventParams, type EnrollmentProgressEvent } from "./events.js";
import { FINAL_ENROLLMENT_STATES, SENT_ENROLLMENT_STATES, type EnrollmentState } from "./states.js";

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

/** Sealing under the master key (AES-256-GCM, `seal` of `@ksef-certs/ksef/crypto`); see {@link sealerFromMasterKey}. */
export interface EnrollmentSealer {
  seal(plain: Uint8Array, aad: string): Uint8Array;
  unseal(sealed: Uint8Array, aad: string): Uint8Array;
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
  /** Seal/unseal secrets (the new key's password when unattended, the KSeF refresh token) under the master key. */
  readonly sealer?: EnrollmentSealer;
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
  /** Keep the password sealed under the master key for unattended use (needs a sealer). Default false. */
  readonly sealPassword?: boolean;
  /** Password rules; default `ksef-app` (the same rules as the ministry's web app, so the `.key` works everywhere). */
  readonly passwordProfile?: PasswordProfile;
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

/**
 * A sealer bound to one master key, over `seal`/`unseal` of `seal` of `@ksef-certs/ksef/crypto` (AES-256-GCM, AAD-bound).
 * @param masterKey 32 bytes (`loadMasterKey`)
 * @returns the {@link EnrollmentSealer} for `EnrollmentDeps.sealer`
 */
export function sealerFromMasterKey(masterKey: Uint8Array): EnrollmentSealer {
  return { seal: (plain, aad) => seal(masterKey, plain, aad), unseal: (sealed, aad) => unseal(masterKey, sealed, aad) };
}

const PRE_AUTH_STATES: readonly string[] = ["key_generated", "authenticating", "awaiting_signature"];
/** Below this remaining lifetime a stored hand-off challenge is not waited for again (ms). */
const MIN_REMAINING_CHALLENGE_MS = 30_000;
/** KSeF and our clock may disagree; a certificate requested this long before `submittedAt` still counts as ours (ms). */
const RECONCILE_CLOCK_SKEW_MS = 5 * 60_000;
/** Safety bound on steps in one run (a full enrollment takes 8). */
const MAX_STEPS = 40;
/** Safety bound on KSeF certificate pages read while reconciling (50 per page). */
const MAX_RECONCILE_PAGES = 20;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A step's report: the machine-readable event and its English sentence. */
interface Said {
  readonly event: EnrollmentProgressEvent;
  readonly message: string;
}

/** A step's report, typing `params` by `kind`. */
function said<K extends EnrollmentEventKind>(kind: K, params: EnrollmentEventParams[K], message: string): Said {
  return { event: enrollmentEvent(kind, params), message };
}

/** A stop that is not a failure: `run` returns it as its outcome. */
class Stop extends Error {
  readonly event: EnrollmentProgressEvent;
  constructor(
    readonly outcome: "waiting" | "blocked" | "retry",
    report: Said,
    readonly error?: KsefCertsError,
    /** The row as it was left, when the stop changed it. */
    readonly row?: EnrollmentRow,
  ) {
    super(report.message);
    this.event = report.event;
  }
}

/** Per-run memory: never persisted. */
interface RunContext {
  readonly actor: string;
  readonly signal: AbortSignal | undefined;
  readonly keyPassword: string | undefined;
  session: KsefSession | undefined;
  privateKey: KeyObject | undefined;
}

/** Not inlined: TypeScript would keep an earlier narrowing of `signal.aborted` across awaits. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** The error of a cancelled run: `IO`, not retryable; the state stays resumable. */
function cancelled(signal: AbortSignal | undefined, what: string): KsefCertsError {
  return new KsefCertsError("IO", `Cancelled while ${what}; the enrollment can be resumed.`, { cause: signal?.reason, details: { aborted: true } });
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").toUpperCase();
}

/** The SPKI DER re-encoded by node:crypto, so two encodings of one key compare equal. */
function normalisedSpki(spki: Uint8Array): Buffer {
  return createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).export({ type: "spki", format: "der" });
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

function scopeOfRow(row: EnrollmentRow): Scope {
  if (row.scopeType === "operator") return { type: "operator", operatorId: row.operatorId ?? "" };
  if (row.scopeType === "branch") return { type: "branch", branchId: row.branchId ?? "" };
  return { type: "company", companyId: row.companyId };
}

/** KSeF's code for a failure: the enrollment/auth status code, else the first error code of the response. */
function failureCodeOf(err: KsefCertsError): number | null {
  if (err instanceof KsefStatusError) return err.statusCode;
  const codes = ksefCodesOf(err);
  if (codes.length > 0) return codes[0] ?? null;
  if (err instanceof KsefApiError && err.httpStatus !== undefined) return err.httpStatus;
  return null;
}

function reasonOf(err: KsefCertsError): string {
  const text = err.hint === undefined ? err.message : `${err.message} ${err.hint}`;
  return Array.from(text).slice(0, 2000).join("");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function notFound(what: string, id: string): KsefCertsError {
  return new KsefCertsError("NOT_FOUND", `No ${what} with id ${JSON.stringify(id.slice(0, 60))}.`, { details: { entity: what, id: id.slice(0, 60) } });
}

function concurrentChange(id: string): KsefCertsError {
  return new KsefCertsError("CONFLICT", `Enrollment ${id} was changed by someone else while this step ran.`, {
    hint: "Another process is probably running it; let that one finish, or run it again later.",
    details: { concurrent: true, enrollmentId: id },
  });
}

/**
 * Creates the enrollment service.
 * @param deps database, KSeF clients and optional ports (see {@link EnrollmentDeps})
 * @returns the use cases {@link EnrollmentService}
 * @example
 * const enrollment = createEnrollmentService({ db, client: (env) => createKsefClient({ environment: env }), signerFor, handoff, sealer });
 * const e = await enrollment.request({ scope: { type: "operator", operatorId }, environment: "test", certificateType: "Offline",
 *   mode: "current", name: "Jan Offline", authMethod: "certificate", signingCertificateId, keyPassword }, { actor: "cli:jan" });
 * const { outcome, enrollment: done } = await enrollment.run(e.id, { signal });
 */
export function createEnrollmentService(deps: EnrollmentDeps): EnrollmentService {
  const db = deps.db;
  const now = (): Date => (deps.now === undefined ? new Date() : deps.now());
  const sleep = (ms: number, signal?: AbortSignal): Promise<void> => (deps.sleep ?? systemClock.sleep)(ms, signal);
  const clock: Clock = { now: () => now().getTime(), sleep: (ms, signal) => sleep(ms, signal) };
  const passwords = new Map<string, string>();
  const running = new Set<string>();
  const maxActive = deps.maxActive ?? DEFAULT_MAX_ACTIVE;
  const reconcileGraceMs = deps.reconcileGraceMs ?? 120_000;
  const reconcilePollMs = deps.reconcilePollMs ?? 10_000;
  const maxRenewals = deps.maxChallengeRenewals ?? 5;
  const poll = deps.pollOptions ?? {};

  function progress(row: EnrollmentRow, report: Said): void {
    try {
      deps.onProgress?.({ enrollmentId: row.id, state: row.state, message: report.message, event: report.event });
    } catch {
      // A broken progress printer must not break an enrollment.
    }
  }

  async function load(id: string, tx: Db = db): Promise<EnrollmentRow> {
    if (!UUID.test(id)) throw notFound("enrollment", id);
    const [row] = await tx.select().from(enrollments).where(eq(enrollments.id, id));
    if (row === undefined) throw notFound("enrollment", id);
    return row;
  }

  /**
   * Moves `row` to `to` (or keeps its state) with `patch`, only if nobody moved it meanwhile, with the
   * audit entry in the same transaction; `extra` runs inside that transaction first (e.g. recording the certificate).
   */
  async function save(
    row: EnrollmentRow,
    to: EnrollmentState,
    patch: Partial<typeof enrollments.$inferInsert>,
    ctx: { readonly actor: string },
    report: Said,
    action = "enrollment.state",
    extra?: (tx: Db) => Promise<Partial<typeof enrollments.$inferInsert>>,
  ): Promise<EnrollmentRow> {
    const at = now();
    const updated = await db.transaction(async (txRaw) => {
      const tx = txRaw as unknown as Db;
      const more = extra === undefined ? {} : await extra(tx);
      const [next] = await tx
        .update(enrollments)
        .set({ ...patch, ...more, state: to, updatedAt: at })
        .where(and(eq(enrollments.id, row.id), eq(enrollments.state, row.state), eq(enrollments.updatedAt, row.updatedAt)))
        .returning();
      if (next === undefined) throw concurrentChange(row.id);
      await appendAudit(tx, {
        actor: ctx.actor,
        action,
        entityType: "enrollment",
        entityId: row.id,
        before: summarizeEnrollment(row),
        after: { ...summarizeEnrollment(next), message: report.message },
        at,
      });
      return next;
    });
    progress(updated, report);
    return updated;
  }

  // ------------------------------------------------------------------ request

  async function request(input: EnrollmentRequestInput, meta: EnrollmentRequestMeta): Promise<EnrollmentSummary> {
    // Authorised before anything is validated, so a refusal says nothing about ids the principal may not see.
    if (meta.principal !== undefined) {
      await authorizeEnrollmentRequest(db, meta.principal, {
        scope: input.scope,
        signingCertificateId: input.authMethod === "certificate" ? input.signingCertificateId : undefined,
        workstationId: input.authMethod === "handoff" ? input.workstationId : undefined,
      });
    }
    const v: Violation[] = [];
    if (typeof input.name !== "string") v.push({ field: "certificateName", rule: "certificateName.required", message: "The certificate name is required." });
    else v.push(...checkCertificateName(input.name));
    if (typeof input.keyPassword !== "string") v.push({ field: "password", rule: "password.required", message: "The key password is required." });
    else v.push(...checkPassword(input.keyPassword, input.passwordProfile ?? "ksef-app"));
    if (!(ENVIRONMENTS as readonly string[]).includes(input.environment))
      v.push({ field: "environment", rule: "environment.known", message: "The environment must be test, demo or production." });
    // Widened on purpose: the CLI and other untyped callers pass whatever the user typed.
    const certificateType: string = input.certificateType;
    const mode: string = input.mode;
    const authMethod: string = input.authMethod;
    if (certificateType !== "Authentication" && certificateType !== "Offline") {
      v.push({ field: "certificateType", rule: "certificateType.known", message: "The certificate type must be Authentication or Offline." });
    }
    if (mode !== "current" && mode !== "queued") v.push({ field: "mode", rule: "mode.known", message: "The mode must be current or queued." });
    let validFrom: Date | null = null;
    if (input.validFrom !== undefined) {
      validFrom = input.validFrom instanceof Date ? input.validFrom : new Date(input.validFrom);
      if (Number.isNaN(validFrom.getTime())) {
        v.push({ field: "validFrom", rule: "validFrom.date", message: "validFrom must be a date and time (ISO 8601, e.g. 2026-05-01T00:00:00Z)." });
        validFrom = null;
      }
    }
    if (authMethod === "certificate") {
      if (input.signingCertificateId === undefined) {
        v.push({
          field: "signingCertificateId",
          rule: "signingCertificateId.required",
          message: "Automatic authentication needs the Authentication certificate to sign with.",
        });
      }
      if (deps.signerFor === undefined)
        v.push({ field: "authMethod", rule: "authMethod.signer", message: "This program has no signer for automatic authentication; use the hand-off." });
    } else if (authMethod === "handoff") {
      if (input.workstationId === undefined)
        v.push({ field: "workstationId", rule: "workstationId.required", message: "The hand-off needs the workstation whose folders carry auth.xml." });
      if (deps.handoff === undefined)
        v.push({ field: "authMethod", rule: "authMethod.handoff", message: "This program has no folder hand-off configured; use automatic authentication." });
    } else {
      v.push({ field: "authMethod", rule: "authMethod.known", message: "The authentication method must be certificate or handoff." });
    }
    if (input.sealPassword === true && deps.sealer === undefined) {
      v.push({
        field: "sealPassword",
        rule: "sealPassword.masterKey",
        message: "Keeping the password for unattended use needs a master key (KSEF_CERTS_MASTER_KEY or a key file).",
      });
    }
    if (v.length > 0) throw new KsefCertsError("VALIDATION", `The enrollment cannot be requested: ${v.map((x) => x.message).join(" ")}`, { violations: v });

    const at = now();
    const id = randomUUID();
    const sealedPassword =
      input.sealPassword === true && deps.sealer !== undefined ? deps.sealer.seal(utf8.encode(input.keyPassword), enrollmentPasswordAad(id)) : null;

    const row = await db.transaction(async (txRaw) => {
      const tx = txRaw as unknown as Db;
      const s = await scopeOf(tx, input.scope);
      if (input.authMethod === "certificate") await checkSigningCertificate(tx, input.signingCertificateId ?? "", input.environment, at);
      if (input.authMethod === "handoff") await checkWorkstation(tx, input.workstationId ?? "", s.companyId);
      await precheckSlot(tx, s, input.environment, input.certificateType, input.mode, at);
      const [inserted] = await tx
        .insert(enrollments)
        .values({
          id,
          scopeType: s.type,
          companyId: s.companyId,
          branchId: s.branchId,
          operatorId: s.operatorId,
          environment: input.environment,
          certificateType: input.certificateType,
          mode: input.mode,
          name: input.name,
          validFrom,
          state: "requested",
          authMethod: input.authMethod,
          signingCertificateId: input.authMethod === "certificate" ? (input.signingCertificateId ?? null) : null,
          workstationId: input.authMethod === "handoff" ? (input.workstationId ?? null) : null,
          sealedPassword,
          createdAt: at,
          updatedAt: at,
        })
        .returning();
      if (inserted === undefined) throw new KsefCertsError("INTERNAL", "The enrollment insert returned no row.");
      await appendAudit(tx, {
        actor: meta.actor,
        action: "enrollment.request",
        entityType: "enrollment",
        entityId: id,
        after: summarizeEnrollment(inserted),
        at,
      });
      return inserted;
    });
    passwords.set(id, input.keyPassword);
    progress(
      row,
      said(
        "enrollment.requested",
        { name: row.name, certificateType: row.certificateType, environment: row.environment },
        `Enrollment of "${row.name}" (${row.certificateType}, ${row.environment}) requested.`,
      ),
    );
    return summarizeEnrollment(row);
  }

  async function checkSigningCertificate(tx: Db, certificateId: string, environment: EnrollmentEnvironment, at: Date): Promise<void> {
    if (!UUID.test(certificateId)) throw notFound("certificate", certificateId);
    const [c] = await tx
      .select({
        id: certificates.id,
        environment: certificates.environment,
        type: certificates.certificateType,
        status: certificates.status,
        validFrom: certificates.validFrom,
        validTo: certificates.validTo,
      })
      .from(certificates)
      .where(eq(certificates.id, certificateId));
    if (c === undefined) throw notFound("certificate", certificateId);
    const v: Violation[] = [];
    if (c.type !== "Authentication")
      v.push({
        field: "signingCertificateId",
        rule: "signingCertificate.type",
        message: "Only an Authentication certificate can sign in to KSeF; an Offline one cannot.",
      });
    if (c.environment !== environment) {
      v.push({
        field: "signingCertificateId",
        rule: "signingCertificate.environment",
        message: `The signing certificate is from ${c.environment}; KSeF ${environment} does not accept it.`,
      });
    }
    if (c.status !== "active" || c.validTo.getTime() <= at.getTime() || c.validFrom.getTime() > at.getTime()) {
      v.push({ field: "signingCertificateId", rule: "signingCertificate.valid", message: "The signing certificate is revoked, expired or not valid yet." });
    }
    if (v.length > 0)
      throw new KsefCertsError("VALIDATION", `The certificate cannot sign this authentication: ${v.map((x) => x.message).join(" ")}`, { violations: v });
  }

  async function checkWorkstation(tx: Db, workstationId: string, companyId: string): Promise<void> {
    if (!UUID.test(workstationId)) throw notFound("workstation", workstationId);
    const [w] = await tx
      .select({ id: workstations.id, companyId: companies.id })
      .from(workstations)
      .innerJoin(branches, eq(branches.id, workstations.branchId))
      .innerJoin(companies, eq(companies.id, branches.companyId))
      .where(eq(workstations.id, workstationId));
    if (w === undefined) throw notFound("workstation", workstationId);
    if (w.companyId !== companyId) {
      throw new KsefCertsError("VALIDATION", "The workstation belongs to another company.", {
        violations: [{ field: "workstationId", rule: "workstation.company", message: "Choose a workstation of a branch of the same company." }],
      });
    }
  }

  /** The registry's slot rules, checked before KSeF is asked (recordCertificate checks them again at the end). */
  async function precheckSlot(
    tx: Db,
    s: Awaited<ReturnType<typeof scopeOf>>,
    environment: EnrollmentEnvironment,
    certificateType: "Authentication" | "Offline",
    mode: "current" | "queued",
    at: Date,
  ): Promise<void> {
    const active = (
      await tx
        .select({ id: certificates.id, mode: certificates.mode, status: certificates.status, validTo: certificates.validTo })
        .from(certificates)
        .where(slotCondition(s, environment, certificateType))
    ).filter((c) => c.status === "active" && c.validTo.getTime() > at.getTime());
    const slot = `${s.type} scope, ${environment}, ${certificateType}`;
    if (active.length >= maxActive) {
      throw new KsefCertsError("CONFLICT", `This ${slot} already has ${active.length} active certificates (at most ${maxActive}).`, {
        hint: "Revoke one of them first, or wait until one expires.",
        details: { rule: "maxActive", maxActive },
      });
    }
    const current = active.find((c) => c.mode === "current");
    if (mode === "queued" && current === undefined) {
      throw new KsefCertsError("CONFLICT", `A queued certificate needs a current one in the same scope, environment and type; this ${slot} has none.`, {
        hint: "Request the certificate as current instead.",
        details: { rule: "queuedNeedsCurrent" },
      });
    }
    if (mode === "queued" && active.some((c) => c.mode === "queued")) {
      throw new KsefCertsError("CONFLICT", `This ${slot} already has a queued certificate.`, {
        hint: "Revoke the queued certificate first.",
        details: { rule: "oneQueued" },
      });
    }
    if (mode === "current" && current !== undefined) {
      throw new KsefCertsError("CONFLICT", `This ${slot} already has a current certificate (valid to ${current.validTo.toISOString()}).`, {
        hint: "Request the new certificate as queued: it takes over when the current one ends.",
        details: { rule: "oneCurrent" },
      });
    }
  }

  // ------------------------------------------------------------------ secrets

  function passwordFor(row: EnrollmentRow, ctx: RunContext): string | undefined {
    if (ctx.keyPassword !== undefined) return ctx.keyPassword;
    const remembered = passwords.get(row.id);
    if (remembered !== undefined) return remembered;
    if (row.sealedPassword !== null && deps.sealer !== undefined)
      return utf8Decoder.decode(deps.sealer.unseal(row.sealedPassword, enrollmentPasswordAad(row.id)));
    return undefined;
  }

  function needPassword(row: EnrollmentRow, ctx: RunContext): string {
    const password = passwordFor(row, ctx);
    if (password === undefined) {
      throw new Stop("waiting", said("password.needed", {}, `The key password of enrollment ${row.id} is needed to continue; run it again with the password.`));
    }
    return password;
  }

  async function privateKeyOf(row: EnrollmentRow, ctx: RunContext): Promise<KeyObject> {
    if (ctx.privateKey !== undefined) return ctx.privateKey;
    if (row.keyFile === null) throw new KsefCertsError("INTERNAL", `Enrollment ${row.id} is in state ${row.state} without a key.`);
    const password = needPassword(row, ctx);
    try {
      ctx.privateKey = (await readPrivateKey(row.keyFile, { password })).key;
    } catch (err) {
      if (isKsefCertsError(err, "WRONG_PASSWORD"))
        throw new Stop(
          "waiting",
          said("password.wrong", {}, `The password given does not open the key of enrollment ${row.id}; run it again with the right one.`),
          err,
        );
      throw err;
    }
    return ctx.privateKey;
  }

  // ------------------------------------------------------------------ authentication

  function newSession(tokens: ConstructorParameters<typeof KsefSession>[0], client: EnrollmentKsefClient): KsefSession {
    return new KsefSession(tokens, (refreshToken, signal) => client.refreshAccessToken(refreshToken, signal === undefined ? {} : { signal }), clock);
  }

  async function companyNip(companyId: string): Promise<string> {
    const [c] = await db.select({ nip: companies.nip }).from(companies).where(eq(companies.id, companyId));
    if (c === undefined) throw notFound("company", companyId);
    return c.nip;
  }

  /** Races the hand-off against the challenge expiry: the signed bytes, or `undefined` when the challenge ran out first. */
  async function awaitSigned(
    row: EnrollmentRow,
    wait: { challenge: string; expiresAt: Date; workstationId: string; xml: Uint8Array; file: string; contextIdentifier: { type: "Nip"; value: string } },
    ctx: RunContext,
  ): Promise<Uint8Array | undefined> {
    const { expiresAt } = wait;
    const handoff = deps.handoff;
    if (handoff === undefined) throw new KsefCertsError("VALIDATION", "This program has no folder hand-off configured.");
    // An abort before the listener exists would never fire it.
    if (isAborted(ctx.signal)) throw cancelled(ctx.signal, "waiting for the signed auth.xml");
    const local = new AbortController();
    const expired = Symbol("expired");
    const onAbort = (): void => {
      local.abort(ctx.signal?.reason);
    };
    ctx.signal?.addEventListener("abort", onAbort, { once: true });
    let signed: Promise<Uint8Array | typeof expired> | undefined;
    try {
      signed = handoff.signed({ ...wait, enrollmentId: row.id, signal: local.signal }).catch((err: unknown) => {
        // The hand-off's own expiry timer may fire before ours: the same thing, a renewal.
        if (err instanceof KsefCertsError && err.details["reason"] === "challenge-expired") return expired;
        throw err;
      });
      signed.catch(() => undefined);
      const timer = sleep(Math.max(0, expiresAt.getTime() - now().getTime()), local.signal).then(
        () => expired,
        () => expired,
      );
      const winner = await Promise.race([signed, timer]);
      if (isAborted(ctx.signal)) throw cancelled(ctx.signal, "waiting for the signed auth.xml");
      return winner === expired ? undefined : (winner as Uint8Array);
    } finally {
      local.abort();
      ctx.signal?.removeEventListener("abort", onAbort);
      // Let the hand-off close its folder watchers before this run returns: a watcher left behind would take
      // the next signed file away from the run that resumes this enrollment (and keep the process alive).
      await signed?.catch(() => undefined);
    }
  }

  /**
   * Authenticates the enrollment's person in KSeF, automatically or through the hand-off, and keeps the
   * session in `ctx` (sealed on the row when a sealer exists). Before the request is sent the state goes
   * `authenticating`/`awaiting_signature` → `authenticated`; later (a lost session) the state is kept.
   */
  async function authenticate(start: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
    let row = start;
    const keepState = !PRE_AUTH_STATES.includes(row.state);
    const client = deps.client(row.environment);
    const contextIdentifier = { type: "Nip" as const, value: await companyNip(row.companyId) };
    const signal = ctx.signal === undefined ? {} : { signal: ctx.signal };
    let renewals = 0;
    for (;;) {
      let signed: Uint8Array | undefined;
      if (row.authMethod === "certificate") {
        const certificateId = row.signingCertificateId;
        if (certificateId === null || deps.signerFor === undefined) {
          throw new KsefCertsError("VALIDATION", "Automatic authentication needs the signing certificate and a signer.", {
            hint: "The signing certificate was deleted, or this program was started without a signer; enroll again through the hand-off.",
          });
        }
        const ch = await client.challenge(signal);
        row = await save(
          row,
          keepState ? (row.state as EnrollmentState) : "authenticating",
          { challenge: ch.challenge, challengeExpiresAt: new Date(now().getTime() + CHALLENGE_LIFETIME_MS), handoffFile: null, authReferenceNumber: null },
          ctx,
          said("ksef.signingInWithCertificate", {}, "Signing in to KSeF with the held Authentication certificate."),
        );
        const input: AuthTokenRequestInput = { challenge: ch.challenge, contextIdentifier, subjectIdentifierType: "certificateSubject" };
        signed = await signAuthTokenRequest(input, await deps.signerFor(certificateId), { signingTime: now() });
      } else {
        const handoff = deps.handoff;
        const workstationId = row.workstationId;
        if (handoff === undefined || workstationId === null) {
          throw new KsefCertsError("VALIDATION", "The hand-off needs a workstation and a configured folder hand-off.", {
            hint: "The workstation was deleted, or this program was started without the hand-off; request the enrollment again.",
          });
        }
        let challenge: string;
        let expiresAt: Date;
        let xml: Uint8Array;
        const stored = row.challenge !== null && row.challengeExpiresAt !== null && row.handoffFile !== null && row.authReferenceNumber === null;
        if (renewals === 0 && stored && row.challengeExpiresAt !== null && row.challengeExpiresAt.getTime() - now().getTime() > MIN_REMAINING_CHALLENGE_MS) {
          // A restart while the person may be signing: keep waiting for the same file instead of confusing them with a new one.
          challenge = row.challenge ?? "";
          expiresAt = row.challengeExpiresAt;
          // Rebuilt, not stored: the request is a pure function of challenge and context, so the bytes are the published ones.
          xml = utf8.encode(buildAuthTokenRequest({ challenge, contextIdentifier, subjectIdentifierType: "certificateSubject" }));
          const file = row.handoffFile ?? "auth.xml";
          progress(
            row,
            said(
              "handoff.stillWaiting",
              { file, expiresAt: expiresAt.toISOString() },
              `Still waiting for the signed ${file} (until ${expiresAt.toISOString()}).`,
            ),
          );
        } else {
          const ch = await client.challenge(signal);
          challenge = ch.challenge;
          expiresAt = new Date(now().getTime() + CHALLENGE_LIFETIME_MS);
          row = await save(
            row,
            keepState ? (row.state as EnrollmentState) : "awaiting_signature",
            { challenge, challengeExpiresAt: expiresAt, handoffFile: null, authReferenceNumber: null },
            ctx,
            renewals > 0
              ? said(
                  "handoff.renewing",
                  {},
                  "The previous auth.xml expired unsigned (a KSeF challenge lasts 10 minutes); a new one is being written — sign the new file.",
                )
              : keepState
                ? said("handoff.reauthenticating", {}, "The KSeF session of this enrollment is gone; a new auth.xml is being written — sign it to continue.")
                : said("handoff.writing", {}, "Writing auth.xml for signing with Profil Zaufany."),
          );
          xml = utf8.encode(buildAuthTokenRequest({ challenge, contextIdentifier, subjectIdentifierType: "certificateSubject" }));
          const { file } = await handoff.publish({ enrollmentId: row.id, workstationId, challenge, xml, expiresAt, contextIdentifier });
          row = await save(
            row,
            row.state as EnrollmentState,
            { handoffFile: file },
            ctx,
            said(
              "handoff.published",
              { file, expiresAt: expiresAt.toISOString() },
              `auth.xml is in ${file}: sign it on the gov.pl page (Profil Zaufany) and put the signed file in the inbox folder before ${expiresAt.toISOString()}.`,
            ),
          );
        }
        signed = await awaitSigned(row, { challenge, expiresAt, workstationId, xml, file: row.handoffFile ?? "", contextIdentifier }, ctx);
        if (signed === undefined) {
          renewals++;
          if (renewals > maxRenewals) {
            throw new Stop(
              "waiting",
              said(
                "handoff.abandoned",
                { challenges: renewals },
                `No signed auth.xml arrived for ${renewals} challenges in a row; run the enrollment again when the person is ready to sign.`,
              ),
            );
          }
          continue;
        }
      }
      let init;
      try {
        // The signed bytes go out exactly as received: re-encoding a Profil Zaufany file breaks it (KSeF error 21217, seen in the field).
        init = await client.submitXadesSignature(signed, signal);
      } catch (err) {
        if (row.authMethod === "handoff" && err instanceof KsefApiError && err.ksefCodes.includes(21111) && renewals < maxRenewals) {
          renewals++;
          progress(row, said("handoff.challengeInvalid", {}, "KSeF says the challenge of the signed file is no longer valid; a new auth.xml follows."));
          row = await save(
            row,
            row.state as EnrollmentState,
            { challengeExpiresAt: now() },
            ctx,
            said("handoff.challengeRefused", {}, "Challenge refused by KSeF (21111)."),
          );
          continue;
        }
        throw err;
      }
      row = await save(
        row,
        row.state as EnrollmentState,
        { authReferenceNumber: init.referenceNumber },
        ctx,
        said("ksef.authenticating", { referenceNumber: init.referenceNumber }, `KSeF is checking the signature (authentication ${init.referenceNumber}).`),
      );
      await client.waitForAuthentication(init.referenceNumber, init.authenticationToken.token, { ...signal, ...poll });
      const tokens = await client.redeemToken(init.authenticationToken.token, signal);
      ctx.session = newSession(tokens, client);
      const sealedSession =
        deps.sealer === undefined
          ? null
          : deps.sealer.seal(
              utf8.encode(JSON.stringify({ refreshToken: tokens.refreshToken.token, validUntil: tokens.refreshToken.validUntil })),
              enrollmentSessionAad(row.id),
            );
      return save(
        row,
        keepState ? (row.state as EnrollmentState) : "authenticated",
        { sealedSession },
        ctx,
        said("ksef.authenticated", {}, "Signed in to KSeF."),
      );
    }
  }

  /** The session of this run; else the sealed one (if it still refreshes); else a new authentication (state kept). */
  async function sessionFor(start: EnrollmentRow, ctx: RunContext): Promise<{ row: EnrollmentRow; session: KsefSession }> {
    if (ctx.session !== undefined) return { row: start, session: ctx.session };
    const client = deps.client(start.environment);
    if (start.sealedSession !== null && deps.sealer !== undefined) {
      let stored: { refreshToken?: unknown; validUntil?: unknown } | undefined;
      try {
        stored = JSON.parse(utf8Decoder.decode(deps.sealer.unseal(start.sealedSession, enrollmentSessionAad(start.id)))) as typeof stored;
      } catch {
        stored = undefined;
      }
      if (
        stored !== undefined &&
        typeof stored.refreshToken === "string" &&
        typeof stored.validUntil === "string" &&
        Date.parse(stored.validUntil) > now().getTime()
      ) {
        const session = newSession(
          { accessToken: { token: "", validUntil: new Date(0).toISOString() }, refreshToken: { token: stored.refreshToken, validUntil: stored.validUntil } },
          client,
        );
        try {
          await session.accessToken(ctx.signal === undefined ? {} : { signal: ctx.signal });
          ctx.session = session;
          progress(start, said("ksef.sessionResumed", {}, "Continuing with the stored KSeF session."));
          return { row: start, session };
        } catch (err) {
          // 401/403: KSeF ended the session; anything else is a real fault.
          if (!(err instanceof KsefApiError) || (err.httpStatus !== 401 && err.httpStatus !== 403)) throw err;
        }
      }
    }
    progress(start, said("ksef.sessionMissing", {}, "No usable KSeF session for this enrollment; signing in again."));
    let row: EnrollmentRow;
    try {
      row = await authenticate(start, ctx);
    } catch (err) {
      if (
        err instanceof KsefCertsError &&
        !err.retryable &&
        SENT_ENROLLMENT_STATES.includes(start.state as EnrollmentState) &&
        err.details["concurrent"] !== true
      ) {
        // KSeF already has the enrollment: a failed sign-in must not end it, or its reference would be dropped.
        throw new Stop(
          "blocked",
          said("ksef.signInFailed", { reason: err.message }, `Signing in to KSeF failed, so enrollment ${start.id} cannot be followed up now: ${err.message}`),
          err,
        );
      }
      throw err;
    }
    if (ctx.session === undefined) throw new KsefCertsError("INTERNAL", "Authentication ended without a session.");
    return { row, session: ctx.session };
  }

  // ------------------------------------------------------------------ steps

  async function generateKey(row: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
    const password = needPassword(row, ctx);
    const keys = await generateKeyPair("EC-P256");
    const keyFile = utf8.encode(await encryptPrivateKeyPem(keys.privateKey, password));
    const publicKeySpki = new Uint8Array(keys.publicKey.export({ type: "spki", format: "der" }));
    const next = await save(
      row,
      "key_generated",
      { keyFile, publicKeySpki, csrDer: null },
      ctx,
      said("key.generated", {}, "New EC P-256 key generated and stored encrypted."),
    );
    ctx.privateKey = keys.privateKey;
    return next;
  }

  async function submit(start: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
    const key = await privateKeyOf(start, ctx);
    const { row: authed, session } = await sessionFor(start, ctx);
    let row = authed;
    const client = deps.client(row.environment);
    const signal = ctx.signal === undefined ? {} : { signal: ctx.signal };
    const limits = await client.certificateLimits(session, signal);
    if (!limits.canRequest) {
      throw new KsefCertsError(
        "CONFLICT",
        `KSeF does not let this person request a certificate now (enrollment requests left: ${limits.enrollment.remaining} of ${limits.enrollment.limit}; certificates left: ${limits.certificate.remaining} of ${limits.certificate.limit}).`,
        {
          hint: "Revoke certificates no longer needed, or ask MF to raise the limit.",
          details: { limits },
        },
      );
    }
    const data = await client.enrollmentData(session, signal);
    const csrDer = await createCsr(data, keyPairOf(key));
    const submittedAt = now();
    row = await save(row, "submitting", { csrDer, submittedAt }, ctx, said("ksef.submitting", {}, "Sending the certificate request to KSeF."));
    const body = {
      certificateName: row.name,
      certificateType: row.certificateType,
      csr: Buffer.from(csrDer).toString("base64"),
      ...(row.validFrom === null ? {} : { validFrom: row.validFrom.toISOString() }),
    };
    const res = await client.enrollCertificate(session, body, signal);
    return save(
      row,
      "submitted",
      { ksefReferenceNumber: res.referenceNumber },
      ctx,
      said("ksef.enrollmentAccepted", { referenceNumber: res.referenceNumber }, `KSeF accepted the certificate request (${res.referenceNumber}).`),
    );
  }

  /** `submitting` after a crash or an unknown outcome: find the certificate of this key in KSeF, or discard the key. */
  async function reconcile(start: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
    const { row, session } = await sessionFor(start, ctx);
    const client = deps.client(row.environment);
    const submittedAt = row.submittedAt ?? row.updatedAt;
    const deadline = submittedAt.getTime() + reconcileGraceMs;
    const spki = row.publicKeySpki === null ? undefined : normalisedSpki(row.publicKeySpki);
    for (;;) {
      const found = spki === undefined ? undefined : await findIssued(client, session, row, spki, submittedAt, ctx);
      if (found !== undefined) {
        progress(row, said("certificate.found", { serialNumber: found.serial }, `KSeF already issued certificate ${found.serial} for this key; adopting it.`));
        return complete(row, found.der, found.serial, ctx);
      }
      const left = deadline - now().getTime();
      if (left <= 0) break;
      progress(row, said("certificate.notFoundYet", {}, "KSeF shows no certificate for this key yet; checking again shortly."));
      await sleep(Math.min(reconcilePollMs, left), ctx.signal);
    }
    ctx.privateKey = undefined;
    return save(
      row,
      "requested",
      { keyFile: null, publicKeySpki: null, csrDer: null, submittedAt: null, certificateSerialNumber: null },
      ctx,
      said(
        "key.discarded",
        {},
        "It is unknown whether KSeF got the certificate request and KSeF shows no certificate for this key: the key is discarded and a new one will be enrolled, so no key is ever enrolled twice.",
      ),
      "enrollment.key_discarded",
    );
  }

  async function findIssued(
    client: EnrollmentKsefClient,
    session: KsefSession,
    row: EnrollmentRow,
    spki: Buffer,
    submittedAt: Date,
    ctx: RunContext,
  ): Promise<{ der: Uint8Array; serial: string } | undefined> {
    const signal = ctx.signal === undefined ? {} : { signal: ctx.signal };
    const since = submittedAt.getTime() - RECONCILE_CLOCK_SKEW_MS;
    const candidates: string[] = [];
    for (let page = 0; page < MAX_RECONCILE_PAGES; page++) {
      const res = await client.queryCertificates(session, { name: row.name, type: row.certificateType }, { pageSize: 50, pageOffset: page, ...signal });
      let older = false;
      for (const c of res.certificates) {
        const requested = Date.parse(c.requestDate);
        if (Number.isFinite(requested) && requested < since) older = true;
        else if (c.name === row.name) candidates.push(c.certificateSerialNumber);
      }
      // Pages come newest request first: once older requests show up, ours cannot follow.
      if (!res.hasMore || older) break;
    }
    for (let i = 0; i < candidates.length; i += 10) {
      const res = await client.retrieveCertificates(session, candidates.slice(i, i + 10), signal);
      for (const c of res.certificates) {
        const der = new Uint8Array(Buffer.from(c.certificate, "base64"));
        const info = parseCertificate(der);
        if (normalisedSpki(info.subjectPublicKeyInfo).equals(spki)) return { der, serial: info.serialNumber };
      }
    }
    return undefined;
  }

  async function followUp(start: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
    const { row: authed, session } = await sessionFor(start, ctx);
    let row = authed;
    const client = deps.client(row.environment);
    const signal = ctx.signal === undefined ? {} : { signal: ctx.signal };
    let serial = row.certificateSerialNumber;
    if (serial === null) {
      const ref = row.ksefReferenceNumber;
      if (ref === null) throw new KsefCertsError("INTERNAL", `Enrollment ${row.id} is submitted without a KSeF reference number.`);
      progress(row, said("ksef.awaitingCertificate", { referenceNumber: ref }, `Waiting for KSeF to issue the certificate (${ref}).`));
      let done;
      try {
        done = await client.waitForEnrollment(session, ref, { ...signal, ...poll });
      } catch (err) {
        if (err instanceof KsefStatusError && err.statusCode === 550) {
          // KSeF cancelled the request: the key was not certified. A new key keeps "one key, one enrollment" simple to audit.
          ctx.privateKey = undefined;
          return save(
            row,
            "requested",
            { keyFile: null, publicKeySpki: null, csrDer: null, submittedAt: null, ksefReferenceNumber: null },
            ctx,
            said(
              "ksef.enrollmentCancelled",
              { referenceNumber: ref },
              `KSeF cancelled enrollment ${ref} (550); the key is discarded and the certificate will be requested again with a new key.`,
            ),
            "enrollment.key_discarded",
          );
        }
        throw err;
      }
      serial = done.certificateSerialNumber;
      row = await save(
        row,
        "submitted",
        { certificateSerialNumber: serial },
        ctx,
        said("certificate.issued", { serialNumber: serial }, `KSeF issued certificate ${serial}.`),
      );
    }
    const res = await client.retrieveCertificates(session, [serial], signal);
    const item = res.certificates.find((c) => c.certificateSerialNumber.toUpperCase() === serial.toUpperCase()) ?? res.certificates[0];
    if (item === undefined)
      throw new KsefCertsError("IO", `KSeF returned no certificate for serial ${serial}.`, { retryable: true, hint: "Try again in a moment." });
    return complete(row, new Uint8Array(Buffer.from(item.certificate, "base64")), serial, ctx);
  }

  /** Pairs the certificate with the stored key and records it; `completed` in the same transaction. */
  async function complete(row: EnrollmentRow, der: Uint8Array, serial: string, ctx: RunContext): Promise<EnrollmentRow> {
    const info = parseCertificate(der);
    if (row.publicKeySpki === null || !normalisedSpki(info.subjectPublicKeyInfo).equals(normalisedSpki(row.publicKeySpki))) {
      throw new KsefCertsError("KEY_MISMATCH", `KSeF certificate ${serial} does not certify the key of enrollment ${row.id}.`, {
        hint: "Report this to MF support quoting the serial and the enrollment reference number.",
        details: { serialNumber: serial },
      });
    }
    if (info.ksefType !== row.certificateType) {
      throw new KsefCertsError("VALIDATION", `KSeF certificate ${serial} is of type ${info.ksefType ?? "unknown"}, not ${row.certificateType} as requested.`, {
        details: { serialNumber: serial },
      });
    }
    const keyFile = row.keyFile;
    if (keyFile === null) throw new KsefCertsError("INTERNAL", `Enrollment ${row.id} has no key to pair with the certificate.`);
    const certificateId = randomUUID();
    let sealedPassword: Uint8Array | undefined;
    if (row.sealedPassword !== null && deps.sealer !== undefined) {
      const password = deps.sealer.unseal(row.sealedPassword, enrollmentPasswordAad(row.id));
      sealedPassword = deps.sealer.seal(password, sealedPasswordAad(certificateId));
      password.fill(0);
    }
    try {
      const done = await save(
        row,
        "completed",
        { certificateSerialNumber: serial, certificateId, sealedSession: null, failureCode: null, failureReason: null },
        ctx,
        said("certificate.stored", { serialNumber: serial, mode: row.mode }, `Certificate ${serial} stored as ${row.mode}.`),
        "enrollment.state",
        async (tx) => {
          await recordCertificate(
            tx,
            {
              id: certificateId,
              scope: scopeOfRow(row),
              environment: row.environment,
              mode: row.mode,
              name: row.name,
              certificateDer: der,
              keyFile,
              ...(sealedPassword === undefined ? {} : { sealedPassword }),
              source: "enrolled",
              enrollmentId: row.id,
            },
            { actor: ctx.actor, at: now() },
            { maxActive },
          );
          return {};
        },
      );
      passwords.delete(row.id);
      return done;
    } catch (err) {
      if (err instanceof KsefCertsError && (err.code === "CONFLICT" || err.code === "VALIDATION") && err.details["concurrent"] !== true) {
        // KSeF issued it; a registry rule refuses it for now. Keep serial and key on the row so nothing is lost.
        const [kept] = await db
          .update(enrollments)
          .set({ certificateSerialNumber: serial, failureReason: reasonOf(err), updatedAt: now() })
          .where(and(eq(enrollments.id, row.id), eq(enrollments.state, row.state)))
          .returning();
        throw new Stop(
          "blocked",
          said(
            "certificate.storeBlocked",
            { serialNumber: serial, reason: err.message },
            `KSeF issued certificate ${serial}, but the registry cannot store it yet: ${err.message}`,
          ),
          err,
          kept,
        );
      }
      throw err;
    }
  }

  async function step(row: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
    switch (row.state as EnrollmentState) {
      case "requested":
        return generateKey(row, ctx);
      case "key_generated":
      case "authenticating":
      case "awaiting_signature":
        // The key is opened first: nobody should sign for an enrollment that then stops for a password.
        await privateKeyOf(row, ctx);
        return authenticate(row, ctx);
      case "authenticated":
        return submit(row, ctx);
      case "submitting":
        return reconcile(row, ctx);
      case "submitted":
        return followUp(row, ctx);
      default:
        throw new KsefCertsError("INTERNAL", `Enrollment ${row.id} is in unknown state "${row.state}".`);
    }
  }

  async function fail(id: string, err: KsefCertsError, ctx: RunContext): Promise<EnrollmentRow> {
    const row = await load(id);
    if (FINAL_ENROLLMENT_STATES.includes(row.state as EnrollmentState)) return row;
    const next = await save(
      row,
      "failed",
      { failureCode: failureCodeOf(err), failureReason: reasonOf(err), sealedSession: null },
      ctx,
      said("enrollment.failed", { reason: err.message }, `Enrollment failed: ${err.message}`),
      "enrollment.fail",
    );
    passwords.delete(id);
    return next;
  }

  async function run(enrollmentId: string, options: EnrollmentRunOptions = {}): Promise<EnrollmentRunResult> {
    if (running.has(enrollmentId)) {
      throw new KsefCertsError("CONFLICT", `Enrollment ${enrollmentId} is already running.`, { details: { concurrent: true, enrollmentId } });
    }
    let row = await load(enrollmentId);
    if (row.state === "completed") return { outcome: "completed", enrollment: summarizeEnrollment(row) };
    if (row.state === "failed") {
      const reason = row.failureReason;
      return {
        outcome: "failed",
        enrollment: summarizeEnrollment(row),
        ...(reason === null ? {} : { message: reason, event: enrollmentEvent("enrollment.failed", { reason }) }),
      };
    }
    running.add(enrollmentId);
    const ctx: RunContext = {
      actor: options.actor ?? "system",
      signal: options.signal,
      keyPassword: options.keyPassword,
      session: undefined,
      privateKey: undefined,
    };
    try {
      [row] = (await db
        .update(enrollments)
        .set({ attempts: row.attempts + 1 })
        .where(eq(enrollments.id, enrollmentId))
        .returning()) as [EnrollmentRow];
      for (let steps = 0; steps < MAX_STEPS; steps++) {
        if (row.state === "completed") return { outcome: "completed", enrollment: summarizeEnrollment(row) };
        if (isAborted(ctx.signal)) throw cancelled(ctx.signal, "enrolling");
        try {
          row = await step(row, ctx);
        } catch (err) {
          if (err instanceof Stop) {
            const latest = err.row ?? (await load(enrollmentId));
            if (err.outcome !== "blocked") progress(latest, { event: err.event, message: err.message });
            return {
              outcome: err.outcome,
              enrollment: summarizeEnrollment(latest),
              message: err.message,
              event: err.event,
              ...(err.error === undefined ? {} : { error: err.error }),
            };
          }
          if (isAborted(ctx.signal)) throw err;
          if (!(err instanceof KsefCertsError) || err.details["concurrent"] === true) throw err;
          const latest = await load(enrollmentId);
          if (err.retryable) {
            const retrying = said("run.retrying", { reason: err.message }, `Stopped by a passing fault, to be retried: ${err.message}`);
            progress(latest, retrying);
            return { outcome: "retry", enrollment: summarizeEnrollment(latest), message: err.message, event: retrying.event, error: err };
          }
          const failed = await fail(enrollmentId, err, ctx);
          return {
            outcome: "failed",
            enrollment: summarizeEnrollment(failed),
            message: err.message,
            event: enrollmentEvent("enrollment.failed", { reason: err.message }),
            error: err,
          };
        }
      }
      throw new KsefCertsError("INTERNAL", `Enrollment ${enrollmentId} did not settle within ${MAX_STEPS} steps.`);
    } finally {
      running.delete(enrollmentId);
    }
  }

  async function resumeAll(options: { readonly signal?: AbortSignal; readonly actor?: string } = {}): Promise<EnrollmentRunResult[]> {
    const open = await db
      .select({ id: enrollments.id, authMethod: enrollments.authMethod })
      .from(enrollments)
      .where(notInArray(enrollments.state, [...FINAL_ENROLLMENT_STATES]))
      .orderBy(asc(enrollments.createdAt));
    const ordered = [...open.filter((e) => e.authMethod !== "handoff"), ...open.filter((e) => e.authMethod === "handoff")];
    const results: EnrollmentRunResult[] = [];
    for (const e of ordered) {
      if (running.has(e.id)) continue;
      results.push(
        await run(e.id, {
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(options.actor === undefined ? {} : { actor: options.actor }),
        }),
      );
    }
    return results;
  }

  async function get(enrollmentId: string): Promise<EnrollmentSummary> {
    return summarizeEnrollment(await load(enrollmentId));
  }

  async function list(filter: { readonly states?: readonly EnrollmentState[] } = {}): Promise<EnrollmentSummary[]> {
    const states = filter.states;
    const rows = await db
      .select()
      .from(enrollments)
      .where(states === undefined ? undefined : inArray(enrollments.state, [...states]))
      .orderBy(desc(enrollments.createdAt));
    return rows.map(summarizeEnrollment);
  }

  return { request, run, resumeAll, get, list };
}
