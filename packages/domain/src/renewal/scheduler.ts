/**
 * The renewal scheduler: one pass ({@link runDueRenewals}) persists due takeovers of queued successors, opens a
 * renewal for every certificate that has fallen due, claims due renewals and drives each through the enrollment
 * state machine. Passes may run at once in several processes and servers on one database:
 *
 * - a certificate has at most one renewal ever (`renewals.certificate_id` is unique; opening is `ON CONFLICT DO
 *   NOTHING`);
 * - a renewal is worked on by one process at a time: it is claimed with `FOR UPDATE SKIP LOCKED` for a lease
 *   (`claimed_until`), renewed while the work goes on; a process that dies leaves a lease that runs out, and the next
 *   pass anywhere takes the renewal over;
 * - the enrollment's id is chosen and stored on the renewal before the enrollment is created, so a crash between the
 *   two resumes that enrollment instead of starting another; the enrollment itself never sends one key twice
 *   (`enrollment/service.ts`);
 * - KSeF calls are paced by the KSeF client's limiter (the shared one of `pacing.ts` when several processes run).
 *
 * Failures: a passing fault is retried with backoff ({@link DEFAULT_RENEWAL_RETRY_DELAYS_MS}), a refused enrollment
 * is started again with a new key after a delay, and after {@link MAX_RENEWAL_ATTEMPTS} attempts the renewal is
 * `failed` (audited, logged, shown in the plan). A renewal that needs a person opens the signing request at the
 * workstation; when nobody signs before the challenges run out it is asked again a day later ("and again if it
 * expires"), until a successor exists or the certificate has expired.
 */
import { randomUUID } from "node:crypto";
import { and, eq, gt, inArray, isNull, lt, lte, notInArray, or, sql } from "drizzle-orm";
import { KsefCertsError, isKsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { generateKsefPassword } from "@ksef-certs/ksef/policies";
import type { EnrollmentRequestInput, EnrollmentService } from "../enrollment/model.js";
import { promoteQueued, type Promotion, sealedPasswordAad } from "../registry/certificates.js";
import { MS_PER_DAY } from "../registry/internal.js";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { certificates, renewals } from "../store/schema.js";
import type { Vault } from "../vault/index.js";
import { loadPolicyBook } from "./policy.js";
import { decideRenewal, loadSlotBook, longestLeadDays, PLAN_CERTIFICATE_COLUMNS, type PlanCertificate, type RenewalReason, renewalPlan } from "./plan.js";

/** The audit actor of the scheduler's own changes. */
export const RENEWAL_ACTOR = "system:renewal";
/** Attempts (enrollment runs that stopped on a fault or were refused) before a renewal is given up as `failed`. */
export const MAX_RENEWAL_ATTEMPTS = 6;
/** Waits after the 1st, 2nd, … failed attempt (ms): 5 min, 30 min, 2 h, 12 h, 24 h. */
export const DEFAULT_RENEWAL_RETRY_DELAYS_MS: readonly number[] = [5 * 60_000, 30 * 60_000, 2 * 3_600_000, 12 * 3_600_000, 24 * 3_600_000];
/** How long a claim lasts unless renewed (ms); the work renews it every third of that. */
export const DEFAULT_RENEWAL_LEASE_MS = 5 * 60_000;
/** When a blocked renewal, one waiting for approval or for a person, is looked at again (ms): a day. */
export const DEFAULT_RENEWAL_RECHECK_MS = MS_PER_DAY;

type RenewalRow = typeof renewals.$inferSelect;
type RenewalState = RenewalRow["state"];

/** Something a pass did, for logs and progress output. */
export type RenewalEvent =
  | { readonly kind: "opened"; readonly renewalId: string; readonly certificateId: string; readonly dueAt: Date }
  | {
      readonly kind: "started";
      readonly renewalId: string;
      readonly certificateId: string;
      readonly enrollmentId: string;
      readonly route: "certificate" | "person";
    }
  | { readonly kind: "completed"; readonly renewalId: string; readonly certificateId: string; readonly successorId: string | null }
  | { readonly kind: "waiting"; readonly renewalId: string; readonly certificateId: string; readonly reason: RenewalReason }
  | {
      readonly kind: "retry";
      readonly renewalId: string;
      readonly certificateId: string;
      readonly attempts: number;
      readonly nextAttemptAt: Date;
      readonly message: string;
    }
  | { readonly kind: "failed"; readonly renewalId: string; readonly certificateId: string; readonly message: string }
  | { readonly kind: "promoted"; readonly promotion: Promotion };

/** What a pass needs. */
export interface RenewalSchedulerDeps {
  readonly db: Db;
  /** The enrollment service (with `signerFor`, the hand-off and the vault the renewals need). */
  readonly enrollment: Pick<EnrollmentService, "request" | "run" | "get">;
  /** Opens sealed passwords and seals new ones; without it every renewal is blocked. */
  readonly vault?: Pick<Vault, "seal" | "unseal"> | undefined;
  readonly clock: () => Date;
  /** Names this process in claims (host, pid, a random part). */
  readonly instanceId: string;
  /** Lease length, ms; default {@link DEFAULT_RENEWAL_LEASE_MS}. */
  readonly leaseMs?: number;
  /** Renewals worked on at once by certificate (automatic) route; default 2. Person routes wait apart. */
  readonly concurrency?: number;
  /** Which routes this pass works (`renew --due` from cron leaves people's signatures to the server); default both. */
  readonly routes?: readonly ("certificate" | "person")[];
  readonly retryDelaysMs?: readonly number[];
  readonly recheckMs?: number;
  readonly maxActive?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RenewalEvent) => void;
}

/** What one pass did. */
export interface RenewalPassResult {
  readonly promoted: number;
  readonly opened: number;
  readonly claimed: number;
  readonly completed: number;
  readonly waiting: number;
  readonly retrying: number;
  readonly failed: number;
  /** Person-route runs still waiting for a signature in the background (their leases are kept). */
  readonly background: readonly Promise<void>[];
}

/** A default instance id: host, process id and a random part. */
export function renewalInstanceId(host: string, pid: number): string {
  return `${host}:${String(pid)}:${randomUUID().slice(0, 8)}`;
}

/**
 * Opens a renewal (state `due`, or `awaiting_approval` when approval comes first) for every current certificate whose
 * renewal has fallen due at `at` and that has no renewal and no covering successor yet; each with an audit entry
 * `renewal.open`. Safe to run in several processes at once.
 * @returns the renewals opened
 */
export async function openDueRenewals(db: Db, at: Date, vault: boolean, maxActive?: number): Promise<RenewalRow[]> {
  // Only certificates within the longest lead any policy sets can be due.
  const leadDays = await longestLeadDays(db);
  const candidates = await db
    .select({ id: certificates.id })
    .from(certificates)
    .leftJoin(renewals, eq(renewals.certificateId, certificates.id))
    .where(
      and(
        eq(certificates.mode, "current"),
        eq(certificates.status, "active"),
        gt(certificates.validTo, at),
        lte(certificates.validTo, new Date(at.getTime() + leadDays * MS_PER_DAY)),
        isNull(renewals.id),
      ),
    );
  if (candidates.length === 0) return [];
  const ids = new Set(candidates.map((c) => c.id));
  const plan = (await renewalPlan(db, { at, vault, dueBy: at, ...(maxActive === undefined ? {} : { maxActive }) })).filter(
    (i) => ids.has(i.certificate.id) && i.route !== "renewed" && i.renewal === null,
  );
  const opened: RenewalRow[] = [];
  for (const item of plan) {
    const row = await db.transaction(async (txRaw) => {
      const tx = txRaw as unknown as Db;
      const [inserted] = await tx
        .insert(renewals)
        .values({
          certificateId: item.certificate.id,
          companyId: item.certificate.companyId,
          state: item.route === "approval" ? "awaiting_approval" : "due",
          route: item.signing,
          dueAt: item.dueAt,
          nextAttemptAt: at,
          reasonId: item.reason?.id ?? null,
          reasonParams: item.reason === null ? null : { ...item.reason.params },
          createdAt: at,
          updatedAt: at,
        })
        .onConflictDoNothing({ target: renewals.certificateId })
        .returning();
      if (inserted === undefined) return undefined;
      await appendAudit(tx, {
        actor: RENEWAL_ACTOR,
        action: "renewal.open",
        entityType: "renewal",
        entityId: inserted.id,
        after: { certificateId: inserted.certificateId, state: inserted.state, route: inserted.route, dueAt: inserted.dueAt.toISOString() },
        at,
      });
      return inserted;
    });
    if (row !== undefined) opened.push(row);
  }
  return opened;
}

/**
 * Claims up to `limit` renewals that may be worked on at `at` (due, running, waiting for a signature, blocked or
 * waiting for approval, past their `nextAttemptAt`, unclaimed or with a lapsed lease), soonest due first, for
 * `instanceId` until `at + leaseMs`. Rows another transaction holds are skipped (`FOR UPDATE SKIP LOCKED`), so
 * concurrent passes never claim the same renewal.
 * @returns the claimed rows
 */
export async function claimRenewals(
  db: Db,
  input: { readonly at: Date; readonly instanceId: string; readonly leaseMs: number; readonly limit: number; readonly skip?: readonly string[] },
): Promise<RenewalRow[]> {
  const { at, instanceId, leaseMs, limit } = input;
  const skip = input.skip ?? [];
  if (limit <= 0) return [];
  const until = new Date(at.getTime() + leaseMs);
  return db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    const free = await tx
      .select({ id: renewals.id })
      .from(renewals)
      .where(
        and(
          inArray(renewals.state, ["due", "running", "awaiting_signature", "blocked", "awaiting_approval"]),
          lte(renewals.nextAttemptAt, at),
          or(isNull(renewals.claimedUntil), lt(renewals.claimedUntil, at)),
          skip.length === 0 ? undefined : notInArray(renewals.id, [...skip]),
        ),
      )
      .orderBy(renewals.dueAt, renewals.id)
      .limit(limit)
      .for("update", { skipLocked: true });
    if (free.length === 0) return [];
    return tx
      .update(renewals)
      .set({ claimedBy: instanceId, claimedUntil: until, updatedAt: at })
      .where(
        inArray(
          renewals.id,
          free.map((f) => f.id),
        ),
      )
      .returning();
  });
}

/** Changes a claimed renewal, only while this instance still holds it; returns the row, or undefined when the claim was lost. */
async function update(db: Db, r: RenewalRow, instanceId: string, patch: Partial<typeof renewals.$inferInsert>): Promise<RenewalRow | undefined> {
  const [row] = await db
    .update(renewals)
    .set(patch)
    .where(and(eq(renewals.id, r.id), eq(renewals.claimedBy, instanceId)))
    .returning();
  return row;
}

const scopeOfCertificate = (c: PlanCertificate): EnrollmentRequestInput["scope"] =>
  c.scopeType === "company"
    ? { type: "company", companyId: c.companyId }
    : c.scopeType === "branch"
      ? { type: "branch", branchId: c.branchId ?? "" }
      : { type: "operator", operatorId: c.operatorId ?? "" };

/**
 * One pass of the scheduler (see the module comment). Automatic renewals are run to their end within the pass
 * (`concurrency` at a time); person-route runs wait for the signature in the background (returned in `background`).
 * @param deps database, enrollment service, vault, clock, instance id and tuning
 * @returns counts of what happened
 */
export async function runDueRenewals(deps: RenewalSchedulerDeps): Promise<RenewalPassResult> {
  const { db, clock, instanceId } = deps;
  const leaseMs = deps.leaseMs ?? DEFAULT_RENEWAL_LEASE_MS;
  const concurrency = deps.concurrency ?? 2;
  const routes = deps.routes ?? ["certificate", "person"];
  const delays = deps.retryDelaysMs ?? DEFAULT_RENEWAL_RETRY_DELAYS_MS;
  const recheckMs = deps.recheckMs ?? DEFAULT_RENEWAL_RECHECK_MS;
  const emit = (e: RenewalEvent): void => {
    try {
      deps.onEvent?.(e);
    } catch {
      // A listener's fault must not stop renewals.
    }
  };
  const counts = { promoted: 0, opened: 0, claimed: 0, completed: 0, waiting: 0, retrying: 0, failed: 0 };
  const background: Promise<void>[] = [];

  // The queued successors' takeovers are persisted here, by background work, never by readers.
  for (const p of await promoteQueued(db, { at: clock(), actor: RENEWAL_ACTOR })) {
    counts.promoted++;
    emit({ kind: "promoted", promotion: p });
  }
  for (const r of await openDueRenewals(db, clock(), deps.vault !== undefined, deps.maxActive)) {
    counts.opened++;
    emit({ kind: "opened", renewalId: r.id, certificateId: r.certificateId, dueAt: r.dueAt });
  }

  const settle = async (
    r: RenewalRow,
    state: RenewalState,
    patch: Partial<typeof renewals.$inferInsert>,
    audit?: { action: string; after: Record<string, unknown> },
  ): Promise<RenewalRow | undefined> => {
    const at = clock();
    return db.transaction(async (txRaw) => {
      const tx = txRaw as unknown as Db;
      const row = await update(tx, r, instanceId, { ...patch, state, claimedBy: null, claimedUntil: null, updatedAt: at });
      if (row !== undefined && audit !== undefined) {
        await appendAudit(tx, {
          actor: RENEWAL_ACTOR,
          action: audit.action,
          entityType: "renewal",
          entityId: r.id,
          before: { state: r.state },
          after: { state, ...audit.after },
          at,
        });
      }
      return row;
    });
  };

  /** Waits (blocked, approval) with a reason: audited only when the state or the reason changes. */
  const park = async (r: RenewalRow, state: RenewalState, reason: RenewalReason, certificateId: string): Promise<void> => {
    const changed = r.state !== state || r.reasonId !== reason.id;
    await settle(
      r,
      state,
      { reasonId: reason.id, reasonParams: { ...reason.params }, nextAttemptAt: new Date(clock().getTime() + recheckMs) },
      changed ? { action: "renewal.wait", after: { reason: reason.id } } : undefined,
    );
    counts.waiting++;
    emit({ kind: "waiting", renewalId: r.id, certificateId, reason });
  };

  const failOrRetry = async (r: RenewalRow, certificateId: string, err: unknown, newEnrollment: boolean): Promise<void> => {
    const message = err instanceof Error ? err.message : String(err);
    const attempts = r.attempts + 1;
    if (attempts >= MAX_RENEWAL_ATTEMPTS) {
      await settle(
        r,
        "failed",
        { attempts, reasonId: "renewal.failed", reasonParams: { reason: message } },
        { action: "renewal.fail", after: { attempts, reason: message } },
      );
      counts.failed++;
      emit({ kind: "failed", renewalId: r.id, certificateId, message });
      return;
    }
    const next = new Date(clock().getTime() + (delays[Math.min(attempts - 1, delays.length - 1)] ?? recheckMs));
    await settle(
      r,
      "due",
      { attempts, nextAttemptAt: next, reasonId: "renewal.retrying", reasonParams: { reason: message }, ...(newEnrollment ? { enrollmentId: null } : {}) },
      { action: "renewal.retry", after: { attempts, nextAttemptAt: next.toISOString(), reason: message } },
    );
    counts.retrying++;
    emit({ kind: "retry", renewalId: r.id, certificateId, attempts, nextAttemptAt: next, message });
  };

  /** Keeps the claim alive while `work` runs. */
  const withLease = async <T>(r: RenewalRow, work: () => Promise<T>): Promise<T> => {
    const timer = setInterval(
      () => {
        const at = clock();
        void update(db, r, instanceId, { claimedUntil: new Date(at.getTime() + leaseMs), updatedAt: at }).catch(() => undefined);
      },
      Math.max(1_000, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  };

  const finish = async (r: RenewalRow, certificateId: string, successorId: string | null): Promise<void> => {
    await settle(
      r,
      "completed",
      { successorId, reasonId: null, reasonParams: null, sealedPassword: null },
      { action: "renewal.complete", after: { successorId } },
    );
    counts.completed++;
    emit({ kind: "completed", renewalId: r.id, certificateId, successorId });
  };

  const work = async (claimed: RenewalRow): Promise<void> => {
    let r = claimed;
    const at = clock();
    const [cert] = (await db.select(PLAN_CERTIFICATE_COLUMNS).from(certificates).where(eq(certificates.id, r.certificateId))) as PlanCertificate[];
    if (cert === undefined) return;
    if (cert.status !== "active" || cert.validTo.getTime() <= at.getTime()) {
      // Revoked or lapsed before a successor came: nothing left to renew from; the gap report shows the slot.
      await settle(r, "failed", { reasonId: "renewal.failed.gone", reasonParams: {} }, { action: "renewal.fail", after: { reason: "renewal.failed.gone" } });
      counts.failed++;
      emit({ kind: "failed", renewalId: r.id, certificateId: cert.id, message: "renewal.failed.gone" });
      return;
    }
    // An enrollment of this renewal that has already finished decides first.
    if (r.enrollmentId !== null) {
      const e = await deps.enrollment.get(r.enrollmentId).catch((err: unknown) => {
        if (isKsefCertsError(err) && err.code === "NOT_FOUND") return undefined;
        throw err;
      });
      if (e?.state === "completed") return finish(r, cert.id, e.certificateId);
      if (e?.state === "failed")
        return failOrRetry(r, cert.id, new KsefCertsError("CONFLICT", msg("renewal.enrollmentFailed", { reason: e.failureReason ?? "" })), true);
    }
    const [policies, slots] = await Promise.all([loadPolicyBook(db, [cert.companyId]), loadSlotBook(db, [cert.companyId], at)]);
    const decision = decideRenewal(cert, {
      policy: policies.policyOf(cert),
      ...slots.around(cert),
      at,
      vault: deps.vault !== undefined,
      approved: r.approvedAt !== null,
      ...(deps.maxActive === undefined ? {} : { maxActive: deps.maxActive }),
    });
    if (decision.route === "renewed") return finish(r, cert.id, decision.successorId);
    if (decision.route === "blocked" || decision.route === "approval") {
      // An enrollment already under way goes on (its own rules were checked when it was requested).
      if (r.enrollmentId === null)
        return park(r, decision.route === "approval" ? "awaiting_approval" : "blocked", decision.reason ?? { id: "renewal.blocked", params: {} }, cert.id);
    }
    const signing = decision.signing ?? "person";
    if (!routes.includes(signing)) {
      await settle(r, r.state, {});
      return;
    }
    const policy = policies.policyOf(cert).values;
    let enrollmentId = r.enrollmentId;
    if (
      enrollmentId === null ||
      (await deps.enrollment.get(enrollmentId).then(
        () => false,
        () => true,
      ))
    ) {
      const id = enrollmentId ?? randomUUID();
      // Stored before the enrollment exists: a crash after this line resumes this id, never starts a second one.
      const stored = await update(db, r, instanceId, {
        enrollmentId: id,
        enrollmentsStarted: enrollmentId === null ? r.enrollmentsStarted + 1 : r.enrollmentsStarted,
        route: signing,
        state: signing === "person" ? "awaiting_signature" : "running",
        updatedAt: at,
        ...(signing === "person" && r.signatureRequestedAt === null ? { signatureRequestedAt: at } : {}),
      });
      if (stored === undefined) return;
      r = stored;
      let keyPassword: string;
      try {
        keyPassword = passwordFor(deps.vault, policy.password, cert, r, await sealedOf(db, cert.id));
      } catch {
        await update(db, r, instanceId, { enrollmentId: null });
        return park({ ...r, enrollmentId: null }, "blocked", { id: "renewal.blocked.passwordNotSealed", params: {} }, cert.id);
      }
      try {
        await deps.enrollment.request(
          {
            scope: scopeOfCertificate(cert),
            environment: cert.environment,
            certificateType: cert.certificateType,
            mode: policy.successorMode,
            name: cert.name,
            authMethod: signing === "certificate" ? "certificate" : "handoff",
            ...(signing === "certificate" ? { signingCertificateId: decision.signerCertificateId ?? "" } : { workstationId: decision.workstationId ?? "" }),
            keyPassword,
            sealPassword: true,
            keyAlgorithm: policy.keyAlgorithm,
          },
          { actor: RENEWAL_ACTOR, enrollmentId: id },
        );
      } catch (err) {
        if (isKsefCertsError(err) && err.details["concurrent"] !== true && !err.retryable) {
          await update(db, r, instanceId, { enrollmentId: null });
          return park({ ...r, enrollmentId: null }, "blocked", { id: "renewal.blocked.refused", params: { reason: err.message } }, cert.id);
        }
        return failOrRetry(r, cert.id, err, false);
      }
      enrollmentId = id;
      emit({ kind: "started", renewalId: r.id, certificateId: cert.id, enrollmentId: id, route: signing });
    } else if (r.state !== "running" && r.state !== "awaiting_signature") {
      const moved = await update(db, r, instanceId, { state: signing === "person" ? "awaiting_signature" : "running", updatedAt: at });
      if (moved === undefined) return;
      r = moved;
    }
    const runId = enrollmentId;
    const running = r;
    const runAndSettle = async (): Promise<void> => {
      const result = await deps.enrollment
        .run(runId, { actor: RENEWAL_ACTOR, ...(deps.signal === undefined ? {} : { signal: deps.signal }) })
        .catch((err: unknown) => ({ outcome: "error" as const, err }));
      if (result.outcome === "error") {
        // Another process runs this enrollment (its lease lapsed), or this one is stopping: leave the renewal as it is.
        if ((isKsefCertsError(result.err) && result.err.details["concurrent"] === true) || deps.signal?.aborted === true) {
          await settle(running, running.state, {});
          return;
        }
        return failOrRetry(running, cert.id, result.err, false);
      }
      switch (result.outcome) {
        case "completed":
          return finish(running, cert.id, result.enrollment.certificateId);
        case "failed":
          return failOrRetry(running, cert.id, new KsefCertsError("CONFLICT", msg("renewal.enrollmentFailed", { reason: result.message ?? "" })), true);
        case "retry":
          return failOrRetry(running, cert.id, result.error ?? new Error(result.message ?? ""), false);
        case "waiting":
        case "blocked":
          // Nobody signed in time (or the run needs something): asked again after the recheck delay.
          return park(
            running,
            signing === "person" ? "awaiting_signature" : "blocked",
            { id: "renewal.waiting.signature", params: { workstation: decision.workstationId ?? "" } },
            cert.id,
          );
      }
    };
    if (signing === "certificate") return runAndSettle();
    // A person may take days: the run waits apart, with its own lease, and the pass goes on.
    background.push(withLease(running, runAndSettle).catch(() => undefined));
  };

  const safely = (r: RenewalRow): Promise<void> =>
    withLease(r, () => work(r)).catch(async (err: unknown) => {
      await failOrRetry(r, r.certificateId, err, false).catch(() => undefined);
    });

  // `concurrency` at a time until none is left to claim; each renewal once per pass (one this pass leaves alone,
  // e.g. a person's route in a cron pass, is not claimed again by it).
  const seen: string[] = [];
  for (;;) {
    if (deps.signal?.aborted === true) break;
    const batch = await claimRenewals(db, { at: clock(), instanceId, leaseMs, limit: concurrency, skip: seen });
    if (batch.length === 0) break;
    counts.claimed += batch.length;
    seen.push(...batch.map((r) => r.id));
    await Promise.all(batch.map(safely));
  }
  return { ...counts, background };
}

async function sealedOf(db: Db, certificateId: string): Promise<Uint8Array | null> {
  const [row] = await db.select({ sealed: certificates.sealedPassword }).from(certificates).where(eq(certificates.id, certificateId));
  return row?.sealed ?? null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The new key's password under the policy: the current key's sealed one (`reuse`), a new one (`generate`), or the one
 * an admin gave when approving (`ask`).
 * @throws {KsefCertsError} VALIDATION when the password needed is not available
 */
function passwordFor(
  vault: RenewalSchedulerDeps["vault"],
  policy: "reuse" | "generate" | "ask",
  cert: PlanCertificate,
  r: RenewalRow,
  sealed: Uint8Array | null,
): string {
  if (vault === undefined) throw new KsefCertsError("VALIDATION", msg("renewal.blocked.noMasterKey"));
  if (r.sealedPassword !== null) return utf8.decode(vault.unseal(r.sealedPassword, renewalPasswordAad(r.id)));
  if (policy === "generate") return generateKsefPassword();
  if (policy === "reuse" && sealed !== null) return utf8.decode(vault.unseal(sealed, sealedPasswordAad(cert.id)));
  throw new KsefCertsError("VALIDATION", msg("renewal.blocked.passwordNotSealed"));
}

/** The AAD a renewal's approved password is sealed with (binds the blob to its renewal). */
export function renewalPasswordAad(renewalId: string): string {
  return `renewal:${renewalId}:password`;
}

/**
 * The enrollments the scheduler drives (those of renewals not yet finished): a server resuming unfinished
 * enrollments at start leaves these to the scheduler, which takes them over under a claim.
 * @param db the database
 * @returns enrollment ids
 */
export async function enrollmentsOfOpenRenewals(db: Db): Promise<Set<string>> {
  const rows = await db
    .select({ id: renewals.enrollmentId })
    .from(renewals)
    .where(and(inArray(renewals.state, ["due", "running", "awaiting_signature", "blocked", "awaiting_approval"]), sql`${renewals.enrollmentId} IS NOT NULL`));
  return new Set(rows.map((r) => r.id ?? ""));
}
