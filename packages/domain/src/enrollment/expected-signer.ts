/**
 * Who must sign an enrollment's `auth.xml`, read from the enrollment row (`enrollments.operator_id` →
 * `operators`): KSeF issues the certificate to whoever signed the AuthTokenRequest (ksef-docs `uwierzytelnianie.md`), so
 * an operator's Authentication certificate enrolled by someone else would be that person's, recorded as the
 * operator's. Both hand-offs (folder and agent) check the signed file against it before it is submitted.
 */
import { and, eq } from "drizzle-orm";
import type { ExpectedSigner } from "@ksef-certs/ksef/handoff";
import type { Db } from "../store/db.js";
import { enrollments, operators } from "../store/schema.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The operator of an operator-scope enrollment, as the hand-off checks the signer against and names its file.
 * @param db database
 * @param enrollmentId the enrollment (a signing request's `enrollment_id`); null, not a uuid or unknown → undefined
 * @returns `{ name, pesel?, nip? }` for operator scope (only identifiers on record are set; with neither, the
 *   signer is not checked), `undefined` for company and branch scope (any authorised person may sign)
 */
export async function enrollmentOperator(db: Db, enrollmentId: string | null | undefined): Promise<ExpectedSigner | undefined> {
  if (enrollmentId === null || enrollmentId === undefined || !UUID.test(enrollmentId)) return undefined;
  const [row] = await db
    .select({ name: operators.name, pesel: operators.pesel, nip: operators.nip })
    .from(enrollments)
    .innerJoin(operators, eq(operators.id, enrollments.operatorId))
    .where(and(eq(enrollments.id, enrollmentId), eq(enrollments.scopeType, "operator")));
  if (row === undefined) return undefined;
  const pesel = row.pesel?.trim() ?? "";
  const nip = row.nip?.trim() ?? "";
  return { name: row.name, ...(pesel === "" ? {} : { pesel }), ...(nip === "" ? {} : { nip }) };
}

/**
 * The operator part of a hand-off file name (`handoffFileName`'s `operator`): the name, or the last 4 digits
 * of the PESEL when the name leaves no letters.
 * @param operator the enrollment's operator, if any
 */
export function operatorFileNamePart(operator: ExpectedSigner | undefined): string | undefined {
  if (operator === undefined) return undefined;
  if (/[\p{L}\p{N}]/u.test(operator.name)) return operator.name;
  return operator.pesel?.slice(-4);
}
