/**
 * `@ksef-certs/ksef/adapters`: the ERP adapter contract (what a vendor implements: `defineAdapter`, sources,
 * targets, pairs, the context that asks for passwords) and the file-system helpers that keep every adapter's reads
 * inside its source and its writes atomic and never silently over another file. The use cases that run adapters
 * against the registry are `@ksef-certs/domain/adapters`; the CMS envelope of the bundle format is in `./crypto`.
 */
export {
  defineAdapter,
  type AdapterCapabilities,
  type AdapterContext,
  type AdapterExportResult,
  type AdapterFailure,
  type AdapterImportResult,
  type AdapterLogger,
  type AdapterMetadata,
  type AdapterPair,
  type AdapterScope,
  type AdapterSource,
  type AdapterTarget,
  type CertificateAdapter,
  type ExportPair,
  type ImportedPair,
  type PasswordRequest,
} from "./contract.js";
export {
  ADAPTER_LIMITS,
  assertSafeRelativePath,
  ensureFolder,
  folderOf,
  fsFailure,
  listFilesInside,
  readFileInside,
  readSourceBytes,
  withFolderLock,
  writeFileAtomic,
  undoWrites,
  writeOptions,
  writeTargetBytes,
  mapConcurrent,
  type WriteOptions,
  type WrittenChange,
  type FolderListing,
} from "./fs.js";
