/**
 * Using a held certificate's private key on someone's behalf: signing in to KSeF with it (revocation,
 * automatic enrollment, anything later). Opening the key hands its whole power to the caller, so it needs
 * the same right as exporting it: write access to the certificate (`canWrite`), checked in the vault
 * (`unlockHeldCertificate` of `./vault`) before any password is unsealed. Reading a certificate (a branch admin may read its company's)
 * never suffices.
 */
import { msg } from "@ksef-certs/ksef/messages";
import type { KsefEnvironment } from "@ksef-certs/ksef/vocabulary";
import { revokeCertificate, type RevocationReason, type RevokeCertificateResult, type RevokeKsefClient } from "../registry/revoke.js";
import type { Db } from "../store/db.js";
import { authorizeEntity, type Principal } from "./rules.js";
import { authorizeHeldCertificateUse } from "./use.js";
import { unlockHeldCertificate, type Vault } from "../vault/index.js";

/** The local operator of this installation (the CLI run by someone with the data folder or `DATABASE_URL`): every right. */
export const LOCAL_SYSTEM_PRINCIPAL: Principal = Object.freeze({
  userId: "00000000-0000-0000-0000-000000000000",
  login: "local-system",
  displayName: "Local system",
  locale: "en",
  roles: Object.freeze([Object.freeze({ role: "super_admin" as const, companyId: null, branchId: null })]),
});

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
    /** Opens the sealed password; undefined when no master key is configured. */
    readonly vault?: Vault | undefined;
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
 *   errors of `revokeCertificate` and `unlockHeldCertificate` of `./vault`
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
              unlockHeldCertificate(db, principal, signing.id, ksef.vault, {
                password: ksef.password,
                passwordField: ksef.passwordField ?? "ksef.password",
                certificateField: signingField,
                hint: msg("held.signingPassword.hint"),
              }),
          },
        }),
  });
}
