/**
 * Enrollments as a principal sees them, and the browser side of the hand-off: listing and reading enrollments of
 * scopes the principal may read, fetching the unsigned auth.xml waiting for a signature, and accepting the signed
 * file uploaded through the web app (accepted through the workstation's signing request, so the waiting enrollment
 * continues exactly as if the signer agent had uploaded it). Requesting one is `enrollment`'s `request`, which
 * authorizes itself (use.ts).
 */
import { and, desc, eq, inArray, type SQL } from "drizzle-orm";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { SigningRequestNotifier } from "../agent/notifier.js";
import { acceptSignedFile, listSigningRequests, type AcceptedSignedFile } from "../agent/requests.js";
import { summarizeEnrollment, type EnrollmentSummary } from "../enrollment/model.js";
import type { EnrollmentState } from "../enrollment/states.js";
import { isUuid } from "../registry/internal.js";
import type { Db } from "../store/db.js";
import { enrollments, signingRequests } from "../store/schema.js";
import { scopeVisibility } from "./certificates.js";
import { authorizeEntity, hiddenEntity, type Principal } from "./rules.js";

/**
 * The enrollments of scopes the principal may read (filtered in SQL by the rule of `canRead`), newest first.
 * @param db the database
 * @param principal who asks
 * @param filter one company, and/or some states
 */
export async function listEnrollmentsAs(
  db: Db,
  principal: Principal,
  filter: { readonly companyId?: string; readonly states?: readonly EnrollmentState[] } = {},
): Promise<EnrollmentSummary[]> {
  // An id that is not a UUID names no company (and would make PostgreSQL refuse the comparison).
  if (filter.companyId !== undefined && !isUuid(filter.companyId)) return [];
  const where: (SQL | undefined)[] = [scopeVisibility(principal, enrollments)];
  if (filter.companyId !== undefined) where.push(eq(enrollments.companyId, filter.companyId));
  if (filter.states !== undefined) where.push(inArray(enrollments.state, [...filter.states]));
  const rows = await db
    .select()
    .from(enrollments)
    .where(and(...where))
    .orderBy(desc(enrollments.createdAt));
  return rows.map(summarizeEnrollment);
}

/**
 * One enrollment, when the principal may read its scope.
 * @param db the database
 * @param principal who asks
 * @param id the enrollment
 * @throws {KsefCertsError} NOT_FOUND for an unknown enrollment or one the principal may not read
 */
export async function getEnrollmentAs(db: Db, principal: Principal, id: string): Promise<EnrollmentSummary> {
  await authorizeEntity(db, principal, "enrollment", id, "read");
  const [row] = await db.select().from(enrollments).where(eq(enrollments.id, id));
  // authorizeEntity has just found it; one deleted in between is as unknown as one never there.
  if (row === undefined) throw hiddenEntity("enrollment", id);
  return summarizeEnrollment(row);
}

/**
 * The unsigned auth.xml an enrollment waits to have signed (its newest pending signing request).
 * @param db the database
 * @param principal who asks: read access to the enrollment
 * @param id the enrollment
 * @returns the file name, the bytes as issued (never re-serialised) and when its challenge expires
 * @throws {KsefCertsError} NOT_FOUND when nothing waits, or for an enrollment the principal may not read
 */
export async function pendingAuthRequestAs(
  db: Db,
  principal: Principal,
  id: string,
): Promise<{ readonly fileName: string; readonly xml: Uint8Array; readonly expiresAt: Date }> {
  await authorizeEntity(db, principal, "enrollment", id, "read");
  const [row] = await db
    .select({ fileName: signingRequests.fileName, xml: signingRequests.xml, expiresAt: signingRequests.expiresAt })
    .from(signingRequests)
    .where(and(eq(signingRequests.enrollmentId, id), eq(signingRequests.status, "pending")))
    .orderBy(desc(signingRequests.createdAt))
    .limit(1);
  if (row === undefined) throw new KsefCertsError("NOT_FOUND", msg("access.enrollment.noAuthXml"));
  return row;
}

/**
 * Accepts a signed auth.xml uploaded through the web app for an enrollment's pending hand-off.
 * @param db the database
 * @param principal who acts: write access to the enrollment
 * @param input the enrollment, the file's bytes, the audit actor, the clock and the notifier that wakes the waiting run
 * @returns what `acceptSignedFile` answers (`signed`, or `duplicate` for the same bytes again)
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN for the enrollment; CONFLICT (rule `signed.notWaiting`) when nothing
 *   waits for a signature; the refusals of `acceptSignedFile` (wrong challenge, wrong signer, not signed, …)
 */
export async function acceptSignedUploadAs(
  db: Db,
  principal: Principal,
  input: { readonly enrollmentId: string; readonly bytes: Uint8Array; readonly actor: string; readonly now: Date; readonly notifier?: SigningRequestNotifier },
): Promise<AcceptedSignedFile> {
  await authorizeEntity(db, principal, "enrollment", input.enrollmentId, "write");
  const [pending] = await listSigningRequests(db, { enrollmentId: input.enrollmentId, statuses: ["pending"], limit: 1 });
  if (pending === undefined) {
    throw new KsefCertsError("CONFLICT", msg("access.enrollment.notWaiting"), { violations: [violation("signed", "signed.notWaiting")] });
  }
  return acceptSignedFile(db, {
    workstationId: pending.workstationId,
    requestId: pending.id,
    bytes: input.bytes,
    now: input.now,
    actor: input.actor,
    ...(input.notifier === undefined ? {} : { notifier: input.notifier }),
  });
}
