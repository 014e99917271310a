/**
 * The dependencies every enrollment step takes: the caller's {@link EnrollmentDeps} with their defaults
 * resolved, plus the row persistence the steps share (`load`, `save`, …). Steps never touch the database
 * but through these functions, so a step can be tested alone with a fake `save`.
 */
import { and, eq } from "drizzle-orm";
import { systemClock, type Clock } from "@ksef-certs/ksef/api";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { XadesSigner } from "@ksef-certs/ksef/xades";
import { DEFAULT_MAX_ACTIVE } from "../../registry/certificates.js";
import { appendAudit } from "../../store/audit.js";
import type { Db } from "../../store/db.js";
import type { Vault } from "../../vault/index.js";
import { companies, enrollments } from "../../store/schema.js";
import {
  summarizeEnrollment,
  type EnrollmentDeps,
  type EnrollmentEnvironment,
  type EnrollmentHandoff,
  type EnrollmentKsefClient,
  type EnrollmentRow,
} from "../model.js";
import type { EnrollmentState } from "../states.js";
import { UUID, concurrentChange, notFound, type Said } from "./common.js";

/** A change of an enrollment row a step asks `save` to make. */
export type EnrollmentPatch = Partial<typeof enrollments.$inferInsert>;

/** What the steps need, resolved once per service from {@link EnrollmentDeps}. */
export interface StepDeps {
  /** The KSeF client of an environment. */
  client(environment: EnrollmentEnvironment): EnrollmentKsefClient;
  /** The clock; every timestamp a step writes comes from here. */
  now(): Date;
  /** Waits `ms` (cancellable). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** The same clock for `KsefSession` (epoch ms). */
  readonly clock: Clock;
  readonly signerFor: ((certificateId: string) => Promise<XadesSigner>) | undefined;
  readonly handoff: EnrollmentHandoff | undefined;
  /** Seals and unseals under the master key; undefined → nothing is sealed. */
  readonly vault: Pick<Vault, "seal" | "unseal"> | undefined;
  /** Key passwords this service was given with `request`, by enrollment id (memory only). */
  readonly passwords: Map<string, string>;
  readonly maxActive: number;
  /** ms; see `EnrollmentDeps.reconcileGraceMs`. */
  readonly reconcileGraceMs: number;
  /** ms; see `EnrollmentDeps.reconcilePollMs`. */
  readonly reconcilePollMs: number;
  readonly maxChallengeRenewals: number;
  readonly pollOptions: { readonly intervalMs?: number; readonly timeoutMs?: number };
  /** Reports a step to `EnrollmentDeps.onProgress`; never throws. */
  progress(row: EnrollmentRow, report: Said): void;
  /**
   * The row of `id`.
   * @throws {KsefCertsError} NOT_FOUND for an unknown or malformed id
   */
  load(id: string): Promise<EnrollmentRow>;
  /**
   * Moves `row` to `to` (or keeps its state) with `patch`, only if nobody moved it meanwhile, with the
   * audit entry (`action`, default `enrollment.state`) in the same transaction; `extra` runs inside that
   * transaction first (e.g. recording the certificate). Reports `report` once committed.
   * @returns the updated row
   * @throws {KsefCertsError} CONFLICT (`details.concurrent`) when the row changed meanwhile
   */
  save(
    row: EnrollmentRow,
    to: EnrollmentState,
    patch: EnrollmentPatch,
    ctx: { readonly actor: string },
    report: Said,
    action?: string,
    extra?: (tx: Db) => Promise<EnrollmentPatch>,
  ): Promise<EnrollmentRow>;
  /**
   * Keeps an issued certificate's serial and the reason it cannot be recorded yet on the row, state unchanged (no audit entry).
   * @returns the row as left, or `undefined` when its state changed meanwhile
   */
  keepIssued(row: EnrollmentRow, serialNumber: string, reason: string): Promise<EnrollmentRow | undefined>;
  /**
   * The NIP of a company (the KSeF context of the authentication).
   * @throws {KsefCertsError} NOT_FOUND for an unknown company
   */
  companyNip(companyId: string): Promise<string>;
}

/**
 * Resolves the caller's dependencies into the steps' ones, over the database of `deps.db`.
 * @param deps the service's dependencies
 * @param passwords the service's in-memory key passwords (shared with `request`)
 */
export function createStepDeps(deps: EnrollmentDeps, passwords: Map<string, string>): StepDeps {
  const db = deps.db;
  const now = (): Date => (deps.now === undefined ? new Date() : deps.now());
  const sleep = (ms: number, signal?: AbortSignal): Promise<void> => (deps.sleep ?? systemClock.sleep)(ms, signal);
  const clock: Clock = { now: () => now().getTime(), sleep: (ms, signal) => sleep(ms, signal) };

  // Called as a method of `deps`, as before, in case the caller's signer uses `this`.
  function signerFor(certificateId: string): Promise<XadesSigner> {
    if (deps.signerFor === undefined) throw new KsefCertsError("VALIDATION", msg("enrollment.auth.noSigner"));
    return deps.signerFor(certificateId);
  }

  function progress(row: EnrollmentRow, report: Said): void {
    try {
      deps.onProgress?.({ enrollmentId: row.id, state: row.state, message: report.message, event: report.event });
    } catch {
      // A broken progress printer must not break an enrollment.
    }
  }

  async function load(id: string): Promise<EnrollmentRow> {
    if (!UUID.test(id)) throw notFound("enrollment", id);
    const [row] = await db.select().from(enrollments).where(eq(enrollments.id, id));
    if (row === undefined) throw notFound("enrollment", id);
    return row;
  }

  async function save(
    row: EnrollmentRow,
    to: EnrollmentState,
    patch: EnrollmentPatch,
    ctx: { readonly actor: string },
    report: Said,
    action = "enrollment.state",
    extra?: (tx: Db) => Promise<EnrollmentPatch>,
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

  async function keepIssued(row: EnrollmentRow, serialNumber: string, reason: string): Promise<EnrollmentRow | undefined> {
    const [kept] = await db
      .update(enrollments)
      .set({ certificateSerialNumber: serialNumber, failureReason: reason, updatedAt: now() })
      .where(and(eq(enrollments.id, row.id), eq(enrollments.state, row.state)))
      .returning();
    return kept;
  }

  async function companyNip(companyId: string): Promise<string> {
    const [c] = await db.select({ nip: companies.nip }).from(companies).where(eq(companies.id, companyId));
    if (c === undefined) throw notFound("company", companyId);
    return c.nip;
  }

  return {
    client: (environment) => deps.client(environment),
    now,
    sleep,
    clock,
    signerFor: deps.signerFor === undefined ? undefined : signerFor,
    handoff: deps.handoff,
    vault: deps.vault,
    passwords,
    maxActive: deps.maxActive ?? DEFAULT_MAX_ACTIVE,
    reconcileGraceMs: deps.reconcileGraceMs ?? 120_000,
    reconcilePollMs: deps.reconcilePollMs ?? 10_000,
    maxChallengeRenewals: deps.maxChallengeRenewals ?? 5,
    pollOptions: deps.pollOptions ?? {},
    progress,
    load,
    save,
    keepIssued,
    companyNip,
  };
}
