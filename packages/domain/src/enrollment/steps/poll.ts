/**
 * Step of state `submitted` before KSeF has issued: polls the enrollment's status
 * (`GET /certificates/enrollments/{referenceNumber}`, `spec/open-api.json`). Issued →
 * the serial is stored (state kept; `download` follows); KSeF cancelled it (550) → the key is discarded and
 * the enrollment starts again from `requested` with a new key.
 */
import { KsefStatusError } from "@ksef-certs/ksef/api";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { EnrollmentRow } from "../model.js";
import { said, type RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";
import { sessionFor } from "./session.js";

/**
 * Waits for KSeF to issue the certificate of `start`'s reference number.
 * @returns the row `submitted` with its `certificateSerialNumber`, or `requested` without a key when KSeF cancelled it (550)
 * @throws {KsefCertsError} INTERNAL without a reference number; other KSeF status codes and poll timeouts unchanged
 */
export async function awaitIssuance(d: StepDeps, start: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
  const { row, session } = await sessionFor(d, start, ctx);
  const client = d.client(row.environment);
  const signal = ctx.signal === undefined ? {} : { signal: ctx.signal };
  const ref = row.ksefReferenceNumber;
  if (ref === null) throw new KsefCertsError("INTERNAL", msg("enrollment.poll.noReference", { id: row.id }));
  d.progress(row, said("ksef.awaitingCertificate", { referenceNumber: ref }, `Waiting for KSeF to issue the certificate (${ref}).`));
  let done;
  try {
    done = await client.waitForEnrollment(session, ref, { ...signal, ...d.pollOptions });
  } catch (err) {
    if (err instanceof KsefStatusError && err.statusCode === 550) {
      // KSeF cancelled the request: the key was not certified. A new key keeps "one key, one enrollment" simple to audit.
      ctx.privateKey = undefined;
      return d.save(
        row,
        "requested",
        { keyFile: null, publicKeySpki: null, csrDer: null, submittedAt: null, ksefReferenceNumber: null },
        ctx,
        said(
          "ksef.enrollmentCancelled",
          { referenceNumber: ref },
          `KSeF cancelled enrollment ${ref} (550); the key is discarded and the certificate will be requested again with a new key.`,
        ),
        "enrollment.key_discarded",
      );
    }
    throw err;
  }
  const serial = done.certificateSerialNumber;
  return d.save(
    row,
    "submitted",
    { certificateSerialNumber: serial },
    ctx,
    said("certificate.issued", { serialNumber: serial }, `KSeF issued certificate ${serial}.`),
  );
}
