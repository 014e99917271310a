/**
 * `@ksef-certs/ksef/crypto`: the certificate toolkit. Reads, checks, writes and converts the files
 * KSeF and the ministry's web app produce: keys (EC P-256, RSA-2048), encrypted PKCS#8 in the web
 * app's exact layout, CSRs from enrollment data, certificates, key/certificate pairs and PKCS#12.
 *
 * Only what is listed here is public; ASN.1 and PBE internals stay private. Heavy key derivations run on
 * a worker pool of their own (`kdf-pool.ts`); a server closes it on shutdown with `closeKeyDerivationPool`.
 */
import "reflect-metadata";

export { MAX_OBJECT_BYTES, MAX_PKCS12_BYTES, decodePem, encodePem, looksLikePem, type BytesInput, type PemBlock } from "./encoding.js";
export { KSEF_KEY_TYPES_TEXT, assertKsefKey, describeKey, keyTypeName, type AssertKsefKeyOptions } from "./key-description.js";
export { generateKeyPair, keyPairOf, type KeyPair } from "./keys.js";
export { DN_ATTRIBUTES, formatName, type DnAttributeType } from "./dn.js";
export {
  KSEF_COMMON_NAME_SUFFIXES,
  isSignedBy,
  ksefTypeFromCommonName,
  ksefTypeFromKeyUsage,
  parseCertificate,
  parseCertificates,
  subjectIdentifierOf,
  type CertificateInfo,
  type KsefTypeCheck,
} from "./certificate.js";
export { createCsr, parseCsr, type CsrInfo } from "./csr.js";
export { assertKeyMatchesCertificate, keyMatchesCertificate } from "./pair.js";
export { detectFileKind, type FileKind, type FileKindDetection } from "./detect.js";
export {
  ENCRYPTED_PRIVATE_KEY_LABEL,
  KSEF_KEY_ENCRYPTION,
  encryptPrivateKey,
  encryptPrivateKeyPem,
  encryptPrivateKeySync,
  inspectPrivateKey,
  isKsefKeyEncryption,
  readPrivateKey,
  readPrivateKeySync,
  type EncryptPrivateKeyOptions,
  type PrivateKeyInspection,
  type ReadPrivateKeyOptions,
} from "./pkcs8.js";
export { PKCS12_DEFAULT_ITERATIONS, exportPkcs12, importPkcs12, type ExportPkcs12Input, type ImportedPkcs12 } from "./pkcs12.js";
export {
  INLINE_KDF_UNITS,
  KDF_POOL_SIZE,
  closeKeyDerivationPool,
  createKeyDerivationPool,
  kdfUnits,
  keyDerivationPool,
  type KdfJob,
  type KdfPoolStats,
  type KeyDerivationPool,
} from "./kdf-pool.js";
export type {
  DnAttribute,
  EnrollmentData,
  KeyAlgorithm,
  KeyDescription,
  KeyEncryption,
  KsefCertificateType,
  PrivateKeyFormat,
  PrivateKeyInfo,
  SubjectIdentifier,
} from "./types.js";
export { MASTER_KEY_BYTES, MAX_SEAL_PLAINTEXT_BYTES, SEAL_OVERHEAD_BYTES, SEAL_VERSION, parseMasterKeyText, seal, unseal } from "./seal.js";
export { CMS_MAX_ITERATIONS, CMS_PASSWORD_ITERATIONS, openWithPassword, sealWithPassword, type SealWithPasswordOptions } from "./cms.js";
