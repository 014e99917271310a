import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { appendAudit, verifyAuditLog } from "./audit.js";
import { MIGRATIONS_FOLDER } from "./db.js";
import { appliedMigrationCount, openStore, redactDatabaseUrl, resolveStoreTarget } from "./open.js";
import { lockFilePath } from "./paths.js";
import { companies } from "./schema.js";

const run = promisify(execFile);
const OPEN_MODULE = fileURLToPath(new URL("./open.ts", import.meta.url));
const SCHEMA_MODULE = fileURLToPath(new URL("./schema.ts", import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL("../../", import.meta.url));

async function journalEntries(): Promise<number> {
  const journal = JSON.parse(await readFile(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
  return journal.entries.length;
}

/** Opens the store in a real second process; prints the company count or the error code. */
async function openInChild(dataDir: string): Promise<Record<string, unknown>> {
  const code = `
    const { openStore } = await import(${JSON.stringify(OPEN_MODULE)});
    const { companies } = await import(${JSON.stringify(SCHEMA_MODULE)});
    try {
      const store = await openStore({ dataDir: ${JSON.stringify(dataDir)}, env: {} });
      const rows = await store.db.select().from(companies);
      await store.close();
      process.stdout.write(JSON.stringify({ companies: rows.map((r) => r.nip) }));
    } catch (err) {
      process.stdout.write(JSON.stringify({ code: err.code, message: err.message }));
    }`;
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: PACKAGE_DIR, timeout: 60_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function errorOf(p: Promise<unknown>): Promise<KsefCertsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KsefCertsError);
  return err as KsefCertsError;
}

describe("choosing the database", () => {
  it("explicit options beat the environment; DATABASE_URL beats the data folder variable", () => {
    const url = "postgres://u:pw@db.example:5432/ksef";
    expect(resolveStoreTarget({ databaseUrl: url, env: { KSEF_CERTS_DATA_DIR: "/d" } })).toEqual({ kind: "postgres", url, origin: "databaseUrl" });
    expect(resolveStoreTarget({ dataDir: ":memory:", env: { DATABASE_URL: url } })).toEqual({ kind: "pglite", dataDir: ":memory:" });
    expect(resolveStoreTarget({ dataDir: "/x", env: { DATABASE_URL: url } })).toEqual({ kind: "pglite", dataDir: "/x" });
    expect(resolveStoreTarget({ env: { DATABASE_URL: url, KSEF_CERTS_DATA_DIR: "/d" } })).toEqual({ kind: "postgres", url, origin: "DATABASE_URL" });
    expect(resolveStoreTarget({ env: { KSEF_CERTS_DATA_DIR: "/d" } })).toEqual({ kind: "pglite", dataDir: "/d" });
    expect(resolveStoreTarget({ env: { DATABASE_URL: "", XDG_DATA_HOME: "/xdg" } })).toMatchObject({ kind: "pglite" });
    expect(resolveStoreTarget({ env: { DATABASE_URL: "postgresql:///ksef?host=/run/postgresql" } })).toMatchObject({ kind: "postgres" });
  });

  it("refuses an unusable URL without repeating it, and two targets at once", () => {
    for (const bad of ["mysql://u:Tajne@h/db", "not a url Tajne", `postgres://h/${"x".repeat(5000)}`]) {
      let err: unknown;
      try {
        resolveStoreTarget({ env: { DATABASE_URL: bad } });
      } catch (e) {
        err = e;
      }
      expect((err as KsefCertsError).code).toBe("VALIDATION");
      expect((err as KsefCertsError).message).toBe("DATABASE_URL is not a PostgreSQL URL.");
    }
    expect(() => resolveStoreTarget({ databaseUrl: "postgres://h/db", dataDir: "/d" })).toThrow(/either on PostgreSQL or in a data folder/);
  });

  it("shows a URL without its password", () => {
    expect(redactDatabaseUrl("postgres://ksef:Tajne%21@db.example:5432/ksef?sslmode=require&password=Tajne2")).toBe(
      "postgres://ksef@db.example:5432/ksef?sslmode=require",
    );
    expect(redactDatabaseUrl("::")).toBe("<unparseable URL>");
  });
});

describe("embedded store in a data folder", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "ksef-certs-open-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("creates a private folder, migrates once, keeps data across reopen, and is locked against a second process", async () => {
    const dataDir = join(root, "nested", "data");
    const progress: string[] = [];
    const store = await openStore({ dataDir, env: {}, onProgress: (m) => progress.push(m) });
    expect(store).toMatchObject({ kind: "pglite", location: dataDir });
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, "db"))).mode & 0o777).toBe(0o700);
    expect((await readdir(join(dataDir, "db"))).length).toBeGreaterThan(0);
    expect(progress).toEqual([
      expect.stringContaining("Creating the embedded database"),
      `Applied ${await journalEntries()} database migration${(await journalEntries()) === 1 ? "" : "s"} to ${dataDir}.`,
    ]);
    expect(await appliedMigrationCount(store.db)).toBe(await journalEntries());
    expect(JSON.parse(await readFile(lockFilePath(dataDir), "utf8"))).toMatchObject({ pid: process.pid });

    await store.db.transaction(async (tx) => {
      await tx.insert(companies).values({ nip: "5265877635", name: "Firma" });
      await appendAudit(tx, { actor: "test", action: "company.add", entityType: "company", after: { nip: "5265877635" } });
    });

    // The same folder twice in one process is refused too (PGlite would be opened twice).
    expect((await errorOf(openStore({ dataDir, env: {} }))).code).toBe("CONFLICT");
    // A real second process is refused while we hold it.
    const refused = await openInChild(dataDir);
    expect(refused).toMatchObject({ code: "CONFLICT" });
    expect(String(refused.message)).toContain(`is in use by process ${process.pid}`);

    await store.close();
    await store.close();
    await expect(stat(lockFilePath(dataDir))).rejects.toThrow();

    // After close, the second process opens it and sees the data.
    expect(await openInChild(dataDir)).toEqual({ companies: ["5265877635"] });

    const reopenedProgress: string[] = [];
    const again = await openStore({ dataDir, env: {}, onProgress: (m) => reopenedProgress.push(m) });
    try {
      expect(reopenedProgress).toEqual([]); // nothing created, nothing migrated
      expect(await appliedMigrationCount(again.db)).toBe(await journalEntries());
      expect((await again.db.select().from(companies)).map((c) => c.nip)).toEqual(["5265877635"]);
      expect(await verifyAuditLog(again.db)).toMatchObject({ ok: true, entries: 1 });
    } finally {
      await again.close();
    }
  }, 180_000);

  it("opens in memory with dataDir ':memory:' even when DATABASE_URL is set, writing nothing", async () => {
    const before = await readdir(root);
    const mem = await openStore({ dataDir: ":memory:", env: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" } });
    try {
      expect(mem).toMatchObject({ kind: "pglite", location: ":memory:" });
      await mem.db.insert(companies).values({ nip: "7740001454", name: "X" });
      expect(await mem.db.select().from(companies)).toHaveLength(1);
    } finally {
      await mem.close();
    }
    expect(await readdir(root)).toEqual(before);
  });
});

const PG_URL = process.env.KSEF_CERTS_TEST_DATABASE_URL;

describe.runIf(PG_URL !== undefined)("PostgreSQL store", () => {
  const name = `ksef_certs_open_${randomBytes(5).toString("hex")}`;
  let admin: postgres.Sql;
  let url: string;
  beforeAll(async () => {
    admin = postgres(PG_URL ?? "", { max: 1, onnotice: () => undefined });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const u = new URL(PG_URL ?? "");
    u.pathname = `/${name}`;
    if (u.password === "") u.password = "Tajne-haslo"; // ignored by a trust server, and must never show up in `location`
    url = u.toString();
  });
  afterAll(async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it("two processes' worth of concurrent opens migrate exactly once; data survives reopen; location hides the password", async () => {
    const progress: string[] = [];
    const [a, b] = await Promise.all([0, 1].map(() => openStore({ databaseUrl: url, onProgress: (m) => progress.push(m) })));
    if (a === undefined || b === undefined) throw new Error("not opened");
    try {
      expect(a.kind).toBe("postgres");
      expect(a.location).not.toContain("Tajne");
      expect(a.location).toContain(`/${name}`);
      expect(progress.filter((m) => m.startsWith("Applied"))).toHaveLength(1);
      expect(await appliedMigrationCount(a.db)).toBe(await journalEntries());
      await a.db.insert(companies).values({ nip: "5265877635", name: "Firma" });
      expect(await b.db.select().from(companies)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
    const again = await openStore({ env: { DATABASE_URL: url } });
    try {
      expect(await appliedMigrationCount(again.db)).toBe(await journalEntries());
      expect((await again.db.select().from(companies)).map((c) => c.nip)).toEqual(["5265877635"]);
    } finally {
      await again.close();
    }
  });

  it("reports an unreachable server as a retryable IO error without the password", async () => {
    const err = await errorOf(openStore({ databaseUrl: "postgres://u:Tajne@127.0.0.1:1/none" }));
    expect(err.code).toBe("IO");
    expect(err.retryable).toBe(true);
    expect(err.message).toContain("postgres://u@127.0.0.1:1/none");
    expect(JSON.stringify(err.toJSON())).not.toContain("Tajne");
  });
});
