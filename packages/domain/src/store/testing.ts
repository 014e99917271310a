/**
 * Test support for other packages' suites (exported through `@ksef-certs/domain/testing`): a scratch
 * PostgreSQL database on a given server, created empty and dropped afterwards, so an end-to-end suite
 * can run the real store on PostgreSQL as well as on the embedded PGlite.
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";

/** A database created for one suite. */
export interface ScratchDatabase {
  /** Connection URL of the new database (same server and credentials as the given one). */
  readonly url: string;
  /** Drops the database (closing other sessions on it first). */
  drop(): Promise<void>;
}

/**
 * Creates an empty database on the server of `serverUrl` (e.g. `postgres://postgres@127.0.0.1:5432/test`).
 * @param serverUrl any database URL on the server; its role must be allowed to CREATE DATABASE
 * @returns the new database's URL and a `drop()`
 * @throws the server's error when the database cannot be created
 */
export async function createScratchDatabase(serverUrl: string): Promise<ScratchDatabase> {
  const name = `ksef_certs_e2e_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = postgres(serverUrl, { max: 1, onnotice: () => undefined });
      try {
        await again.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await again.end();
      }
    },
  };
}

/**
 * The drizzle tables, for tests only: a suite may seed rows no use case writes yet and read back what a use case
 * stored. Application code reads and writes through the domain's use cases; the tables are not a public surface.
 */
export * as schema from "./schema.js";
