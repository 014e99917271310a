// Using a held certificate's key on someone's behalf, role by role: only write access opens it (the same right as
// exporting), reading never does; and an enrollment request is authorised against its principal in core.
import { randomUUID } from "node:crypto";
import { beforeAll, expect, it } from "vitest";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { recordCertificate, sealedPasswordAad, type Scope } from "../registry/certificates.js";
import { addBranch, addCompany, addOperator, addWorkstation } from "../registry/organisation.js";
import { DAY, testCertificate, testKey, type TestKey } from "../registry/__fixtures__/certs.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { seal } from "@ksef-certs/ksef/crypto";
import { unlockHeldCertificate, vaultFromMasterKey } from "../vault/index.js";
import { LOCAL_SYSTEM_PRINCIPAL } from "./held.js";
import type { Principal, Role } from "./rules.js";
import { authorizeEnrollmentRequest } from "./use.js";

const T0 = new Date("2026-03-01T12:00:00Z");
const META = { actor: "test", at: T0 };
const MASTER = new Uint8Array(32).fill(7);
const VAULT = vaultFromMasterKey(MASTER);
let key: TestKey;
beforeAll(async () => {
  key = await testKey();
});

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (err instanceof KsefCertsError) return err.code;
    throw err;
  }
}

async function world(db: Db) {
  const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, META);
  const other = await addCompany(db, { nip: "7740001454", name: "Inna" }, META);
  const b1 = await addBranch(db, { companyId: company.id, code: "B1", name: "Oddział 1" }, META);
  const b2 = await addBranch(db, { companyId: company.id, code: "B2", name: "Oddział 2" }, META);
  const o1 = await addOperator(db, { companyId: company.id, name: "Jan", branchIds: [b1.id] }, META);
  const w1 = await addWorkstation(db, { branchId: b1.id, name: "kasa-1", outboxDir: "/tmp/o1", inboxDir: "/tmp/i1" }, META);
  const w2 = await addWorkstation(db, { branchId: b2.id, name: "kasa-2", outboxDir: "/tmp/o2", inboxDir: "/tmp/i2" }, META);
  const held = async (scope: Scope): Promise<string> => {
    const der = await testCertificate(key, "Authentication", new Date(T0.getTime() - 10 * DAY), 365);
    const id = randomUUID();
    const sealedPassword = seal(MASTER, key.password, sealedPasswordAad(id));
    const row = await recordCertificate(
      db,
      { id, scope, environment: "test", mode: "current", name: "Cert", certificateDer: der, keyFile: key.keyFile, source: "imported", sealedPassword },
      META,
    );
    return row.id;
  };
  const certs = {
    company: await held({ type: "company", companyId: company.id }),
    b1: await held({ type: "branch", branchId: b1.id }),
    b2: await held({ type: "branch", branchId: b2.id }),
    o1: await held({ type: "operator", operatorId: o1.id }),
    other: await held({ type: "company", companyId: other.id }),
  };
  const principal = (role: Role, companyId: string | null, branchId: string | null): Principal => ({
    userId: role,
    login: role,
    displayName: role,
    locale: "pl",
    roles: [{ role, companyId, branchId }],
  });
  const principals: Record<string, Principal> = {
    super_admin: principal("super_admin", null, null),
    company_admin: principal("company_admin", company.id, null),
    branch_admin: principal("branch_admin", company.id, b1.id),
    auditor: principal("auditor", company.id, null),
  };
  return { company, b1, b2, o1, w1, w2, certs, principals };
}

// Expected outcome of opening each held key, per role: write access opens it; read-only is FORBIDDEN; unseen is NOT_FOUND.
const EXPECTED: Record<string, Record<string, string>> = {
  super_admin: { company: "ok", b1: "ok", b2: "ok", o1: "ok", other: "ok" },
  company_admin: { company: "ok", b1: "ok", b2: "ok", o1: "ok", other: "NOT_FOUND" },
  branch_admin: { company: "FORBIDDEN", b1: "ok", b2: "NOT_FOUND", o1: "ok", other: "NOT_FOUND" },
  auditor: { company: "FORBIDDEN", b1: "FORBIDDEN", b2: "FORBIDDEN", o1: "FORBIDDEN", other: "NOT_FOUND" },
};

describeEachDb("access: using a held certificate's key", (ctx) => {
  it("opens the key only for a principal with write access; read-only and unseen are refused before anything is unsealed", async () => {
    const w = await world(ctx().db);
    for (const [role, expected] of Object.entries(EXPECTED)) {
      const principal = w.principals[role];
      if (principal === undefined) throw new Error(role);
      for (const [which, want] of Object.entries(expected)) {
        const id = w.certs[which as keyof typeof w.certs];
        const got = await outcome(VAULT.unlockSigner(ctx().db, principal, id, { hint: "test" }));
        expect(`${role}/${which}: ${got}`).toBe(`${role}/${which}: ${want}`);
      }
    }
    // The local system (CLI, background runs of authorised requests) opens any key; the sealed password really is used.
    const signer = await VAULT.unlockSigner(ctx().db, LOCAL_SYSTEM_PRINCIPAL, w.certs.other, { hint: "test" });
    expect(signer.privateKey.asymmetricKeyType).toBe("ec");
    expect(sealedPasswordAad(w.certs.other)).toContain(w.certs.other);
  });

  it("a read-only refusal names the rule and the field, so the form can place it", async () => {
    const w = await world(ctx().db);
    const err = await VAULT.unlockSigner(ctx().db, w.principals.branch_admin as Principal, w.certs.company, {
      hint: "test",
      certificateField: "ksef.signingCertificateId",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsefCertsError);
    expect((err as KsefCertsError).violations).toEqual([expect.objectContaining({ field: "ksef.signingCertificateId", rule: "signingCertificate.access" })]);
  });

  it("takes the typed password first, then the sealed one, then the fallback; without any it asks for one", async () => {
    const w = await world(ctx().db);
    const id = w.certs.other;
    const asked: string[] = [];
    const fallback = (): Promise<string> => {
      asked.push(id);
      return Promise.resolve(key.password);
    };
    // Sealed and vault present: the fallback is never asked.
    await VAULT.unlockSigner(ctx().db, LOCAL_SYSTEM_PRINCIPAL, id, { hint: "test", fallbackPassword: fallback });
    expect(asked).toEqual([]);
    // A wrong typed password wins over the sealed one.
    expect(await outcome(VAULT.unlockSigner(ctx().db, LOCAL_SYSTEM_PRINCIPAL, id, { hint: "test", password: "wrong" }))).toBe("WRONG_PASSWORD");
    // Without a vault the sealed password cannot open: the fallback is asked, and without one PASSWORD_REQUIRED names the field.
    await unlockHeldCertificate(ctx().db, LOCAL_SYSTEM_PRINCIPAL, id, undefined, { hint: "test", fallbackPassword: fallback });
    expect(asked).toEqual([id]);
    const err = await unlockHeldCertificate(ctx().db, LOCAL_SYSTEM_PRINCIPAL, id, undefined, { hint: "do this", passwordField: "pw" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsefCertsError);
    expect((err as KsefCertsError).code).toBe("PASSWORD_REQUIRED");
    expect((err as KsefCertsError).hint).toBe("do this");
    expect((err as KsefCertsError).violations).toEqual([expect.objectContaining({ field: "pw" })]);
    // Another master key does not open the sealed password.
    expect(await outcome(vaultFromMasterKey(new Uint8Array(32).fill(8)).unlockSigner(ctx().db, LOCAL_SYSTEM_PRINCIPAL, id, { hint: "test" }))).toBe(
      "FORBIDDEN",
    );
  });

  it("an enrollment request is authorised against its principal: scope write, signing key use, workstation read", async () => {
    const w = await world(ctx().db);
    const ba = w.principals.branch_admin as Principal;
    const auditor = w.principals.auditor as Principal;
    const op = { type: "operator" as const, operatorId: w.o1.id };
    expect(await outcome(authorizeEnrollmentRequest(ctx().db, ba, { scope: op, signingCertificateId: w.certs.o1 }))).toBe("ok");
    expect(await outcome(authorizeEnrollmentRequest(ctx().db, ba, { scope: op, signingCertificateId: w.certs.company }))).toBe("FORBIDDEN");
    expect(await outcome(authorizeEnrollmentRequest(ctx().db, ba, { scope: op, signingCertificateId: w.certs.b2 }))).toBe("NOT_FOUND");
    expect(await outcome(authorizeEnrollmentRequest(ctx().db, ba, { scope: op, workstationId: w.w1.id }))).toBe("ok");
    expect(await outcome(authorizeEnrollmentRequest(ctx().db, ba, { scope: op, workstationId: w.w2.id }))).toBe("NOT_FOUND");
    expect(await outcome(authorizeEnrollmentRequest(ctx().db, ba, { scope: { type: "company", companyId: w.company.id }, workstationId: w.w1.id }))).toBe(
      "FORBIDDEN",
    );
    expect(await outcome(authorizeEnrollmentRequest(ctx().db, auditor, { scope: op, workstationId: w.w1.id }))).toBe("FORBIDDEN");
  });
});
