/**
 * One hand-off from start to end: write `auth.xml` into the outbox, watch the inbox until the person's
 * signed file for that challenge arrives, verified. On expiry (KSeF challenges live 10 minutes,
 * ksef-docs `uwierzytelnianie.md`) it fails with `details.reason = "challenge-expired"` and the caller renews: a new
 * challenge, a new `auth.xml`, a new call.
 */
import { readFile, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import { KsefCertsError } from "../errors.js";
import type { VerifiedAuthTokenRequest } from "../xades/verify.js";
import type { PendingSignature } from "./classify.js";
import { watchInbox, type InboxFile, type InboxProblem } from "./watch.js";
import { writeAuthRequest } from "./write.js";

/** What {@link awaitSignature} needs. */
export interface AwaitSignatureOptions {
  /** The workstation's outbox folder (where the person picks up `auth.xml`); must exist and differ from `inboxDir`. */
  readonly outboxDir: string;
  /** The workstation's inbox folder (where the person saves the signed file); must exist. */
  readonly inboxDir: string;
  /** The request: the file to write and the pending signature it stands for (its challenge must be the one in `xml`). */
  readonly request: { readonly fileName: string; readonly xml: Uint8Array; readonly pending: PendingSignature };
  /** Cancels the wait (Ctrl-C, shutdown). */
  readonly signal?: AbortSignal;
  /** Gives up after this many ms even before the challenge expires; default: wait until expiry. */
  readonly timeoutMs?: number;
  /**
   * Also watch the outbox, so a signed file saved there by mistake is taken too (our unsigned `auth.xml` stays
   * put; `processed/` and `failed/` are then created in the outbox as well). Default true.
   */
  readonly watchOutbox?: boolean;
  /** Other files' problems (a tampered or unsigned file for this challenge, strangers), as the watcher reports them. */
  readonly onProblem?: (problem: InboxProblem) => void;
  /** Watcher tuning (see `watchInbox`): defaults 400 ms, 30 000 ms, 100 ms. */
  readonly stabilityMs?: number;
  readonly rescanIntervalMs?: number;
  readonly pollIntervalMs?: number;
  /** The clock for expiry checks of dropped files; default `() => new Date()`. The expiry timer runs on real time from `now()`. */
  readonly now?: () => Date;
}

/** The signed file, as {@link awaitSignature} delivers it. */
export interface SignedHandoff {
  /** The signed file's bytes exactly as read: submit them unchanged to `POST /auth/xades-signature`. */
  readonly bytes: Uint8Array;
  /** What the verifier read from it (challenge, context, signer identity, certificate). */
  readonly verified: VerifiedAuthTokenRequest;
  /** The file as found in the inbox (name, SHA-256, size). */
  readonly file: InboxFile;
  /** Where the file is now: `<inbox>/processed/`, or `<outbox>/processed/` when it was saved into the outbox. */
  readonly movedTo: string;
}

/**
 * Writes `auth.xml` and waits for its signed version in the inbox (and, unless `watchOutbox: false`, in the
 * outbox, where people sometimes save it by mistake; see the module comment). The outbox file is
 * removed when the wait ends, whatever the outcome, unless someone changed it meanwhile, so a stale request is
 * not signed by mistake. The inbox keeps its own record: the signed file in `processed/`, refused ones in `failed/`.
 * @param options folders, request, cancellation, timeout, listeners
 * @returns the signed file's bytes, the verifier's result and where the file went
 * @throws {KsefCertsError} VALIDATION with `details.reason = "challenge-expired"` when the challenge expires
 *   first (the message says a new file will be issued: renew the challenge and call again)
 * @throws {KsefCertsError} VALIDATION when the inbox and outbox are the same folder (our own unsigned file
 *   would be taken as a wrongly dropped one)
 * @throws {KsefCertsError} IO with `details.reason = "timeout"` (retryable) after `timeoutMs`, or
 *   `details.reason = "aborted"` when `signal` aborts
 * @throws {KsefCertsError} NOT_FOUND / CONFLICT / TOO_LARGE / IO from writing `auth.xml` or starting the watcher
 */
export async function awaitSignature(options: AwaitSignatureOptions): Promise<SignedHandoff> {
  const { request } = options;
  const now = options.now ?? (() => new Date());
  if (resolve(options.inboxDir) === resolve(options.outboxDir)) {
    throw new KsefCertsError("VALIDATION", "The hand-off inbox and outbox are the same folder.", {
      hint: "Configure two folders: one where auth.xml is written, one where the signed file is saved.",
      violations: [{ field: "inboxDir", rule: "handoff.folders.distinct", message: "The inbox must differ from the outbox." }],
    });
  }
  if (options.signal?.aborted === true) throw aborted(options.signal);
  if (request.pending.expiresAt.getTime() <= now().getTime()) throw expired(request.pending);

  const written = await writeAuthRequest(options.outboxDir, { fileName: request.fileName, xml: request.xml });
  let settle!: { resolve: (v: SignedHandoff) => void; reject: (e: unknown) => void };
  const outcome = new Promise<SignedHandoff>((res, rej) => (settle = { resolve: res, reject: rej }));
  // By SHA-256: with the outbox watched too, two signed files may be on their way at once.
  const delivered = new Map<string, { bytes: Uint8Array; verified: VerifiedAuthTokenRequest }>();
  const timers: NodeJS.Timeout[] = [];
  const onAbort = (): void => {
    settle.reject(aborted(options.signal));
  };
  // Listen from the start: an abort while the watchers start must not be missed.
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (isAborted(options.signal)) onAbort(); // aborted while auth.xml was being written
  // Settled early (abort) while the watchers start, it is awaited below; this only marks it handled meanwhile.
  outcome.catch(() => undefined);
  try {
    const watchOptions = {
      pending: () => [request.pending],
      onSigned: (pending: PendingSignature, bytes: Uint8Array, verified: VerifiedAuthTokenRequest, file: InboxFile) => {
        if (pending.id === request.pending.id) delivered.set(file.sha256, { bytes, verified });
      },
      onProcessed: (_pending: PendingSignature, file: InboxFile, movedTo: string) => {
        const d = delivered.get(file.sha256);
        if (d !== undefined) settle.resolve({ ...d, file, movedTo });
      },
      onProblem: (problem: InboxProblem) => {
        options.onProblem?.(problem);
        if (problem.kind === "expired" && problem.classification?.kind === "expired" && problem.classification.pending.id === request.pending.id) {
          settle.reject(expired(request.pending));
        }
      },
      ...(options.stabilityMs === undefined ? {} : { stabilityMs: options.stabilityMs }),
      ...(options.rescanIntervalMs === undefined ? {} : { rescanIntervalMs: options.rescanIntervalMs }),
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      now,
    };
    const watchers = [await watchInbox(options.inboxDir, watchOptions)];
    try {
      if (options.watchOutbox !== false) watchers.push(await watchInbox(options.outboxDir, { ...watchOptions, keepUnsigned: true }));
    } catch (error) {
      await Promise.all(watchers.map((w) => w.close()));
      throw error;
    }
    try {
      // setTimeout fires at once for delays above 2^31-1 ms, so a far expiry is re-armed in steps.
      const armExpiry = (): void => {
        const left = request.pending.expiresAt.getTime() - now().getTime();
        if (left <= 0) settle.reject(expired(request.pending));
        else timers.push(setTimeout(armExpiry, Math.min(left, MAX_TIMER_MS)));
      };
      armExpiry();
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        const timeout = new KsefCertsError("IO", `No signed file arrived in ${options.inboxDir} within ${ms} ms.`, {
          retryable: true,
          hint: "Check that the signed file is saved into the inbox folder, then try again.",
          details: { reason: "timeout", timeoutMs: ms },
        });
        timers.push(
          setTimeout(
            () => {
              settle.reject(timeout);
            },
            Math.min(ms, MAX_TIMER_MS),
          ),
        );
      }
      return await outcome;
    } finally {
      for (const t of timers) clearTimeout(t);
      await Promise.all(watchers.map((w) => w.close()));
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await removeIfUnchanged(written.path, request.xml);
  }
}

/** Read through a call, so TypeScript does not keep the narrowing of an earlier check across an await. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Longest delay `setTimeout` honours (2^31-1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

function expired(pending: PendingSignature): KsefCertsError {
  return new KsefCertsError(
    "VALIDATION",
    `The challenge of this sign-in expired at ${pending.expiresAt.toISOString()} before a signed file arrived; a new auth.xml file will be issued.`,
    {
      hint: "Sign the new auth.xml file within 10 minutes and save the signed file into the inbox folder.",
      details: { reason: "challenge-expired", pendingId: pending.id, expiresAt: pending.expiresAt.toISOString() },
      violations: [{ field: "challenge", rule: "handoff.challenge.expired", message: "The challenge expired (KSeF challenges are valid for 10 minutes)." }],
    },
  );
}

function aborted(signal: AbortSignal | undefined): KsefCertsError {
  return new KsefCertsError("IO", "Waiting for the signed file was cancelled.", {
    details: { reason: "aborted" },
    ...(signal?.reason === undefined ? {} : { cause: signal.reason }),
  });
}

async function removeIfUnchanged(path: string, xml: Uint8Array): Promise<void> {
  try {
    const now = await readFile(path);
    if (now.equals(xml)) await unlink(path);
  } catch {
    /* already gone, or unreadable: leave it */
  }
}
