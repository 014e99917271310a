/**
 * Step of state `submitted` once KSeF has issued (serial stored): retrieves the certificate and stores it.
 */
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { EnrollmentRow } from "../model.js";
import type { RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";
import { sessionFor } from "./session.js";
import { storeCertificate } from "./store.js";

/**
 * Retrieves the issued certificate of `start` and records it.
 * @returns the row `completed`
 * @throws {KsefCertsError} IO (retryable) when KSeF returns no certificate for the serial; INTERNAL without a serial
 */
export async function download(d: StepDeps, start: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
  const { row, session } = await sessionFor(d, start, ctx);
  const client = d.client(row.environment);
  const signal = ctx.signal === undefined ? {} : { signal: ctx.signal };
  const serial = row.certificateSerialNumber;
  if (serial === null) throw new KsefCertsError("INTERNAL", msg("enrollment.download.noSerial", { id: row.id }));
  const res = await client.retrieveCertificates(session, [serial], signal);
  const item = res.certificates.find((c) => c.certificateSerialNumber.toUpperCase() === serial.toUpperCase()) ?? res.certificates[0];
  if (item === undefined)
    throw new KsefCertsError("IO", msg("enrollment.download.empty", { serial }), { retryable: true, hint: msg("enrollment.download.empty.hint") });
  return storeCertificate(d, row, new Uint8Array(Buffer.from(item.certificate, "base64")), serial, ctx);
}
