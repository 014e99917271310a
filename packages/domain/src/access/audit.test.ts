// Verifying the audit log is a use case with its own rule: super-admins, auditors and company admins may; a branch
// admin (or an account without a role) is refused before the log is read.
import { expect, it } from "vitest";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { addCompany } from "../registry/organisation.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import { verifyAuditLogAs } from "./audit.js";
import { ROLES, type Principal, type Role } from "./rules.js";

const T0 = new Date("2026-03-01T12:00:00Z");

const principal = (roles: readonly { role: Role; companyId: string | null; branchId: string | null }[]): Principal => ({
  userId: "u",
  login: "u",
  displayName: "u",
  locale: "en",
  roles,
});

describeEachDb("access: verifying the audit log", (ctx) => {
  it("lets super-admins, auditors and company admins verify; refuses branch admins and accounts without a role", async () => {
    const company = await addCompany(ctx().db, { nip: "5265877635", name: "Firma" }, { actor: "test", at: T0 });
    const allowed: Record<Role, boolean> = { super_admin: true, company_admin: true, auditor: true, branch_admin: false };
    const outcomes: Record<string, string> = {};
    for (const role of ROLES) {
      const p = principal([{ role, companyId: role === "super_admin" ? null : company.id, branchId: null }]);
      outcomes[role] = await verifyAuditLogAs(ctx().db, p).then(
        (v) => (v.ok && v.entries > 0 ? "ok" : "unexpected"),
        (e: unknown) => (e instanceof KsefCertsError ? e.code : "thrown"),
      );
    }
    outcomes.none = await verifyAuditLogAs(ctx().db, principal([])).then(
      () => "ok",
      (e: unknown) => (e instanceof KsefCertsError ? e.code : "thrown"),
    );
    expect(outcomes).toEqual({ ...Object.fromEntries(ROLES.map((r) => [r, allowed[r] ? "ok" : "FORBIDDEN"])), none: "FORBIDDEN" });
  });
});
