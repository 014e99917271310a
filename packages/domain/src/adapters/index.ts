/**
 * `@ksef-certs/domain/adapters`: the use cases that run an ERP adapter (its contract is `@ksef-certs/ksef/adapters`)
 * against the registry: importing (`importWithAdapter`, `importUploadAs`), exporting (`exportWithAdapter`,
 * `exportCertificatesAs` as a download or into a configured export destination), where each certificate went
 * (`listCertificateExports`), and the export destinations themselves.
 */
export { importWithAdapter, type BatchProgress, type ImportReport, type ImportWithAdapterInput, type ImportedCertificate } from "./import.js";
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
