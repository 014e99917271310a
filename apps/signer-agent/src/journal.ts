/**
 * The agent's journal: a small JSON file (`journal.json` in the config folder) holding what must survive a
 * kill -9 at any step so that each signing request ends with exactly one submission:
 *
 * - `requests`: the signing requests the agent knows (pending, and finished ones for a day, so a late file
 *   for an expired challenge is recognised and explained), with whether their auth.xml is in the outbox;
 * - `uploads`: SHA-256 of every signed file the server accepted (`signed` or `duplicate`) or refused for good,
 *   so a copy dropped again is a duplicate and never a second upload;
 * - `inflight`: uploads started and not yet answered. After a crash the file is still in the inbox (it moves only
 *   after the journal records the upload), the watcher offers it again and the server answers `duplicate` if the
 *   first attempt had arrived: one submission either way;
 * - `cursor`: the server's cursor of the last long poll.
 *
 * Every change is written atomically (temp file, fsync, rename, folder fsync) before the step it guards.
 */
import { join } from "node:path";
import { z } from "zod";
import { JOURNAL_FILE, MAX_STATE_FILE_BYTES } from "./config.js";
import { readIfExists, writeFileAtomic } from "./files.js";

const contextSchema = z.object({ type: z.enum(["Nip", "InternalId", "NipVatUe", "PeppolId"]), value: z.string() });

const requestSchema = z.object({
  id: z.string(),
  /** `server`: from the admin server's long poll; `local`: asked for by an ERP through the local API (its signed file is kept, not uploaded). */
  source: z.enum(["server", "local"]),
  challenge: z.string(),
  contextIdentifier: contextSchema,
  fileName: z.string(),
  expiresAt: z.string(),
  status: z.enum(["pending", "signed", "submitted", "expired", "cancelled", "failed"]),
  replacedBy: z.string().optional(),
  /** Where the agent wrote auth.xml (set after the write). */
  outboxPath: z.string().optional(),
  /** How it was signed: a person's file or the agent itself (auto-sign). */
  signedBy: z.enum(["person", "agent"]).optional(),
  updatedAt: z.string(),
});

/** A signing request as the journal keeps it. */
export type JournalRequest = z.infer<typeof requestSchema>;

const uploadSchema = z.object({
  requestId: z.string(),
  fileName: z.string(),
  result: z.enum(["signed", "duplicate", "refused"]),
  reason: z.string().optional(),
  at: z.string(),
});

/** A signed file the server answered for (by SHA-256 of its bytes). */
export type JournalUpload = z.infer<typeof uploadSchema>;

const inflightSchema = z.object({ requestId: z.string(), fileName: z.string(), since: z.string() });

/** An upload started and not yet answered. */
export type JournalInflight = z.infer<typeof inflightSchema>;

const journalSchema = z.object({
  version: z.literal(1),
  cursor: z.string().optional(),
  requests: z.record(z.string(), requestSchema),
  uploads: z.record(z.string(), uploadSchema),
  inflight: z.record(z.string(), inflightSchema),
});

/** The journal's content. */
export type JournalState = z.infer<typeof journalSchema>;

/** Finished requests are kept this long (ms) so late files for them are explained: one day. */
const KEEP_FINISHED_MS = 86_400_000;
/** Most upload hashes kept (oldest dropped first; the inbox's processed/ folder also seeds duplicates). */
const MAX_UPLOADS = 5000;

/** The journal file, loaded once and written on every change (see the module comment). */
export class Journal {
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private state: JournalState,
  ) {}

  /**
   * Opens (or starts) the journal in a config folder. A damaged journal is kept aside as `journal.json.damaged`
   * and a fresh one started: the server still knows every pending request, and the inbox's processed/ folder
   * and the server's duplicate answer keep uploads single.
   * @param configDir the configuration folder
   * @throws {KsefCertsError} IO when it cannot be read
   */
  static async open(configDir: string): Promise<Journal> {
    const path = join(configDir, JOURNAL_FILE);
    const raw = await readIfExists(path);
    if (raw === undefined) return new Journal(path, empty());
    const parsed = raw.byteLength > MAX_STATE_FILE_BYTES ? undefined : safeJson(raw.toString("utf8"));
    const state = journalSchema.safeParse(parsed);
    if (state.success) return new Journal(path, state.data);
    await writeFileAtomic(`${path}.damaged`, raw, 0o600);
    return new Journal(path, empty());
  }

  /**
   * Reads a journal without keeping it open (for `status`).
   * @param configDir the configuration folder
   */
  static async peek(configDir: string): Promise<JournalState | undefined> {
    const raw = await readIfExists(join(configDir, JOURNAL_FILE));
    if (raw === undefined) return undefined;
    const r = journalSchema.safeParse(safeJson(raw.toString("utf8")));
    return r.success ? r.data : undefined;
  }

  /** A copy of the current state. */
  snapshot(): JournalState {
    return structuredClone(this.state);
  }

  /** The server's cursor of the last long poll. */
  get cursor(): string | undefined {
    return this.state.cursor;
  }

  /** Known requests (any status). */
  requests(): JournalRequest[] {
    return Object.values(this.state.requests);
  }

  /**
   * A request by id.
   * @param id the request id
   */
  request(id: string): JournalRequest | undefined {
    return this.state.requests[id];
  }

  /**
   * The server's (or a refusal's) record of a signed file.
   * @param sha256 64 lowercase hex
   */
  upload(sha256: string): JournalUpload | undefined {
    return this.state.uploads[sha256];
  }

  /** Uploads started and not answered (after a crash: what will be offered again). */
  inflight(): Array<JournalInflight & { sha256: string }> {
    return Object.entries(this.state.inflight).map(([sha256, v]) => ({ sha256, ...v }));
  }

  /**
   * Applies a change and writes the journal durably before resolving.
   * @param change mutates the state
   * @throws {KsefCertsError} IO when the write fails (the in-memory state keeps the change)
   */
  async update(change: (state: JournalState) => void): Promise<void> {
    change(this.state);
    prune(this.state, Date.now());
    const text = `${JSON.stringify(this.state)}\n`;
    // Writes are serialised so an older state never lands after a newer one.
    const write = this.chain.then(() => writeFileAtomic(this.path, text, 0o600));
    this.chain = write.catch(() => undefined);
    await write;
  }

  /**
   * Adds or updates a request.
   * @param request the request (its `updatedAt` is set now)
   */
  async putRequest(request: Omit<JournalRequest, "updatedAt">): Promise<void> {
    await this.update((s) => {
      s.requests[request.id] = { ...request, updatedAt: new Date().toISOString() };
    });
  }
}

/**
 * A copy of a record without one key.
 * @param record the record
 * @param key the key to leave out
 */
export function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

function empty(): JournalState {
  return { version: 1, requests: {}, uploads: {}, inflight: {} };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function prune(state: JournalState, now: number): void {
  for (const [id, r] of Object.entries(state.requests)) {
    const finished = r.status !== "pending";
    const stale = Date.parse(r.updatedAt) + KEEP_FINISHED_MS < now && Date.parse(r.expiresAt) + KEEP_FINISHED_MS < now;
    if (finished && stale) state.requests = without(state.requests, id);
  }
  const uploads = Object.entries(state.uploads);
  if (uploads.length > MAX_UPLOADS) {
    uploads.sort((a, b) => a[1].at.localeCompare(b[1].at));
    const dropped = new Set(uploads.slice(0, uploads.length - MAX_UPLOADS).map(([sha]) => sha));
    state.uploads = Object.fromEntries(uploads.filter(([sha]) => !dropped.has(sha)));
  }
}
