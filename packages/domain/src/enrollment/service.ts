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
 * Secrets: the key password lives only in memory, or sealed under the master key (`vault`) when the
 * caller chose unattended use; the KSeF refresh token is kept (sealed) only when a vault exists.
 * Nothing secret goes to the audit log or to progress messages.
 *
 * Layout: `model.ts` holds the public shapes, `request.ts` takes a request, `steps/` holds one module per
 * step (key generation, authentication, submission, reconciliation, polling, download, storing), each a
 * function of explicit dependencies (`StepDeps`), the row and the run's memory; this module is the driver:
 * it loads the row, picks the step for its state (`stepFor`), and loops until the enrollment settles or stops.
 */
import { asc, desc, eq, inArray, notInArray } from "drizzle-orm";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { enrollments } from "../store/schema.js";
import { enrollmentEvent } from "./events.js";
import {
  summarizeEnrollment,
  type EnrollmentDeps,
  type EnrollmentRequestInput,
  type EnrollmentRequestMeta,
  type EnrollmentRow,
  type EnrollmentRunOptions,
  type EnrollmentRunResult,
  type EnrollmentService,
  type EnrollmentSummary,
} from "./model.js";
import { requestEnrollment } from "./request.js";
import { FINAL_ENROLLMENT_STATES, type EnrollmentState } from "./states.js";
import { Stop, cancelled, failureCodeOf, isAborted, reasonOf, said, type RunContext } from "./steps/common.js";
import { createStepDeps } from "./steps/deps.js";
import { stepFor } from "./steps/index.js";

/** Safety bound on steps in one run (a full enrollment takes 5: key, authentication, submission, poll, download). */
const MAX_STEPS = 40;

/**
 * Creates the enrollment service.
 * @param deps database, KSeF clients and optional ports (see {@link EnrollmentDeps})
 * @returns the use cases {@link EnrollmentService}
 * @example
 * const enrollment = createEnrollmentService({ db, client: (env) => createKsefClient({ environment: env }), signerFor, handoff, vault });
 * const e = await enrollment.request({ scope: { type: "operator", operatorId }, environment: "test", certificateType: "Offline",
 *   mode: "current", name: "Jan Offline", authMethod: "certificate", signingCertificateId, keyPassword }, { actor: "cli:jan" });
 * const { outcome, enrollment: done } = await enrollment.run(e.id, { signal });
 */
export function createEnrollmentService(deps: EnrollmentDeps): EnrollmentService {
  const db = deps.db;
  const passwords = new Map<string, string>();
  const d = createStepDeps(deps, passwords);
  const running = new Set<string>();

  function request(input: EnrollmentRequestInput, meta: EnrollmentRequestMeta): Promise<EnrollmentSummary> {
    return requestEnrollment(db, d, input, meta);
  }

  async function fail(id: string, err: KsefCertsError, ctx: RunContext): Promise<EnrollmentRow> {
    const row = await d.load(id);
    if (FINAL_ENROLLMENT_STATES.includes(row.state as EnrollmentState)) return row;
    const next = await d.save(
      row,
      "failed",
      { failureCode: failureCodeOf(err), failureReason: reasonOf(err), sealedSession: null },
      ctx,
      said("enrollment.failed", { reason: err.message }, `Enrollment failed: ${err.message}`),
      "enrollment.fail",
    );
    d.passwords.delete(id);
    return next;
  }

  async function run(enrollmentId: string, options: EnrollmentRunOptions = {}): Promise<EnrollmentRunResult> {
    if (running.has(enrollmentId)) {
      throw new KsefCertsError("CONFLICT", msg("enrollment.run.alreadyRunning", { id: enrollmentId }), { details: { concurrent: true, enrollmentId } });
    }
    let row = await d.load(enrollmentId);
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
          row = await stepFor(row)(d, row, ctx);
        } catch (err) {
          if (err instanceof Stop) {
            const latest = err.row ?? (await d.load(enrollmentId));
            if (err.outcome !== "blocked") d.progress(latest, { event: err.event, message: err.message });
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
          const latest = await d.load(enrollmentId);
          if (err.retryable) {
            const retrying = said("run.retrying", { reason: err.message }, `Stopped by a passing fault, to be retried: ${err.message}`);
            d.progress(latest, retrying);
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
      throw new KsefCertsError("INTERNAL", msg("enrollment.run.unsettled", { id: enrollmentId, steps: MAX_STEPS }));
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
    return summarizeEnrollment(await d.load(enrollmentId));
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
