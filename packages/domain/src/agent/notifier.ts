/**
 * An in-process signal that a signing request changed: the HTTP layer's long polls
 * and the agent hand-off's `signed` wait on it instead of polling the database in a tight loop. It carries
 * no data anyone must not lose: every listener re-reads the database after waking, and the hand-off also
 * polls slowly, so a change made by another server process (which this emitter cannot see) is still found.
 */
import { EventEmitter } from "node:events";
import type { SigningRequestStatus } from "@ksef-certs/ksef/agent-protocol";

/** Status of a signing request (`signing_requests.status`): the agent protocol's `SigningRequestStatus`. */
export type { SigningRequestStatus };

/** One change of a signing request. */
export interface SigningRequestEvent {
  readonly workstationId: string;
  readonly requestId: string;
  readonly enrollmentId: string | null;
  /** The status after the change. */
  readonly status: SigningRequestStatus;
}

/** The emitter created by {@link createSigningRequestNotifier}. */
export interface SigningRequestNotifier {
  /** Tells every listener about a change (call after the change is committed). */
  emit(event: SigningRequestEvent): void;
  /**
   * Listens to every change until the returned function is called.
   * @param listener called synchronously from `emit`; must not throw
   * @returns unsubscribe
   */
  subscribe(listener: (event: SigningRequestEvent) => void): () => void;
  /**
   * Waits for the first change `filter` accepts.
   * @param filter which changes count
   * @param options `timeoutMs` (ms; resolves `false` then) and `signal` (resolves `false` when aborted)
   * @returns `true` when a matching change came, `false` on timeout or abort
   */
  next(filter: (event: SigningRequestEvent) => boolean, options: { readonly timeoutMs: number; readonly signal?: AbortSignal }): Promise<boolean>;
}

/**
 * Creates the in-process notifier shared by `createAgentHandoff` and the agent HTTP API of one server process.
 * @returns a {@link SigningRequestNotifier} with no listener limit (every long poll is one listener)
 */
export function createSigningRequestNotifier(): SigningRequestNotifier {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const subscribe = (listener: (event: SigningRequestEvent) => void): (() => void) => {
    emitter.on("change", listener);
    return () => {
      emitter.off("change", listener);
    };
  };
  return {
    emit(event) {
      emitter.emit("change", event);
    },
    subscribe,
    next(filter, options) {
      return new Promise<boolean>((resolve) => {
        if (options.signal?.aborted === true) {
          resolve(false);
          return;
        }
        const done = (value: boolean): void => {
          unsubscribe();
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          resolve(value);
        };
        const onAbort = (): void => {
          done(false);
        };
        const unsubscribe = subscribe((event) => {
          if (filter(event)) done(true);
        });
        const timer = setTimeout(
          () => {
            done(false);
          },
          Math.max(0, Math.min(options.timeoutMs, 2_147_483_647)),
        );
        options.signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}
