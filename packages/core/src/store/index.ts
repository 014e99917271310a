/**
 * `@ksef-certs/core/store`: persistence. The one PostgreSQL-dialect schema, the database handle type,
 * and the hash-chained audit log; opening a store (embedded PGlite or PostgreSQL) and sealing secrets
 * under the master key join here.
 */
export { MIGRATIONS_FOLDER, type Db, type Schema } from "./db.js";
export * as schema from "./schema.js";
export {
  AUDIT_GENESIS_HASH,
  appendAudit,
  canonicalJson,
  redactForAudit,
  verifyAuditLog,
  type AuditEntry,
  type AuditEntryInput,
  type AuditVerification,
} from "./audit.js";
