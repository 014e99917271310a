/**
 * `renewals.*`: autopilot renewal as an admin sees it (use cases of `@ksef-certs/domain/renewal`; docs/renewal.md).
 * The use cases authorize: the plan holds only certificates the caller may read; a policy is read by who may read its
 * scope and changed by who may change it; a renewal is approved by who may change its certificate. Anything else the
 * caller may not see answers NOT_FOUND, as if it did not exist.
 *
 * - `plan({ companyId?, branchId?, environment? })` → one item per current certificate, soonest due first
 * - `policy({ companyId, branchId?, operatorId? })` → `{ scopeKey, own, effective: { values, sources } }`
 * - `setPolicy({ companyId, branchId?, operatorId?, patch })` → the same view after the change (`null` clears a value)
 * - `approve({ renewalId, keyPassword? })` → `{ renewalId, certificateId }`
 *
 * Dates are ISO 8601 strings.
 */
import { z } from "zod";
import {
  approveRenewalAs,
  getRenewalPolicyAs,
  renewalPlanAs,
  setRenewalPolicyAs,
  type RenewalPlanItem,
  type RenewalPolicyPatch,
  type RenewalPolicyView,
} from "@ksef-certs/domain/renewal";
import { scopeInput } from "../scope.js";
import { authedProcedure, changeMeta, mutationProcedure, router } from "../trpc.js";
import { environmentInput } from "./certificates.js";

const id = z.string().max(64);
const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/**
 * The patch on the wire: every field optional (left as it is) and nullable (cleared: inherited again). The enums are
 * typed here so the web app's form is typed too; the day ranges and the workstation's company are the domain's rules
 * (`policy.days.range`, `scope.sameCompany`), so they are said once, in one wording, wherever a policy is changed.
 */
export const renewalPolicyPatchInput = z.strictObject({
  renewBeforeDays: z.number().int().nullable().optional(),
  approval: z.enum(["automatic", "ask_first"]).nullable().optional(),
  signing: z.enum(["certificate", "person"]).nullable().optional(),
  workstationId: id.nullable().optional(),
  personLeadDays: z.number().int().nullable().optional(),
  successorMode: z.enum(["queued", "current"]).nullable().optional(),
  keyAlgorithm: z.enum(["EC-P256", "RSA-2048"]).nullable().optional(),
  password: z.enum(["reuse", "generate", "ask"]).nullable().optional(),
});

/** Drops the members zod left `undefined` (exactOptionalPropertyTypes: absent means "leave", not "clear"). */
function patchOf(input: z.infer<typeof renewalPolicyPatchInput>): RenewalPolicyPatch {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

/** A plan item in its wire shape. */
function planItemView(i: RenewalPlanItem) {
  return {
    certificate: {
      id: i.certificate.id,
      name: i.certificate.name,
      certificateType: i.certificate.certificateType,
      environment: i.certificate.environment,
      scopeType: i.certificate.scopeType,
      companyId: i.certificate.companyId,
      branchId: i.certificate.branchId,
      operatorId: i.certificate.operatorId,
      validTo: i.certificate.validTo.toISOString(),
      passwordSealed: i.certificate.passwordSealed,
    },
    companyName: i.companyName,
    companyNip: i.companyNip,
    branchName: i.branchName,
    operatorName: i.operatorName,
    dueAt: i.dueAt.toISOString(),
    route: i.route,
    signing: i.signing,
    signerName: i.signerName,
    workstationName: i.workstationName,
    reason: i.reason === null ? null : { id: i.reason.id, params: { ...i.reason.params } },
    renewal:
      i.renewal === null
        ? null
        : {
            id: i.renewal.id,
            state: i.renewal.state,
            attempts: i.renewal.attempts,
            signatureRequestedAt: iso(i.renewal.signatureRequestedAt),
            nextAttemptAt: i.renewal.nextAttemptAt.toISOString(),
            reason: i.renewal.reason === null ? null : { id: i.renewal.reason.id, params: { ...i.renewal.reason.params } },
          },
    successorId: i.successorId,
  };
}

/** A policy view in its wire shape (plain objects; no dates in it). */
function policyView(v: RenewalPolicyView) {
  return { scopeKey: v.scopeKey, own: { ...v.own }, effective: { values: { ...v.effective.values }, sources: { ...v.effective.sources } } };
}

/** The `renewals` router. */
export const renewalsRouter = router({
  /** The renewal plan the caller may see, at the server's clock, knowing whether a master key is configured. */
  plan: authedProcedure
    .input(z.object({ companyId: id.optional(), branchId: id.optional(), environment: environmentInput.optional() }).optional())
    .query(async ({ ctx, input }) => {
      const items = await renewalPlanAs(ctx.db, ctx.principal, {
        ...(input?.companyId === undefined ? {} : { companyId: input.companyId }),
        ...(input?.branchId === undefined ? {} : { branchId: input.branchId }),
        ...(input?.environment === undefined ? {} : { environment: input.environment }),
        at: ctx.services.clock(),
        vault: ctx.services.vault !== undefined,
      });
      return items.map(planItemView);
    }),

  /** A scope's own policy values and the effective ones with their sources (default, company, branch, operator). */
  policy: authedProcedure.input(scopeInput).query(async ({ ctx, input }) => policyView(await getRenewalPolicyAs(ctx.db, ctx.principal, input))),

  /** Sets or clears (`null`) some of a scope's policy values; audited as `renewal.policy`. */
  setPolicy: mutationProcedure.input(scopeInput.extend({ patch: renewalPolicyPatchInput })).mutation(async ({ ctx, input }) => {
    const { patch, ...scope } = input;
    return policyView(await setRenewalPolicyAs(ctx.db, ctx.principal, scope, patchOf(patch), changeMeta(ctx)));
  }),

  /** Approves a renewal waiting for an admin (with the new key's password when the policy asks for it); audited. */
  approve: mutationProcedure
    .input(z.object({ renewalId: id, keyPassword: z.string().max(256).optional() }))
    .mutation(({ ctx, input }) =>
      approveRenewalAs(
        ctx.db,
        ctx.principal,
        { renewalId: input.renewalId, ...(input.keyPassword === undefined ? {} : { keyPassword: input.keyPassword }), vault: ctx.services.vault },
        changeMeta(ctx),
      ),
    ),
});
