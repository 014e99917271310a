/**
 * Opening the store: an embedded PGlite database in the data folder (the default), or a PostgreSQL
 * server when `DATABASE_URL` is set. The committed drizzle-kit migrations
 * ({@link MIGRATIONS_FOLDER}) are applied on open with drizzle's runtime migrators; both engines get
 * the same folder (measured).
 *
 * Which database, first match wins:
 * 1. `options.databaseUrl` → PostgreSQL;
 * 2. `options.dataDir` → PGlite there (`":memory:"`: in memory, nothing written);
 * 3. `env.DATABASE_URL` → PostgreSQL;
 * 4. `env.KSEF_CERTS_DATA_DIR`, else the platform's user data folder (`paths.ts`) → PGlite.
 * An explicit option beats the environment, so `--ephemeral` or `--data-dir` work with `DATABASE_URL` set.
 */
import { chmod, mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { MIGRATIONS_FOLDER, type Db } from "./db.js";
import { type DataDirLock, acquireDataDirLock } from "./lock.js";
import { IN_MEMORY, databaseDir, resolveDataDir } from "./paths.js";
import * as schema from "./schema.js";

/** An open store. */
export interface Store {
  /** The drizzle database over the schema (PGlite or PostgreSQL; the same API). */
  readonly db: Db;
  /** Which engine. */
  readonly kind: "pglite" | "postgres";
  /** The data folder (PGlite), `":memory:"`, or the server URL with any password removed (PostgreSQL): safe to show and log. */
  readonly location: string;
  /** Closes the database, then releases the data-folder lock. Safe to call more than once. */
  close(): Promise<void>;
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** A PostgreSQL URL (`postgres://user:password@host:5432/db`); beats everything else. */
  readonly databaseUrl?: string;
  /** A data folder for the embedded database, or `":memory:"`. */
  readonly dataDir?: string;
  /** Environment (`DATABASE_URL`, `KSEF_CERTS_DATA_DIR`, `XDG_DATA_HOME`, `APPDATA`); default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Apply pending migrations on open (default `true`). */
  readonly migrate?: boolean;
  /** Told about slow or notable steps (creating a database, migrating, taking over a stale lock). */
  readonly onProgress?: (message: string) => void;
}

/** Where {@link openStore} will go, as decided by {@link resolveStoreTarget}. */
export type StoreTarget =
  | { readonly kind: "postgres"; readonly url: string; readonly origin: "databaseUrl" | "DATABASE_URL" }
  | { readonly kind: "pglite"; readonly dataDir: string };

/** Longest database URL accepted (characters). */
const MAX_URL_CHARS = 4096;

/** postgres.js pool size: a few concurrent requests of one agent or admin process. */
const POSTGRES_POOL_SIZE = 10;

/**
 * Session-level advisory lock key (two int4 halves) held while migrating, so two processes starting
 * together on one PostgreSQL do not both run the migrations (PostgreSQL docs §13.3.5 "Advisory Locks").
 * 0x6b736566 is "ksef" in ASCII; the second half names the purpose.
 */
const MIGRATION_LOCK: readonly [number, number] = [0x6b736566, 1];

/**
 * Decides which database {@link openStore} opens (see the module comment for the order), without opening it.
 * @param options the same options as {@link openStore}
 * @returns PostgreSQL with its URL, or PGlite with its data folder (or `":memory:"`)
 * @throws {KsefCertsError} VALIDATION when both `databaseUrl` and `dataDir` are given, the URL is not a
 *   `postgres://` or `postgresql://` URL, or the data folder is not a usable path
 */
export function resolveStoreTarget(options: Pick<OpenStoreOptions, "databaseUrl" | "dataDir" | "env"> = {}): StoreTarget {
  const env = options.env ?? process.env;
  if (options.databaseUrl !== undefined && options.dataDir !== undefined) {
    throw new KsefCertsError("VALIDATION", msg("store.open.bothTargets"), {
      hint: msg("store.open.bothTargets.hint"),
    });
  }
  if (options.databaseUrl !== undefined) return { kind: "postgres", url: checkUrl(options.databaseUrl, "databaseUrl"), origin: "databaseUrl" };
  if (options.dataDir !== undefined) return { kind: "pglite", dataDir: resolveDataDir(options.dataDir, env) };
  const fromEnv = env.DATABASE_URL;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return { kind: "postgres", url: checkUrl(fromEnv, "DATABASE_URL"), origin: "DATABASE_URL" };
  return { kind: "pglite", dataDir: resolveDataDir(undefined, env) };
}

/**
 * Opens the store and applies pending migrations. For PGlite, the data folder is created (mode 0700) and
 * locked first (`lock.ts`), the database lives in `<dataDir>/db`; for PostgreSQL, migrations run under an
 * advisory lock. Always `close()` the store: an embedded database closed uncleanly is recovered on the next
 * open, but its lock must then be judged stale.
 * @param options which database (see {@link resolveStoreTarget}), whether to migrate, progress callback
 * @returns the open store
 * @throws {KsefCertsError} VALIDATION for an unusable URL or data folder (see {@link resolveStoreTarget})
 * @throws {KsefCertsError} CONFLICT when another process has the data folder open (from {@link acquireDataDirLock})
 * @throws {KsefCertsError} IO when the folder cannot be created, the database cannot be opened, or the server cannot be reached (`retryable`)
 * @throws {KsefCertsError} INTERNAL when a migration fails
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const target = resolveStoreTarget(options);
  const migrate = options.migrate ?? true;
  const progress = options.onProgress ?? (() => undefined);
  return target.kind === "postgres" ? openPostgres(target.url, migrate, progress) : openPglite(target.dataDir, migrate, progress);
}

/**
 * A database URL with its password (in the user-info part and in a `password` query parameter) removed, for display.
 * @param url a `postgres://` URL
 * @returns the same URL without secrets; `"<unparseable URL>"` when it does not parse
 */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|token/i.test(k)) u.searchParams.delete(k);
    return u.toString();
  } catch {
    return "<unparseable URL>";
  }
}

async function openPglite(dataDir: string, migrate: boolean, progress: (message: string) => void): Promise<Store> {
  if (dataDir === IN_MEMORY) {
    const client = await createPglite(undefined, IN_MEMORY);
    return finishPglite(client, IN_MEMORY, undefined, migrate, progress);
  }
  await makePrivateDir(dataDir);
  const lock = await acquireDataDirLock(dataDir, { onProgress: progress });
  try {
    const dbDir = databaseDir(dataDir);
    const created = await makePrivateDir(dbDir);
    // A new cluster takes a few seconds (initdb in WASM); reopening is under half a second, measured.
    if (created) progress(`Creating the embedded database in ${dataDir} (first start, a few seconds)…`);
    const client = await createPglite(dbDir, dataDir);
    return await finishPglite(client, dataDir, lock, migrate, progress);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function createPglite(dbDir: string | undefined, location: string): Promise<PGlite> {
  try {
    return await PGlite.create(dbDir === undefined ? {} : { dataDir: dbDir });
  } catch (cause) {
    throw new KsefCertsError("IO", msg("store.open.embedded", { location }), {
      hint: msg("store.open.embedded.hint"),
      cause,
      details: { location },
    });
  }
}

async function finishPglite(
  client: PGlite,
  location: string,
  lock: DataDirLock | undefined,
  migrate: boolean,
  progress: (message: string) => void,
): Promise<Store> {
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  try {
    if (migrate) await runMigrations(db, (d) => migratePglite(d as never, { migrationsFolder: MIGRATIONS_FOLDER }), location, progress);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    db,
    kind: "pglite",
    location,
    close: () =>
      (closing ??= (async () => {
        try {
          if (!client.closed) await client.close();
        } finally {
          await lock?.release();
        }
      })()),
  };
}

async function openPostgres(url: string, migrate: boolean, progress: (message: string) => void): Promise<Store> {
  const location = redactDatabaseUrl(url);
  if (migrate) {
    // One connection for the whole migration: a session-level advisory lock belongs to the connection that took it.
    const migrator = postgres(url, { max: 1, onnotice: () => undefined });
    try {
      await reach(location, () => migrator`SELECT pg_advisory_lock(${MIGRATION_LOCK[0]}, ${MIGRATION_LOCK[1]})`);
      try {
        const mdb = drizzlePostgres(migrator, { schema }) as unknown as Db;
        await runMigrations(mdb, (d) => migratePostgres(d as never, { migrationsFolder: MIGRATIONS_FOLDER }), location, progress);
      } finally {
        await migrator`SELECT pg_advisory_unlock(${MIGRATION_LOCK[0]}, ${MIGRATION_LOCK[1]})`.catch(() => undefined);
      }
    } finally {
      await migrator.end({ timeout: 5 });
    }
  }
  const client = postgres(url, { max: POSTGRES_POOL_SIZE, onnotice: () => undefined });
  try {
    await reach(location, () => client`SELECT 1`);
  } catch (err) {
    await client.end({ timeout: 5 });
    throw err;
  }
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  let closing: Promise<void> | undefined;
  return { db, kind: "postgres", location, close: () => (closing ??= client.end({ timeout: 5 })) };
}

/** Runs `apply` and reports how many migrations it applied (read from drizzle's own journal table). */
async function runMigrations(db: Db, apply: (db: Db) => Promise<void>, location: string, progress: (message: string) => void): Promise<void> {
  const before = await appliedMigrationCount(db);
  try {
    await apply(db);
  } catch (cause) {
    throw new KsefCertsError("INTERNAL", msg("store.open.migrations", { location }), {
      hint: msg("store.open.migrations.hint"),
      cause,
      details: { location },
    });
  }
  const after = await appliedMigrationCount(db);
  if (after > before) progress(`Applied ${after - before} database migration${after - before === 1 ? "" : "s"} to ${location}.`);
}

/**
 * How many migrations drizzle has recorded as applied (`drizzle.__drizzle_migrations`), 0 on a new database.
 * @param db an open database
 */
export async function appliedMigrationCount(db: Db): Promise<number> {
  const exists = await db.execute(sql`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`);
  if (rowsOf<{ present: boolean }>(exists)[0]?.present !== true) return 0;
  const r = await db.execute(sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
  return Number(rowsOf<{ n: number | string }>(r)[0]?.n ?? 0);
}

/** PGlite's `execute` returns `{rows}`, postgres.js an array of rows. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return (result as { rows?: T[] }).rows ?? [];
}

async function reach(location: string, query: () => PromiseLike<unknown>): Promise<void> {
  try {
    await query();
  } catch (cause) {
    const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : "error";
    throw new KsefCertsError("IO", msg("store.open.postgres", { location, code }), {
      hint: msg("store.open.postgres.hint"),
      retryable: true,
      cause,
      details: { location, code },
    });
  }
}

/** Creates `dir` (and parents) with mode 0700 and tightens what was created past the umask; returns whether it was new. */
async function makePrivateDir(dir: string): Promise<boolean> {
  try {
    const first = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (first === undefined) return false;
    // mkdir's mode is filtered by the umask; the folder holds keys, so set it exactly (no-op on Windows).
    await chmod(dir, 0o700);
    return true;
  } catch (cause) {
    throw new KsefCertsError("IO", msg("store.open.dataDir", { dir }), {
      hint: msg("store.open.dataDir.hint"),
      retryable: true,
      cause,
      details: { path: dir },
    });
  }
}

function checkUrl(url: string, origin: string): string {
  let parsed: URL | undefined;
  try {
    parsed = url.length <= MAX_URL_CHARS ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:")) {
    // Never echo the URL: it may carry a password.
    throw new KsefCertsError("VALIDATION", msg("store.open.url", { origin }), {
      hint: msg("store.open.url.hint"),
      details: { origin },
    });
  }
  return url;
}
