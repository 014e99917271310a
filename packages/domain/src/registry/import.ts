/**
 * Importing certificates people already hold (`cert import`): a `.crt` with its
 * `.key` and password, or a PKCS#12 file. Type, serial, validity and subject come from the
 * certificate; a key that does not belong to the certificate is refused before anything is written.
 *
 * Keys are stored only as encrypted PKCS#8: a key file that already is one is kept byte for byte (the
 * KSeF web app's `.key` stays openable by every program that opens it today); a plain or legacy-
 * encrypted key is re-encrypted in the KSeF web app layout under the same password (the key files the KSeF web app writes, as observed).
 *
 * Only what KSeF issues gets in ({@link assertKsefCertificateFits}): a certificate whose key KSeF would
 * not certify, or whose issuer belongs to another environment, is refused as soon as the certificate is
 * read, before the key's password is tried (for a `.crt` with its `.key`: before any key derivation).
 */
import { randomUUID } from "node:crypto";
import {
  assertKeyMatchesCertificate,
  type BytesInput,
  encryptPrivateKeyPem,
  importPkcs12 as readPkcs12,
  parseCertificate,
  readPrivateKey,
} from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Vault } from "../vault/index.js";
import type { Db } from "../store/db.js";
import {
  assertKsefCertificateFits,
  type CertificateRow,
  type CertificateRuleOptions,
  defaultCertificateName,
  recordCertificate,
  type Scope,
  sealedPasswordAad,
} from "./certificates.js";
import type { ChangeMeta, Environment } from "./internal.js";

/** What both imports share. */
interface ImportCommon {
  readonly scope: Scope;
  readonly environment: Environment;
  readonly mode: "current" | "queued";
  /** Default: the certificate's CN without KSeF's type suffix. */
  readonly name?: string;
  /** The password of the key (or of the PKCS#12 file); it also protects the stored key. Never stored in plaintext. */
  readonly password: string;
  /** When given, the password is sealed with it and stored for unattended use. */
  readonly sealPassword?: Pick<Vault, "seal">;
}

/** Input of {@link importCertificatePair}. */
export interface ImportCertificatePairInput extends ImportCommon {
  /** The certificate, PEM or DER. */
  readonly crt: BytesInput;
  /** The private key in any layout `readPrivateKey` reads (encrypted or plain PKCS#8, PKCS#1, SEC1; PEM or DER). */
  readonly key: BytesInput;
}

/** Input of {@link importPkcs12}. */
export interface ImportPkcs12Input extends ImportCommon {
  /** The `.p12`/`.pfx` file (at most 1 MiB). */
  readonly p12: BytesInput;
}

function bytesOf(input: BytesInput): Uint8Array {
  return typeof input === "string" ? new TextEncoder().encode(input) : input;
}

function requirePassword(password: unknown): string {
  if (typeof password === "string" && password.length > 0) return password;
  throw new KsefCertsError("VALIDATION", msg("certificates.import.passwordRequired"), {
    violations: [{ field: "password", rule: "password.required", message: "A password is required: the private key is never stored unencrypted." }],
  });
}

async function record(
  db: Db,
  common: ImportCommon,
  certificateDer: Uint8Array,
  keyFile: Uint8Array,
  meta: ChangeMeta,
  options: CertificateRuleOptions,
): Promise<CertificateRow> {
  const id = randomUUID();
  const sealedPassword =
    common.sealPassword === undefined ? undefined : common.sealPassword.seal(new TextEncoder().encode(common.password), sealedPasswordAad(id));
  const name = common.name ?? defaultCertificateName(parseCertificate(certificateDer));
  return recordCertificate(
    db,
    {
      id,
      scope: common.scope,
      environment: common.environment,
      mode: common.mode,
      name,
      certificateDer,
      keyFile,
      ...(sealedPassword === undefined ? {} : { sealedPassword }),
      source: "imported",
    },
    meta,
    options,
  );
}

/**
 * Imports a `.crt` and its `.key`: reads the key with the password, checks it belongs to the
 * certificate, keeps an encrypted PKCS#8 key file byte for byte or re-encrypts any other layout in
 * the KSeF layout under the same password, then records it ({@link recordCertificate}'s rules apply).
 * @param db the database
 * @param input scope, environment, mode, optional name, the two files, the password, optional vault to seal it
 * @param meta actor and clock
 * @param options `maxActive`, `allowUnknownIssuer`
 * @returns the stored row
 * @throws {KsefCertsError} UNSUPPORTED when the certificate's key is not EC P-256 or RSA-2048 (`details.scheme` names it), before the key is read
 * @throws {KsefCertsError} VALIDATION `certificate.environment` / `certificate.issuer` when the issuer does not fit the environment, before the key is read
 * @throws {KsefCertsError} KEY_MISMATCH when the key does not belong to the certificate (nothing is written)
 * @throws {KsefCertsError} WRONG_PASSWORD / PASSWORD_REQUIRED / UNSUPPORTED / MALFORMED / TOO_LARGE from reading the files
 * @throws {KsefCertsError} VALIDATION (empty password, unknown KSeF type, expired…), NOT_FOUND (scope), CONFLICT (rules) as {@link recordCertificate}
 */
export async function importCertificatePair(
  db: Db,
  input: ImportCertificatePairInput,
  meta: ChangeMeta,
  options: CertificateRuleOptions = {},
): Promise<CertificateRow> {
  const password = requirePassword(input.password);
  const certificate = parseCertificate(input.crt);
  assertKsefCertificateFits(certificate, input.environment, options);
  const key = await readPrivateKey(input.key, { password });
  assertKeyMatchesCertificate(key.key, certificate);
  const keyFile = key.format === "pkcs8-encrypted" ? bytesOf(input.key) : new TextEncoder().encode(await encryptPrivateKeyPem(key.key, password));
  return record(db, input, certificate.der, keyFile, meta, options);
}

/**
 * Imports a PKCS#12 file: its key is stored as KSeF-layout encrypted PKCS#8 under the file's password,
 * its certificate recorded ({@link recordCertificate}'s rules apply); the chain is not kept.
 * @param db the database
 * @param input scope, environment, mode, optional name, the file, its password, optional vault to seal it
 * @param meta actor and clock
 * @param options `maxActive`, `allowUnknownIssuer`
 * @returns the stored row
 * @throws {KsefCertsError} WRONG_PASSWORD / MALFORMED / UNSUPPORTED / KEY_MISMATCH / TOO_LARGE from reading the file
 * @throws {KsefCertsError} UNSUPPORTED when the key is not EC P-256 or RSA-2048 (`details.scheme` names it); nothing is written
 * @throws {KsefCertsError} VALIDATION `certificate.environment` / `certificate.issuer` when the issuer does not fit the environment
 * @throws {KsefCertsError} VALIDATION (empty password, unknown KSeF type, expired…), NOT_FOUND (scope), CONFLICT (rules) as {@link recordCertificate}
 */
export async function importPkcs12(db: Db, input: ImportPkcs12Input, meta: ChangeMeta, options: CertificateRuleOptions = {}): Promise<CertificateRow> {
  const password = requirePassword(input.password);
  const p12 = await readPkcs12(input.p12, password);
  const certificate = parseCertificate(p12.certificate);
  assertKsefCertificateFits(certificate, input.environment, options);
  assertKeyMatchesCertificate(p12.privateKey, certificate);
  const keyFile = new TextEncoder().encode(await encryptPrivateKeyPem(p12.privateKey, password));
  return record(db, input, p12.certificate, keyFile, meta, options);
}
