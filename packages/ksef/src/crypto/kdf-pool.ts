/**
 * Where password-based key derivation runs, so that heavy key work never starves a sign-in.
 *
 * node:crypto's asynchronous `pbkdf2` and `scrypt` run on libuv's thread pool (4 threads by default),
 * which every other asynchronous crypto and file operation of the process shares, the admin app's
 * password hashing (scrypt, `access/password.ts`) included. A few key files that ask for millions of
 * PBKDF2 iterations (10 000 000 is allowed: a key file we refuse would be a key people cannot use) hold
 * all four threads for seconds each, and every sign-in waits behind them.
 *
 * So a derivation is routed by its cost ({@link kdfUnits}, one unit ≈ one PBKDF2-SHA-256 iteration):
 * - up to {@link INLINE_KDF_UNITS} (the KSeF web app's 100 000 iterations, OpenSSL's usual 2 048): as
 *   before, on libuv's pool (PBKDF2, scrypt) or in yielding slices on the event loop (PKCS#12 KDF). Such a
 *   job holds a thread for tens of milliseconds; a worker round trip would cost as much as the work.
 * - above it: on a separate pool of worker threads, {@link KDF_POOL_SIZE} = max(1, cores − 1), where
 *   each worker runs the derivation synchronously (`pbkdf2Sync`, `scryptSync`, a hash chain), on its own
 *   thread and never on libuv's. Jobs wait in one FIFO queue; at least one core is left to the event
 *   loop and libuv, so a sign-in always finds a thread and a core. On Linux each worker also lowers its
 *   own thread's CPU priority to nice {@link KDF_WORKER_NICE} (a thread id from `/proc/thread-self`,
 *   `os.setPriority`): on a machine busy with other work, sign-in hashing and requests win the CPU over
 *   key derivation instead of sharing it evenly (elsewhere the workers keep the normal priority).
 *
 * The pool is created on the first heavy job, not when the module loads (node:worker_threads itself is
 * loaded then too): the CLI and the signer agent start as fast as before and never start a worker for
 * ordinary keys. Idle workers are unreferenced (a CLI exits when its work is done) and stopped after
 * {@link KDF_WORKER_IDLE_MS}. The worker is a small CommonJS script evaluated from a string
 * (`eval: true`), so it runs the same from `src` under the test runner and from `dist`, and needs no
 * file of its own. Inputs are copied to the worker (structured clone); the worker wipes its copy of the
 * password after use.
 * {@link closeKeyDerivationPool} stops the workers (the admin server calls it on shutdown): jobs still
 * queued or running fail with a retryable `IO` error at once. A worker inside a native derivation cannot
 * be interrupted (`terminate()` waits until the call returns: seconds at the caps of ./pbe.ts, longer at
 * low priority on a busy machine), so closing does not wait for it: the worker is unreferenced and told
 * to stop, and ends as soon as its derivation returns, without holding the process open meanwhile.
 */
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { KsefCertsError } from "../errors.js";
import { msg } from "../messages/index.js";

/** One key derivation, as the worker runs it. Byte arrays are copied to the worker; nothing is shared. */
export type KdfJob =
  | {
      readonly kind: "pbkdf2";
      readonly password: Uint8Array;
      readonly salt: Uint8Array;
      readonly iterations: number;
      /** Output length in bytes. */
      readonly keyLength: number;
      /** node digest name (`sha1`, `sha256`, …). */
      readonly digest: string;
    }
  | {
      readonly kind: "scrypt";
      readonly password: Uint8Array;
      readonly salt: Uint8Array;
      readonly keyLength: number;
      readonly N: number;
      readonly r: number;
      readonly p: number;
      /** Memory limit for node's scrypt, in bytes. */
      readonly maxmem: number;
    }
  | {
      /** `rounds` applications of `hash` to `input` (the inner loop of the PKCS#12 KDF, RFC 7292 B.2 step 6a). */
      readonly kind: "hashChain";
      readonly hash: string;
      readonly input: Uint8Array;
      readonly rounds: number;
    };

/** Largest cost run inline (libuv or event loop) rather than on the worker pool, in {@link kdfUnits}: ≈ 50–100 ms on one core. */
export const INLINE_KDF_UNITS = 250_000;
/** Workers of the pool: one core is left to the event loop and libuv (sign-in hashing), at least one worker. */
export const KDF_POOL_SIZE = Math.max(1, availableParallelism() - 1);
/** An idle worker is stopped after this long, in ms (the next heavy job starts a new one). */
export const KDF_WORKER_IDLE_MS = 30_000;
/** The nice value a worker gives its own thread on Linux (0 is normal, 19 the lowest priority). */
export const KDF_WORKER_NICE = 10;

const DIGEST_BYTES: Readonly<Record<string, number>> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

/**
 * The cost of a job in units of one PBKDF2-HMAC iteration over one output block: PBKDF2 costs
 * iterations × output blocks, scrypt N·r·p / 8 (as `KdfBudget` counts it), a hash chain 10 per round
 * (JavaScript-driven hashing of tiny inputs is about ten times slower per step than native PBKDF2).
 * @param job the derivation
 * @returns a non-negative number of units
 */
export function kdfUnits(job: KdfJob): number {
  switch (job.kind) {
    case "pbkdf2":
      return job.iterations * Math.max(1, Math.ceil(job.keyLength / (DIGEST_BYTES[job.digest] ?? 32)));
    case "scrypt":
      return (job.N * job.r * job.p) / 8;
    case "hashChain":
      return job.rounds * 10;
  }
}

/**
 * Whether a job is heavy enough for the worker pool (see the module comment).
 * @param job the derivation
 */
export function runsOnPool(job: KdfJob): boolean {
  return kdfUnits(job) > INLINE_KDF_UNITS;
}

/** The worker: CommonJS evaluated from this string (see the module comment). */
const WORKER_SOURCE = `
"use strict";
const { parentPort } = require("node:worker_threads");
const crypto = require("node:crypto");
try {
  const tid = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop());
  if (Number.isSafeInteger(tid) && tid > 0) require("node:os").setPriority(tid, ${KDF_WORKER_NICE});
} catch {
  // Not Linux, or not allowed: the thread keeps the normal priority.
}
parentPort.on("message", (job) => {
  let out;
  try {
    if (job.kind === "pbkdf2") out = crypto.pbkdf2Sync(job.password, job.salt, job.iterations, job.keyLength, job.digest);
    else if (job.kind === "scrypt") out = crypto.scryptSync(job.password, job.salt, job.keyLength, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmem });
    else if (job.kind === "hashChain") {
      out = Buffer.from(job.input);
      for (let i = 0; i < job.rounds; i++) out = crypto.createHash(job.hash).update(out).digest();
    } else throw new Error("unknown job kind " + String(job.kind));
    const result = new Uint8Array(out);
    out.fill(0);
    parentPort.postMessage({ ok: true, result }, [result.buffer]);
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String(err && err.message || err) });
  } finally {
    if (job.password) job.password.fill(0);
  }
});
`;

interface Pending {
  readonly job: KdfJob;
  readonly resolve: (key: Uint8Array) => void;
  readonly reject: (err: KsefCertsError) => void;
}

interface Slot {
  readonly worker: Worker;
  running: Pending | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

type WorkerReply = { readonly ok: true; readonly result: Uint8Array } | { readonly ok: false; readonly message: string };

/** Counts of a {@link KeyDerivationPool}, for tests and diagnostics. */
export interface KdfPoolStats {
  /** Workers started and not stopped. */
  readonly workers: number;
  /** Jobs running in a worker. */
  readonly running: number;
  /** Jobs waiting for a worker. */
  readonly queued: number;
}

/** A bounded pool of key-derivation workers (see the module comment). */
export interface KeyDerivationPool {
  /** Most workers it runs at once. */
  readonly size: number;
  /**
   * Runs a derivation in a worker, after the jobs queued before it.
   * @param job the derivation
   * @returns the derived bytes
   * @throws {KsefCertsError} `IO` (retryable) when the pool is closed before the job finishes; `INTERNAL` when a worker fails
   */
  run(job: KdfJob): Promise<Uint8Array>;
  /** Workers, running and queued jobs. */
  stats(): KdfPoolStats;
  /**
   * Stops every worker; queued and running jobs fail with a retryable `IO` error at once. Resolves when every idle worker has
   * exited; a busy one is unreferenced and exits when its native derivation returns (module comment). The pool can be used
   * again afterwards.
   */
  close(): Promise<void>;
}

function stopped(): KsefCertsError {
  return new KsefCertsError("IO", msg("kdf.poolClosed"), {
    hint: msg("kdf.poolClosed.hint"),
    retryable: true,
  });
}

/**
 * Creates a pool of at most `size` key-derivation workers; no worker starts before the first job.
 * @param size most workers at once (default {@link KDF_POOL_SIZE}); at least 1
 * @param idleMs stop a worker idle this long (default {@link KDF_WORKER_IDLE_MS})
 * @returns the pool
 */
export function createKeyDerivationPool(size: number = KDF_POOL_SIZE, idleMs: number = KDF_WORKER_IDLE_MS): KeyDerivationPool {
  const limit = Math.max(1, Math.floor(size));
  const slots: Slot[] = [];
  const queue: Pending[] = [];

  const retire = (slot: Slot): void => {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
  };

  const idle = (slot: Slot): void => {
    slot.running = undefined;
    // An idle worker must not keep a CLI alive, and is stopped after a while to give its memory back.
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => {
      retire(slot);
      void slot.worker.terminate();
    }, idleMs);
    slot.idleTimer.unref();
  };

  const start = (): Slot => {
    // Loaded here, not at the top: node:worker_threads costs a few ms to load, which a CLI without heavy keys never pays.
    const { Worker: WorkerThread } = process.getBuiltinModule("node:worker_threads");
    const worker = new WorkerThread(WORKER_SOURCE, { eval: true, name: "ksef-certs-kdf" });
    const slot: Slot = { worker, running: undefined, idleTimer: undefined };
    worker.on("message", (reply: WorkerReply) => {
      const pending = slot.running;
      idle(slot);
      if (pending !== undefined) {
        if (reply.ok) pending.resolve(reply.result);
        else pending.reject(new KsefCertsError("INTERNAL", msg("kdf.workerFailed"), { cause: new Error(reply.message) }));
      }
      pump();
    });
    const lost = (cause: unknown): void => {
      if (!slots.includes(slot)) return;
      retire(slot);
      slot.running?.reject(new KsefCertsError("INTERNAL", msg("kdf.workerStopped"), { cause }));
      slot.running = undefined;
      pump();
    };
    worker.on("error", lost);
    worker.on("exit", (code) => {
      lost(new Error(`worker exited with code ${code}`));
    });
    slots.push(slot);
    return slot;
  };

  const pump = (): void => {
    while (queue.length > 0) {
      const slot = slots.find((s) => s.running === undefined) ?? (slots.length < limit ? start() : undefined);
      if (slot === undefined) return;
      const next = queue.shift() as Pending;
      if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
      slot.running = next;
      slot.worker.ref();
      slot.worker.postMessage(next.job);
    }
  };

  return {
    size: limit,
    run(job) {
      return new Promise<Uint8Array>((resolve, reject) => {
        queue.push({ job, resolve, reject });
        pump();
      });
    },
    stats() {
      return { workers: slots.length, running: slots.filter((s) => s.running !== undefined).length, queued: queue.length };
    },
    async close() {
      const all = slots.splice(0);
      const waiting = queue.splice(0);
      for (const p of waiting) p.reject(stopped());
      const idleExits: Promise<number>[] = [];
      for (const slot of all) {
        if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
        const busy = slot.running !== undefined;
        slot.running?.reject(stopped());
        slot.running = undefined;
        slot.worker.unref();
        const exit = slot.worker.terminate();
        if (busy) exit.catch(() => undefined);
        else idleExits.push(exit);
      }
      await Promise.all(idleExits);
    },
  };
}

let shared: KeyDerivationPool | undefined;

/**
 * The process's key-derivation pool, created on first use (no worker starts before its first heavy job).
 * @returns the same pool for every call until {@link closeKeyDerivationPool}
 */
export function keyDerivationPool(): KeyDerivationPool {
  shared ??= createKeyDerivationPool();
  return shared;
}

/**
 * Stops the process's pool, if one was created (server shutdown, test clean-up); a later heavy job creates a new one.
 * Jobs still queued or running fail with a retryable `IO` error.
 */
export async function closeKeyDerivationPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}

/**
 * Runs a derivation where its cost says (module comment): inline jobs with `inline`, heavy ones on the pool.
 * @param job the derivation
 * @param inline how to run it when it is light (node:crypto async or a sliced loop)
 * @returns the derived bytes
 * @throws {KsefCertsError} as {@link KeyDerivationPool.run} for heavy jobs; whatever `inline` throws otherwise
 */
export function deriveKey(job: KdfJob, inline: () => Promise<Uint8Array>): Promise<Uint8Array> {
  return runsOnPool(job) ? keyDerivationPool().run(job) : inline();
}
