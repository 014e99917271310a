/**
 * Test databases for every suite that touches the store: an in-memory PGlite always, and a real
 * PostgreSQL when `KSEF_CERTS_TEST_DATABASE_URL` is set (`.ci/run` points it at 127.0.0.1:5432/test).
 * Each PostgreSQL suite gets a fresh database of its own (created from the URL's server, dropped at
 * the end), because the migrations create types in the `public` schema.
 *
 * Use `describeEachDb("…", (ctx) => { it(…, async () => { const db = ctx().db; … }) })`.
 */
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe } from "vitest";
import { MIGRATIONS_FOLDER, type Db } from "../db.js";
import * as schema from "../schema.js";

/** One migrated, empty test database. */
export interface TestDb {
  readonly kind: "pglite" | "postgres";
  readonly db: Db;
  /**
   * Another drizzle handle on the same database and connection, with a dialect object of its own: an audit
   * key bound to it (`bindAuditKey`) reaches no other handle, so a test can key its appends without keying
   * the suite's shared `db`.
   */
  handle(): Db;
  /** Empties every table (keeps the schema). */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

const TABLES = [
  "ksef_call_grants",
  "renewals",
  "renewal_policies",
  "audit_log",
  "enrollments",
  "certificates",
  "operator_branches",
  "workstations",
  "operators",
  "branches",
  "companies",
];

async function truncate(db: Db): Promise<void> {
  await db.execute(sql.raw(`TRUNCATE ${TABLES.join(", ")} RESTART IDENTITY CASCADE`));
}

/** An in-memory PGlite with the migrations applied. */
export async function openPgliteTestDb(): Promise<TestDb> {
  const client = new PGlite();
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    kind: "pglite",
    db: db as unknown as Db,
    handle: () => drizzlePglite(client, { schema }),
    truncate: () => truncate(db),
    close: () => client.close(),
  };
}

/**
 * A fresh PostgreSQL database on the server of `url`, migrated; dropped on close.
 * @param url e.g. `postgres://postgres@127.0.0.1:5432/test`
 */
export async function openPostgresTestDb(url: string): Promise<TestDb> {
  const name = `ksef_certs_t_${randomBytes(6).toString("hex")}`;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const client = postgres(target.toString(), { max: 4, onnotice: () => undefined });
  const db = drizzlePostgres(client, { schema });
  await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    kind: "postgres",
    db: db as unknown as Db,
    handle: () => drizzlePostgres(client, { schema }),
    truncate: () => truncate(db),
    close: async () => {
      await client.end();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** The kinds of database this run tests: PGlite always, PostgreSQL when `KSEF_CERTS_TEST_DATABASE_URL` is set. */
export function testDbKinds(): ("pglite" | "postgres")[] {
  return process.env.KSEF_CERTS_TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

/**
 * Runs `body` once per database kind, with a database opened before the suite, emptied before each test
 * and closed after.
 * @param title suite title (the kind is appended)
 * @param body registers the tests; `ctx()` returns the open database inside a test
 */
export function describeEachDb(title: string, body: (ctx: () => TestDb) => void): void {
  for (const kind of testDbKinds()) {
    describe(`${title} [${kind}]`, () => {
      let current: TestDb | undefined;
      beforeAll(async () => {
        current = kind === "pglite" ? await openPgliteTestDb() : await openPostgresTestDb(process.env.KSEF_CERTS_TEST_DATABASE_URL ?? "");
      }, 120_000);
      afterAll(async () => {
        await current?.close();
      });
      beforeEach(async () => {
        await current?.truncate();
      });
      body(() => {
        if (current === undefined) throw new Error("test database not open");
        return current;
      });
    });
  }
}
