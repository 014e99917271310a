/**
 * `@ksef-certs/domain/store`: persistence. The database handle type (the drizzle tables stay private to the domain;
 * tests reach them through `@ksef-certs/domain/testing`), and the keyed, hash-chained audit log with its head checkpoint; opening a store (embedded PGlite or
 * PostgreSQL) and sealing secrets under the master key join here.
 */
export { MIGRATIONS_FOLDER, type Db, type Schema } from "./db.js";
export {
  AUDIT_GENESIS_HASH,
  appendAudit,
  appendAuditBatch,
  canonicalJson,
  redactForAudit,
  verifyAuditLog,
  type AuditBadReason,
  type AuditEntry,
  type AuditEntryInput,
  type AuditVerification,
  type VerifyAuditLogOptions,
} from "./audit.js";
export { bindAuditKey, deriveAuditKeys, type AuditHashScheme, type AuditKeys } from "./audit-keys.js";
export {
  AUDIT_CHECKPOINT_FILE,
  AUDIT_CHECKPOINT_INTERVAL_MS,
  auditCheckpointPath,
  checkpointAuditHead,
  readAuditCheckpoint,
  startAuditCheckpoints,
  type AuditCheckpoint,
  type AuditCheckpointRead,
  type AuditCheckpointResult,
  type AuditCheckpointSchedule,
  type AuditCheckpointScheduleOptions,
  type CheckpointAuditHeadOptions,
} from "./audit-checkpoint.js";
export { APP_DIR_NAME, IN_MEMORY, databaseDir, defaultDataDir, lockFilePath, masterKeyFilePath, resolveDataDir, type PlatformInfo } from "./paths.js";
export { createMasterKeyFile, loadMasterKey, type LoadMasterKeyOptions } from "./seal.js";
export { acquireDataDirLock, readDataDirLock, type AcquireLockOptions, type DataDirLock, type LockInfo } from "./lock.js";
export { appliedMigrationCount, openStore, redactDatabaseUrl, resolveStoreTarget, type OpenStoreOptions, type Store, type StoreTarget } from "./open.js";
