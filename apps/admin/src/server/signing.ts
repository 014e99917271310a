/**
 * Unlocking a held certificate's key in the server, to sign in to KSeF with it (enrollments signed
 * automatically, revocation in KSeF): with the password a person typed for this request, else the
 * password sealed under the master key. Passwords are never logged nor kept.
 */
import { readPrivateKey } from "@ksef-certs/core/crypto";
import { KsefCertsError } from "@ksef-certs/core/errors";
import { getCertificateSecrets } from "@ksef-certs/core/registry";
import { unseal, type Db } from "@ksef-certs/core/store";
import type { XadesSigner } from "@ksef-certs/core/xades";

/** Options of {@link heldSigner}. */
export interface HeldSignerOptions {
  /** The server's master key (opens sealed passwords). */
  readonly masterKey?: Uint8Array | undefined;
  /** A password typed for this request; empty or undefined → the sealed one. */
  readonly password?: string | undefined;
  /** What the person can do when no password is available (PASSWORD_REQUIRED's hint). */
  readonly hint: string;
  /** Input field to name in the PASSWORD_REQUIRED violation (forms put the message there); none when absent. */
  readonly passwordField?: string;
}

/**
 * The signer (unlocked key and certificate) of a held certificate.
 * @param db the database
 * @param certificateId the certificate's id
 * @param options master key, typed password, hint, form field
 * @throws {KsefCertsError} NOT_FOUND for an unknown id; PASSWORD_REQUIRED when no password was typed and none is sealed (or no master
 *   key is configured); WRONG_PASSWORD when the password does not open the key; FORBIDDEN when the sealed one does not open with the master key
 */
export async function heldSigner(db: Db, certificateId: string, options: HeldSignerOptions): Promise<XadesSigner> {
  const secrets = await getCertificateSecrets(db, certificateId);
  let password = options.password;
  if (password === undefined || password === "") {
    if (secrets.sealedPassword === null || options.masterKey === undefined) {
      const message = "The signing certificate's key password is not sealed, so the server cannot sign in with it by itself.";
      throw new KsefCertsError("PASSWORD_REQUIRED", message, {
        hint: options.hint,
        details: { certificateId },
        ...(options.passwordField === undefined ? {} : { violations: [{ field: options.passwordField, rule: "password.required", message: "Give the signing certificate's key password." }] }),
      });
    }
    password = new TextDecoder().decode(unseal(options.masterKey, secrets.sealedPassword, secrets.sealedPasswordAad));
  }
  return { privateKey: (await readPrivateKey(secrets.keyFile, { password })).key, certificate: secrets.certificateDer };
}
