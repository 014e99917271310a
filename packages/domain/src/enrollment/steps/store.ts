/**
 * The last step of every successful enrollment (after `download`, or when `reconcile` adopts a certificate):
 * the certificate is checked against the stored public key and recorded in the registry in the same
 * transaction that marks the enrollment `completed`; until then KSeF keeps it and the row keeps its serial
 * and key, so it is never lost.
 */
import { randomUUID } from "node:crypto";
import { parseCertificate } from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { recordCertificate, sealedPasswordAad } from "../../registry/certificates.js";
import { enrollmentPasswordAad, type EnrollmentRow } from "../model.js";
import { Stop, normalisedSpki, reasonOf, said, scopeOfRow, type RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";

/**
 * Pairs the certificate with the stored key and records it in the registry; `completed` in the same transaction.
 * @param der the certificate, DER
 * @param serial its KSeF serial number
 * @returns the row `completed` with its `certificateId`
 * @throws {KsefCertsError} KEY_MISMATCH when the certificate does not certify the stored key; VALIDATION for another certificate type
 * @throws {Stop} `blocked` when a registry rule refuses it for now (serial and key stay on the row)
 */
export async function storeCertificate(d: StepDeps, row: EnrollmentRow, der: Uint8Array, serial: string, ctx: RunContext): Promise<EnrollmentRow> {
  const info = parseCertificate(der);
  if (row.publicKeySpki === null || !normalisedSpki(info.subjectPublicKeyInfo).equals(normalisedSpki(row.publicKeySpki))) {
    throw new KsefCertsError("KEY_MISMATCH", msg("enrollment.store.keyMismatch", { serial, id: row.id }), {
      hint: msg("enrollment.store.keyMismatch.hint"),
      details: { serialNumber: serial },
    });
  }
  if (info.ksefType !== row.certificateType) {
    throw new KsefCertsError(
      "VALIDATION",
      msg("enrollment.store.typeMismatch", { serial, actual: info.ksefType ?? "unknown", requested: row.certificateType }),
      {
        details: { serialNumber: serial },
      },
    );
  }
  const keyFile = row.keyFile;
  if (keyFile === null) throw new KsefCertsError("INTERNAL", msg("enrollment.store.noKey", { id: row.id }));
  const certificateId = randomUUID();
  let sealedPassword: Uint8Array | undefined;
  if (row.sealedPassword !== null && d.vault !== undefined) {
    const password = d.vault.unseal(row.sealedPassword, enrollmentPasswordAad(row.id));
    sealedPassword = d.vault.seal(password, sealedPasswordAad(certificateId));
    password.fill(0);
  }
  try {
    const done = await d.save(
      row,
      "completed",
      { certificateSerialNumber: serial, certificateId, sealedSession: null, failureCode: null, failureReason: null },
      ctx,
      said("certificate.stored", { serialNumber: serial, mode: row.mode }, `Certificate ${serial} stored as ${row.mode}.`),
      "enrollment.state",
      async (tx) => {
        await recordCertificate(
          tx,
          {
            id: certificateId,
            scope: scopeOfRow(row),
            environment: row.environment,
            mode: row.mode,
            name: row.name,
            certificateDer: der,
            keyFile,
            ...(sealedPassword === undefined ? {} : { sealedPassword }),
            source: "enrolled",
            enrollmentId: row.id,
          },
          { actor: ctx.actor, at: d.now() },
          { maxActive: d.maxActive },
        );
        return {};
      },
    );
    d.passwords.delete(row.id);
    return done;
  } catch (err) {
    if (err instanceof KsefCertsError && (err.code === "CONFLICT" || err.code === "VALIDATION") && err.details["concurrent"] !== true) {
      // KSeF issued it; a registry rule refuses it for now. Keep serial and key on the row so nothing is lost.
      const kept = await d.keepIssued(row, serial, reasonOf(err));
      throw new Stop(
        "blocked",
        said(
          "certificate.storeBlocked",
          { serialNumber: serial, reason: err.message },
          `KSeF issued certificate ${serial}, but the registry cannot store it yet: ${err.message}`,
        ),
        err,
        kept,
      );
    }
    throw err;
  }
}
