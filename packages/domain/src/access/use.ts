/**
 * The authorization rules of acting with held things: using a held certificate's key (signing in to KSeF with
 * it needs write access, like exporting it) and requesting an enrollment (write access to the scope it is for,
 * the right to use the signing certificate, read access to the workstation that carries the hand-off).
 * Kept apart from `held.ts` so the enrollment use case can call them without importing revocation.
 */
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Db } from "../store/db.js";
import { authorizeEntity, type Principal } from "./rules.js";

/**
 * Checks that `principal` may use the key of a held certificate (sign in to KSeF with it): write access.
 * @param db the database
 * @param principal who acts
 * @param certificateId the held certificate
 * @param field the input field naming it (for the violation)
 * @throws {KsefCertsError} NOT_FOUND when it does not exist or the principal may not even read it; FORBIDDEN
 *   (rule `signingCertificate.access`) when the principal may read it but not change it
 */
export async function authorizeHeldCertificateUse(db: Db, principal: Principal, certificateId: string, field = "signingCertificateId"): Promise<void> {
  try {
    await authorizeEntity(db, principal, "certificate", certificateId, "write");
  } catch (err) {
    if (!(err instanceof KsefCertsError) || err.code !== "FORBIDDEN") throw err;
    throw new KsefCertsError("FORBIDDEN", msg("held.useForbidden"), {
      hint: msg("held.useForbidden.hint"),
      violations: [
        {
          field,
          rule: "signingCertificate.access",
          message: "Signing in to KSeF with a certificate uses its private key; your role may see this certificate but not use it.",
        },
      ],
      details: { certificateId },
    });
  }
}

/** What {@link authorizeEnrollmentRequest} looks at: where the certificate is held and what signs the KSeF login. */
export interface EnrollmentRequestTarget {
  readonly scope:
    | { readonly type: "company"; readonly companyId: string }
    | { readonly type: "branch"; readonly branchId: string }
    | { readonly type: "operator"; readonly operatorId: string };
  readonly signingCertificateId?: string | undefined;
  readonly workstationId?: string | undefined;
}

/**
 * Checks that `principal` may request this enrollment: write access to its scope, the right to use the signing
 * certificate's key ({@link authorizeHeldCertificateUse}), read access to the hand-off's workstation.
 * @param db the database
 * @param principal who asks
 * @param target scope, signing certificate, workstation
 * @throws {KsefCertsError} NOT_FOUND for what the principal may not see; FORBIDDEN for what it may see but not change or use
 */
export async function authorizeEnrollmentRequest(db: Db, principal: Principal, target: EnrollmentRequestTarget): Promise<void> {
  const s = target.scope;
  if (s.type === "company") await authorizeEntity(db, principal, "company", s.companyId, "write");
  else if (s.type === "branch") await authorizeEntity(db, principal, "branch", s.branchId, "write");
  else await authorizeEntity(db, principal, "operator", s.operatorId, "write");
  if (target.signingCertificateId !== undefined) await authorizeHeldCertificateUse(db, principal, target.signingCertificateId);
  if (target.workstationId !== undefined) await authorizeEntity(db, principal, "workstation", target.workstationId, "read");
}
