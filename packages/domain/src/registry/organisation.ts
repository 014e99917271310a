/**
 * The organisation certificates are held for (docs/GLOSSARY.md): companies (NIP),
 * their branches (oddziały: code, name, optional KSeF InternalId), operators (people, optional PESEL
 * or NIP, working at branches) and workstations (a branch's computer with its hand-off folders).
 * Each `add…` validates every field at once (`VALIDATION` with `violations`), refuses duplicates
 * (`CONFLICT`) and writes its audit entry in the same transaction.
 */
import path from "node:path";
import { and, asc, eq, inArray } from "drizzle-orm";
import { KsefCertsError, violation, type Violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { checkInternalId, checkNip, checkPesel, normalizeNip } from "@ksef-certs/ksef/policies";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { branches, companies, operatorBranches, operators, workstations } from "../store/schema.js";
import { assertValid, type ChangeMeta, inTransaction, isUniqueViolation, isUuid, notFound, requiredText } from "./internal.js";

/** A company row. */
export type Company = typeof companies.$inferSelect;
/** A branch row. */
export type Branch = typeof branches.$inferSelect;
/** An operator with the ids of the branches they work at. */
export type Operator = typeof operators.$inferSelect & { readonly branchIds: string[] };
/** A workstation row. */
export type Workstation = typeof workstations.$inferSelect;

/** Longest name of a company, branch, operator or workstation (characters). */
const MAX_NAME = 200;
/** Longest branch code (characters; F2000 codes are short). */
const MAX_CODE = 32;
/** Longest hand-off folder path (characters). */
const MAX_PATH = 1024;

async function conflictOnDuplicate<T>(work: () => Promise<T>, duplicate: () => KsefCertsError): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate();
    throw err;
  }
}

// ------------------------------------------------------------------------------------------------
// Companies
// ------------------------------------------------------------------------------------------------

/**
 * Adds a company. The NIP may be typed with spaces, dashes or a `PL` prefix; it is stored as 10 digits.
 * @param db the database
 * @param input `nip` (valid NIP, KSeF XSD `TNIP`) and `name` (1–200 characters)
 * @param meta actor and clock
 * @returns the stored company
 * @throws {KsefCertsError} VALIDATION listing every broken rule (`nip.*`, `name.*`)
 * @throws {KsefCertsError} CONFLICT when a company with this NIP exists
 */
export async function addCompany(db: Db, input: { readonly nip: string; readonly name: string }, meta: ChangeMeta): Promise<Company> {
  const v: Violation[] = [];
  const nip = normalizeNip(typeof input.nip === "string" ? input.nip : "");
  v.push(...checkNip(nip, "nip"));
  const name = requiredText(v, "name", input.name, MAX_NAME);
  assertValid(v, "The company");
  const at = meta.at ?? new Date();
  return conflictOnDuplicate(
    () =>
      inTransaction(db, async (tx) => {
        const [existing] = await tx.select({ id: companies.id }).from(companies).where(eq(companies.nip, nip));
        if (existing !== undefined) throw duplicateNip(nip, existing.id);
        const [row] = await tx.insert(companies).values({ nip, name, createdAt: at, updatedAt: at }).returning();
        if (row === undefined) throw new KsefCertsError("INTERNAL", msg("organisation.company.noRow"));
        await appendAudit(tx, { actor: meta.actor, action: "company.add", entityType: "company", entityId: row.id, after: row, at });
        return row;
      }),
    () => duplicateNip(nip, ""),
  );
}

function duplicateNip(nip: string, id: string): KsefCertsError {
  return new KsefCertsError("CONFLICT", msg("organisation.company.duplicateNip", { nip }), {
    hint: msg("organisation.company.duplicateNip.hint"),
    details: { nip, ...(id === "" ? {} : { existingId: id }) },
  });
}

/**
 * One company.
 * @param db the database
 * @param id company id
 * @throws {KsefCertsError} NOT_FOUND for an unknown id
 */
export async function getCompany(db: Db, id: string): Promise<Company> {
  if (!isUuid(id)) throw notFound("company", String(id));
  const [row] = await db.select().from(companies).where(eq(companies.id, id));
  if (row === undefined) throw notFound("company", id);
  return row;
}

/**
 * Every company, by name.
 * @param db the database
 */
export function listCompanies(db: Db): Promise<Company[]> {
  return db.select().from(companies).orderBy(asc(companies.name), asc(companies.nip));
}

/**
 * A company by NIP (typed loosely, as {@link addCompany} accepts it), or undefined.
 * @param db the database
 * @param nip the NIP
 */
export async function findCompanyByNip(db: Db, nip: string): Promise<Company | undefined> {
  const [row] = await db
    .select()
    .from(companies)
    .where(eq(companies.nip, normalizeNip(nip)));
  return row;
}

// ------------------------------------------------------------------------------------------------
// Branches
// ------------------------------------------------------------------------------------------------

/** Input of {@link addBranch}. */
export interface AddBranchInput {
  readonly companyId: string;
  /** The branch code as the ERP knows it (1–32 characters, unique within the company). */
  readonly code: string;
  readonly name: string;
  /** The branch's KSeF InternalId (`NIP-NNNNN`, KSeF XSD `TIID`), which must start with the company's NIP. */
  readonly internalId?: string;
}

/**
 * Adds a branch (oddział) to a company.
 * @param db the database
 * @param input see {@link AddBranchInput}
 * @param meta actor and clock
 * @returns the stored branch
 * @throws {KsefCertsError} NOT_FOUND when the company does not exist
 * @throws {KsefCertsError} VALIDATION listing every broken rule (`code.*`, `name.*`, `internalId.*` incl. `internalId.companyNip`)
 * @throws {KsefCertsError} CONFLICT when the company already has this code, or the InternalId is taken
 */
export async function addBranch(db: Db, input: AddBranchInput, meta: ChangeMeta): Promise<Branch> {
  const company = await getCompany(db, input.companyId);
  const v: Violation[] = [];
  const code = requiredText(v, "code", input.code, MAX_CODE);
  const name = requiredText(v, "name", input.name, MAX_NAME);
  const internalId = input.internalId?.trim();
  if (internalId !== undefined && internalId !== "") {
    v.push(...checkInternalId(internalId, "internalId"));
    if (!internalId.startsWith(`${company.nip}-`)) {
      v.push(violation("internalId", "internalId.companyNip", { nip: company.nip }));
    }
  }
  assertValid(v, "The branch");
  const at = meta.at ?? new Date();
  const duplicate = (): KsefCertsError =>
    new KsefCertsError(
      "CONFLICT",
      internalId
        ? msg("organisation.branch.duplicateCodeOrInternalId", { code: JSON.stringify(code), internalId })
        : msg("organisation.branch.duplicateCode", { code: JSON.stringify(code) }),
      {
        hint: msg("organisation.branch.duplicate.hint"),
        details: { companyId: company.id, code, internalId: internalId ?? null },
      },
    );
  return conflictOnDuplicate(
    () =>
      inTransaction(db, async (tx) => {
        const [sameCode] = await tx
          .select({ id: branches.id })
          .from(branches)
          .where(and(eq(branches.companyId, company.id), eq(branches.code, code)));
        if (sameCode !== undefined) throw duplicate();
        const [row] = await tx
          .insert(branches)
          .values({
            companyId: company.id,
            code,
            name,
            internalId: internalId === undefined || internalId === "" ? null : internalId,
            createdAt: at,
            updatedAt: at,
          })
          .returning();
        if (row === undefined) throw new KsefCertsError("INTERNAL", msg("organisation.branch.noRow"));
        await appendAudit(tx, { actor: meta.actor, action: "branch.add", entityType: "branch", entityId: row.id, after: row, at });
        return row;
      }),
    duplicate,
  );
}

/**
 * One branch.
 * @param db the database
 * @param id branch id
 * @throws {KsefCertsError} NOT_FOUND for an unknown id
 */
export async function getBranch(db: Db, id: string): Promise<Branch> {
  if (!isUuid(id)) throw notFound("branch", String(id));
  const [row] = await db.select().from(branches).where(eq(branches.id, id));
  if (row === undefined) throw notFound("branch", id);
  return row;
}

/**
 * The branches of a company, by code.
 * @param db the database
 * @param companyId company id
 * @throws {KsefCertsError} NOT_FOUND when the company does not exist
 */
export async function listBranches(db: Db, companyId: string): Promise<Branch[]> {
  await getCompany(db, companyId);
  return db.select().from(branches).where(eq(branches.companyId, companyId)).orderBy(asc(branches.code));
}

// ------------------------------------------------------------------------------------------------
// Operators
// ------------------------------------------------------------------------------------------------

/** Input of {@link addOperator}. */
export interface AddOperatorInput {
  readonly companyId: string;
  /** The person's name (1–200 characters). */
  readonly name: string;
  /** 11 digits with a valid date and check digit; unique within the company. */
  readonly pesel?: string;
  /** A sole trader's NIP. */
  readonly nip?: string;
  /** Branches of the same company the operator works at. */
  readonly branchIds?: readonly string[];
}

async function branchViolations(db: Db, companyId: string, branchIds: readonly string[]): Promise<Violation[]> {
  const ids = [...new Set(branchIds)];
  const valid = ids.filter(isUuid);
  const found = valid.length === 0 ? [] : await db.select({ id: branches.id, companyId: branches.companyId }).from(branches).where(inArray(branches.id, valid));
  const ok = new Set(found.filter((b) => b.companyId === companyId).map((b) => b.id));
  const bad = ids.filter((id) => !ok.has(id));
  return bad.length === 0 ? [] : [violation("branchIds", "branchIds.company", { branchIds: bad.join(",") })];
}

/**
 * Adds an operator (a person working with KSeF for the company), optionally at branches.
 * @param db the database
 * @param input see {@link AddOperatorInput}
 * @param meta actor and clock
 * @returns the stored operator with `branchIds`
 * @throws {KsefCertsError} NOT_FOUND when the company does not exist
 * @throws {KsefCertsError} VALIDATION listing every broken rule (`name.*`, `pesel.*`, `nip.*`, `branchIds.company`)
 * @throws {KsefCertsError} CONFLICT when the company already has an operator with this PESEL
 */
export async function addOperator(db: Db, input: AddOperatorInput, meta: ChangeMeta): Promise<Operator> {
  const company = await getCompany(db, input.companyId);
  const v: Violation[] = [];
  const name = requiredText(v, "name", input.name, MAX_NAME);
  const pesel = input.pesel?.trim() || undefined;
  const nip = input.nip === undefined || input.nip.trim() === "" ? undefined : normalizeNip(input.nip);
  if (pesel !== undefined) v.push(...checkPesel(pesel, "pesel"));
  if (nip !== undefined) v.push(...checkNip(nip, "nip"));
  const branchIds = [...new Set(input.branchIds ?? [])];
  v.push(...(await branchViolations(db, company.id, branchIds)));
  assertValid(v, "The operator");
  const at = meta.at ?? new Date();
  const duplicate = (): KsefCertsError =>
    new KsefCertsError("CONFLICT", msg("organisation.operator.duplicatePesel"), {
      hint: msg("organisation.operator.duplicatePesel.hint"),
      details: { companyId: company.id },
    });
  return conflictOnDuplicate(
    () =>
      inTransaction(db, async (tx) => {
        if (pesel !== undefined) {
          const [same] = await tx
            .select({ id: operators.id })
            .from(operators)
            .where(and(eq(operators.companyId, company.id), eq(operators.pesel, pesel)));
          if (same !== undefined) throw duplicate();
        }
        const [row] = await tx
          .insert(operators)
          .values({ companyId: company.id, name, pesel: pesel ?? null, nip: nip ?? null, createdAt: at, updatedAt: at })
          .returning();
        if (row === undefined) throw new KsefCertsError("INTERNAL", msg("organisation.operator.noRow"));
        if (branchIds.length > 0) await tx.insert(operatorBranches).values(branchIds.map((branchId) => ({ operatorId: row.id, branchId })));
        const operator = { ...row, branchIds: [...branchIds].sort() };
        // A PESEL identifies a person: it is personal data, but not a secret, and the audit must say who was added.
        await appendAudit(tx, { actor: meta.actor, action: "operator.add", entityType: "operator", entityId: row.id, after: operator, at });
        return operator;
      }),
    duplicate,
  );
}

/**
 * Lets an operator work at a branch of their company. Idempotent: an existing assignment is left as is (no audit entry).
 * @param db the database
 * @param input operator and branch ids
 * @param meta actor and clock
 * @returns whether an assignment was added
 * @throws {KsefCertsError} NOT_FOUND for an unknown operator or branch
 * @throws {KsefCertsError} VALIDATION (`branchId.company`) when the branch belongs to another company
 */
export async function assignOperatorToBranch(
  db: Db,
  input: { readonly operatorId: string; readonly branchId: string },
  meta: ChangeMeta,
): Promise<{ readonly added: boolean }> {
  const operator = await getOperator(db, input.operatorId);
  const branch = await getBranch(db, input.branchId);
  if (branch.companyId !== operator.companyId) {
    assertValid([violation("branchId", "branchId.company")], "The assignment");
  }
  if (operator.branchIds.includes(branch.id)) return { added: false };
  const at = meta.at ?? new Date();
  return inTransaction(db, async (tx) => {
    const inserted = await tx.insert(operatorBranches).values({ operatorId: operator.id, branchId: branch.id }).onConflictDoNothing().returning();
    if (inserted.length === 0) return { added: false };
    await appendAudit(tx, {
      actor: meta.actor,
      action: "operator.assignBranch",
      entityType: "operator",
      entityId: operator.id,
      before: { branchIds: operator.branchIds },
      after: { branchIds: [...operator.branchIds, branch.id].sort() },
      at,
    });
    return { added: true };
  });
}

/**
 * One operator with the branches they work at.
 * @param db the database
 * @param id operator id
 * @throws {KsefCertsError} NOT_FOUND for an unknown id
 */
export async function getOperator(db: Db, id: string): Promise<Operator> {
  if (!isUuid(id)) throw notFound("operator", String(id));
  const [row] = await db.select().from(operators).where(eq(operators.id, id));
  if (row === undefined) throw notFound("operator", id);
  const links = await db.select({ branchId: operatorBranches.branchId }).from(operatorBranches).where(eq(operatorBranches.operatorId, id));
  return { ...row, branchIds: links.map((l) => l.branchId).sort() };
}

/**
 * The operators of a company, or of one branch, by name.
 * @param db the database
 * @param filter `companyId` or `branchId` (one of them)
 * @throws {KsefCertsError} NOT_FOUND when the company or branch does not exist; VALIDATION when neither is given
 */
export async function listOperators(db: Db, filter: { readonly companyId?: string; readonly branchId?: string }): Promise<Operator[]> {
  let rows: (typeof operators.$inferSelect)[];
  if (filter.branchId !== undefined) {
    await getBranch(db, filter.branchId);
    rows = (
      await db
        .select({ operator: operators })
        .from(operators)
        .innerJoin(operatorBranches, eq(operatorBranches.operatorId, operators.id))
        .where(eq(operatorBranches.branchId, filter.branchId))
        .orderBy(asc(operators.name))
    ).map((r) => r.operator);
  } else if (filter.companyId !== undefined) {
    await getCompany(db, filter.companyId);
    rows = await db.select().from(operators).where(eq(operators.companyId, filter.companyId)).orderBy(asc(operators.name));
  } else {
    throw new KsefCertsError("VALIDATION", msg("organisation.operators.filterRequired"), {
      violations: [violation("companyId", "companyId.required")],
    });
  }
  if (rows.length === 0) return [];
  const links = await db
    .select()
    .from(operatorBranches)
    .where(
      inArray(
        operatorBranches.operatorId,
        rows.map((r) => r.id),
      ),
    );
  return rows.map((r) => ({
    ...r,
    branchIds: links
      .filter((l) => l.operatorId === r.id)
      .map((l) => l.branchId)
      .sort(),
  }));
}

// ------------------------------------------------------------------------------------------------
// Workstations
// ------------------------------------------------------------------------------------------------

/** Input of {@link addWorkstation}. */
export interface AddWorkstationInput {
  readonly branchId: string;
  /** Unique within the branch (1–200 characters). */
  readonly name: string;
  /** Absolute folder on the workstation where auth.xml is written (POSIX `/…`, Windows `C:\…` or UNC `\\server\share\…`). */
  readonly outboxDir: string;
  /** Absolute folder on the workstation where the signed file is dropped; not the outbox, and neither inside the other. */
  readonly inboxDir: string;
}

/** The workstation may run Windows or a POSIX system: normalise accordingly to compare folders. */
function folderKey(dir: string): { kind: "posix" | "win"; key: string } | undefined {
  if (/^[A-Za-z]:[\\/]/.test(dir) || /^\\\\[^\\/]+[\\/][^\\/]+/.test(dir)) {
    const normal = path.win32.normalize(dir).replace(/[\\]+$/, "");
    return { kind: "win", key: normal.toLowerCase() };
  }
  if (dir.startsWith("/")) return { kind: "posix", key: path.posix.normalize(dir).replace(/\/+$/, "") || "/" };
  return undefined;
}

function checkFolder(v: Violation[], field: "outboxDir" | "inboxDir", value: unknown): { kind: "posix" | "win"; key: string } | undefined {
  const dir = typeof value === "string" ? value.trim() : "";
  if (dir.length === 0) {
    v.push(violation(field, `${field}.required`));
    return undefined;
  }
  if (dir.length > MAX_PATH || dir.includes("\0")) {
    v.push(violation(field, `${field}.length`, { max: MAX_PATH }));
    return undefined;
  }
  const key = folderKey(dir);
  if (key === undefined) v.push(violation(field, `${field}.absolute`));
  return key;
}

function inside(child: string, parent: string, sep: string): boolean {
  return child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/**
 * Adds a workstation (a computer at a branch where people sign auth.xml) with its hand-off folders.
 * @param db the database
 * @param input see {@link AddWorkstationInput}
 * @param meta actor and clock
 * @returns the stored workstation
 * @throws {KsefCertsError} NOT_FOUND when the branch does not exist
 * @throws {KsefCertsError} VALIDATION listing every broken rule (`name.*`, `outboxDir.*`, `inboxDir.*`, `inboxDir.distinct`, `inboxDir.nested`)
 * @throws {KsefCertsError} CONFLICT when the branch already has a workstation of this name
 */
export async function addWorkstation(db: Db, input: AddWorkstationInput, meta: ChangeMeta): Promise<Workstation> {
  const branch = await getBranch(db, input.branchId);
  const v: Violation[] = [];
  const name = requiredText(v, "name", input.name, MAX_NAME);
  const outbox = checkFolder(v, "outboxDir", input.outboxDir);
  const inbox = checkFolder(v, "inboxDir", input.inboxDir);
  if (outbox !== undefined && inbox !== undefined) {
    const sep = outbox.kind === "win" ? "\\" : "/";
    if (outbox.kind === inbox.kind && outbox.key === inbox.key) {
      v.push(violation("inboxDir", "inboxDir.distinct"));
    } else if (outbox.kind === inbox.kind && (inside(outbox.key, inbox.key, sep) || inside(inbox.key, outbox.key, sep))) {
      v.push(violation("inboxDir", "inboxDir.nested"));
    } else if (outbox.kind !== inbox.kind) {
      v.push(violation("inboxDir", "inboxDir.sameSystem"));
    }
  }
  assertValid(v, "The workstation");
  const at = meta.at ?? new Date();
  const duplicate = (): KsefCertsError =>
    new KsefCertsError("CONFLICT", msg("organisation.workstation.duplicateName", { name: JSON.stringify(name) }), {
      hint: msg("organisation.workstation.duplicateName.hint"),
      details: { branchId: branch.id, name },
    });
  return conflictOnDuplicate(
    () =>
      inTransaction(db, async (tx) => {
        const [same] = await tx
          .select({ id: workstations.id })
          .from(workstations)
          .where(and(eq(workstations.branchId, branch.id), eq(workstations.name, name)));
        if (same !== undefined) throw duplicate();
        const [row] = await tx
          .insert(workstations)
          .values({ branchId: branch.id, name, outboxDir: input.outboxDir.trim(), inboxDir: input.inboxDir.trim(), createdAt: at, updatedAt: at })
          .returning();
        if (row === undefined) throw new KsefCertsError("INTERNAL", msg("organisation.workstation.noRow"));
        await appendAudit(tx, { actor: meta.actor, action: "workstation.add", entityType: "workstation", entityId: row.id, after: row, at });
        return row;
      }),
    duplicate,
  );
}

/**
 * One workstation.
 * @param db the database
 * @param id workstation id
 * @throws {KsefCertsError} NOT_FOUND for an unknown id
 */
export async function getWorkstation(db: Db, id: string): Promise<Workstation> {
  if (!isUuid(id)) throw notFound("workstation", String(id));
  const [row] = await db.select().from(workstations).where(eq(workstations.id, id));
  if (row === undefined) throw notFound("workstation", id);
  return row;
}

/**
 * The workstations of a branch, or of every branch of a company, by name.
 * @param db the database
 * @param filter `branchId` or `companyId` (one of them)
 * @throws {KsefCertsError} NOT_FOUND when the branch or company does not exist; VALIDATION when neither is given
 */
export async function listWorkstations(db: Db, filter: { readonly branchId?: string; readonly companyId?: string }): Promise<Workstation[]> {
  if (filter.branchId !== undefined) {
    await getBranch(db, filter.branchId);
    return db.select().from(workstations).where(eq(workstations.branchId, filter.branchId)).orderBy(asc(workstations.name));
  }
  if (filter.companyId !== undefined) {
    await getCompany(db, filter.companyId);
    const rows = await db
      .select({ workstation: workstations })
      .from(workstations)
      .innerJoin(branches, eq(branches.id, workstations.branchId))
      .where(eq(branches.companyId, filter.companyId))
      .orderBy(asc(workstations.name));
    return rows.map((r) => r.workstation);
  }
  throw new KsefCertsError("VALIDATION", msg("organisation.workstations.filterRequired"), {
    violations: [violation("branchId", "branchId.required")],
  });
}
