/**
 * Revocation of a held certificate in KSeF and in the registry, for every edge (CLI `cert revoke`,
 * the admin server's `certificates.revoke`).
 *
 * KSeF: `POST /certificates/{certificateSerialNumber}/revoke` (spec/open-api.json; ksef-docs `certyfikaty-KSeF.md`),
 * body `{ revocationReason?: Unspecified | Superseded | KeyCompromise }`, answered 204. It needs a session of
 * the certificate's own identity signed in with XAdES (KSeF-token sessions cannot revoke), so the use case
 * signs in with a held Authentication certificate of the same person or company and environment
 * (`openKsefSession`). KSeF's 400 with exception code 25009 ("already revoked, blocked or invalid") means
 * the goal is reached: the certificate is still marked revoked here, and the outcome says so. Every other
 * refusal stops before anything changes here.
 */
import { KsefCertsError, type Violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { openKsefSession, type KsefSessionClient } from "@ksef-certs/ksef/api";
import { KsefApiError, type KsefClient } from "@ksef-certs/ksef/api";
import type { Db } from "../store/db.js";
import type { PreparedXadesSigner, XadesSigner } from "@ksef-certs/ksef/xades";
import { getCertificate, revokeCertificateLocally, type CertificateSummary, type Promotion } from "./certificates.js";
import type { Environment } from "./internal.js";
import { getCompany } from "./organisation.js";

/** KSeF's revocation reasons (spec/open-api.json `CertificateRevocationReason`). */
export const REVOCATION_REASONS = ["Unspecified", "Superseded", "KeyCompromise"] as const;
/** One of {@link REVOCATION_REASONS}. */
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** KSeF's exception code for "already revoked, blocked or invalid" on the revoke endpoint. */
export const KSEF_ALREADY_REVOKED = 25009;

/** The KSeF client operations {@link revokeCertificate} uses; a real `KsefClient` fits. */
export type RevokeKsefClient = KsefSessionClient & Pick<KsefClient, "revokeCertificate">;

/** How {@link revokeCertificate} signs in to KSeF. */
export interface RevokeInKsef {
  /** The KSeF client of an environment (official URL, or a simulator's); called once validation passed. */
  readonly client: (environment: Environment) => RevokeKsefClient;
  /** The held Authentication certificate to sign in with (same environment and identity as the revoked one). */
  readonly signingCertificateId: string;
  /**
   * Unlocks the signing certificate's key (sealed password, a typed one, a prompt…); called only after the
   * signing certificate was checked. Its errors (PASSWORD_REQUIRED, WRONG_PASSWORD…) pass through.
   */
  readonly signer: (signing: CertificateSummary) => Promise<XadesSigner | PreparedXadesSigner>;
  /** Field named in violations about the signing certificate (default `signingCertificateId`; the CLI says `--with-certificate`). */
  readonly signingField?: string;
  /** Cancels every KSeF call. */
  readonly signal?: AbortSignal;
  /** Status poll tuning of the sign-in (ms). */
  readonly pollOptions?: { readonly intervalMs?: number; readonly timeoutMs?: number };
}

/** Input of {@link revokeCertificate}. */
export interface RevokeCertificateInput {
  readonly db: Db;
  /** The certificate to revoke (uuid). */
  readonly certificateId: string;
  readonly reason: RevocationReason;
  /** Who revokes (audit). */
  readonly actor: string;
  /** The clock of the change (audit, `revokedAt`, state checks). */
  readonly at: Date;
  /** Revoke in KSeF first; omitted → only here (after revoking it elsewhere, e.g. in the KSeF web app). */
  readonly ksef?: RevokeInKsef;
  /** Progress lines for the person watching (which certificate signs in, what KSeF answered); never secrets. */
  readonly onProgress?: (message: string) => void;
}

/** What {@link revokeCertificate} did. */
export interface RevokeCertificateResult {
  /** The certificate as it is now (revoked). */
  readonly certificate: CertificateSummary;
  /** Its queued successor that became current, if any. */
  readonly promoted: Promotion | undefined;
  /** `revoked` by this call, `already-revoked` (KSeF answered 25009), or `not-called` (only here). */
  readonly ksef: "revoked" | "already-revoked" | "not-called";
}

/**
 * Revokes a certificate in KSeF (signed in with a held Authentication certificate) and then here
 * (`revokeCertificateLocally`: state, audit `certificate.revoke`, the queued successor takes over); or only
 * here without `ksef`.
 * @param input database, certificate, reason, actor and clock, and how to reach KSeF
 * @returns the revoked certificate, the promotion, and what KSeF said
 * @throws {KsefCertsError} VALIDATION for a reason outside {@link REVOCATION_REASONS} or a signing certificate that cannot sign in to
 *   revoke this one (violations with rules `signingCertificate.type|valid|environment|identity`); NOT_FOUND for an unknown id;
 *   CONFLICT when already revoked here; whatever `ksef.signer` throws (PASSWORD_REQUIRED, WRONG_PASSWORD…); IO when cancelled
 * @throws {KsefApiError} when KSeF refuses the sign-in or the revocation (other than 25009), with KSeF's codes
 * @throws {KsefStatusError} when the sign-in ends in a failure status (e.g. 460 for a revoked signing certificate)
 */
export async function revokeCertificate(input: RevokeCertificateInput): Promise<RevokeCertificateResult> {
  const { db, at, ksef } = input;
  if (!(REVOCATION_REASONS as readonly string[]).includes(input.reason)) {
    const allowed = REVOCATION_REASONS.join(", ");
    const message = msg("revoke.reason.oneOf", { allowed });
    throw new KsefCertsError("VALIDATION", message, {
      violations: [{ field: "reason", rule: "reason.oneOf", message: `The reason must be one of KSeF's revocation reasons: ${allowed}.`, params: { allowed } }],
    });
  }
  let outcome: RevokeCertificateResult["ksef"] = "not-called";
  if (ksef !== undefined) {
    const { certificateDer: _d, ...cert } = await getCertificate(db, input.certificateId, at);
    if (cert.state === "revoked") {
      throw new KsefCertsError("CONFLICT", msg("revoke.alreadyRevoked", { serial: cert.serialNumber }), { details: { id: cert.id } });
    }
    const { certificateDer: _d2, ...signing } = await getCertificate(db, ksef.signingCertificateId, at);
    assertCanRevokeWith(cert, signing, ksef.signingField ?? "signingCertificateId");
    const client = ksef.client(cert.environment);
    const signer = await ksef.signer(signing);
    const company = await getCompany(db, cert.companyId);
    input.onProgress?.(`signing in to KSeF with certificate ${signing.serialNumber} (context NIP ${company.nip})`);
    const session = await openKsefSession({
      client,
      signer,
      contextIdentifier: { type: "Nip", value: company.nip },
      ...(ksef.signal === undefined ? {} : { signal: ksef.signal }),
      ...(ksef.pollOptions === undefined ? {} : { pollOptions: ksef.pollOptions }),
    });
    try {
      await client.revokeCertificate(session, cert.serialNumber, {
        revocationReason: input.reason,
        ...(ksef.signal === undefined ? {} : { signal: ksef.signal }),
      });
      outcome = "revoked";
      input.onProgress?.(`KSeF revoked certificate ${cert.serialNumber}`);
    } catch (err) {
      if (!(err instanceof KsefApiError) || !err.ksefCodes.includes(KSEF_ALREADY_REVOKED)) throw err;
      outcome = "already-revoked";
      input.onProgress?.(`KSeF says certificate ${cert.serialNumber} is already revoked (${String(KSEF_ALREADY_REVOKED)}); marking it revoked here too`);
    }
  }
  const r = await revokeCertificateLocally(db, input.certificateId, input.reason, { actor: input.actor, at });
  return { certificate: r.certificate, promoted: r.promoted, ksef: outcome };
}

/**
 * KSeF revokes only certificates of the signed-in identity (ksef-docs `certyfikaty-KSeF.md`), and signs in only
 * with an active Authentication certificate of the same environment: checked before any call.
 * @param cert the certificate to revoke
 * @param signing the certificate to sign in with
 * @param field the field violations name
 * @throws {KsefCertsError} VALIDATION listing what does not fit
 */
function assertCanRevokeWith(cert: CertificateSummary, signing: CertificateSummary, field: string): void {
  const v: Violation[] = [];
  if (signing.certificateType !== "Authentication")
    v.push({ field, rule: "signingCertificate.type", message: "Only an Authentication certificate can sign in to KSeF." });
  if (signing.state !== "active") v.push({ field, rule: "signingCertificate.valid", message: `The signing certificate is ${signing.state}.` });
  if (signing.environment !== cert.environment) {
    v.push({
      field,
      rule: "signingCertificate.environment",
      message: `The signing certificate is from ${signing.environment}, the certificate to revoke from ${cert.environment}.`,
    });
  }
  if (signing.subjectIdentifierType !== cert.subjectIdentifierType || signing.subjectIdentifierValue !== cert.subjectIdentifierValue) {
    v.push({
      field,
      rule: "signingCertificate.identity",
      message: "KSeF lets a person revoke only their own certificates: the signing certificate names another person or company.",
    });
  }
  if (v.length > 0)
    throw new KsefCertsError(
      "VALIDATION",
      msg("revoke.signerUnfit", { signing: signing.serialNumber, serial: cert.serialNumber, reasons: v.map((x) => x.message).join(" ") }),
      { violations: v },
    );
}
