/**
 * The server's background enrollments: one core `createEnrollmentService` per server, runs started in the
 * background (never awaited by a request), retried with backoff on transient stops, and their progress
 * fanned out to `enrollments.watch` subscribers (an in-process emitter keyed by enrollment id). A subscriber
 * that connects after a run has started (a slow page, a reconnect) first gets the steps this server has already
 * published for that enrollment, in order, then the live ones; with none kept, the current state from the database.
 */
import { EventEmitter, on } from "node:events";
import { LOCAL_SYSTEM_PRINCIPAL } from "@ksef-certs/domain/access";
import { enrollmentsOfOpenRenewals } from "@ksef-certs/domain/renewal";
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
  /** Position among this server's events of the enrollment (1, 2, …; 0 for a state read when none were kept). */
  readonly seq: number;
}

/** Most steps kept per enrollment for late subscribers. */
const MAX_KEPT_EVENTS = 200;
/** Most enrollments whose steps are kept at once (the oldest are forgotten first). */
const MAX_KEPT_ENROLLMENTS = 1_000;
/** How long the steps of a finished enrollment are kept (ms): long enough for its status page to load. */
const KEEP_FINISHED_MS = 10 * 60_000;

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
  /**
   * Events of one enrollment until a final state or `signal` aborts: the steps this server kept for it (after
   * position `after`, a reconnecting client's last one), or the current state when none were kept; then each
   * new step.
   */
  watch(enrollmentId: string, signal: AbortSignal, after?: number): AsyncGenerator<EnrollmentEvent>;
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
      seq: 0,
    };
  }

  /** Steps published per enrollment, oldest first (Map order: least recently started enrollment first). */
  const kept = new Map<string, EnrollmentEvent[]>();
  /** The last publication per enrollment: each waits for the one before, so steps keep their order. */
  const tails = new Map<string, Promise<void>>();

  function keep(event: EnrollmentEvent): void {
    const list = kept.get(event.enrollmentId) ?? [];
    if (list.length === 0) {
      kept.set(event.enrollmentId, list);
      if (kept.size > MAX_KEPT_ENROLLMENTS) kept.delete(kept.keys().next().value as string);
    }
    list.push(event);
    if (list.length > MAX_KEPT_EVENTS) list.splice(0, list.length - MAX_KEPT_EVENTS);
    if (event.final) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (kept.get(event.enrollmentId) === list && list.at(-1) === event) kept.delete(event.enrollmentId);
      }, KEEP_FINISHED_MS);
      timer.unref();
      timers.add(timer);
    }
  }

  function publish(enrollmentId: string, step?: { readonly message: string; readonly event: EnrollmentProgressEvent }): void {
    const tail = (tails.get(enrollmentId) ?? Promise.resolve())
      .then(() => eventOf(enrollmentId, step))
      .then(
        (e) => {
          const event = { ...e, seq: (kept.get(enrollmentId)?.at(-1)?.seq ?? 0) + 1 };
          keep(event);
          emitter.emit(enrollmentId, event);
        },
        (err: unknown) => options.logger?.warn({ err, enrollmentId }, "enrollment progress not published"),
      );
    tails.set(enrollmentId, tail);
    void tail.then(() => {
      if (tails.get(enrollmentId) === tail) tails.delete(enrollmentId);
    });
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
      // A renewal's enrollment is the scheduler's, claimed once across servers: resumed there, not here.
      void Promise.all([
        service.list({ states: ["requested", "key_generated", "authenticating", "awaiting_signature", "authenticated", "submitting", "submitted"] }),
        enrollmentsOfOpenRenewals(options.db),
      ]).then(
        ([open, renewing]) => {
          for (const e of open) if (!renewing.has(e.id)) kick(e.id);
        },
        (err: unknown) => options.logger?.error({ err }, "could not list unfinished enrollments"),
      );
    },
    current: (id) => eventOf(id),
    async *watch(enrollmentId, signal, after = 0) {
      // Subscribe before reading what was kept, so nothing between the two is lost; a live step already among the
      // kept ones is skipped by its position.
      const events = on(emitter, enrollmentId, { signal });
      const earlier = kept.get(enrollmentId) ?? [];
      const replay = earlier.length > 0 ? earlier.filter((e) => e.seq > after) : [await eventOf(enrollmentId)];
      for (const event of replay) {
        yield event;
        if (event.final) return;
      }
      const seen = Math.max(after, earlier.at(-1)?.seq ?? 0);
      try {
        for await (const [event] of events as AsyncIterable<[EnrollmentEvent]>) {
          if (event.seq <= seen) continue;
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
