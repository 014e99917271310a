import { eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import { auditLog, companies, certificates } from "../store/schema.js";
import { DAY, testCertificate, testKey, type TestKey } from "./__fixtures__/certs.js";
import { recordCertificate, scopeOf } from "./certificates.js";

const T0 = new Date("2026-03-01T12:00:00Z");
let key: TestKey;
beforeAll(async () => {
  key = await testKey();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (err) {
    if (isKsefCertsError(err)) return err.code;
    throw err;
  }
}

describeEachDb("registry: recordCertificate", (ctx) => {
  it("records a certificate with what it reads from it, and audits it", async () => {
    const { db } = ctx();
    const [company] = await db.insert(companies).values({ nip: "5265877635", name: "Firma" }).returning();
    if (company === undefined) throw new Error("no company");
    const scope = { type: "company", companyId: company.id } as const;
    expect(await scopeOf(db, scope)).toEqual({ type: "company", companyId: company.id, branchId: null, operatorId: null });
    const der = await testCertificate(key, "Offline", new Date(T0.getTime() - DAY));
    const row = await recordCertificate(db, { scope, environment: "test", mode: "current", name: "Moj certyfikat", certificateDer: der, keyFile: key.keyFile, source: "imported" }, { actor: "admin", at: T0 });
    expect(row).toMatchObject({ certificateType: "Offline", mode: "current", subjectIdentifierType: "Pesel", subjectIdentifierValue: "44051401359", status: "active", scopeType: "company" });
    expect(row.serialNumber).toMatch(/^[0-9A-F]{16}$/);
    expect(Buffer.from(row.keyFile).equals(Buffer.from(key.keyFile))).toBe(true);
    const audit = await db.select().from(auditLog).where(eq(auditLog.entityId, row.id));
    expect(audit.map((a) => a.action)).toEqual(["certificate.record"]);
    expect(JSON.stringify(audit)).not.toContain("ENCRYPTED");
    expect((await verifyAuditLog(db)).ok).toBe(true);
    // Same serial again → CONFLICT, nothing more written.
    expect(await code(recordCertificate(db, { scope, environment: "test", mode: "queued", name: "x", certificateDer: der, keyFile: key.keyFile, source: "imported" }, { actor: "admin", at: T0 }))).toBe("CONFLICT");
    expect(await db.select({ id: certificates.id }).from(certificates)).toHaveLength(1);
  });
});
