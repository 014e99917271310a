/**
 * One virtual wall clock shared by several child Node processes, moved forward by the parent test while they run
 * (days at a time: certificate expiry, renewal windows), built on Debian's libfaketime (0.9.10).
 *
 * How it works: every child is started with `LD_PRELOAD=libfaketime.so.1` and `FAKETIME_TIMESTAMP_FILE` pointing at
 * one small file holding a relative offset in seconds (`+259200.000`). libfaketime reports
 * `real time + offset` to the child, so the clock keeps running at real speed between jumps, and children started at
 * different moments agree. With `FAKETIME_NO_CACHE=1` each time call re-reads the file, so a jump written by
 * {@link VirtualClock.advance} is seen by every child on its next `Date.now()`. `FAKETIME_DONT_FAKE_MONOTONIC=1`
 * leaves `CLOCK_MONOTONIC` alone: Node's timers (`setTimeout`, libuv's loop) and `process.hrtime` keep real pacing,
 * and a jump of days does not fire every pending timer at once.
 *
 * Why a relative offset and not `@YYYY-MM-DD hh:mm:ss` ("start at"): libfaketime counts a start-at time from the
 * moment each process started, so two children started 1 s apart disagree by 1 s (checked), and the parent could not
 * tell what each child reads. An absolute `YYYY-MM-DD hh:mm:ss` freezes the clock.
 *
 * Cost: with `FAKETIME_NO_CACHE=1` a `Date.now()` in the child costs about 8 µs (it opens and parses the file)
 * instead of about 0.1 µs (measured here: Node 20, libfaketime 0.9.10, 200 000 calls). Pass `cacheDurationS` to trade freshness for speed (see there).
 *
 * Caveats: libfaketime leaves files in /dev/shm for a child ended by a signal (see {@link removeFaketimeLeftovers}).
 * It only moves what goes through libc (Date, `new Date()`, openssl or PGlite's wasm reading the time through Node);
 * a child's file timestamps may or may not be shifted (Node's statx bypasses libc's stat). The parent is not moved.
 *
 * @example
 * const clock = createVirtualClock({ start: new Date("2031-03-14T09:00:00Z") });
 * const child = spawn(process.execPath, ["server.js"], { env: { ...process.env, ...clock.env } });
 * await clock.advance(3 * DAY_MS); // every child now reads about 2031-03-17T09:00
 * await clock.close();
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's `faketime` wrapper (package `faketime`); only its presence is checked, the library does the work. */
export const FAKETIME_BINARY = "/usr/bin/faketime";

/** Debian's libfaketime (package `libfaketime`), preloaded into each child. */
export const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/** One day in milliseconds, the usual unit of {@link VirtualClock.advance}. */
export const DAY_MS = 86_400_000;

/**
 * Whether libfaketime is installed here (`apt-get install faketime libfaketime`).
 * @returns true when both {@link FAKETIME_BINARY} and {@link LIBFAKETIME} exist
 */
export function faketimeAvailable(): boolean {
  return existsSync(FAKETIME_BINARY) && existsSync(LIBFAKETIME);
}

/** What {@link createVirtualClock} needs. */
export interface VirtualClockOptions {
  /** The virtual time the children read at the moment the clock is created; it runs on from there at real speed. */
  start: Date;
  /**
   * Leave unset (the default) for `FAKETIME_NO_CACHE=1`: each child re-reads the offset file on every time call
   * (about 8 µs per `Date.now()`). When set to whole seconds (≥ 1), children use `FAKETIME_CACHE_DURATION` instead
   * (about 0.25 µs per call) and may keep the old offset for up to `cacheDurationS` + 1 s after a jump;
   * {@link VirtualClock.advance} then waits that long (plus 100 ms) before it resolves, so callers still see the jump
   * in every child afterwards, at the price of a slower advance().
   */
  cacheDurationS?: number;
}

/** A virtual wall clock shared by the child processes started with {@link VirtualClock.env}. */
export interface VirtualClock {
  /**
   * Variables to merge over the child's environment: `{ ...process.env, ...clock.env }`. Sets `LD_PRELOAD`,
   * `FAKETIME_TIMESTAMP_FILE`, `FAKETIME_DONT_FAKE_MONOTONIC=1` and the cache setting; every other `FAKETIME*`
   * variable the parent inherited (e.g. `FAKETIME=+730d` and `FAKETIME_SHARED` under `faketime -f +730d`) is present
   * with the value `undefined`, which `node:child_process` leaves out of the child's environment, because libfaketime
   * gives `FAKETIME` priority over the file. Other libraries already in `LD_PRELOAD` are kept, after libfaketime.
   */
  readonly env: NodeJS.ProcessEnv;
  /** The virtual time as the children read it now (within a few ms), for the parent's own clock injections. */
  now(): Date;
  /**
   * Moves every child's clock forward by `ms` milliseconds. The offset file is replaced atomically (temp file +
   * rename), so a child never reads a half-written offset. Calls are applied in order.
   * @param ms milliseconds, finite and ≥ 0
   * @throws RangeError when `ms` is negative or not finite; Error after {@link VirtualClock.close}
   */
  advance(ms: number): Promise<void>;
  /**
   * Removes the offset file and its folder. Stop the children first: a child still running afterwards falls back to
   * the real time on its next read.
   */
  close(): Promise<void>;
}

/**
 * Creates the offset file (in a fresh folder under the system temp dir) and the clock around it.
 * Works whether or not the parent itself runs under faketime: the parent's own skew is measured once (see
 * {@link parentSkewMs}) so that {@link VirtualClock.now} matches what the children read.
 * @param options the start time and cache setting
 * @returns the clock; call {@link VirtualClock.close} when done
 * @throws Error when libfaketime is missing; RangeError when `start` is an invalid date or `cacheDurationS` is not a
 *   whole number ≥ 1
 */
export function createVirtualClock(options: VirtualClockOptions): VirtualClock {
  if (!existsSync(LIBFAKETIME)) {
    throw new Error(`virtual clock: ${LIBFAKETIME} is missing (apt-get install libfaketime)`);
  }
  const startMs = options.start.getTime();
  if (!Number.isFinite(startMs)) throw new RangeError("virtual clock: start is an invalid date");
  const cache = options.cacheDurationS;
  if (cache !== undefined && !(Number.isInteger(cache) && cache >= 1)) {
    // libfaketime reads FAKETIME_CACHE_DURATION with atoi: fractions would be cut silently.
    throw new RangeError(`virtual clock: cacheDurationS must be a whole number of seconds ≥ 1, got ${String(cache)}`);
  }

  const skew = parentSkewMs();
  const realNow = (): number => Date.now() - skew;
  // The children read real + offset; the offset is chosen so that this instant reads as `start`.
  let offsetMs = startMs - realNow();
  const dir = mkdtempSync(join(tmpdir(), "ksef-virtual-clock-"));
  const file = join(dir, "faketimerc");
  writeFileSync(file, formatOffset(offsetMs));

  let closed = false;
  let writes = 0;
  // Serialises advance() calls so renames land in call order and each writes the sum of all jumps so far.
  let queue: Promise<void> = Promise.resolve();

  const env: NodeJS.ProcessEnv = {};
  for (const key of Object.keys(process.env)) {
    if (key.startsWith("FAKETIME")) env[key] = undefined;
  }
  env.FAKETIME = undefined;
  const otherPreloads = (process.env.LD_PRELOAD ?? "").split(/[\s:]+/).filter((lib) => lib !== "" && !lib.includes("faketime"));
  env.LD_PRELOAD = [LIBFAKETIME, ...otherPreloads].join(":");
  env.FAKETIME_TIMESTAMP_FILE = file;
  env.FAKETIME_DONT_FAKE_MONOTONIC = "1";
  if (cache === undefined) env.FAKETIME_NO_CACHE = "1";
  else env.FAKETIME_CACHE_DURATION = String(cache);

  return {
    env,
    now: () => new Date(realNow() + offsetMs),
    advance(ms: number): Promise<void> {
      if (!Number.isFinite(ms) || ms < 0) {
        return Promise.reject(new RangeError(`virtual clock: advance takes finite ms ≥ 0, got ${String(ms)}`));
      }
      if (closed) return Promise.reject(new Error("virtual clock: advance after close"));
      const step = queue.then(async () => {
        const next = offsetMs + ms;
        const temp = `${file}.${String(++writes)}.tmp`;
        await writeFile(temp, formatOffset(next));
        // rename(2) replaces the file in one step: libfaketime opens it by path and sees the old or the new offset.
        await rename(temp, file);
        // now() moves only once the children can read the new offset.
        offsetMs = next;
        if (cache !== undefined) {
          // libfaketime re-reads only when the whole seconds since its last read exceed `cache` (strictly), so a
          // child may keep the old offset for up to `cache` + 1 s (measured: up to 1.44 s with 1).
          await new Promise<void>((resolve) => setTimeout(resolve, (cache + 1) * 1000 + 100));
        }
      });
      // A failed write must not block later calls; the caller still gets the rejection from `step`.
      queue = step.catch(() => undefined);
      return step;
    },
    async close(): Promise<void> {
      closed = true;
      await queue;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Removes the shared memory and semaphore libfaketime 0.9.10 creates for each process it is loaded into
 * (`/dev/shm/faketime_shm_<pid>`, `/dev/shm/sem.faketime_sem_<pid>`). A child that exits normally removes them
 * itself; one ended by a signal (`kill()`, SIGKILL) leaves them behind, and a later libfaketime process that gets
 * the same pid then fails with "shm_open failed: File exists". Call this once the killed child has exited.
 * @param pid the exited child's process id
 * @returns once both files are gone (missing files are fine)
 */
export async function removeFaketimeLeftovers(pid: number): Promise<void> {
  await Promise.all([rm(`/dev/shm/faketime_shm_${String(pid)}`, { force: true }), rm(`/dev/shm/sem.faketime_sem_${String(pid)}`, { force: true })]);
}

/**
 * libfaketime's relative offset format: sign, seconds, no unit (seconds are the default), 3 decimals for ms.
 * libfaketime reads the number with the child's LC_NUMERIC: under a decimal-comma locale it would stop at the "." and
 * drop the sub-second part (an error below 1 s, nothing worse). CI and this box run C.UTF-8.
 * @param ms offset in milliseconds, may be negative
 * @returns e.g. `+259200.000\n`
 */
function formatOffset(ms: number): string {
  return `${ms < 0 ? "-" : "+"}${(Math.abs(ms) / 1000).toFixed(3)}\n`;
}

/**
 * How far the parent's own `Date.now()` is from the real time, in ms (0 unless the parent runs under libfaketime,
 * as in CI's second pass under `faketime -f +730d`). Measured by asking `date +%s%N` started without libfaketime,
 * between two parent readings; the fastest of 5 round trips bounds the error to a few ms. Assumes the parent's fake
 * clock runs at real speed (a relative offset or start-at time, not an absolute frozen time or an `x` speed-up).
 * @returns parent time minus real time, in ms
 * @throws Error when `date` cannot be run or prints something else than nanoseconds
 */
function parentSkewMs(): number {
  if (!(process.env.LD_PRELOAD ?? "").includes("faketime")) return 0;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key !== "LD_PRELOAD" && !key.startsWith("FAKETIME")) env[key] = value;
  }
  let best: { roundTrip: number; skew: number } | undefined;
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const result = spawnSync("date", ["+%s%N"], { env, encoding: "utf8" });
    const after = Date.now();
    const out = result.stdout.trim();
    if (result.status !== 0 || !/^\d+$/.test(out)) {
      throw new Error(`virtual clock: cannot read the real time with date +%s%N: ${result.error?.message ?? result.stderr}`);
    }
    const real = Number(BigInt(out) / 1_000_000n);
    const sample = { roundTrip: after - before, skew: (before + after) / 2 - real };
    if (best === undefined || sample.roundTrip < best.roundTrip) best = sample;
  }
  // The loop runs 5 times, so best is set; the fallback only satisfies the type checker.
  return best?.skew ?? 0;
}
