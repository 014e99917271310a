/**
 * Using a held certificate's private key on someone's behalf: signing in to KSeF with it (revocation,
 * automatic enrollment, anything later). Opening the key hands its whole power to the caller, so it needs
 * the same right as exporting it: write access to the certificate ({@link canWrite}), checked here, in the
 * use case, before any password is unsealed. Reading a certificate (a branch admin may read its company's)
 * never suffices.
 */
import { readPrivateKey } from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import type { KsefEnvironment } from "@ksef-certs/ksef/vocabulary";
import { getCertificateSecrets } from "../registry/certificates.js";
import { revokeCertificate, type RevocationReason, type RevokeCertificateResult, type RevokeKsefClient } from "../registry/revoke.js";
import type { Db } from "../store/db.js";
import { unseal } from "@ksef-certs/ksef/crypto";
import type { XadesSigner } from "@ksef-certs/ksef/xades";
import { authorizeEntity, type Principal } from "./rules.js";
import { authorizeHeldCertificateUse } from "./use.js";

/** The local operator of this installation (the CLI run by someone with the data folder or `DATABASE_URL`): every right. */
export const LOCAL_SYSTEM_PRINCIPAL: Principal = Object.freeze({
  userId: "00000000-0000-0000-0000-000000000000",
  login: "local-system",
  displayName: "Local system",
  locale: "en",
  roles: Object.freeze([Object.freeze({ role: "super_admin" as const, companyId: null, branchId: null })]),
});

/** Options of {@link unlockHeldCertificate}. */
export interface UnlockHeldCertificateOptions {
  /** The server's or CLI's master key (opens sealed passwords). */
  readonly masterKey?: Uint8Array | undefined;
  /** A password typed for this request; empty or undefined → the sealed one. */
  readonly password?: string | undefined;
  /** What the person can do when no password is available (PASSWORD_REQUIRED's hint). */
  readonly hint: string;
  /** Input field naming the password in the PASSWORD_REQUIRED violation; none when absent. */
  readonly passwordField?: string;
  /** Input field naming the certificate in authorization violations (default `signingCertificateId`). */
  readonly certificateField?: string;
}

/**
 * The signer (unlocked key and certificate, DER) of a held certificate, after checking that `principal` may
 * use it ({@link authorizeHeldCertificateUse}): with the password typed for this request, else the password
 * sealed under the master key. Passwords are never logged nor kept.
 * @param db the database
 * @param principal who acts ({@link LOCAL_SYSTEM_PRINCIPAL} for background work already authorised)
 * @param certificateId the held certificate's id
 * @param options master key, typed password, hint, form fields
 * @returns the key and certificate for XAdES signing
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN from the authorization; PASSWORD_REQUIRED when no password was typed and
 *   none is sealed (or no master key is configured); WRONG_PASSWORD when the password does not open the key; FORBIDDEN when
 *   the sealed one does not open with the master key
 */
export async function unlockHeldCertificate(db: Db, principal: Principal, certificateId: string, options: UnlockHeldCertificateOptions): Promise<XadesSigner> {
  await authorizeHeldCertificateUse(db, principal, certificateId, options.certificateField);
  const secrets = await getCertificateSecrets(db, certificateId);
  let password = options.password;
  if (password === undefined || password === "") {
    if (secrets.sealedPassword === null || options.masterKey === undefined) {
      throw new KsefCertsError("PASSWORD_REQUIRED", "The signing certificate's key password is not sealed, so the server cannot sign in with it by itself.", {
        hint: options.hint,
        details: { certificateId },
        ...(options.passwordField === undefined
          ? {}
          : { violations: [{ field: options.passwordField, rule: "password.required", message: "Give the signing certificate's key password." }] }),
      });
    }
    password = new TextDecoder().decode(unseal(options.masterKey, secrets.sealedPassword, secrets.sealedPasswordAad));
  }
  return { privateKey: (await readPrivateKey(secrets.keyFile, { password })).key, certificate: secrets.certificateDer };
}

/** Input of {@link revokeCertificateAs}. */
export interface RevokeCertificateAsInput {
  readonly certificateId: string;
  readonly reason: RevocationReason;
  /** Audit actor (e.g. `user:<login>`). */
  readonly actor: string;
  readonly at: Date;
  /** Revoke in KSeF first, signed in with a held Authentication certificate the principal may use; omitted → only here. */
  readonly ksef?: {
    readonly client: (environment: KsefEnvironment) => RevokeKsefClient;
    readonly signingCertificateId: string;
    /** The signing key's password typed for this request; else the sealed one. */
    readonly password?: string | undefined;
    readonly masterKey?: Uint8Array | undefined;
    /** Input fields named in violations (defaults `ksef.signingCertificateId`, `ksef.password`). */
    readonly signingField?: string;
    readonly passwordField?: string;
    readonly signal?: AbortSignal;
    readonly pollOptions?: { readonly intervalMs?: number; readonly timeoutMs?: number };
  };
  readonly onProgress?: (message: string) => void;
}

/**
 * Revokes a held certificate on behalf of `principal`: write access to the certificate, and (when KSeF is
 * called) the right to use the signing certificate's key; then registry `revokeCertificate`.
 * @param db the database
 * @param principal who acts
 * @param input certificate, reason, audit actor and clock, how to reach KSeF
 * @returns what `revokeCertificate` returns
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN from the authorization, before KSeF is called or any key opened; the
 *   errors of `revokeCertificate` and {@link unlockHeldCertificate}
 */
export async function revokeCertificateAs(db: Db, principal: Principal, input: RevokeCertificateAsInput): Promise<RevokeCertificateResult> {
  await authorizeEntity(db, principal, "certificate", input.certificateId, "write");
  const ksef = input.ksef;
  const signingField = ksef?.signingField ?? "ksef.signingCertificateId";
  if (ksef !== undefined) await authorizeHeldCertificateUse(db, principal, ksef.signingCertificateId, signingField);
  return revokeCertificate({
    db,
    certificateId: input.certificateId,
    reason: input.reason,
    actor: input.actor,
    at: input.at,
    ...(input.onProgress === undefined ? {} : { onProgress: input.onProgress }),
    ...(ksef === undefined
      ? {}
      : {
          ksef: {
            client: ksef.client,
            signingCertificateId: ksef.signingCertificateId,
            signingField,
            ...(ksef.signal === undefined ? {} : { signal: ksef.signal }),
            ...(ksef.pollOptions === undefined ? {} : { pollOptions: ksef.pollOptions }),
            signer: (signing) =>
              unlockHeldCertificate(db, principal, signing.id, {
                masterKey: ksef.masterKey,
                password: ksef.password,
                passwordField: ksef.passwordField ?? "ksef.password",
                certificateField: signingField,
                hint: "Type the signing certificate's key password, or import it with its password sealed.",
              }),
          },
        }),
  });
}
