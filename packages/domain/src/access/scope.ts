/**
 * A scope named by ids, as the web app and the CLI name one (`{ companyId, branchId?, operatorId? }`), turned into a
 * registry scope after checking the principal may act there. Shared by import, assignment and enrollment requests.
 */
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Scope } from "../registry/certificates.js";
import type { Db } from "../store/db.js";
import { type AccessScope, authorizeEntity, type Principal } from "./rules.js";

/** A scope by ids: the operator when given, else the branch, else the company; both must belong to `companyId`. */
export interface ScopeRef {
  readonly companyId: string;
  readonly branchId?: string | undefined;
  readonly operatorId?: string | undefined;
}

/**
 * The registry scope of a {@link ScopeRef}, after checking the principal may read or write it.
 * @param db the database
 * @param principal who acts
 * @param ref the scope by ids
 * @param access `read` or `write`
 * @returns the registry scope and its access scope
 * @throws {KsefCertsError} NOT_FOUND for what the principal may not see; FORBIDDEN when it may see but not change it;
 *   VALIDATION (rule `scope.sameCompany`) when the branch or operator belongs to another company
 */
export async function authorizeScopeRef(db: Db, principal: Principal, ref: ScopeRef, access: "read" | "write"): Promise<{ scope: Scope; access: AccessScope }> {
  const [kind, id, scope]: ["operator" | "branch" | "company", string, Scope] =
    ref.operatorId !== undefined
      ? ["operator", ref.operatorId, { type: "operator", operatorId: ref.operatorId }]
      : ref.branchId !== undefined
        ? ["branch", ref.branchId, { type: "branch", branchId: ref.branchId }]
        : ["company", ref.companyId, { type: "company", companyId: ref.companyId }];
  const a = await authorizeEntity(db, principal, kind, id, access);
  if (a.kind === "global" || a.companyId !== ref.companyId) {
    throw new KsefCertsError("VALIDATION", msg("access.scope.otherCompany", { kind }), { violations: [violation(`scope.${kind}Id`, "scope.sameCompany")] });
  }
  return { scope, access: a };
}
