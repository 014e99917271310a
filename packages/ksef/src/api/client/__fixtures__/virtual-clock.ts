/**
 * Test support: a {@link Clock} in virtual time. `sleep` registers a timer; whenever the event loop has
 * nothing else queued (a `setImmediate` turn), time jumps to the earliest timer and wakes it. Hours of
 * rate-limit windows pass in milliseconds, and concurrent sleeps overlap as they would in real time.
 */
import { abortError, type Clock } from "../clock.js";

interface Timer {
  readonly at: number;
  readonly resolve: () => void;
}

/** A virtual clock that advances itself when every pending task is waiting on it. */
export class VirtualClock implements Clock {
  private t: number;
  private readonly timers: Timer[] = [];
  private scheduled = false;
  /** Every `sleep` duration requested, in order (ms). */
  readonly sleeps: number[] = [];
  /** Hook run (and awaited) before time jumps to a timer: lets a test change the world mid-wait. */
  beforeAdvance: (() => Promise<void> | void) | undefined;

  /** @param start initial time, Unix ms */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted === true) return Promise.reject(abortError(signal, "waiting"));
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = {
        at: this.t + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
        reject(abortError(signal as AbortSignal, "waiting"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.timers.push(timer);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      void this.advance();
    });
  }

  private async advance(): Promise<void> {
    const hook = this.beforeAdvance;
    if (hook !== undefined) await hook();
    this.scheduled = false;
    if (this.timers.length === 0) return;
    this.timers.sort((a, b) => a.at - b.at);
    const first = this.timers[0];
    if (first === undefined) return;
    this.t = Math.max(this.t, first.at);
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers.splice(0, due.length);
    for (const d of due) d.resolve();
    if (this.timers.length > 0) this.schedule();
  }
}
