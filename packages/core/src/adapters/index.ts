/**
 * `@ksef-certs/core/adapters`: the ERP adapter contract (issue 7), the use cases that run an adapter
 * against the registry (`importWithAdapter`, `exportWithAdapter`, `listCertificateExports`), the
 * file-system helpers that keep every adapter's reads inside its source and its writes atomic, and
 * the password-encrypted CMS envelope of the bundle format.
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
  type WriteOptions,
  type WrittenChange,
  type FolderListing,
} from "./fs.js";
export { CMS_MAX_ITERATIONS, CMS_PASSWORD_ITERATIONS, openWithPassword, sealWithPassword, type SealWithPasswordOptions } from "./cms.js";
export { importWithAdapter, mapConcurrent, type BatchProgress, type ImportReport, type ImportWithAdapterInput, type ImportedCertificate } from "./import.js";
export { exportWithAdapter, listCertificateExports, type CertificateExportRecord, type ExportReport, type ExportWithAdapterInput } from "./export.js";
export {
  MAX_DESTINATION_NAME,
  MAX_UPLOAD_BYTES,
  MAX_UPLOAD_FILES,
  addExportDestination,
  checkExportRoot,
  exportCertificatesAs,
  importUploadAs,
  listExportDestinations,
  removeExportDestination,
  type AddExportDestinationInput,
  type ExportCertificatesInput,
  type ExportCertificatesResult,
  type ExportDelivery,
  type ExportDestination,
  type ImportUploadInput,
  type UploadedFile,
} from "./transfer.js";
