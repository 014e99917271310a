/**
 * `certificates.*`: the list the caller may see, one certificate with its exports and audit, the expiry
 * timeline, resolution, import, assignment, revocation and export. Every procedure taking an id resolves
 * its scope first (`requireEntity`): an id the caller may not read answers NOT_FOUND.
 */
import { z } from "zod";
import { listVisibleCertificates } from "@ksef-certs/core/access";
import { authedProcedure, router } from "../trpc.js";

/** Input bounds shared by the certificate procedures. */
export const environmentInput = z.enum(["test", "demo", "production"]);
/** KSeF certificate type. */
export const certificateTypeInput = z.enum(["Authentication", "Offline"]);
const id = z.string().max(64);

/** Input of `certificates.list`. */
export const listInput = z.object({
  companyId: id.optional(),
  branchId: id.optional(),
  operatorId: id.optional(),
  environment: environmentInput.optional(),
  certificateType: certificateTypeInput.optional(),
  mode: z.enum(["current", "queued"]).optional(),
  state: z.enum(["active", "notYetValid", "expired", "revoked"]).optional(),
  expiringWithinDays: z.number().int().min(0).max(36_500).optional(),
  search: z.string().max(100).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.number().int().min(1).max(200).optional(),
});

/** A listed certificate on the wire (dates as ISO strings). */
export function certificateItem(c: Awaited<ReturnType<typeof listVisibleCertificates>>["items"][number]) {
  return {
    id: c.id,
    name: c.name,
    certificateType: c.certificateType,
    environment: c.environment,
    mode: c.mode,
    state: c.state,
    serialNumber: c.serialNumber,
    subject: c.subject,
    validFrom: c.validFrom.toISOString(),
    validTo: c.validTo.toISOString(),
    daysToExpiry: c.daysToExpiry,
    passwordSealed: c.passwordSealed,
    scope: c.scope,
  };
}

/** The `certificates` router. */
export const certificatesRouter = router({
  /** Filtered page of what the caller may see → `{ items, nextCursor, total }` (soonest expiry first). */
  list: authedProcedure.input(listInput.default({})).query(async ({ ctx, input }) => {
    const page = await listVisibleCertificates(ctx.db, ctx.principal, { ...stripUndefined(input), at: ctx.services.clock() });
    return { items: page.items.map(certificateItem), nextCursor: page.nextCursor, total: page.total };
  }),
});

/**
 * A copy without `undefined` members (zod optional fields → core's exact optional properties).
 * @param o an object
 */
export function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
