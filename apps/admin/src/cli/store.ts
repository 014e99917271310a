/**
 * Opening the registry store for one command, and what every registry command shares about it: the
 * `--data-dir` option, the audit actor and the run's clock.
 *
 * Which database (core `openStore`, `src/store/open.ts`), first match wins:
 * 1. `--data-dir DIR` → the embedded PGlite database in DIR (relative to the working directory);
 * 2. `DATABASE_URL` from the environment → PostgreSQL (never from argv: a URL may hold a password);
 * 3. `KSEF_CERTS_DATA_DIR` from the environment, else the platform's user data folder → PGlite.
 *
 * The store is opened per command and always closed (in `finally`), which releases the data-folder
 * lock. With a master key, the command's audit entries are keyed with it and, on close, the log's head
 * is written to the audit checkpoint (core `src/store/audit-checkpoint.ts`). On Ctrl-C the core's lock handler removes the lock file before the process ends (core
 * `src/store/lock.ts`); every change is one transaction, so an interrupted command leaves either
 * the whole change or none of it.
 */
import { userInfo } from "node:os";
import type { Command } from "commander";
import {
  type AuditCheckpointResult,
  auditCheckpointPath,
  bindAuditKey,
  checkpointAuditHead,
  loadMasterKey,
  openStore,
  redactDatabaseUrl,
  resolveStoreTarget,
  type Store,
} from "@ksef-certs/domain/store";
import { vaultFromMasterKey, type Vault } from "@ksef-certs/domain/vault";
import { resolvePath, type CliIo } from "./context.js";
import type { CommandEnv, CommonOptions } from "./options.js";
import { Output } from "./output.js";

/** Options of every command that opens the store. */
export interface StoreOptions extends CommonOptions {
  /** `--data-dir`: the embedded database's folder. */
  readonly dataDir?: string;
}

/**
 * Adds `--data-dir` and `--json` to a registry command.
 * @param cmd the command
 */
export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option(
      "--data-dir <dir>",
      "folder of the embedded database (default: $KSEF_CERTS_DATA_DIR, else the user data folder; DATABASE_URL from the environment selects PostgreSQL instead)",
    )
    .option("--json", 'print JSON on stdout (errors too: {"error": {...}})');
}

/**
 * Who changes the registry from this CLI, as written to the audit log: `cli:<os user name>`
 * (`USER`/`USERNAME` from the environment when the OS has no entry for the uid, e.g. in containers).
 * @param io the run's surface
 */
export function cliActor(io: CliIo): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = io.env["USER"] ?? io.env["USERNAME"];
  }
  return `cli:${name === undefined || name === "" ? "unknown" : name}`;
}

/**
 * The run's clock (injected in tests, else the system clock).
 * @param io the run's surface
 */
export function nowOf(io: CliIo): Date {
  return io.now?.() ?? new Date();
}

/**
 * The data folder the run uses for PGlite and for the default master-key file: `--data-dir`, else
 * `KSEF_CERTS_DATA_DIR`, resolved against the working directory; `undefined` for the platform default.
 * @param io the run's surface
 * @param opts the command's options
 */
export function dataDirOf(io: CliIo, opts: StoreOptions): string | undefined {
  const given = opts.dataDir ?? (io.env["KSEF_CERTS_DATA_DIR"] === "" ? undefined : io.env["KSEF_CERTS_DATA_DIR"]);
  if (given === undefined) return undefined;
  return given === ":memory:" ? given : resolvePath(io, given);
}

/**
 * Opens the store, runs `work`, and closes the store whatever happens (the lock is released even
 * when `work` throws). With a master key, it is bound to the store's audit log first and the log's head
 * is checkpointed before closing (a checkpoint problem is a warning on stderr, not a failure). Slow steps
 * (creating the database, migrating, taking over a stale lock) are noted on stderr in human mode.
 * @param env the run's surface and state
 * @param opts the command's options (`--data-dir`, `--json`)
 * @param work what the command does with the open store
 * @returns what `work` returns
 * @throws {KsefCertsError} CONFLICT when another process has the data folder open; VALIDATION for an
 *   unusable `--data-dir` or `DATABASE_URL`; IO when the database cannot be opened or reached; as
 *   {@link masterKeyOf} for an unusable master key; and whatever `work` throws (FORBIDDEN when it changes
 *   a keyed audit log without the master key)
 */
export async function withStore<T>(env: CommandEnv, opts: StoreOptions, work: (store: Store) => Promise<T>): Promise<T> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const dataDir = opts.dataDir === undefined ? undefined : dataDirOf(io, opts);
  // Every change this command makes is keyed into the audit log, and its head checkpointed on close.
  const masterKey = await masterKeyOf(io, opts);
  const store = await openStore({
    ...(dataDir === undefined ? {} : { dataDir }),
    env: { ...envForStore(io) },
    onProgress: (message) => {
      out.note(message);
    },
  });
  try {
    if (masterKey !== undefined) bindAuditKey(store.db, masterKey);
    return await work(store);
  } finally {
    const path = masterKey === undefined ? undefined : auditCheckpointOf(io, opts);
    if (masterKey !== undefined && path !== undefined) {
      // The command's own outcome (and exit code) stands; a checkpoint problem is a warning beside it.
      await checkpointAuditHead(store.db, { masterKey, path, now: () => nowOf(io) }).then(
        (r) => {
          const warning = auditCheckpointWarning(r);
          if (warning !== undefined) out.note(`warning: ${warning}`);
        },
        (err: unknown) => {
          out.note(`warning: the audit checkpoint was not written: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    }
    await store.close();
  }
}

/**
 * The audit head checkpoint file of this run (core `auditCheckpointPath`): `KSEF_CERTS_AUDIT_CHECKPOINT`
 * (relative to the working directory), else `<data dir>/audit-head.json`; `undefined` for `:memory:`.
 * @param io the run's surface
 * @param opts the command's options (for the data folder)
 * @throws {KsefCertsError} VALIDATION for an unusable path
 */
export function auditCheckpointOf(io: CliIo, opts: StoreOptions): string | undefined {
  const dataDir = dataDirOf(io, opts);
  const env = envForStore(io);
  const target = resolveStoreTarget({ env, ...(dataDir === undefined ? {} : { dataDir }) });
  return auditCheckpointPath({
    env,
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(target.kind === "postgres" ? { database: redactDatabaseUrl(target.url) } : {}),
  });
}

/**
 * What to tell an operator about a checkpoint run that did not move forward (core `checkpointAuditHead`),
 * or `undefined` when it went as it should.
 * @param r the result
 */
export function auditCheckpointWarning(r: AuditCheckpointResult): string | undefined {
  const verify = "Run `ksef-certs audit verify` and find out who changed the log.";
  if (r.status === "behind") {
    return `the audit log ends at entry #${r.head.seq} but its checkpoint ${r.path} names entry #${r.previous?.seq ?? "?"}: entries were removed. The checkpoint is kept. ${verify}`;
  }
  if (r.status === "mismatch") {
    return `the audit log's entry #${r.previous?.seq ?? "?"} is not the one its checkpoint ${r.path} recorded (the log was rewritten, or the checkpoint belongs to another database). The checkpoint is kept. ${verify}`;
  }
  if (r.status === "invalid") return `the audit checkpoint ${r.path} is damaged or was not written with this master key; it is left as it is. ${verify}`;
  return undefined;
}

/**
 * The environment the core sees: `KSEF_CERTS_DATA_DIR` resolved against the run's working directory,
 * the rest as is.
 */
function envForStore(io: CliIo): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...io.env };
  const dir = env["KSEF_CERTS_DATA_DIR"];
  if (dir !== undefined && dir !== "" && dir !== ":memory:") env["KSEF_CERTS_DATA_DIR"] = resolvePath(io, dir);
  const checkpoint = env["KSEF_CERTS_AUDIT_CHECKPOINT"];
  if (checkpoint !== undefined && checkpoint.trim() !== "") env["KSEF_CERTS_AUDIT_CHECKPOINT"] = resolvePath(io, checkpoint);
  return env;
}

/**
 * The master key for sealing passwords (`KSEF_CERTS_MASTER_KEY`, `KSEF_CERTS_MASTER_KEY_FILE`, or
 * `<data dir>/master.key`), or `undefined` when none is configured.
 * @param io the run's surface
 * @param opts the command's options (for the data folder)
 * @throws {KsefCertsError} as core `loadMasterKey`: FORBIDDEN for a key file readable by others, VALIDATION for a malformed key, NOT_FOUND, IO
 */
export async function masterKeyOf(io: CliIo, opts: StoreOptions): Promise<Uint8Array | undefined> {
  const dataDir = dataDirOf(io, opts);
  return loadMasterKey({ env: envForStore(io), ...(dataDir === undefined ? {} : { dataDir }) });
}

/**
 * The vault of the run's master key ({@link masterKeyOf}), or `undefined` when none is configured: what seals and
 * unseals key passwords and opens held keys.
 * @param io the run's surface
 * @param opts the command's options (for the data folder)
 * @throws {KsefCertsError} as {@link masterKeyOf}
 */
export async function vaultOf(io: CliIo, opts: StoreOptions): Promise<Vault | undefined> {
  const masterKey = await masterKeyOf(io, opts);
  return masterKey === undefined ? undefined : vaultFromMasterKey(masterKey);
}
