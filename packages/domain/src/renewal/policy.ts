/**
 * Renewal policies: per company, branch and operator, each value inherited downwards (company → branch → operator)
 * unless the lower scope sets its own, and the built-in defaults under all of them. An operator who works in exactly
 * one branch inherits that branch's values; one who works in several inherits the company's (no branch is "theirs").
 *
 * The defaults follow the ministry's advice to renew two months ahead (docs/renewal.md): renew 60 days before expiry,
 * automatically, signing the KSeF login with the certificate itself while it is valid (for an Offline certificate,
 * with the holder's valid Authentication certificate), a queued successor that takes over at expiry, an EC P-256 key
 * and the current key's sealed password reused for the new key.
 */
import { eq, inArray } from "drizzle-orm";
import { KsefCertsError, type Violation, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Principal } from "../access/rules.js";
import { authorizeScopeRef, type ScopeRef } from "../access/scope.js";
import { type ResolvedScope, scopeOf } from "../registry/certificates.js";
import { inTransaction, isUuid, type ChangeMeta } from "../registry/internal.js";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { branches, operatorBranches, operators, renewalPolicies, workstations } from "../store/schema.js";

/** The values a renewal policy sets. */
export interface RenewalPolicyValues {
  /** Start renewing this many days before the current certificate expires; 1–365. */
  readonly renewBeforeDays: number;
  /** `automatic`: the scheduler renews without asking; `ask_first`: an admin approves each renewal. */
  readonly approval: "automatic" | "ask_first";
  /**
   * `certificate`: the certificate signs its own renewal's KSeF login while valid (an Offline one: the holder's valid
   * Authentication certificate), else a person at `workstationId`; `person`: always a person through the hand-off.
   */
  readonly signing: "certificate" | "person";
  /** Where a person signs auth.xml when the renewal needs one; null: nowhere set (such a renewal is blocked). */
  readonly workstationId: string | null;
  /** A renewal needing a person opens its signing request at least this many days before expiry; 1–365. */
  readonly personLeadDays: number;
  /** The successor's mode: `queued` takes over when the current one expires; `current` replaces it at once. */
  readonly successorMode: "queued" | "current";
  /** The new key's algorithm. */
  readonly keyAlgorithm: "EC-P256" | "RSA-2048";
  /**
   * The new key's password: `reuse` the current certificate's sealed password, `generate` a new one to the ministry's
   * rules (sealed, nobody sees it), or `ask` an admin when approving.
   */
  readonly password: "reuse" | "generate" | "ask";
}

/** The names of the policy's values. */
export type RenewalPolicyField = keyof RenewalPolicyValues;

/** Every policy field, in display order. */
export const RENEWAL_POLICY_FIELDS: readonly RenewalPolicyField[] = [
  "renewBeforeDays",
  "approval",
  "signing",
  "workstationId",
  "personLeadDays",
  "successorMode",
  "keyAlgorithm",
  "password",
];

/** The built-in values under every company's policy. */
export const DEFAULT_RENEWAL_POLICY: RenewalPolicyValues = {
  renewBeforeDays: 60,
  approval: "automatic",
  signing: "certificate",
  workstationId: null,
  personLeadDays: 30,
  successorMode: "queued",
  keyAlgorithm: "EC-P256",
  password: "reuse",
};

/** Where an effective value comes from. */
export type RenewalPolicySource = "default" | "company" | "branch" | "operator";

/** The values in force for one scope, each with where it comes from. */
export interface EffectiveRenewalPolicy {
  readonly values: RenewalPolicyValues;
  readonly sources: Readonly<Record<RenewalPolicyField, RenewalPolicySource>>;
}

/** What one scope sets itself (unset fields are inherited). */
export type RenewalPolicyPatch = { readonly [K in RenewalPolicyField]?: RenewalPolicyValues[K] | null };

type PolicyRow = typeof renewalPolicies.$inferSelect;

/** The key of a scope's policy row: `company:<id>`, `branch:<id>`, `operator:<id>`. */
export function policyScopeKey(scope: Pick<ResolvedScope, "type" | "companyId" | "branchId" | "operatorId">): string {
  const id = scope.type === "company" ? scope.companyId : scope.type === "branch" ? scope.branchId : scope.operatorId;
  return `${scope.type}:${String(id)}`;
}

/** A row's own values, unset ones left out. */
function ownValues(row: PolicyRow | undefined): RenewalPolicyPatch {
  if (row === undefined) return {};
  const out: Record<string, unknown> = {};
  for (const f of RENEWAL_POLICY_FIELDS) {
    const v = row[f];
    if (v !== null) out[f] = v;
  }
  return out;
}

/**
 * The effective policy from a chain of own values, top (company) first.
 * @param chain `[source, own values]` pairs from the company down
 */
export function effectivePolicy(chain: readonly (readonly [RenewalPolicySource, RenewalPolicyPatch])[]): EffectiveRenewalPolicy {
  const values: Record<string, unknown> = { ...DEFAULT_RENEWAL_POLICY };
  const sources: Record<string, RenewalPolicySource> = Object.fromEntries(RENEWAL_POLICY_FIELDS.map((f) => [f, "default"]));
  for (const [source, own] of chain) {
    for (const f of RENEWAL_POLICY_FIELDS) {
      const v = own[f];
      if (v !== undefined && v !== null) {
        values[f] = v;
        sources[f] = source;
      }
    }
  }
  return { values: values as unknown as RenewalPolicyValues, sources: sources as Record<RenewalPolicyField, RenewalPolicySource> };
}

/** A scope as a certificate row names it. */
export interface PolicyScope {
  readonly scopeType: ResolvedScope["type"];
  readonly companyId: string;
  readonly branchId: string | null;
  readonly operatorId: string | null;
}

/** The policies of some companies, loaded once, answering for any scope among them. */
export interface PolicyBook {
  /**
   * The effective policy of a certificate's scope.
   * @param scope the certificate's scope (an operator's `branchId` is ignored: the operator's branches decide)
   */
  policyOf(scope: PolicyScope): EffectiveRenewalPolicy;
}

/**
 * Loads the policies (and operators' branches) of `companyIds` for {@link PolicyBook.policyOf}.
 * @param db the database
 * @param companyIds the companies whose scopes will be asked about
 */
export async function loadPolicyBook(db: Db, companyIds: readonly string[]): Promise<PolicyBook> {
  const ids = [...new Set(companyIds)].filter(isUuid);
  const rows = ids.length === 0 ? [] : await db.select().from(renewalPolicies).where(inArray(renewalPolicies.companyId, ids));
  const byKey = new Map(rows.map((r) => [r.scopeKey, r]));
  // An operator inherits a branch's values only when some branch sets any.
  const operatorIds = rows.some((r) => r.scopeType === "branch") ? await operatorBranchMap(db, ids) : new Map<string, string[]>();
  return {
    policyOf(scope) {
      const chain: [RenewalPolicySource, RenewalPolicyPatch][] = [["company", ownValues(byKey.get(`company:${scope.companyId}`))]];
      if (scope.scopeType === "branch" && scope.branchId !== null) chain.push(["branch", ownValues(byKey.get(`branch:${scope.branchId}`))]);
      if (scope.scopeType === "operator" && scope.operatorId !== null) {
        const its = operatorIds.get(scope.operatorId) ?? [];
        if (its.length === 1) chain.push(["branch", ownValues(byKey.get(`branch:${String(its[0])}`))]);
        chain.push(["operator", ownValues(byKey.get(`operator:${scope.operatorId}`))]);
      }
      return effectivePolicy(chain);
    },
  };
}

async function operatorBranchMap(db: Db, companyIds: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await db
    .select({ operatorId: operatorBranches.operatorId, branchId: operatorBranches.branchId })
    .from(operatorBranches)
    .innerJoin(operators, eq(operators.id, operatorBranches.operatorId))
    .where(inArray(operators.companyId, [...companyIds]));
  const map = new Map<string, string[]>();
  for (const r of rows) map.set(r.operatorId, [...(map.get(r.operatorId) ?? []), r.branchId]);
  return map;
}

/** Checks a patch's values; unknown fields and out-of-range values are refused with one violation each. */
function checkPatch(patch: Record<string, unknown>): Violation[] {
  const v: Violation[] = [];
  const oneOf = (f: string, allowed: readonly string[]): void => {
    const x = patch[f];
    if (x !== undefined && x !== null && !(typeof x === "string" && allowed.includes(x))) v.push(violation(`policy.${f}`, `policy.${f}.known`));
  };
  const days = (f: string): void => {
    const x = patch[f];
    if (x !== undefined && x !== null && !(typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= 365))
      v.push(violation(`policy.${f}`, "policy.days.range", { min: 1, max: 365 }));
  };
  for (const k of Object.keys(patch)) if (!(RENEWAL_POLICY_FIELDS as readonly string[]).includes(k)) v.push(violation(`policy.${k}`, "policy.field.known"));
  days("renewBeforeDays");
  days("personLeadDays");
  oneOf("approval", ["automatic", "ask_first"]);
  oneOf("signing", ["certificate", "person"]);
  oneOf("successorMode", ["queued", "current"]);
  oneOf("keyAlgorithm", ["EC-P256", "RSA-2048"]);
  oneOf("password", ["reuse", "generate", "ask"]);
  const w = patch["workstationId"];
  if (w !== undefined && w !== null && !isUuid(w)) v.push(violation("policy.workstationId", "id.uuid"));
  return v;
}

/** A scope's own settings and what is in force there. */
export interface RenewalPolicyView {
  /** `company:<id>`, `branch:<id>` or `operator:<id>`. */
  readonly scopeKey: string;
  /** What this scope sets itself (unset fields inherit). */
  readonly own: RenewalPolicyPatch;
  /** The values in force here, with their sources. */
  readonly effective: EffectiveRenewalPolicy;
}

async function viewOf(db: Db, scope: ResolvedScope): Promise<RenewalPolicyView> {
  const book = await loadPolicyBook(db, [scope.companyId]);
  const key = policyScopeKey(scope);
  const [row] = await db.select().from(renewalPolicies).where(eq(renewalPolicies.scopeKey, key));
  return {
    scopeKey: key,
    own: ownValues(row),
    effective: book.policyOf({ scopeType: scope.type, companyId: scope.companyId, branchId: scope.branchId, operatorId: scope.operatorId }),
  };
}

/**
 * A scope's renewal policy (own values and the effective ones with their sources), if the principal may read the scope.
 * @param db the database
 * @param principal who asks
 * @param ref the scope by ids
 * @throws {KsefCertsError} NOT_FOUND for a scope the principal may not see
 */
export async function getRenewalPolicyAs(db: Db, principal: Principal, ref: ScopeRef): Promise<RenewalPolicyView> {
  const { scope } = await authorizeScopeRef(db, principal, ref, "read");
  return viewOf(db, await scopeOf(db, scope));
}

/**
 * Sets (a value) or clears (`null`: inherit again) some of a scope's renewal policy values, with an audit entry
 * `renewal.policy` holding the values before and after. A workstation must belong to the scope's company.
 * @param db the database
 * @param principal who changes it (must be allowed to change the scope)
 * @param ref the scope by ids
 * @param patch the values to set or clear
 * @param meta the actor and clock
 * @returns the scope's policy after the change
 * @throws {KsefCertsError} VALIDATION naming each bad value; NOT_FOUND/FORBIDDEN from the scope's authorization
 */
export async function setRenewalPolicyAs(db: Db, principal: Principal, ref: ScopeRef, patch: RenewalPolicyPatch, meta: ChangeMeta): Promise<RenewalPolicyView> {
  const { scope: byIds } = await authorizeScopeRef(db, principal, ref, "write");
  const v = checkPatch(patch);
  if (v.length > 0) throw new KsefCertsError("VALIDATION", msg("renewal.policy.invalid", { reasons: v.map((x) => x.message).join(" ") }), { violations: v });
  const scope = await scopeOf(db, byIds);
  const key = policyScopeKey(scope);
  const at = meta.at ?? new Date();
  await inTransaction(db, async (tx) => {
    if (typeof patch.workstationId === "string") {
      const [w] = await tx
        .select({ companyId: branches.companyId })
        .from(workstations)
        .innerJoin(branches, eq(branches.id, workstations.branchId))
        .where(eq(workstations.id, patch.workstationId));
      if (w?.companyId !== scope.companyId) {
        throw new KsefCertsError("VALIDATION", msg("renewal.policy.workstation"), { violations: [violation("policy.workstationId", "scope.sameCompany")] });
      }
    }
    const [before] = await tx.select().from(renewalPolicies).where(eq(renewalPolicies.scopeKey, key)).for("update");
    const next: Record<string, unknown> = { ...ownValues(before) };
    for (const f of RENEWAL_POLICY_FIELDS) {
      if (!(f in patch)) continue;
      const value = patch[f];
      if (value === null || value === undefined) Reflect.deleteProperty(next, f);
      else next[f] = value;
    }
    const columns = Object.fromEntries(RENEWAL_POLICY_FIELDS.map((f) => [f, next[f] ?? null]));
    await tx
      .insert(renewalPolicies)
      .values({
        scopeKey: key,
        scopeType: scope.type,
        companyId: scope.companyId,
        branchId: scope.branchId,
        operatorId: scope.operatorId,
        ...columns,
        updatedBy: meta.actor,
        createdAt: at,
        updatedAt: at,
      })
      .onConflictDoUpdate({ target: renewalPolicies.scopeKey, set: { ...columns, updatedBy: meta.actor, updatedAt: at } });
    await appendAudit(tx, {
      actor: meta.actor,
      action: "renewal.policy",
      entityType: "renewal_policy",
      entityId: key,
      before: ownValues(before),
      after: next,
      at,
    });
  });
  return viewOf(db, scope);
}
