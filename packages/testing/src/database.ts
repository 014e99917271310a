/**
 * `@ksef-certs/testing/database`: a scratch PostgreSQL database per suite, created empty on a given server and dropped
 * afterwards (implemented in `@ksef-certs/domain/testing`). PGlite needs none: `openStore({ dataDir: ":memory:" })`.
 */
export { createScratchDatabase, schema, type ScratchDatabase } from "@ksef-certs/domain/testing";
