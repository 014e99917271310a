/**
 * Reading the files commands take (keys, certificates, PKCS#12), asking for a password only when
 * the file turns out to need one.
 */
import {
  type CertificateInfo,
  importPkcs12,
  type ImportedPkcs12,
  inspectPrivateKey,
  MAX_OBJECT_BYTES,
  MAX_PKCS12_BYTES,
  parseCertificate,
  type PrivateKeyInfo,
  readPrivateKey,
} from "@ksef-certs/ksef/crypto";
import type { CliIo } from "./context.js";
import { readInput } from "./files.js";
import type { Passwords } from "./password.js";

/**
 * Reads a private key file; asks `passwords` for the key's password only when it is encrypted.
 * @param io the run's surface
 * @param passwords the command's password sources
 * @param path as given on the command line
 * @returns the key and what was learnt about its file, and whether a password was used
 * @throws {KsefCertsError} as the core's `readPrivateKey` (`PASSWORD_REQUIRED`, `WRONG_PASSWORD`, `MALFORMED`,
 *   `UNSUPPORTED`, `TOO_LARGE`), and the file-system codes
 */
export async function readKeyFile(io: CliIo, passwords: Passwords, path: string): Promise<PrivateKeyInfo & { readonly usedPassword: boolean }> {
  const bytes = await readInput(io, path, MAX_OBJECT_BYTES, "private key file");
  const inspection = inspectPrivateKey(bytes);
  if (!inspection.encrypted) return { ...(await readPrivateKey(bytes)), usedPassword: false };
  const password = await passwords.existing(`the key ${path}`);
  return { ...(await readPrivateKey(bytes, { password })), usedPassword: true };
}

/**
 * Reads a certificate file (PEM or DER; the first certificate of a PEM bundle).
 * @param io the run's surface
 * @param path as given on the command line
 * @throws {KsefCertsError} `MALFORMED` when it is not a certificate, `TOO_LARGE`, file-system codes
 */
export async function readCertificateFile(io: CliIo, path: string): Promise<CertificateInfo> {
  return parseCertificate(await readInput(io, path, MAX_OBJECT_BYTES, "certificate file"));
}

/**
 * Reads and opens a PKCS#12 file with the password from `passwords`.
 * @param io the run's surface
 * @param passwords the command's password sources
 * @param path as given on the command line
 * @throws {KsefCertsError} as the core's `importPkcs12` (`WRONG_PASSWORD`, `MALFORMED`, `UNSUPPORTED`, `KEY_MISMATCH`,
 *   `TOO_LARGE`), `PASSWORD_REQUIRED` without a password source, file-system codes
 */
export async function readPkcs12File(io: CliIo, passwords: Passwords, path: string): Promise<ImportedPkcs12> {
  const bytes = await readInput(io, path, MAX_PKCS12_BYTES, "PKCS#12 file");
  return importPkcs12(bytes, await passwords.existing(`the PKCS#12 file ${path}`));
}
