/**
 * The signer agent's daemon: long-polls the admin server for the workstation's signing
 * requests, writes each auth.xml atomically into the outbox (core `writeAuthRequest`, named by the server
 * with core `handoffFileName`), watches the inbox — and the outbox, where people save signed files by
 * mistake — with core `watchInbox`, uploads verified signed files unchanged, and keeps a journal so that a
 * kill -9 at any step resumes with exactly one submission.
 *
 * What happens to a signed file (the watcher moves it afterwards, so every file ends up explained):
 * - accepted (`signed`) or already accepted (`duplicate`) → `processed/`;
 * - the server says the challenge expired (410) → `failed/` with the reason and the renewed request's file name;
 * - the server refuses it for good (any 4xx but 401, 408 and 429: 400 a file it cannot accept, 404, 409 other bytes
 *   accepted, 413) → `failed/` with the server's reason, recorded in the journal, never uploaded again;
 * - the server cannot be reached, or answers 5xx, 408 or 429 → stays in place and is offered again at the next rescan.
 * A file the agent itself can never accept (not an AuthTokenRequest, XML too deep or too wide, a refused signature) is
 * set aside in `failed/` by the watcher before any upload.
 */
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KsefCertsError, localizeError } from "@ksef-certs/ksef/errors";
import { msg, translate, type Locale, type MessageRef } from "@ksef-certs/ksef/messages";
import {
  FAILED_DIR,
  REASON_SUFFIX,
  assertHandoffFileName,
  classifySignedFile,
  handoffFileName,
  problemMessage,
  watchInbox,
  writeAuthRequest,
  type BilingualMessage,
  type InboxFile,
  type InboxProblem,
  type InboxWatcher,
  type PendingSignature,
} from "@ksef-certs/ksef/handoff";
import { AgentApiClient, expiredChallengeOf, isTokenRevoked, type SigningRequest } from "./api.js";
import { autoSignerFor, describe, signWith, type AutoSigner } from "./autosign.js";
import { fullJitterDelay } from "./backoff.js";
import { foldersOf, type AgentConfig } from "./config.js";
import { writeFileAtomic } from "./files.js";
import { Journal, without, type JournalRequest } from "./journal.js";
import type { AgentLogger } from "./logger.js";
import { readUnsignedRequest } from "./request-xml.js";

/**
 * The gov.pl page where a person signs a file with Profil Zaufany ("Podpisz dokument elektronicznie").
 * Not in the ministry's documentation (it documents the service, not this address); overridable with `--signing-page-url`.
 */
export const GOV_SIGNING_PAGE_URL = "https://moj.gov.pl/nforms/signer/upload?xFormsAppName=SIGNER";
/** Default long-poll wait, ms. */
export const DEFAULT_POLL_WAIT_MS = 25_000;
/** How long a locally requested hand-off (local API) waits for a signature by default: a KSeF challenge's life, 10 minutes. */
export const LOCAL_HANDOFF_TTL_MS = 600_000;
/** Folder (in the config folder) of signed files of local-API hand-offs. */
export const LOCAL_RESULTS_DIR = "local";

/** Something the agent did, for listeners (tests, the benchmark, a tray icon). */
export type AgentEvent =
  | { readonly type: "request-written"; readonly requestId: string; readonly path: string }
  | { readonly type: "request-closed"; readonly requestId: string; readonly status: string; readonly replacedBy?: string }
  | {
      readonly type: "uploaded";
      readonly requestId: string;
      readonly sha256: string;
      readonly result: "signed" | "duplicate";
      readonly file: string;
      readonly by: "person" | "agent";
    }
  | { readonly type: "refused"; readonly requestId: string; readonly sha256: string; readonly file: string; readonly reason: string }
  | { readonly type: "local-signed"; readonly requestId: string; readonly sha256: string }
  | { readonly type: "problem"; readonly kind: InboxProblem["kind"]; readonly file: string; readonly movedTo?: string }
  | { readonly type: "poll-failed"; readonly attempt: number; readonly delayMs: number; readonly message: string }
  | { readonly type: "stopped"; readonly reason: string };

/** Named points where a test build may kill the process (`KSEF_SIGNER_CRASH_AT`): the steps of one upload. */
export type CrashPoint = "before-upload" | "after-upload" | "after-journal";

/** What {@link Agent} needs. */
export interface AgentOptions {
  /** The configuration folder (journal, local results). */
  readonly configDir: string;
  /** The pairing and settings. */
  readonly config: AgentConfig;
  /** The workstation token (never logged). */
  readonly token: string;
  /** Where the agent logs. */
  readonly logger: AgentLogger;
  /** Unlocked auto-sign certificates. */
  readonly autoSigners?: readonly AutoSigner[];
  /** Opens the signing page when a new auth.xml is written: a URL to open, or `undefined` not to. */
  readonly openSigningPage?: string;
  /** Long-poll wait, ms; default {@link DEFAULT_POLL_WAIT_MS}. */
  readonly pollWaitMs?: number;
  /** Inbox watcher tuning (see core `watchInbox`). */
  readonly rescanIntervalMs?: number;
  readonly stabilityMs?: number;
  readonly pollIntervalMs?: number;
  readonly usePolling?: boolean;
  /** Listener of {@link AgentEvent}s; errors it throws are ignored. */
  readonly onEvent?: (event: AgentEvent) => void;
  /** Test hook: kills the process with SIGKILL at this point (see {@link CrashPoint}). */
  readonly crashAt?: CrashPoint;
  /** fetch for the API client (tests). */
  readonly fetchImpl?: typeof fetch;
}

/** The state `status` and the local API report for a local hand-off. */
export interface LocalHandoffStatus {
  readonly id: string;
  readonly status: JournalRequest["status"];
  readonly fileName: string;
  readonly expiresAt: string;
  /** The signed file, once there. */
  readonly signed?: Uint8Array;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });

/** Shortest gap between two polls that brought nothing new, ms: a server answering at once must not be polled in a tight loop. */
const MIN_QUIET_POLL_GAP_MS = 1000;

/** The running daemon (see the module comment). `start()`, then `stop()` or wait for `done`. */
export class Agent {
  private readonly o: AgentOptions;
  private readonly api: AgentApiClient;
  private readonly abort = new AbortController();
  private readonly watchers: InboxWatcher[] = [];
  private journal!: Journal;
  private outboxDir = "";
  private inboxDir = "";
  private pollLoop: Promise<void> = Promise.resolve();
  private stopReason: KsefCertsError | undefined;
  private resolveDone!: () => void;
  private rejectDone!: (e: unknown) => void;
  /** Resolves when the agent stopped on request; rejects when it stopped by itself (token revoked). */
  readonly done: Promise<void>;

  /**
   * @param options see {@link AgentOptions}
   */
  constructor(options: AgentOptions) {
    this.o = options;
    this.api = new AgentApiClient(options.config.server, options.token, options.fetchImpl);
    this.done = new Promise<void>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined);
  }

  /**
   * Opens the journal, starts watching the inbox and the outbox, and starts the long poll. Resolves once the
   * watchers looked at the files already present.
   * @throws {KsefCertsError} VALIDATION without folders; NOT_FOUND when a folder does not exist; IO
   */
  async start(): Promise<void> {
    const folders = foldersOf(this.o.config);
    this.outboxDir = folders.outboxDir;
    this.inboxDir = folders.inboxDir;
    this.journal = await Journal.open(this.o.configDir);
    const pending = (): PendingSignature[] => this.pendingSignatures();
    const common = {
      pending,
      onSigned: async (p: PendingSignature, bytes: Uint8Array, _v: unknown, file: InboxFile) => {
        await this.onSigned(p, bytes, file, "person");
      },
      onProcessed: (p: PendingSignature, file: InboxFile, movedTo: string) => {
        this.o.logger.info({ requestId: p.id, file: file.name, movedTo }, "signed file handled and moved to processed/");
      },
      onProblem: (problem: InboxProblem) => {
        this.onProblem(problem);
      },
      isHandled: (sha256: string) => this.journal.upload(sha256) !== undefined,
      ...(this.o.rescanIntervalMs === undefined ? {} : { rescanIntervalMs: this.o.rescanIntervalMs }),
      ...(this.o.stabilityMs === undefined ? {} : { stabilityMs: this.o.stabilityMs }),
      ...(this.o.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.o.pollIntervalMs }),
      ...(this.o.usePolling === undefined ? {} : { usePolling: this.o.usePolling }),
    };
    this.watchers.push(await watchInbox(this.inboxDir, common));
    // Our own unsigned auth.xml lives in the outbox; only signed files saved there by mistake are taken.
    this.watchers.push(await watchInbox(this.outboxDir, { ...common, keepUnsigned: true }));
    for (const f of this.journal.inflight()) {
      this.o.logger.info({ requestId: f.requestId, file: f.fileName }, "an upload was interrupted; the file is offered again from the folder");
    }
    this.o.logger.info(
      { server: this.o.config.server, workstation: this.o.config.workstation.name, outboxDir: this.outboxDir, inboxDir: this.inboxDir },
      "signer agent started",
    );
    this.pollLoop = this.poll();
  }

  /** Stops polling and watching; resolves when the file being handled is done. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.pollLoop;
    await Promise.all(this.watchers.map((w) => w.close()));
    this.emit({ type: "stopped", reason: this.stopReason?.message ?? "stopped" });
    if (this.stopReason === undefined) this.resolveDone();
    else this.rejectDone(this.stopReason);
  }

  /** Looks at every file in both folders now (tests and the benchmark; the watchers also rescan periodically). */
  async rescan(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.rescan()));
  }

  /** The journal's current state (for `status` and tests). */
  journalSnapshot(): ReturnType<Journal["snapshot"]> {
    return this.journal.snapshot();
  }

  /**
   * Starts a hand-off asked for by a program on this workstation (local API): writes the request into the outbox
   * (or signs it at once with an auto-sign certificate) and keeps the signed file for {@link localHandoff}.
   * @param unsignedXml the program's unsigned AuthTokenRequest
   * @param ttlMs how long to wait for the signature, ms (default 10 minutes; at most 1 hour)
   * @returns the hand-off's id and the file name written
   * @throws {KsefCertsError} VALIDATION when the bytes are not an unsigned AuthTokenRequest; CONFLICT/IO from the outbox write
   */
  async startLocalHandoff(unsignedXml: Uint8Array, ttlMs = LOCAL_HANDOFF_TTL_MS): Promise<{ id: string; fileName: string; expiresAt: string }> {
    const fields = readUnsignedRequest(unsignedXml);
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + Math.min(Math.max(1000, ttlMs), 3_600_000)).toISOString();
    const fileName = handoffFileName({ context: fields.contextIdentifier.value, challenge: fields.challenge, prefix: "auth-erp" });
    await this.journal.putRequest({
      id,
      source: "local",
      challenge: fields.challenge,
      contextIdentifier: fields.contextIdentifier,
      fileName,
      expiresAt,
      status: "pending",
    });
    await this.deliver({
      id,
      challenge: fields.challenge,
      contextIdentifier: fields.contextIdentifier,
      fileName,
      expiresAt,
      xml: unsignedXml,
      source: "local",
    });
    return { id, fileName, expiresAt };
  }

  /**
   * A local hand-off's state and, once signed, the signed bytes.
   * @param id from {@link startLocalHandoff}
   * @throws {KsefCertsError} NOT_FOUND for an unknown id
   */
  async localHandoff(id: string): Promise<LocalHandoffStatus> {
    const r = this.journal.request(id);
    if (r?.source !== "local") throw new KsefCertsError("NOT_FOUND", msg("agent.localHandoff.notFound", { id: id.slice(0, 64) }));
    const status = r.status === "pending" && Date.parse(r.expiresAt) <= Date.now() ? "expired" : r.status;
    const signed = status === "signed" ? await readFile(this.localResultPath(id)).catch(() => undefined) : undefined;
    return { id, status, fileName: r.fileName, expiresAt: r.expiresAt, ...(signed === undefined ? {} : { signed }) };
  }

  private localResultPath(id: string): string {
    return join(this.o.configDir, LOCAL_RESULTS_DIR, `${id}.xml`);
  }

  private emit(event: AgentEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch {
      /* a listener must not break the agent */
    }
  }

  /** What the watchers verify against: every known request; finished ones marked expired so late files are explained. */
  private pendingSignatures(): PendingSignature[] {
    return this.journal.requests().map((r) => ({
      id: r.id,
      challenge: r.challenge,
      contextIdentifier: r.contextIdentifier,
      expiresAt: r.status === "expired" || r.status === "cancelled" || r.status === "failed" ? new Date(0) : new Date(r.expiresAt),
    }));
  }

  private async poll(): Promise<void> {
    const signal = this.abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        const started = Date.now();
        const page = await this.api.requests(this.o.pollWaitMs ?? DEFAULT_POLL_WAIT_MS, this.journal.cursor, signal);
        attempt = 0;
        const changed = await this.apply(page.requests, page.cursor);
        const elapsed = Date.now() - started;
        if (!changed && elapsed < MIN_QUIET_POLL_GAP_MS) await sleep(MIN_QUIET_POLL_GAP_MS - elapsed, signal);
      } catch (error) {
        if (isAborted(signal)) return;
        if (isTokenRevoked(error)) {
          this.o.logger.error({ server: this.o.config.server }, "token revoked: pair again (ksef-signer unpair; ksef-signer pair --server URL --code CODE)");
          this.stopReason = error as KsefCertsError;
          void this.stop();
          return;
        }
        const delayMs = fullJitterDelay(attempt);
        this.emit({ type: "poll-failed", attempt, delayMs, message: describe(error).message });
        this.o.logger.warn({ attempt, delayMs, error: describe(error) }, "long poll failed; reconnecting");
        attempt++;
        await sleep(delayMs, signal);
      }
    }
  }

  /** Applies a page of the long poll; returns whether anything was new to the agent. */
  private async apply(requests: readonly SigningRequest[], cursor: string | undefined): Promise<boolean> {
    const now = Date.now();
    let changed = false;
    for (const r of requests) {
      try {
        const known = this.journal.request(r.id);
        const expired = r.status === "pending" && Date.parse(r.expiresAt) <= now;
        const status = expired ? "expired" : r.status;
        const xml = Buffer.from(r.xmlBase64, "base64");
        const fileName = safeFileName(r);
        if (status === "pending") {
          if (known?.status === "pending" && known.outboxPath !== undefined) continue;
          // A request we already answered (signed here, server not yet caught up) must not be written out again.
          if (known !== undefined && known.status !== "pending") continue;
          changed = true;
          await this.journal.putRequest({
            id: r.id,
            source: "server",
            challenge: r.challenge,
            contextIdentifier: r.contextIdentifier,
            fileName,
            expiresAt: r.expiresAt,
            status: "pending",
          });
          await this.deliver({
            id: r.id,
            challenge: r.challenge,
            contextIdentifier: r.contextIdentifier,
            fileName,
            expiresAt: r.expiresAt,
            xml,
            source: "server",
          });
          continue;
        }
        if (known?.status === status && known.replacedBy === (r.replacedBy ?? undefined)) continue;
        changed = true;
        await this.journal.putRequest({
          id: r.id,
          source: "server",
          challenge: r.challenge,
          contextIdentifier: r.contextIdentifier,
          fileName,
          expiresAt: r.expiresAt,
          status,
          ...(r.replacedBy === undefined || r.replacedBy === null ? {} : { replacedBy: r.replacedBy }),
          ...(known?.outboxPath === undefined ? {} : { outboxPath: known.outboxPath }),
          ...(known?.signedBy === undefined ? {} : { signedBy: known.signedBy }),
        });
        // A stale auth.xml must not be signed by mistake: take it out of the outbox (only if nobody changed it).
        if (known?.outboxPath !== undefined) await removeIfUnchanged(known.outboxPath, xml);
        const replacement = r.replacedBy ?? undefined;
        if (status === "expired") {
          this.o.logger.warn(
            { requestId: r.id, replacedBy: replacement },
            replacement === undefined ? "the challenge expired before a signed file arrived" : "the challenge expired; a renewed auth.xml replaces it",
          );
        } else {
          this.o.logger.info({ requestId: r.id, status }, "signing request closed");
        }
        this.emit({ type: "request-closed", requestId: r.id, status, ...(replacement === undefined ? {} : { replacedBy: replacement }) });
      } catch (error) {
        this.o.logger.error({ requestId: r.id, error: describe(error) }, "could not handle a signing request");
      }
    }
    if (cursor !== undefined && cursor !== this.journal.cursor) {
      changed = true;
      await this.journal.update((s) => {
        s.cursor = cursor;
      });
    }
    return changed;
  }

  /** Signs a request with an auto-sign certificate when one fits, else writes its auth.xml into the outbox for a person. */
  private async deliver(r: {
    id: string;
    challenge: string;
    contextIdentifier: JournalRequest["contextIdentifier"];
    fileName: string;
    expiresAt: string;
    xml: Uint8Array;
    source: "server" | "local";
  }): Promise<void> {
    const auto = autoSignerFor(this.o.autoSigners ?? [], r.contextIdentifier, new Date());
    if (auto !== undefined) {
      try {
        const bytes = await signWith(auto, r.xml);
        const pending: PendingSignature = { id: r.id, challenge: r.challenge, contextIdentifier: r.contextIdentifier, expiresAt: new Date(r.expiresAt) };
        // Our own signature is checked like a person's before it leaves (a request that does not match is not sent).
        const check = await classifySignedFile(bytes, [pending]);
        if (check.kind !== "signed") throw new KsefCertsError("INTERNAL", msg("agent.autoSign.didNotVerify", { kind: check.kind }));
        const handled = await this.onSigned(
          pending,
          bytes,
          { path: "(auto-sign)", name: "(auto-sign)", sha256: sha256Of(bytes), size: bytes.byteLength },
          "agent",
        );
        if (handled) return;
      } catch (error) {
        this.o.logger.warn(
          { requestId: r.id, fingerprint: auto.setting.fingerprint, error: describe(error) },
          "automatic signing failed; the request goes to a person",
        );
      }
    }
    const written = await writeAuthRequest(this.outboxDir, { fileName: r.fileName, xml: r.xml });
    const current = this.journal.request(r.id);
    if (current !== undefined) await this.journal.putRequest({ ...current, outboxPath: written.path });
    this.o.logger.info({ requestId: r.id, file: written.path, expiresAt: r.expiresAt, created: written.created }, "auth.xml written to the outbox for signing");
    this.emit({ type: "request-written", requestId: r.id, path: written.path });
    if (written.created && this.o.openSigningPage !== undefined) openUrl(this.o.openSigningPage, this.o.logger);
  }

  /**
   * A verified signed file (from a folder or from auto-sign): upload it (or keep it, for a local hand-off).
   * Returns normally when the file's fate is settled (the watcher then moves it to processed/, unless it was
   * moved to failed/ here); throws to leave it in place for a retry.
   */
  private async onSigned(pending: PendingSignature, bytes: Uint8Array, file: InboxFile, by: "person" | "agent"): Promise<boolean> {
    const r = this.journal.request(pending.id);
    if (r === undefined) throw new KsefCertsError("INTERNAL", msg("agent.journal.unknownRequest"));
    if (r.source === "local") {
      await writeFileAtomic(this.localResultPath(r.id), bytes, 0o600);
      await this.journal.putRequest({ ...r, status: "signed", signedBy: by });
      if (r.outboxPath !== undefined) await removeIfUnchanged(r.outboxPath, undefined);
      this.emit({ type: "local-signed", requestId: r.id, sha256: file.sha256 });
      this.o.logger.info({ requestId: r.id, file: file.name }, "local hand-off signed");
      return true;
    }
    await this.journal.update((s) => {
      s.inflight[file.sha256] = { requestId: r.id, fileName: file.name, since: new Date().toISOString() };
    });
    this.crash("before-upload");
    let result: "signed" | "duplicate";
    try {
      result = (await this.api.uploadSigned(r.id, bytes, this.abort.signal)).status;
    } catch (error) {
      if (isTokenRevoked(error)) {
        this.stopReason = error as KsefCertsError;
        void this.stop();
        throw error;
      }
      const expired = expiredChallengeOf(error);
      const permanent = expired !== undefined || isFinalRefusal(error);
      if (!permanent) {
        this.o.logger.warn({ requestId: r.id, file: file.name, error: describe(error) }, "upload failed; the file stays and is tried again");
        throw error;
      }
      await this.refuse(r, file, error, expired);
      // A refused automatic signature (e.g. the server does not trust that certificate) still leaves a person to sign.
      return expired !== undefined || by === "person";
    }
    this.crash("after-upload");
    await this.journal.update((s) => {
      s.inflight = without(s.inflight, file.sha256);
      s.uploads[file.sha256] = { requestId: r.id, fileName: file.name, result, at: new Date().toISOString() };
      const req = s.requests[r.id];
      if (req !== undefined) s.requests[r.id] = { ...req, status: "signed", signedBy: by, updatedAt: new Date().toISOString() };
    });
    if (r.outboxPath !== undefined) await removeIfUnchanged(r.outboxPath, undefined);
    this.o.logger.info(
      { requestId: r.id, file: file.name, sha256: file.sha256, result, by },
      result === "signed" ? "signed file uploaded" : "signed file was already uploaded (duplicate)",
    );
    this.emit({ type: "uploaded", requestId: r.id, sha256: file.sha256, result, file: file.path, by });
    this.crash("after-journal");
    return true;
  }

  /** The server refused a signed file for good: record it, move the file to failed/ with the reason, tell the server. */
  private async refuse(r: JournalRequest, file: InboxFile, error: unknown, expired: { replacedBy?: string } | undefined): Promise<void> {
    const serverMessage = describe(error).message;
    let message: BilingualMessage;
    if (expired !== undefined) {
      const renewed = expired.replacedBy === undefined ? undefined : this.journal.request(expired.replacedBy);
      const base = problemMessage("expired", { fileName: file.name });
      const where = renewed?.outboxPath ?? renewed?.fileName;
      const next = where === undefined ? undefined : bilingual(msg("agent.refused.newFile", { file: where }));
      message = next === undefined ? base : { pl: `${base.pl} ${next.pl}`, en: `${base.en} ${next.en}` };
    } else {
      // The server's reason in each language when it named a catalogue message, else its own text in both.
      const reason = (locale: Locale): string => (error instanceof KsefCertsError ? localizeError(error, locale).message : serverMessage);
      message = {
        pl: translate("pl", msg("agent.refused.byServer", { reason: reason("pl") })),
        en: translate("en", msg("agent.refused.byServer", { reason: reason("en") })),
      };
    }
    await this.journal.update((s) => {
      s.inflight = without(s.inflight, file.sha256);
      s.uploads[file.sha256] = { requestId: r.id, fileName: file.name, result: "refused", reason: serverMessage, at: new Date().toISOString() };
      const req = s.requests[r.id];
      if (req !== undefined && expired !== undefined) {
        s.requests[r.id] = {
          ...req,
          status: "expired",
          ...(expired.replacedBy === undefined ? {} : { replacedBy: expired.replacedBy }),
          updatedAt: new Date().toISOString(),
        };
      }
    });
    const movedTo = file.path.startsWith("(") ? undefined : await setAsideFailed(file.path, message, file.sha256);
    this.o.logger.warn({ requestId: r.id, file: file.name, movedTo, reason: serverMessage, replacedBy: expired?.replacedBy }, message.en);
    this.emit({ type: "refused", requestId: r.id, sha256: file.sha256, file: file.path, reason: serverMessage });
  }

  private onProblem(problem: InboxProblem): void {
    const c = problem.classification;
    let extra = "";
    if (problem.kind === "expired" && c?.kind === "expired") {
      const r = this.journal.request(c.pending.id);
      const renewed = r?.replacedBy === undefined ? undefined : this.journal.request(r.replacedBy);
      extra = renewed === undefined ? "" : ` The new file to sign: ${renewed.outboxPath ?? renewed.fileName}`;
    }
    const level = problem.kind === "duplicate" ? "info" : "warn";
    this.o.logger[level]({ kind: problem.kind, file: basename(problem.file), movedTo: problem.movedTo }, problem.en + extra);
    this.emit({ type: "problem", kind: problem.kind, file: problem.file, ...(problem.movedTo === undefined ? {} : { movedTo: problem.movedTo }) });
  }

  private crash(point: CrashPoint): void {
    if (this.o.crashAt === point) process.kill(process.pid, "SIGKILL");
  }
}

/**
 * Whether the server's answer to an upload refuses the file for good: a 4xx says something about the request itself,
 * which the same bytes will not change; 401 (token revoked) is handled apart, 408 and 429 say "later", like 5xx and
 * network failures.
 */
function isFinalRefusal(error: unknown): boolean {
  if (!(error instanceof KsefCertsError)) return false;
  const status = Number(error.details["status"]);
  return status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 429;
}

/** Read through a call, so TypeScript does not keep the loop condition's narrowing. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function safeFileName(r: SigningRequest): string {
  try {
    assertHandoffFileName(r.fileName);
    return r.fileName;
  } catch {
    return handoffFileName({ context: r.contextIdentifier.value, challenge: r.challenge });
  }
}

function sha256Of(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Removes our auth.xml from the outbox when it still holds `xml`, or (with `xml` undefined, after the request was
 * signed) when it is still unsigned: a file someone replaced with a signed one is left for the outbox watcher.
 */
async function removeIfUnchanged(path: string, xml: Uint8Array | undefined): Promise<void> {
  try {
    const now = await readFile(path);
    if (xml === undefined ? !now.includes("Signature") : now.equals(xml)) await unlink(path);
  } catch {
    /* already gone */
  }
}

/** Moves a file into `failed/` beside it with `<name>.reason.txt` (Polish, English); `-2`, `-3` … on collision. */
async function setAsideFailed(path: string, reason: BilingualMessage, sha256: string): Promise<string | undefined> {
  const folder = join(dirname(path), FAILED_DIR);
  const name = basename(path);
  await mkdir(folder, { recursive: true });
  for (let n = 1; n < 1000; n++) {
    const candidate = join(folder, n === 1 ? name : `${n}-${name}`);
    try {
      await readFile(candidate);
      continue;
    } catch {
      /* free */
    }
    try {
      await rename(path, candidate);
    } catch {
      return undefined;
    }
    const file = bilingual(msg("agent.reasonFile.file"));
    const time = bilingual(msg("agent.reasonFile.time"));
    const lines = [
      reason.pl,
      reason.en,
      "",
      `${file.pl} / ${file.en}: ${name}`,
      `SHA-256: ${sha256}`,
      `${time.pl} / ${time.en}: ${new Date().toISOString()}`,
      "",
    ];
    await writeFile(candidate + REASON_SUFFIX, lines.join("\n"), { mode: 0o644 }).catch(() => undefined);
    return candidate;
  }
  return undefined;
}

/** A catalogue message in both languages of a reason file (Polish first). */
function bilingual(ref: MessageRef): BilingualMessage {
  return { pl: translate("pl", ref), en: translate("en", ref) };
}

/** Opens a URL in the person's browser (xdg-open, open, start); failures are logged, never fatal. */
function openUrl(url: string, logger: AgentLogger): void {
  const [cmd, args] = process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args, { stdio: "ignore", detached: true });
    child.on("error", (error) => {
      logger.warn({ url, error: error.message }, "could not open the signing page");
    });
    child.unref();
  } catch (error) {
    logger.warn({ url, error: describe(error) }, "could not open the signing page");
  }
}
