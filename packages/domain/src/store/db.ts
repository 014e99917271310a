/**
 * The database handle types shared by the store and the use cases. Both drivers (PGlite embedded,
 * postgres.js for a PostgreSQL server) give a drizzle `PgDatabase` over the one schema, and a
 * transaction is one too, so use cases take a {@link Db} and work inside or outside a transaction.
 */
import { fileURLToPath } from "node:url";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.js";

/** The schema module's tables and enums. */
export type Schema = typeof schema;

/** A drizzle database (or transaction) over {@link Schema}, PGlite or PostgreSQL. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** The committed migrations folder (`packages/domain/drizzle`), the same from `src/` and from `dist/`. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));
