/**
 * Step of state `submitting`: the request may or may not have reached KSeF, so it is never sent again.
 * KSeF's certificates are searched for one with this key: found → adopted; not found after a grace period
 * for KSeF to issue it → the key is discarded (audited) and a NEW key is generated, so one key can never be
 * enrolled twice.
 */
import type { KsefSession } from "@ksef-certs/ksef/api";
import { parseCertificate } from "@ksef-certs/ksef/crypto";
import type { EnrollmentKsefClient, EnrollmentRow } from "../model.js";
import { normalisedSpki, said, type RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";
import { sessionFor } from "./session.js";
import { storeCertificate } from "./store.js";

/** KSeF and our clock may disagree; a certificate requested this long before `submittedAt` still counts as ours (ms). */
const RECONCILE_CLOCK_SKEW_MS = 5 * 60_000;
/** Safety bound on KSeF certificate pages read while reconciling (50 per page). */
const MAX_RECONCILE_PAGES = 20;

/**
 * `submitting` after a crash or an unknown outcome: find the certificate of this key in KSeF (until
 * `reconcileGraceMs` after `submittedAt`), or discard the key.
 * @returns the row `completed` with the adopted certificate, or back in `requested` without a key
 */
export async function reconcile(d: StepDeps, start: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
  const { row, session } = await sessionFor(d, start, ctx);
  const client = d.client(row.environment);
  const submittedAt = row.submittedAt ?? row.updatedAt;
  const deadline = submittedAt.getTime() + d.reconcileGraceMs;
  const spki = row.publicKeySpki === null ? undefined : normalisedSpki(row.publicKeySpki);
  for (;;) {
    const found = spki === undefined ? undefined : await findIssued(d, client, session, row, spki, submittedAt, ctx);
    if (found !== undefined) {
      d.progress(row, said("certificate.found", { serialNumber: found.serial }, `KSeF already issued certificate ${found.serial} for this key; adopting it.`));
      return storeCertificate(d, row, found.der, found.serial, ctx);
    }
    const left = deadline - d.now().getTime();
    if (left <= 0) break;
    d.progress(row, said("certificate.notFoundYet", {}, "KSeF shows no certificate for this key yet; checking again shortly."));
    await d.sleep(Math.min(d.reconcilePollMs, left), ctx.signal);
  }
  ctx.privateKey = undefined;
  return d.save(
    row,
    "requested",
    { keyFile: null, publicKeySpki: null, csrDer: null, submittedAt: null, certificateSerialNumber: null },
    ctx,
    said(
      "key.discarded",
      {},
      "It is unknown whether KSeF got the certificate request and KSeF shows no certificate for this key: the key is discarded and a new one will be enrolled, so no key is ever enrolled twice.",
    ),
    "enrollment.key_discarded",
  );
}

/** The certificate KSeF issued for `spki` since `submittedAt` (less the clock skew), if any. */
async function findIssued(
  d: StepDeps,
  client: EnrollmentKsefClient,
  session: KsefSession,
  row: EnrollmentRow,
  spki: Buffer,
  submittedAt: Date,
  ctx: RunContext,
): Promise<{ der: Uint8Array; serial: string } | undefined> {
  const signal = ctx.signal === undefined ? {} : { signal: ctx.signal };
  const since = submittedAt.getTime() - RECONCILE_CLOCK_SKEW_MS;
  const candidates: string[] = [];
  for (let page = 0; page < MAX_RECONCILE_PAGES; page++) {
    const res = await client.queryCertificates(session, { name: row.name, type: row.certificateType }, { pageSize: 50, pageOffset: page, ...signal });
    let older = false;
    for (const c of res.certificates) {
      const requested = Date.parse(c.requestDate);
      if (Number.isFinite(requested) && requested < since) older = true;
      else if (c.name === row.name) candidates.push(c.certificateSerialNumber);
    }
    // Pages come newest request first: once older requests show up, ours cannot follow.
    if (!res.hasMore || older) break;
  }
  for (let i = 0; i < candidates.length; i += 10) {
    const res = await client.retrieveCertificates(session, candidates.slice(i, i + 10), signal);
    for (const c of res.certificates) {
      const der = new Uint8Array(Buffer.from(c.certificate, "base64"));
      const info = parseCertificate(der);
      if (normalisedSpki(info.subjectPublicKeyInfo).equals(spki)) return { der, serial: info.serialNumber };
    }
  }
  return undefined;
}
