/**
 * The server's background enrollments: one core `createEnrollmentService` per server, runs started in the
 * background (never awaited by a request), retried with backoff on transient stops, and their progress
 * fanned out to `enrollments.watch` subscribers (an in-process emitter keyed by enrollment id; a late
 * subscriber gets the current state first, from the database).
 */
import { EventEmitter, on } from "node:events";
import { LOCAL_SYSTEM_PRINCIPAL } from "@ksef-certs/domain/access";
import { unlockHeldCertificate, type Vault } from "@ksef-certs/domain/vault";
import {
  createEnrollmentService,
  enrollmentStateEvent,
  FINAL_ENROLLMENT_STATES,
  type EnrollmentHandoff,
  type EnrollmentKsefClient,
  type EnrollmentProgressEvent,
  type EnrollmentRequestInput,
  type EnrollmentRequestMeta,
  type EnrollmentRunResult,
  type EnrollmentService,
  type EnrollmentSummary,
} from "@ksef-certs/domain/enrollment";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { KsefEnvironment } from "@ksef-certs/ksef/api";
import { getWorkstation } from "@ksef-certs/domain/registry";
import type { Db } from "@ksef-certs/domain/store";
import type { Logger } from "pino";

/** One progress event of an enrollment, as `enrollments.watch` sends it. */
export interface EnrollmentEvent {
  readonly enrollmentId: string;
  readonly state: string;
  /** The step in English (as the core wrote it; logs, older clients). */
  readonly message: string;
  /** The same step, machine-readable (core `ENROLLMENT_EVENTS`): what a UI says in its own language. */
  readonly event: EnrollmentProgressEvent;
  /** ISO 8601. */
  readonly at: string;
  /** Set while a person must sign auth.xml at a workstation. */
  readonly handoff?: {
    readonly workstationId: string;
    readonly workstationName: string | null;
    readonly expiresAt: string | null;
    readonly fileName: string | null;
  };
  /** Whether the enrollment reached completed or failed. */
  readonly final: boolean;
}

/** What the runner needs. */
export interface EnrollmentRunnerOptions {
  readonly db: Db;
  /** The KSeF client of an environment (official URL, or the simulator's). */
  readonly client: (environment: KsefEnvironment) => EnrollmentKsefClient;
  /** The hand-off (the agent's when available, else the folder hand-off). */
  readonly handoff?: EnrollmentHandoff;
  /** Seals key passwords and KSeF sessions; required for `sealPassword` and for automatic sign-in with held certificates. */
  readonly vault?: Vault;
  readonly clock: () => Date;
  readonly logger?: Logger;
  /** Delays between retries after a transient stop (ms); default 5 s, 30 s, 2 min, 10 min. */
  readonly retryDelaysMs?: readonly number[];
  /** KSeF status poll tuning (tests). */
  readonly pollOptions?: { readonly intervalMs?: number; readonly timeoutMs?: number };
}

/** Runs enrollments in the background and publishes their progress. */
export interface EnrollmentRunner {
  /** The core service (request validation, get, list). */
  readonly service: EnrollmentService;
  /** Stores a request (authorised against `meta.principal` in core) and starts running it in the background. */
  request(input: EnrollmentRequestInput, meta: EnrollmentRequestMeta): Promise<EnrollmentSummary>;
  /** Starts (or restarts) a run in the background unless one is running. */
  kick(enrollmentId: string, actor?: string): void;
  /** Resumes every unfinished enrollment in the background (server start). */
  resumeAll(): void;
  /** The current state as an event. */
  current(enrollmentId: string): Promise<EnrollmentEvent>;
  /** Events of one enrollment: the current state first, then each change, until a final state or `signal` aborts. */
  watch(enrollmentId: string, signal: AbortSignal): AsyncGenerator<EnrollmentEvent>;
  /** Stops every run (state stays resumable) and waits for them. */
  close(): Promise<void>;
}

const DEFAULT_RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000];

/**
 * Creates the runner.
 * @param options database, KSeF clients, hand-off, vault, clock, logger
 */
export function createEnrollmentRunner(options: EnrollmentRunnerOptions): EnrollmentRunner {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const running = new Map<string, Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  const abort = new AbortController();
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const vault = options.vault;

  const service = createEnrollmentService({
    db: options.db,
    client: options.client,
    now: options.clock,
    ...(options.handoff === undefined ? {} : { handoff: options.handoff }),
    ...(vault === undefined ? {} : { vault }),
    ...(options.pollOptions === undefined ? {} : { pollOptions: options.pollOptions }),
    // Background runs act as the local system: the request was authorised against its principal when it was made.
    signerFor: (certificateId) =>
      unlockHeldCertificate(options.db, LOCAL_SYSTEM_PRINCIPAL, certificateId, vault, {
        hint: msg("server.enrollment.signingPassword.hint"),
      }),
    onProgress: (p) => {
      publish(p.enrollmentId, { message: p.message, event: p.event });
    },
  });

  /** The event of `enrollmentId` as it stands now, reporting `step` (default: the state itself). */
  async function eventOf(enrollmentId: string, step?: { readonly message: string; readonly event: EnrollmentProgressEvent }): Promise<EnrollmentEvent> {
    const e = await service.get(enrollmentId);
    let handoff: EnrollmentEvent["handoff"];
    if (e.state === "awaiting_signature" && e.workstationId !== null) {
      const w = await getWorkstation(options.db, e.workstationId).catch(() => undefined);
      handoff = {
        workstationId: e.workstationId,
        workstationName: w?.name ?? null,
        expiresAt: e.challengeExpiresAt?.toISOString() ?? null,
        fileName: e.handoffFile === null ? null : (e.handoffFile.split(/[\\/]/).pop() ?? null),
      };
    }
    const said = step ?? enrollmentStateEvent(e);
    return {
      enrollmentId,
      state: e.state,
      message: said.message,
      event: said.event,
      at: options.clock().toISOString(),
      ...(handoff === undefined ? {} : { handoff }),
      final: (FINAL_ENROLLMENT_STATES as readonly string[]).includes(e.state),
    };
  }

  function publish(enrollmentId: string, step?: { readonly message: string; readonly event: EnrollmentProgressEvent }): void {
    void eventOf(enrollmentId, step).then(
      (e) => emitter.emit(enrollmentId, e),
      () => undefined,
    );
  }

  function kick(enrollmentId: string, actor = "system", attempt = 0): void {
    if (running.has(enrollmentId) || abort.signal.aborted) return;
    const run = (async () => {
      let result: EnrollmentRunResult | undefined;
      try {
        result = await service.run(enrollmentId, { signal: abort.signal, actor });
      } catch (err) {
        if (!abort.signal.aborted) options.logger?.error({ err, enrollmentId }, "enrollment run failed");
      } finally {
        running.delete(enrollmentId);
      }
      if (result === undefined) return;
      publish(enrollmentId, result.message === undefined || result.event === undefined ? undefined : { message: result.message, event: result.event });
      options.logger?.info({ enrollmentId, outcome: result.outcome, state: result.enrollment.state }, "enrollment run stopped");
      if (result.outcome === "retry" && attempt < delays.length && !abort.signal.aborted) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          kick(enrollmentId, actor, attempt + 1);
        }, delays[attempt]);
        timer.unref();
        timers.add(timer);
      }
    })();
    running.set(enrollmentId, run);
  }

  return {
    service,
    async request(input, meta) {
      const summary = await service.request(input, meta);
      kick(summary.id, meta.actor);
      return summary;
    },
    kick: (id, actor) => {
      kick(id, actor);
    },
    resumeAll() {
      void service.list({ states: ["requested", "key_generated", "authenticating", "awaiting_signature", "authenticated", "submitting", "submitted"] }).then(
        (open) => {
          for (const e of open) kick(e.id);
        },
        (err: unknown) => options.logger?.error({ err }, "could not list unfinished enrollments"),
      );
    },
    current: (id) => eventOf(id),
    async *watch(enrollmentId, signal) {
      // Subscribe before reading the current state, so nothing between the two is lost.
      const events = on(emitter, enrollmentId, { signal });
      const first = await eventOf(enrollmentId);
      yield first;
      if (first.final) return;
      try {
        for await (const [event] of events as AsyncIterable<[EnrollmentEvent]>) {
          yield event;
          if (event.final) return;
        }
      } catch (err) {
        if (!signal.aborted) throw err;
      }
    },
    async close() {
      abort.abort(new KsefCertsError("IO", msg("server.stopping"), { details: { reason: "aborted" } }));
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([...running.values()]);
    },
  };
}
