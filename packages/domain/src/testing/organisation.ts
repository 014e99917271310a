/**
 * The one organisation factory of the test suites: a company with its branches, operators, workstations and accounts
 * with roles, made through the registry's and the access rules' own functions (so every row is valid and audited).
 */
import { createUser, type Role, type UserWithRoles } from "../access/index.js";
import {
  addBranch,
  addCompany,
  addOperator,
  addWorkstation,
  type Branch,
  type ChangeMeta,
  type Company,
  type Operator,
  type Workstation,
} from "../registry/index.js";
import type { Db } from "../store/index.js";

/** A branch to create, with the workstations (signing folders) it has. */
export interface TestBranchSpec {
  /** Branch code, unique in the company (e.g. "B1"). */
  readonly code: string;
  readonly name: string;
  readonly workstations?: readonly { readonly name: string; readonly outboxDir: string; readonly inboxDir: string }[];
}

/** An operator to create, with the codes of the branches it works at. */
export interface TestOperatorSpec {
  readonly name: string;
  readonly pesel?: string;
  readonly branchCodes?: readonly string[];
}

/**
 * An account to create with one role: `super_admin` has no scope; `company_admin` and `auditor` get the company;
 * `branch_admin` gets the branch named by `branchCode`.
 */
export interface TestUserSpec {
  readonly login: string;
  readonly password: string;
  readonly role: Role;
  readonly branchCode?: string;
}

/** What {@link createTestOrganisation} makes: a company and what it has. */
export interface TestOrganisationSpec {
  /** A valid NIP (10 digits with its check digit). */
  readonly nip: string;
  readonly name: string;
  readonly branches?: readonly TestBranchSpec[];
  readonly operators?: readonly TestOperatorSpec[];
  readonly users?: readonly TestUserSpec[];
}

/** The created rows: branches by code, operators and workstations by name, accounts by login. */
export interface TestOrganisation {
  readonly company: Company;
  readonly branches: Readonly<Record<string, Branch>>;
  readonly operators: Readonly<Record<string, Operator>>;
  readonly workstations: Readonly<Record<string, Workstation>>;
  readonly users: Readonly<Record<string, UserWithRoles>>;
}

/**
 * Creates a company, then its branches (each with its workstations), its operators and its accounts, in that order.
 * @param db the database
 * @param spec what to create
 * @param meta the audit actor and clock of every change
 * @returns the rows, keyed as {@link TestOrganisation} says
 * @throws Error when an operator or account names a branch code the spec does not have; the registry's
 *   `KsefCertsError`s (`VALIDATION`, `CONFLICT`) for invalid or duplicate input
 */
export async function createTestOrganisation(db: Db, spec: TestOrganisationSpec, meta: ChangeMeta): Promise<TestOrganisation> {
  const company = await addCompany(db, { nip: spec.nip, name: spec.name }, meta);
  const branches: Record<string, Branch> = {};
  const workstations: Record<string, Workstation> = {};
  for (const b of spec.branches ?? []) {
    const branch = await addBranch(db, { companyId: company.id, code: b.code, name: b.name }, meta);
    branches[b.code] = branch;
    for (const w of b.workstations ?? []) workstations[w.name] = await addWorkstation(db, { branchId: branch.id, ...w }, meta);
  }
  const branchId = (code: string): string => {
    const branch = branches[code];
    if (branch === undefined) throw new Error(`createTestOrganisation: no branch ${code} in the spec`);
    return branch.id;
  };
  const operators: Record<string, Operator> = {};
  for (const o of spec.operators ?? []) {
    const input = { companyId: company.id, name: o.name, branchIds: (o.branchCodes ?? []).map(branchId), ...(o.pesel === undefined ? {} : { pesel: o.pesel }) };
    operators[o.name] = await addOperator(db, input, meta);
  }
  const users: Record<string, UserWithRoles> = {};
  for (const u of spec.users ?? []) {
    const role =
      u.role === "super_admin"
        ? { role: u.role }
        : u.role === "branch_admin"
          ? { role: u.role, branchId: branchId(u.branchCode ?? "") }
          : { role: u.role, companyId: company.id };
    users[u.login] = await createUser(db, { login: u.login, displayName: u.login, password: u.password, role }, meta);
  }
  return { company, branches, operators, workstations, users };
}
