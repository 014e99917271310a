/** Test-only: a company with a branch and two workstations, the shape every agent test starts from. */
import type { Db } from "../../store/db.js";
import { branches, companies, enrollments, operators, workstations } from "../../store/schema.js";
import { NIP } from "@ksef-certs/ksef/testing";

/** Ids of the seeded organisation. */
export interface Org {
  readonly companyId: string;
  readonly branchId: string;
  /** `kasa-1`: the workstation the tests pair and sign at. */
  readonly workstationId: string;
  /** `kasa-2`: another workstation of the same branch (must never see kasa-1's requests). */
  readonly otherWorkstationId: string;
}

/** Inserts company {@link NIP} "Hurtownia Testowa", branch WAW and workstations kasa-1 and kasa-2. */
export async function seedOrg(db: Db): Promise<Org> {
  const [c] = await db.insert(companies).values({ nip: NIP, name: "Hurtownia Testowa" }).returning();
  if (c === undefined) throw new Error("no company");
  const [b] = await db.insert(branches).values({ companyId: c.id, code: "WAW", name: "Oddział Warszawa" }).returning();
  if (b === undefined) throw new Error("no branch");
  const [w1, w2] = await db
    .insert(workstations)
    .values([
      { branchId: b.id, name: "kasa-1", outboxDir: "C:\\KSeF\\do-podpisu", inboxDir: "C:\\KSeF\\podpisane" },
      { branchId: b.id, name: "kasa-2", outboxDir: "/home/kasa2/out", inboxDir: "/home/kasa2/in" },
    ])
    .returning();
  if (w1 === undefined || w2 === undefined) throw new Error("no workstations");
  return { companyId: c.id, branchId: b.id, workstationId: w1.id, otherWorkstationId: w2.id };
}

/**
 * Inserts a hand-off enrollment (state `awaiting_signature`) at kasa-1 for the company, or with `operator` for a
 * new operator of the company (name, PESEL and/or NIP); returns its id.
 */
export async function seedEnrollment(db: Db, org: Org, operator?: { readonly name: string; readonly pesel?: string; readonly nip?: string }): Promise<string> {
  let operatorId: string | undefined;
  if (operator !== undefined) {
    const [o] = await db
      .insert(operators)
      .values({ companyId: org.companyId, ...operator })
      .returning({ id: operators.id });
    operatorId = o?.id;
  }
  const scope = operatorId === undefined ? { scopeType: "company" as const } : { scopeType: "operator" as const, operatorId };
  const [e] = await db
    .insert(enrollments)
    .values({
      ...scope,
      companyId: org.companyId,
      environment: "test",
      certificateType: "Authentication",
      mode: "current",
      name: "Test enrollment",
      state: "awaiting_signature",
      authMethod: "handoff",
      workstationId: org.workstationId,
    })
    .returning({ id: enrollments.id });
  if (e === undefined) throw new Error("no enrollment");
  return e.id;
}
