/**
 * Time source of the KSeF client. Everything that waits (rate limiter, retry back-off, status
 * polling) goes through one {@link Clock}, so tests can run hours of KSeF rate windows in virtual
 * time and callers can cancel every wait with one `AbortSignal`.
 */
import { KsefCertsError } from "../../errors.js";
import { msg } from "../../messages/index.js";

/** A source of time and of cancellable waits. */
export interface Clock {
  /** Current time in Unix milliseconds. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds (immediately when `ms <= 0`).
   * Rejects with the signal's reason (wrapped as {@link KsefCertsError} `IO`) when `signal` aborts first.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The error a cancelled wait or request rejects with: `IO`, not retryable, the abort reason as `cause`.
 * @param signal the aborted signal
 * @param what what was being waited for, e.g. `waiting for a free KSeF rate-limit slot`
 */
export function abortError(signal: AbortSignal, what: string): KsefCertsError {
  return new KsefCertsError("IO", msg("ksef.client.cancelled", { what }), { cause: signal.reason, details: { aborted: true } });
}

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(abortError(signal, "waiting"));
        return;
      }
      if (ms <= 0) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(signal as AbortSignal, "waiting"));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};
