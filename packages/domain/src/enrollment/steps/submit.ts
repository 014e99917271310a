/**
 * Step of state `authenticated`: checks KSeF's limits, reads the enrollment data, makes the CSR and sends it
 * (`spec/open-api.json`: `GET /certificates/limits`, `GET /certificates/enrollments/data`, `POST /certificates/enrollments`). `submitting` (with the CSR and `submittedAt`) is stored BEFORE the request goes out, so a
 * crash in between is reconciled, never sent twice.
 */
import { createCsr, keyPairOf } from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { EnrollmentRow } from "../model.js";
import { said, type RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";
import { privateKeyOf } from "./key.js";
import { sessionFor } from "./session.js";

/**
 * Sends the certificate request.
 * @returns the row in `submitted` with KSeF's reference number
 * @throws {KsefCertsError} CONFLICT when KSeF's limits forbid a new request; KSeF errors unchanged
 */
export async function submit(d: StepDeps, start: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
  const key = await privateKeyOf(d, start, ctx);
  const { row: authed, session } = await sessionFor(d, start, ctx);
  let row = authed;
  const client = d.client(row.environment);
  const signal = ctx.signal === undefined ? {} : { signal: ctx.signal };
  const limits = await client.certificateLimits(session, signal);
  if (!limits.canRequest) {
    throw new KsefCertsError(
      "CONFLICT",
      msg("enrollment.submit.limitReached", {
        enrollmentRemaining: limits.enrollment.remaining,
        enrollmentLimit: limits.enrollment.limit,
        certificateRemaining: limits.certificate.remaining,
        certificateLimit: limits.certificate.limit,
      }),
      {
        hint: msg("enrollment.submit.limitReached.hint"),
        details: { limits },
      },
    );
  }
  const data = await client.enrollmentData(session, signal);
  const csrDer = await createCsr(data, keyPairOf(key));
  const submittedAt = d.now();
  row = await d.save(row, "submitting", { csrDer, submittedAt }, ctx, said("ksef.submitting", {}, "Sending the certificate request to KSeF."));
  const body = {
    certificateName: row.name,
    certificateType: row.certificateType,
    csr: Buffer.from(csrDer).toString("base64"),
    ...(row.validFrom === null ? {} : { validFrom: row.validFrom.toISOString() }),
  };
  const res = await client.enrollCertificate(session, body, signal);
  return d.save(
    row,
    "submitted",
    { ksefReferenceNumber: res.referenceNumber },
    ctx,
    said("ksef.enrollmentAccepted", { referenceNumber: res.referenceNumber }, `KSeF accepted the certificate request (${res.referenceNumber}).`),
  );
}
