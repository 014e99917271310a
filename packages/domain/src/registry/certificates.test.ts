import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { encodePem, exportPkcs12, inspectPrivateKey, isKsefKeyEncryption, keyMatchesCertificate, readPrivateKey } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate, rejection } from "@ksef-certs/ksef/testing";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { auditLog, certificates } from "../store/schema.js";
import { seal, unseal } from "@ksef-certs/ksef/crypto";
import { DAY, PERSON, SEAL, testCertificate, testKey, type TestKey } from "./__fixtures__/certs.js";
import {
  getCertificate,
  getCertificateSecrets,
  listCertificates,
  promoteQueued,
  recordCertificate,
  revokeCertificateLocally,
  type Scope,
  scopeOf,
  sealedPasswordAad,
} from "./certificates.js";
import { importCertificatePair, importPkcs12 } from "./import.js";
import { addBranch, addCompany, addOperator } from "./organisation.js";
import { coverageGaps, renewalWarnings } from "./reports.js";
import { certificateFor } from "./resolve.js";

const T0 = new Date("2026-03-01T12:00:00Z");
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);
const META = { actor: "admin", at: T0 };
let key: TestKey;
let otherKey: TestKey;
beforeAll(async () => {
  [key, otherKey] = await Promise.all([testKey(), testKey("Inne-Haslo-456!")]);
});

/** A company with two branches and two operators (Jan at O1, Anna at O2). */
async function organisation(db: Db) {
  const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, META);
  const b1 = await addBranch(db, { companyId: company.id, code: "O1", name: "Kraków" }, META);
  const b2 = await addBranch(db, { companyId: company.id, code: "O2", name: "Gdańsk" }, META);
  const jan = await addOperator(db, { companyId: company.id, name: "Jan Kowalski", pesel: "44051401359", branchIds: [b1.id] }, META);
  const anna = await addOperator(db, { companyId: company.id, name: "Anna Nowak", branchIds: [b2.id] }, META);
  return {
    company,
    b1,
    b2,
    jan,
    anna,
    scopes: {
      company: { type: "company", companyId: company.id } as Scope,
      b1: { type: "branch", branchId: b1.id } as Scope,
      b2: { type: "branch", branchId: b2.id } as Scope,
      jan: { type: "operator", operatorId: jan.id } as Scope,
      anna: { type: "operator", operatorId: anna.id } as Scope,
    },
  };
}

/** Records a certificate of `type` for `scope`, valid from `fromDay` for `days` (days relative to T0). */
async function record(
  db: Db,
  scope: Scope,
  type: "Authentication" | "Offline",
  mode: "current" | "queued",
  fromDay: number,
  days: number,
  options: { maxActive?: number; when?: Date } = {},
) {
  const der = await testCertificate(key, type, at(fromDay), days);
  return recordCertificate(
    db,
    { scope, environment: "test", mode, name: `Cert ${type} ${fromDay}`, certificateDer: der, keyFile: key.keyFile, source: "enrolled" },
    { actor: "admin", at: options.when ?? T0 },
    options.maxActive === undefined ? {} : { maxActive: options.maxActive },
  );
}

describeEachDb("registry: certificates", (ctx) => {
  it("records what it reads from the certificate, audits it, and refuses a duplicate serial", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    expect(await scopeOf(db, o.scopes.b1)).toEqual({ type: "branch", companyId: o.company.id, branchId: o.b1.id, operatorId: null });
    expect(await scopeOf(db, o.scopes.jan)).toEqual({ type: "operator", companyId: o.company.id, branchId: null, operatorId: o.jan.id });
    expect((await rejection(scopeOf(db, { type: "branch", branchId: o.jan.id }))).code).toBe("NOT_FOUND");

    const der = await testCertificate(key, "Offline", at(-1), 730, SEAL);
    const row = await recordCertificate(
      db,
      { scope: o.scopes.company, environment: "test", mode: "current", name: "Pieczęć", certificateDer: der, keyFile: key.keyFile, source: "imported" },
      META,
    );
    expect(row).toMatchObject({
      certificateType: "Offline",
      mode: "current",
      subjectIdentifierType: "Nip",
      subjectIdentifierValue: "5265877635",
      status: "active",
      scopeType: "company",
    });
    expect(row.serialNumber).toMatch(/^[0-9A-F]{16}$/);
    expect(row.subject).toContain("CN=Firma Testowa (offline)");
    expect(row.fingerprint).toMatch(/^[0-9A-F]{64}$/);
    expect(row.validTo.getTime() - row.validFrom.getTime()).toBe(730 * DAY);
    expect(Buffer.from(row.keyFile).equals(Buffer.from(key.keyFile))).toBe(true);

    const audit = await db.select().from(auditLog).where(eq(auditLog.entityId, row.id));
    expect(audit.map((a) => a.action)).toEqual(["certificate.record"]);
    expect(audit[0]?.after).toMatchObject({ serialNumber: row.serialNumber, passwordSealed: false });
    expect(JSON.stringify(audit)).not.toMatch(/ENCRYPTED|keyFile|certificateDer/);

    // The same serial in another environment is another certificate; in the same one it is a CONFLICT, and nothing is written.
    const again = await rejection(
      recordCertificate(
        db,
        { scope: o.scopes.b1, environment: "test", mode: "current", name: "x", certificateDer: der, keyFile: key.keyFile, source: "imported" },
        META,
      ),
    );
    expect(again.code).toBe("CONFLICT");
    expect(again.details["rule"]).toBe("uniqueSerial");
    await recordCertificate(
      db,
      { scope: o.scopes.company, environment: "demo", mode: "current", name: "Demo", certificateDer: der, keyFile: key.keyFile, source: "imported" },
      META,
    );
    expect(await db.select({ id: certificates.id }).from(certificates)).toHaveLength(2);
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });

  it("refuses what it cannot store, listing every problem", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const noType = (
      await issueKsefLikeCertificate({
        certificateType: "Offline",
        keys: key.keys,
        enrollmentData: PERSON,
        validFrom: at(-1),
        overrides: { keyUsage: "none", commonNameSuffix: "" },
      })
    ).der;
    const plainKey = new TextEncoder().encode(key.keys.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
    const e = await rejection(
      recordCertificate(
        db,
        { scope: o.scopes.company, environment: "test", mode: "current", name: "", certificateDer: noType, keyFile: plainKey, source: "imported" },
        META,
      ),
    );
    expect(e.code).toBe("VALIDATION");
    expect(e.violations.map((v) => v.rule).sort()).toEqual(["certificate.ksefType", "keyFile.encrypted", "name.length"]);

    const both = (
      await issueKsefLikeCertificate({
        certificateType: "Offline",
        keys: key.keys,
        enrollmentData: PERSON,
        validFrom: at(-1),
        overrides: { keyUsage: "Authentication" },
      })
    ).der;
    expect(
      (
        await rejection(
          recordCertificate(
            db,
            { scope: o.scopes.company, environment: "test", mode: "current", name: "Mixed", certificateDer: both, keyFile: key.keyFile, source: "imported" },
            META,
          ),
        )
      ).violations.map((v) => v.rule),
    ).toEqual(["certificate.typeConsistent"]);

    const expired = await testCertificate(key, "Authentication", at(-40), 30);
    expect(
      (
        await rejection(
          recordCertificate(
            db,
            { scope: o.scopes.company, environment: "test", mode: "current", name: "Old", certificateDer: expired, keyFile: key.keyFile, source: "imported" },
            META,
          ),
        )
      ).violations.map((v) => v.rule),
    ).toEqual(["certificate.expired"]);
    expect(
      (
        await rejection(
          recordCertificate(
            db,
            {
              scope: o.scopes.company,
              environment: "test",
              mode: "current",
              name: "Junk",
              certificateDer: new Uint8Array([48, 3, 2, 1, 1]),
              keyFile: key.keyFile,
              source: "imported",
            },
            META,
          ),
        )
      ).code,
    ).toBe("MALFORMED");
    expect((await rejection(record(db, { type: "operator", operatorId: "00000000-0000-4000-8000-000000000000" }, "Offline", "current", -1, 100))).code).toBe(
      "NOT_FOUND",
    );
    expect(await db.select().from(certificates)).toHaveLength(0);
  });

  it("applies the slot rules: one current, queued needs a current one, one queued, at most maxActive", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const queuedFirst = await rejection(record(db, o.scopes.jan, "Authentication", "queued", -1, 100));
    expect([queuedFirst.code, queuedFirst.details["rule"]]).toEqual(["CONFLICT", "queuedNeedsCurrent"]);

    const cur = await record(db, o.scopes.jan, "Authentication", "current", -10, 100);
    const second = await rejection(record(db, o.scopes.jan, "Authentication", "current", -1, 100));
    expect([second.code, second.details["rule"]]).toEqual(["CONFLICT", "oneCurrent"]);
    expect(second.hint).toMatch(/queued/);

    // Other type, other scope, other environment: separate slots.
    await record(db, o.scopes.jan, "Offline", "current", -1, 100);
    await record(db, o.scopes.anna, "Authentication", "current", -1, 100);

    const q = await record(db, o.scopes.jan, "Authentication", "queued", 80, 730);
    expect(q.mode).toBe("queued");
    const limit = await rejection(record(db, o.scopes.jan, "Authentication", "queued", 85, 730));
    expect([limit.code, limit.details["rule"]]).toEqual(["CONFLICT", "maxActive"]);
    const oneQueued = await rejection(record(db, o.scopes.jan, "Authentication", "queued", 85, 730, { maxActive: 3 }));
    expect([oneQueued.code, oneQueued.details["rule"]]).toEqual(["CONFLICT", "oneQueued"]);
    const strict = await rejection(record(db, o.scopes.anna, "Authentication", "queued", 50, 730, { maxActive: 1 }));
    expect(strict.details["rule"]).toBe("maxActive");
    expect((await rejection(record(db, o.scopes.anna, "Offline", "current", -1, 100, { maxActive: 0 }))).code).toBe("VALIDATION");

    // At day 120 cur (ended day 90) no longer counts: q took over, and a new queued one fits.
    const later = await record(db, o.scopes.jan, "Authentication", "queued", 500, 730, { when: at(120) });
    expect(later.mode).toBe("queued");
    const rows = await db.select({ id: certificates.id, mode: certificates.mode }).from(certificates).where(eq(certificates.id, q.id));
    // Recording at day 120 promoted the successor first: cur expired at day 90.
    expect(rows[0]?.mode).toBe("current");
    expect(cur.validTo.getTime()).toBe(at(90).getTime());
  });

  it("keeps one current under concurrent records of the same slot", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const ders = await Promise.all([0, 1, 2, 3].map(() => testCertificate(key, "Authentication", at(-1), 100)));
    // Open the pool's connections first (PostgreSQL): otherwise the first transaction finishes while the others still connect, and nothing races.
    await Promise.all([0, 1, 2, 3].map(() => db.execute(sql`SELECT pg_sleep(0.05)`)));
    const results = await Promise.allSettled(
      ders.map((der, i) =>
        recordCertificate(
          db,
          { scope: o.scopes.b1, environment: "test", mode: "current", name: `C${i}`, certificateDer: der, keyFile: key.keyFile, source: "imported" },
          META,
        ),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect((r.reason as KsefCertsError).code).toBe("CONFLICT");
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });

  it("imports a .crt/.key pair: encrypted PKCS#8 kept byte for byte, a plain key re-encrypted, a mismatch refused with nothing written", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const master = randomBytes(32);
    const crtPem = encodePem("CERTIFICATE", await testCertificate(key, "Authentication", at(-1), 730));
    const kept = await importCertificatePair(
      db,
      {
        scope: o.scopes.jan,
        environment: "test",
        mode: "current",
        crt: crtPem,
        key: key.keyFile,
        password: key.password,
        sealPassword: { seal: (p, aad) => seal(master, p, aad) },
      },
      META,
    );
    expect(kept).toMatchObject({ name: "Jan Kowalski", certificateType: "Authentication", source: "imported", subjectIdentifierType: "Pesel" });
    const secrets = await getCertificateSecrets(db, kept.id);
    expect(Buffer.from(secrets.keyFile).equals(Buffer.from(key.keyFile))).toBe(true);
    expect(secrets.sealedPasswordAad).toBe(sealedPasswordAad(kept.id));
    expect(new TextDecoder().decode(unseal(master, secrets.sealedPassword ?? new Uint8Array(), secrets.sealedPasswordAad))).toBe(key.password);
    expect(Buffer.from(secrets.sealedPassword ?? []).includes(Buffer.from(key.password))).toBe(false);

    // A plain PKCS#8 key (DER, as some programs write) is stored encrypted in the KSeF web app layout, under the given password.
    const offlineDer = await testCertificate(otherKey, "Offline", at(-1), 730);
    const plainDer = otherKey.keys.privateKey.export({ type: "pkcs8", format: "der" });
    const reenc = await importCertificatePair(
      db,
      { scope: o.scopes.jan, environment: "test", mode: "current", name: "Offline Jana", crt: offlineDer, key: plainDer, password: "Nowe-Haslo-789!" },
      META,
    );
    const stored = (await getCertificateSecrets(db, reenc.id)).keyFile;
    const inspected = inspectPrivateKey(stored);
    expect(inspected.format).toBe("pkcs8-encrypted");
    expect(isKsefKeyEncryption(inspected.encryption)).toBe(true);
    expect(keyMatchesCertificate((await readPrivateKey(stored, { password: "Nowe-Haslo-789!" })).key, offlineDer)).toBe(true);
    expect(reenc.sealedPassword).toBeNull();

    const before = await db.select().from(auditLog);
    const mismatch = await rejection(
      importCertificatePair(
        db,
        {
          scope: o.scopes.b1,
          environment: "test",
          mode: "current",
          crt: await testCertificate(key, "Offline", at(-1), 730),
          key: plainDer,
          password: "Nowe-Haslo-789!",
        },
        META,
      ),
    );
    expect(mismatch.code).toBe("KEY_MISMATCH");
    const wrong = await rejection(
      importCertificatePair(db, { scope: o.scopes.b1, environment: "test", mode: "current", crt: crtPem, key: key.keyFile, password: "wrong" }, META),
    );
    expect(wrong.code).toBe("WRONG_PASSWORD");
    expect(
      (await rejection(importCertificatePair(db, { scope: o.scopes.b1, environment: "test", mode: "current", crt: crtPem, key: plainDer, password: "" }, META)))
        .code,
    ).toBe("VALIDATION");
    expect(await db.select({ id: certificates.id }).from(certificates)).toHaveLength(2);
    expect(await db.select().from(auditLog)).toHaveLength(before.length);
  });

  it("imports a PKCS#12 file, storing its key as KSeF-layout encrypted PKCS#8 under the file's password", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const der = await testCertificate(otherKey, "Offline", at(-1), 730, SEAL);
    const p12 = await exportPkcs12({
      certificate: der,
      privateKey: otherKey.keys.privateKey,
      password: "Plik-P12-Haslo!",
      iterations: 1000,
      macIterations: 1000,
    });
    expect((await rejection(importPkcs12(db, { scope: o.scopes.company, environment: "demo", mode: "current", p12, password: "nie to" }, META))).code).toBe(
      "WRONG_PASSWORD",
    );
    const row = await importPkcs12(db, { scope: o.scopes.company, environment: "demo", mode: "current", p12, password: "Plik-P12-Haslo!" }, META);
    expect(row).toMatchObject({ name: "Firma Testowa", certificateType: "Offline", environment: "demo", subjectIdentifierValue: "5265877635" });
    const stored = (await getCertificateSecrets(db, row.id)).keyFile;
    expect(isKsefKeyEncryption(inspectPrivateKey(stored).encryption)).toBe(true);
    expect(keyMatchesCertificate((await readPrivateKey(stored, { password: "Plik-P12-Haslo!" })).key, der)).toBe(true);
    expect(Buffer.from((await getCertificate(db, row.id)).certificateDer).equals(Buffer.from(der))).toBe(true);
  });

  it("lists with filters, state and days to expiry, never with secrets", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const a = await record(db, o.scopes.company, "Authentication", "current", -700, 730); // ends day 30
    const b = await record(db, o.scopes.b1, "Offline", "current", -1, 200);
    const c = await record(db, o.scopes.jan, "Authentication", "current", -1, 400);
    await revokeCertificateLocally(db, c.id, "KeyCompromise", META);
    const all = await listCertificates(db, { at: T0 });
    expect(all.map((r) => r.id)).toEqual([a.id, b.id, c.id]);
    for (const r of all) {
      expect(r).not.toHaveProperty("keyFile");
      expect(r).not.toHaveProperty("sealedPassword");
      expect(r).not.toHaveProperty("certificateDer");
    }
    expect(all.map((r) => [r.state, r.daysToExpiry])).toEqual([
      ["active", 30],
      ["active", 199],
      ["revoked", 399],
    ]);
    expect((await listCertificates(db, { at: T0, expiringWithinDays: 60 })).map((r) => r.id)).toEqual([a.id]);
    expect((await listCertificates(db, { at: T0, status: "revoked" })).map((r) => r.id)).toEqual([c.id]);
    expect((await listCertificates(db, { at: at(31), status: "expired" })).map((r) => [r.id, r.state, r.daysToExpiry])).toEqual([[a.id, "expired", -1]]);
    expect((await listCertificates(db, { at: T0, branchId: o.b1.id })).map((r) => r.id)).toEqual([b.id]);
    expect((await listCertificates(db, { at: T0, operatorId: o.jan.id, certificateType: "Authentication" })).map((r) => r.id)).toEqual([c.id]);
    expect((await listCertificates(db, { at: T0, companyId: o.company.id, certificateType: "Offline", environment: "test" })).map((r) => r.id)).toEqual([b.id]);
    expect((await listCertificates(db, { at: T0, serialNumber: b.serialNumber.toLowerCase() })).map((r) => r.id)).toEqual([b.id]);
    expect((await listCertificates(db, { at: T0, limit: 1, offset: 1 })).map((r) => r.id)).toEqual([b.id]);
    expect(await listCertificates(db, { at: T0, environment: "production" })).toEqual([]);
    expect((await rejection(listCertificates(db, { expiringWithinDays: -1 }))).code).toBe("VALIDATION");
  });

  it("promotes a queued successor once the current one has expired, with an audit entry by system", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const cur = await record(db, o.scopes.b1, "Offline", "current", -700, 730); // ends day 30
    const next = await record(db, o.scopes.b1, "Offline", "queued", 35, 730); // starts day 35
    expect(await promoteQueued(db, { at: at(29) })).toEqual([]);
    // Day 32: the current one is gone but the successor has not started yet: still queued.
    expect((await listCertificates(db, { at: at(32), branchId: o.b1.id })).map((r) => [r.id, r.mode, r.state])).toEqual([
      [cur.id, "current", "expired"],
      [next.id, "queued", "notYetValid"],
    ]);
    // Listing at day 36 is a read: the takeover is not written by it.
    expect((await listCertificates(db, { at: at(36), branchId: o.b1.id })).find((r) => r.id === next.id)).toMatchObject({ mode: "queued", state: "active" });
    expect(await db.select().from(auditLog).where(eq(auditLog.action, "certificate.promote"))).toEqual([]);
    // The background job persists it, once.
    expect(await promoteQueued(db, { at: at(36) })).toMatchObject([{ certificateId: next.id, replacedId: cur.id }]);
    const listed = await listCertificates(db, { at: at(36), branchId: o.b1.id });
    expect(listed.find((r) => r.id === next.id)).toMatchObject({ mode: "current", state: "active" });
    const promo = await db.select().from(auditLog).where(eq(auditLog.action, "certificate.promote"));
    expect(promo).toHaveLength(1);
    // effectiveAt: the moment it happened (the successor started on day 35, after the current one ended on day 30).
    expect(promo[0]).toMatchObject({
      actor: "system",
      entityId: next.id,
      after: { mode: "current", replacedId: cur.id, replacedBecause: "expired", effectiveAt: at(35).toISOString() },
    });
    expect(promo[0]?.at.toISOString()).toBe(at(36).toISOString());
    expect(await promoteQueued(db, { at: at(37) })).toEqual([]);
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });

  it("promotes the queued successor when the current one is revoked; revoking twice is a conflict", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const cur = await record(db, o.scopes.anna, "Authentication", "current", -10, 365);
    const next = await record(db, o.scopes.anna, "Authentication", "queued", -1, 730);
    const { certificate, promoted } = await revokeCertificateLocally(db, cur.id, "Superseded", { actor: "admin", at: at(1) });
    expect(certificate).toMatchObject({ id: cur.id, status: "revoked", state: "revoked", revocationReason: "Superseded" });
    expect(certificate.revokedAt?.toISOString()).toBe(at(1).toISOString());
    expect(promoted).toMatchObject({ certificateId: next.id, replacedId: cur.id });
    expect((await getCertificate(db, next.id, at(1))).mode).toBe("current");
    expect((await db.select().from(auditLog).where(eq(auditLog.entityId, next.id))).map((e) => [e.action, e.actor])).toEqual([
      ["certificate.record", "admin"],
      ["certificate.promote", "system"],
    ]);
    expect((await rejection(revokeCertificateLocally(db, cur.id, "again", META))).code).toBe("CONFLICT");
    expect((await rejection(revokeCertificateLocally(db, next.id, "", META))).code).toBe("VALIDATION");
    expect((await rejection(revokeCertificateLocally(db, "00000000-0000-4000-8000-000000000000", "x", META))).code).toBe("NOT_FOUND");
  });

  it("resolves operator, then branch, then company, and says which rule matched", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const comp = await record(db, o.scopes.company, "Authentication", "current", -10, 365);
    const br1 = await record(db, o.scopes.b1, "Authentication", "current", -10, 365);
    const janCert = await record(db, o.scopes.jan, "Authentication", "current", -10, 100);
    const base = { environment: "test", certificateType: "Authentication", at: T0 } as const;

    const jan = await certificateFor(db, { ...base, operatorId: o.jan.id, branchId: o.b1.id });
    expect(jan).toMatchObject({ found: true, rule: "operator", tried: ["operator"], scope: { type: "operator", operatorId: o.jan.id } });
    expect(jan.found && jan.certificate.id).toBe(janCert.id);
    expect(jan.found && "keyFile" in jan.certificate).toBe(false);

    const anna = await certificateFor(db, { ...base, operatorId: o.anna.id, branchId: o.b2.id });
    expect(anna).toMatchObject({ found: true, rule: "company", tried: ["operator", "branch", "company"] });
    expect(anna.found && anna.certificate.id).toBe(comp.id);
    const branch = await certificateFor(db, { ...base, branchId: o.b1.id });
    expect(branch.found && [branch.rule, branch.certificate.id]).toEqual(["branch", br1.id]);
    expect((await certificateFor(db, { ...base, companyId: o.company.id })).found && true).toBe(true);

    // Jan's own certificate ended on day 90: on day 91 his branch's answers.
    const later = await certificateFor(db, { ...base, operatorId: o.jan.id, branchId: o.b1.id, at: at(91) });
    expect(later.found && [later.rule, later.certificate.id]).toEqual(["branch", br1.id]);
    // Revoked → next rule; nothing in another environment or type, or before validity.
    await revokeCertificateLocally(db, br1.id, "Unspecified", META);
    const afterRevoke = await certificateFor(db, { ...base, operatorId: o.jan.id, branchId: o.b1.id, at: at(91) });
    expect(afterRevoke.found && afterRevoke.rule).toBe("company");
    expect(await certificateFor(db, { ...base, environment: "production", operatorId: o.jan.id, branchId: o.b1.id })).toEqual({
      found: false,
      tried: ["operator", "branch", "company"],
    });
    expect(await certificateFor(db, { ...base, certificateType: "Offline", companyId: o.company.id })).toEqual({ found: false, tried: ["company"] });
    expect((await certificateFor(db, { ...base, companyId: o.company.id, at: at(-11) })).found).toBe(false);

    const notThere = await rejection(certificateFor(db, { ...base, operatorId: o.anna.id, branchId: o.b1.id }));
    expect(notThere.violations.map((v) => v.rule)).toEqual(["resolution.operatorAtBranch"]);
    const other = await addCompany(db, { nip: "7740001454", name: "Inna" }, META);
    expect((await rejection(certificateFor(db, { ...base, operatorId: o.jan.id, companyId: other.id }))).violations.map((v) => v.rule)).toEqual([
      "resolution.sameCompany",
    ]);
    expect((await rejection(certificateFor(db, { ...base, operatorId: "00000000-0000-4000-8000-000000000000" }))).code).toBe("NOT_FOUND");
    expect((await rejection(certificateFor(db, base))).code).toBe("VALIDATION");
  });

  it("resolution at any date is a pure read: a due queued successor answers for its slot, and nothing is written", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const cur = await record(db, o.scopes.jan, "Offline", "current", -700, 730); // ends day 30
    const next = await record(db, o.scopes.jan, "Offline", "queued", 20, 730);
    const before = await db.select().from(certificates);
    const auditBefore = (await db.select().from(auditLog)).length;
    const q = { operatorId: o.jan.id, environment: "test", certificateType: "Offline" } as const;
    // A question about the future (what `cert resolve --at` asks) answers the successor…
    const future = await certificateFor(db, { ...q, at: at(31) });
    expect(future.found && [future.rule, future.certificate.id]).toEqual(["operator", next.id]);
    // …and changes nothing: asked about today, the current one still answers, the slot still has one current.
    const today = await certificateFor(db, { ...q, at: T0 });
    expect(today.found && today.certificate.id).toBe(cur.id);
    expect(await db.select().from(certificates)).toEqual(before);
    expect((await db.select().from(auditLog)).length).toBe(auditBefore);
    // Reports see the takeover the same way: the successor covers the current one, so no warning today; once it has
    // taken over (not yet written), the warning is about the successor, the slot's current one by then.
    expect(await renewalWarnings(db, { at: T0, withinDays: 60 })).toEqual([]);
    expect((await renewalWarnings(db, { at: at(40), withinDays: 800 })).map((w) => [w.certificate.id, w.reason])).toEqual([[next.id, "noSuccessor"]]);
    expect(await db.select().from(certificates)).toEqual(before);
  });

  it("warns about current certificates expiring without a successor that covers the gap", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const lonely = await record(db, o.scopes.company, "Authentication", "current", -700, 730); // ends day 30, nothing queued
    const covered = await record(db, o.scopes.b1, "Authentication", "current", -700, 740); // ends day 40
    await record(db, o.scopes.b1, "Authentication", "queued", 39, 730); // starts before it ends
    const gap = await record(db, o.scopes.b2, "Authentication", "current", -700, 750); // ends day 50
    const lateNext = await record(db, o.scopes.b2, "Authentication", "queued", 55, 730); // starts 5 days after
    await record(db, o.scopes.jan, "Authentication", "current", -700, 800); // ends day 100

    const w = await renewalWarnings(db, { at: T0 });
    expect(w.map((x) => [x.certificate.id, x.reason, x.successor?.id ?? null, x.certificate.daysToExpiry])).toEqual([
      [lonely.id, "noSuccessor", null, 30],
      [gap.id, "gapBeforeSuccessor", lateNext.id, 50],
    ]);
    expect((await renewalWarnings(db, { at: T0, withinDays: 120 })).map((x) => x.certificate.id)).toContain(
      (await listCertificates(db, { operatorId: o.jan.id, at: T0 }))[0]?.id,
    );
    expect((await renewalWarnings(db, { at: T0, environment: "demo" })).length).toBe(0);
    expect(covered.id).toBeTruthy();
    expect((await rejection(renewalWarnings(db, { withinDays: -5 }))).code).toBe("VALIDATION");
  });

  it("reports every scope without a valid certificate of a type on a date, with what ended and what resolution falls back to", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    await record(db, o.scopes.company, "Authentication", "current", -10, 365); // covers day 100
    const janOld = await record(db, o.scopes.jan, "Authentication", "current", -700, 730); // ends day 30
    await record(db, o.scopes.b1, "Authentication", "current", -10, 365); // covers day 100

    const gaps = await coverageGaps(db, { on: at(100), environment: "test", certificateType: "Authentication", at: at(100) });
    const view = gaps.map((g) => [g.scope.type, g.label.branchCode ?? g.label.operatorName ?? g.label.companyNip, g.fallback, g.endedCertificate?.id ?? null]);
    expect(view).toEqual([
      ["branch", "O2", "company", null],
      ["operator", "Anna Nowak", "company", null],
      ["operator", "Jan Kowalski", "branch", janOld.id],
    ]);
    expect(gaps[2]?.endedCertificate?.state).toBe("expired");

    // Without filters: every environment and both types; the company has no Offline certificate anywhere.
    const everything = await coverageGaps(db, { on: at(100) });
    expect(everything.filter((g) => g.scope.type === "company").map((g) => `${g.environment}/${g.certificateType}`)).toEqual([
      "test/Offline",
      "demo/Authentication",
      "demo/Offline",
      "production/Authentication",
      "production/Offline",
    ]);
    expect(everything.find((g) => g.scope.type === "company" && g.environment === "demo")?.fallback).toBeNull();
    // 5 scopes × 3 environments × 2 types, less the two slots covered on that date (Jan's ended one is a gap).
    expect(everything).toHaveLength(5 * 6 - 2);
    expect((await rejection(coverageGaps(db, { on: new Date("nope") }))).code).toBe("VALIDATION");
  });
});
