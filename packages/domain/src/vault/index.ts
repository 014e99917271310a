/**
 * The vault: the one holder of the master key's secret work. It seals key passwords (and KSeF sessions) for
 * unattended use, unseals them, and opens a held certificate's private key for signing on someone's behalf.
 * Built once from the master key ({@link vaultFromMasterKey}) by the server or the CLI run and passed to the
 * use cases; nothing else calls `seal`/`unseal` of `@ksef-certs/ksef/crypto` with the raw key.
 *
 * Opening a key hands its whole power to the caller, so it needs the same right as exporting it: write access
 * to the certificate (`authorizeHeldCertificateUse` of `./access`), checked here before any password is unsealed.
 */
import { readPrivateKey, seal, unseal } from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, type MessageRef } from "@ksef-certs/ksef/messages";
import type { XadesSigner } from "@ksef-certs/ksef/xades";
import type { Principal } from "../access/rules.js";
import { authorizeHeldCertificateUse } from "../access/use.js";
import { getCertificateSecrets } from "../registry/certificates.js";
import type { Db } from "../store/db.js";

/** How {@link unlockHeldCertificate} finds the key's password and names things in its errors. */
export interface UnlockSignerOptions {
  /** A password typed for this request; empty or undefined → the sealed one. */
  readonly password?: string | undefined;
  /**
   * Where the password comes from when none was typed and none is sealed (or no vault is configured): e.g. the
   * CLI's password file or terminal prompt. It throws its own PASSWORD_REQUIRED when it has none either.
   * Absent → PASSWORD_REQUIRED with {@link UnlockSignerOptions.hint}. `sealed` says whether a sealed password exists
   * (so it only needs a master key), for the fallback's own hint.
   */
  readonly fallbackPassword?: (situation: { readonly sealed: boolean }) => Promise<string>;
  /** What the person can do when no password is available (PASSWORD_REQUIRED's hint), best as a catalogue message. */
  readonly hint: MessageRef | string;
  /** Input field naming the password in the PASSWORD_REQUIRED violation; none when absent. */
  readonly passwordField?: string;
  /** Input field naming the certificate in authorization violations (default `signingCertificateId`). */
  readonly certificateField?: string;
}

/**
 * The master key's operations. `seal`/`unseal` are AES-256-GCM bound to `aad` (`seal`/`unseal` of
 * `@ksef-certs/ksef/crypto`); the enrollment service takes it as `vault` and the import as
 * `sealPassword`, so callers pass the vault itself.
 */
export interface Vault {
  /**
   * Seals `plain` under the master key, bound to `aad`.
   * @param plain the secret's bytes
   * @param aad what the sealed blob belongs to (e.g. `sealedPasswordAad(certificateId)` of `./registry`)
   * @returns nonce, ciphertext and tag
   */
  seal(plain: Uint8Array, aad: string): Uint8Array;
  /**
   * Opens a blob sealed by {@link Vault.seal} with the same `aad`.
   * @param sealed the sealed blob
   * @param aad the binding it was sealed with
   * @returns the secret's bytes
   * @throws {KsefCertsError} FORBIDDEN when it does not open (another master key, another `aad`, tampered)
   */
  unseal(sealed: Uint8Array, aad: string): Uint8Array;
  /**
   * Opens a held certificate's private key on behalf of `principal` ({@link unlockHeldCertificate} with this vault).
   * @param db the database
   * @param principal who acts
   * @param certificateId the held certificate's id
   * @param options typed password, fallback, hint, form fields
   * @returns the key and certificate for XAdES signing
   * @throws {KsefCertsError} as {@link unlockHeldCertificate}
   */
  unlockSigner(db: Db, principal: Principal, certificateId: string, options: UnlockSignerOptions): Promise<XadesSigner>;
}

/**
 * The vault of a master key.
 * @param masterKey 32 bytes (`loadMasterKey` of `./store`)
 * @returns the vault; the key stays in its closure
 */
export function vaultFromMasterKey(masterKey: Uint8Array): Vault {
  const vault: Vault = {
    seal: (plain, aad) => seal(masterKey, plain, aad),
    unseal: (sealed, aad) => unseal(masterKey, sealed, aad),
    unlockSigner: (db, principal, certificateId, options) => unlockHeldCertificate(db, principal, certificateId, vault, options),
  };
  return vault;
}

/**
 * The signer (unlocked key and certificate, DER) of a held certificate, after checking that `principal` may use it
 * (`authorizeHeldCertificateUse` of `./access`): with the password typed for this request, else the password sealed
 * in `vault`, else `options.fallbackPassword`. Passwords are never logged nor kept. The one place a held key is opened.
 * @param db the database
 * @param principal who acts (`LOCAL_SYSTEM_PRINCIPAL` of `./access` for background work already authorised, and the CLI)
 * @param certificateId the held certificate's id
 * @param vault opens sealed passwords; undefined when no master key is configured
 * @param options typed password, fallback, hint, form fields
 * @returns the key and certificate for XAdES signing
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN from the authorization; PASSWORD_REQUIRED when no password was typed,
 *   none is sealed (or no vault is configured) and there is no fallback; the fallback's errors; WRONG_PASSWORD when the
 *   password does not open the key; FORBIDDEN when the sealed one does not open with the master key
 */
export async function unlockHeldCertificate(
  db: Db,
  principal: Principal,
  certificateId: string,
  vault: Vault | undefined,
  options: UnlockSignerOptions,
): Promise<XadesSigner> {
  await authorizeHeldCertificateUse(db, principal, certificateId, options.certificateField);
  const secrets = await getCertificateSecrets(db, certificateId);
  let password = options.password;
  if (password === undefined || password === "") {
    if (secrets.sealedPassword !== null && vault !== undefined) {
      password = new TextDecoder().decode(vault.unseal(secrets.sealedPassword, secrets.sealedPasswordAad));
    } else if (options.fallbackPassword !== undefined) {
      password = await options.fallbackPassword({ sealed: secrets.sealedPassword !== null });
    } else {
      throw new KsefCertsError("PASSWORD_REQUIRED", msg("vault.passwordNotSealed"), {
        hint: options.hint,
        details: { certificateId },
        ...(options.passwordField === undefined
          ? {}
          : { violations: [{ field: options.passwordField, rule: "password.required", message: "Give the signing certificate's key password." }] }),
      });
    }
  }
  return { privateKey: (await readPrivateKey(secrets.keyFile, { password })).key, certificate: secrets.certificateDer };
}
