/**
 * Steps without a database: a {@link StepDeps} whose `save` applies the patch to the row in memory and
 * records every transition, so a step's test sees exactly which states and fields it wrote.
 */
import type { EnrollmentKsefClient, EnrollmentRow } from "../../model.js";
import type { EnrollmentState } from "../../states.js";
import type { RunContext, Said } from "../common.js";
import type { EnrollmentPatch, StepDeps } from "../deps.js";

/** One `save` a step made. */
export interface SavedStep {
  readonly to: EnrollmentState;
  readonly patch: EnrollmentPatch;
  readonly action: string;
  readonly report: Said;
}

/**
 * An enrollment row with every column set (no key, nothing sent), overridden by `over`.
 * @param over the columns the test cares about
 * @param at creation time
 */
export function enrollmentRow(over: Partial<EnrollmentRow>, at: Date): EnrollmentRow {
  return {
    id: "6f1c2a52-6d3e-4a7e-9a57-3c1f0d0b2a11",
    scopeType: "company",
    companyId: "0b8e0c55-9f3a-4c2e-8d1b-5e7a6c4d3b21",
    branchId: null,
    operatorId: null,
    environment: "test",
    keyAlgorithm: "EC-P256",
    certificateType: "Authentication",
    mode: "current",
    name: "Firma Testowa",
    validFrom: null,
    state: "requested",
    authMethod: "certificate",
    signingCertificateId: null,
    workstationId: null,
    keyFile: null,
    sealedPassword: null,
    csrDer: null,
    publicKeySpki: null,
    challenge: null,
    challengeExpiresAt: null,
    handoffFile: null,
    authReferenceNumber: null,
    sealedSession: null,
    submittedAt: null,
    ksefReferenceNumber: null,
    certificateSerialNumber: null,
    certificateId: null,
    failureCode: null,
    failureReason: null,
    attempts: 1,
    createdAt: at,
    updatedAt: at,
    ...over,
  };
}

/**
 * Step dependencies over an in-memory row store.
 * @param client the KSeF client every environment gets
 * @param over other dependencies (a signer, a hand-off, a clock)
 * @returns `d` for the step and `saved`, every transition in order
 */
export function fakeStepDeps(client: Partial<EnrollmentKsefClient>, over: Partial<StepDeps> = {}): { d: StepDeps; saved: SavedStep[] } {
  const saved: SavedStep[] = [];
  let t = Date.parse("2026-03-01T12:00:00Z");
  const now = (): Date => new Date(t);
  const d: StepDeps = {
    client: () => client as EnrollmentKsefClient,
    now,
    sleep: (ms) => {
      t += ms;
      return Promise.resolve();
    },
    clock: {
      now: () => t,
      sleep: (ms) => {
        t += ms;
        return Promise.resolve();
      },
    },
    signerFor: undefined,
    handoff: undefined,
    vault: undefined,
    passwords: new Map(),
    maxActive: 2,
    reconcileGraceMs: 30_000,
    reconcilePollMs: 10_000,
    maxChallengeRenewals: 1,
    pollOptions: {},
    progress: () => undefined,
    load: () => Promise.reject(new Error("fake step deps: load is not expected")),
    save: (row, to, patch, _ctx, report, action = "enrollment.state") => {
      saved.push({ to, patch, action, report });
      return Promise.resolve({ ...row, ...patch, state: to, updatedAt: now() } as EnrollmentRow);
    },
    keepIssued: () => Promise.reject(new Error("fake step deps: keepIssued is not expected")),
    companyNip: () => Promise.resolve("5261040828"),
    ...over,
  };
  return { d, saved };
}

/**
 * The memory of a run, optionally already signed in (`session`), as a step after authentication sees it.
 * @param session a session object the step passes on to the client untouched
 */
export function runContext(session?: unknown): RunContext {
  return { actor: "test", signal: undefined, keyPassword: undefined, session: session as RunContext["session"], privateKey: undefined };
}
