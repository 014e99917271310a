// Only what KSeF issues gets into the registry: keys of a type KSeF never certifies, and certificates
// whose issuer belongs to another environment, are refused by every import path (a .crt with its .key,
// a .p12, an adapter import all or nothing and per pair) and by recordCertificate, with nothing written.
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { count } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { importWithAdapter } from "../adapters/import.js";
import { defineAdapter, type ImportedPair } from "@ksef-certs/ksef/adapters";
import { encryptPrivateKeyPem, exportPkcs12, generateKeyPair, type KeyPair, parseCertificate, readPrivateKey } from "@ksef-certs/ksef/crypto";
import { rejection } from "@ksef-certs/ksef/testing";
import { createTestCertificateAuthority, issueKsefLikeCertificate, type TestCertificateAuthority } from "@ksef-certs/ksef/testing";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { violationMessagePl } from "@ksef-certs/ksef/policies";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { auditLog, certificates } from "../store/schema.js";
import { DAY, PERSON } from "./__fixtures__/certs.js";
import { recordCertificate, type Scope } from "./certificates.js";
import { importCertificatePair, importPkcs12 } from "./import.js";
import type { Environment } from "./internal.js";
import { addBranch, addCompany } from "./organisation.js";

const T0 = new Date("2026-11-30T12:00:00Z");
const META = { actor: "admin", at: T0 };
const PASSWORD = "Haslo-Importu-2026!";

/** One pair as every import path takes it: certificate DER, encrypted key file, the same pair as a .p12. */
interface Material {
  readonly der: Uint8Array;
  readonly keyFile: Uint8Array;
  readonly p12: Uint8Array;
}

async function material(keys: { privateKey: KeyObject; publicKey: KeyObject }, issuer?: TestCertificateAuthority): Promise<Material> {
  const issued = await issueKsefLikeCertificate({
    certificateType: "Authentication",
    keys,
    enrollmentData: PERSON,
    validFrom: new Date(T0.getTime() - DAY),
    validityDays: 365,
    ...(issuer === undefined ? {} : { issuer }),
  });
  return {
    der: issued.der,
    keyFile: new TextEncoder().encode(await encryptPrivateKeyPem(keys.privateKey, PASSWORD, { iterations: 1000 })),
    p12: await exportPkcs12({ certificate: issued.der, privateKey: keys.privateKey, password: PASSWORD, iterations: 1000, macIterations: 1000 }),
  };
}

/**
 * An RSA-16384 key: generating one takes minutes (about nine on a loaded two-core CI runner), so it is a
 * fixture, made once with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:16384` and stored
 * encrypted (`openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 1000`). Test material only.
 */
async function rsa16384(): Promise<KeyPair> {
  const file = readFileSync(new URL("./__fixtures__/rsa-16384.key", import.meta.url));
  const { key } = await readPrivateKey(file, { password: "Tylko-Do-Testow-16384" });
  return { privateKey: key, publicKey: createPublicKey(key) };
}

/** The key types KSeF never issues, by the name the refusal gives them (`details.scheme`). */
const REFUSED: readonly (readonly [string, () => Promise<KeyPair> | KeyPair])[] = [
  ["EC P-384 (secp384r1)", () => generateKeyPairSync("ec", { namedCurve: "secp384r1" })],
  ["EC secp256k1", () => generateKeyPairSync("ec", { namedCurve: "secp256k1" })],
  ["EC brainpoolP256r1", () => generateKeyPairSync("ec", { namedCurve: "brainpoolP256r1" })],
  ["Ed25519", () => generateKeyPairSync("ed25519")],
  ["RSA-1024", () => generateKeyPairSync("rsa", { modulusLength: 1024 })],
  ["RSA-16384", rsa16384],
];

let refused: (readonly [string, Material])[];
let real: Material;
let realForAdapter: Material;
let productionCa: TestCertificateAuthority;
let otherCa: TestCertificateAuthority;
beforeAll(async () => {
  refused = [];
  for (const [scheme, keys] of REFUSED) refused.push([scheme, await material(await keys())]);
  real = await material(await generateKeyPair("EC-P256"));
  realForAdapter = await material(await generateKeyPair("RSA-2048"));
  // A CA named like KSeF's production CA, and one named like no KSeF CA (as the tests' own CAs are).
  productionCa = await createTestCertificateAuthority({ commonName: "CCK KSeF" });
  otherCa = await createTestCertificateAuthority({ commonName: "Nasze Testowe CA" });
}, 120_000);

async function stored(db: Db): Promise<{ certificates: number; audit: number }> {
  const [c] = await db.select({ n: count() }).from(certificates);
  const [a] = await db.select({ n: count() }).from(auditLog);
  return { certificates: c?.n ?? 0, audit: a?.n ?? 0 };
}

async function organisation(db: Db) {
  const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, META);
  const branch = await addBranch(db, { companyId: company.id, code: "WAW", name: "Warszawa" }, META);
  return { company: { type: "company", companyId: company.id } as Scope, branch: { type: "branch", branchId: branch.id } as Scope };
}

/** An adapter that hands out `pairs` (refs = their names), remembering whose key password was asked for. */
function adapterOf(pairs: readonly (readonly [string, Material])[], environment: Environment) {
  const asked: string[] = [];
  const imported: ImportedPair[] = pairs.map(([ref, m]) => ({
    ref,
    certificateDer: m.der,
    keyFile: m.keyFile,
    metadata: { certificateType: "Authentication", environment, name: "Jan Kowalski" },
  }));
  const adapter = defineAdapter({
    id: "memory-policy",
    description: "Pairs from a list in memory.",
    capabilities: { import: true, export: false, certificateTypes: ["Authentication", "Offline"], carriesPasswords: false },
    sourceKinds: ["folder"],
    targetKinds: [],
    import: () => Promise.resolve({ pairs: imported, failures: [] }),
    export: () => Promise.reject(new KsefCertsError("UNSUPPORTED", "import only")),
  });
  const ctx = {
    password: ({ ref }: { ref: string }) => {
      asked.push(ref);
      return Promise.resolve(PASSWORD);
    },
  };
  return { adapter, ctx, asked };
}

function expectRefusedKey(err: KsefCertsError, scheme: string): void {
  expect(err.code).toBe("UNSUPPORTED");
  expect(err.details["scheme"]).toBe(scheme);
  expect(err.message).toContain(scheme);
  expect(err.message).toContain("EC P-256");
  expect(err.message).toContain("RSA-2048");
  expect(err.hint).toBeDefined();
}

describeEachDb("import refuses keys KSeF never issues", (ctx) => {
  it("as a .crt with its .key and as a .p12: UNSUPPORTED naming the key type, nothing written, and the real P-256 pair imports afterwards", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const before = await stored(db);
    for (const [scheme, m] of refused) {
      for (const mode of ["current", "queued"] as const) {
        expectRefusedKey(
          await rejection(importCertificatePair(db, { scope: o.company, environment: "test", mode, crt: m.der, key: m.keyFile, password: PASSWORD }, META)),
          scheme,
        );
        expectRefusedKey(await rejection(importPkcs12(db, { scope: o.company, environment: "test", mode, p12: m.p12, password: PASSWORD }, META)), scheme);
      }
      // The pair is refused from its certificate alone, before the key is decrypted: a wrong password changes nothing.
      expectRefusedKey(
        await rejection(
          importCertificatePair(db, { scope: o.company, environment: "test", mode: "current", crt: m.der, key: m.keyFile, password: "Nie-To-Haslo-1!" }, META),
        ),
        scheme,
      );
      // recordCertificate (enrollment's way in) runs the same check.
      expectRefusedKey(
        await rejection(
          recordCertificate(
            db,
            { scope: o.company, environment: "test", mode: "current", name: "Obcy klucz", certificateDer: m.der, keyFile: m.keyFile, source: "enrolled" },
            META,
          ),
        ),
        scheme,
      );
    }
    expect(await stored(db)).toEqual(before);

    const row = await importCertificatePair(
      db,
      { scope: o.company, environment: "test", mode: "current", crt: real.der, key: real.keyFile, password: PASSWORD },
      META,
    );
    expect(row).toMatchObject({ mode: "current", serialNumber: parseCertificate(real.der).serialNumber });
    const p12Row = await importPkcs12(db, { scope: o.company, environment: "demo", mode: "current", p12: real.p12, password: PASSWORD }, META);
    expect(p12Row.environment).toBe("demo");
  });

  it("through an adapter: all or nothing fails as a whole, per pair reports each refused pair and records the real one; no password is asked for a refused pair", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const before = await stored(db);
    const atomic = adapterOf([...refused, ["real", realForAdapter]], "test");
    const err = await rejection(
      importWithAdapter({
        db,
        adapter: atomic.adapter,
        source: { kind: "folder", path: "/unused" },
        ctx: atomic.ctx,
        atomic: true,
        actor: "t",
        at: T0,
        scope: o.branch,
      }),
    );
    expect(err.code).toBe("UNSUPPORTED");
    expect((err.details["failures"] as { ref: string; code: string }[]).map((f) => [f.ref, f.code])).toEqual(
      refused.map(([scheme]) => [scheme, "UNSUPPORTED"]),
    );
    expect(await stored(db)).toEqual(before);

    const perPair = adapterOf([...refused, ["real", realForAdapter]], "test");
    const report = await importWithAdapter({
      db,
      adapter: perPair.adapter,
      source: { kind: "folder", path: "/unused" },
      ctx: perPair.ctx,
      atomic: "per-pair",
      actor: "t",
      at: T0,
      scope: o.branch,
    });
    expect(report.imported.map((i) => i.ref)).toEqual(["real"]);
    expect(report.failed.map((f) => f.ref)).toEqual(refused.map(([scheme]) => scheme));
    for (const f of report.failed) expectRefusedKey(f.error, f.ref);
    expect(perPair.asked).toEqual(["real"]);
    expect((await stored(db)).certificates).toBe(before.certificates + 1);
  });
});

describeEachDb("the issuer decides the environment", (ctx) => {
  it("a certificate of KSeF's TEST CA is refused as production naming its environment, and accepted as test and as demo", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const before = await stored(db);
    const refusals = [
      await rejection(
        importCertificatePair(db, { scope: o.company, environment: "production", mode: "current", crt: real.der, key: real.keyFile, password: PASSWORD }, META),
      ),
      await rejection(importPkcs12(db, { scope: o.company, environment: "production", mode: "current", p12: real.p12, password: PASSWORD }, META)),
      await rejection(
        recordCertificate(
          db,
          { scope: o.company, environment: "production", mode: "current", name: "Test", certificateDer: real.der, keyFile: real.keyFile, source: "enrolled" },
          META,
        ),
      ),
      // Decided from the certificate, before the key: a wrong password does not hide it.
      await rejection(
        importCertificatePair(
          db,
          { scope: o.company, environment: "production", mode: "current", crt: real.der, key: real.keyFile, password: "Nie-To-Haslo-1!" },
          META,
        ),
      ),
    ];
    for (const err of refusals) {
      expect(err.code).toBe("VALIDATION");
      expect(err.message).toContain("issued by KSeF's test environment (TEST CCK KSeF)");
      expect(err.message).toContain("import it as test");
      const violation = err.violations.find((v) => v.rule === "certificate.environment");
      expect(violation).toMatchObject({ field: "environment", params: { issuer: "TEST CCK KSeF", belongsTo: "test" } });
      expect(violationMessagePl(violation ?? { field: "", rule: "", message: "" })).toContain("testowe środowisko KSeF (TEST CCK KSeF)");
    }
    const viaAdapter = adapterOf([["test-ca", real]], "production");
    const report = await importWithAdapter({
      db,
      adapter: viaAdapter.adapter,
      source: { kind: "folder", path: "/unused" },
      ctx: viaAdapter.ctx,
      atomic: "per-pair",
      actor: "t",
      at: T0,
      scope: o.branch,
    });
    expect(report.failed.map((f) => [f.ref, f.error.code, f.error.violations[0]?.rule])).toEqual([["test-ca", "VALIDATION", "certificate.environment"]]);
    expect(viaAdapter.asked).toEqual([]);
    expect(await stored(db)).toEqual(before);

    expect(
      (await importCertificatePair(db, { scope: o.company, environment: "test", mode: "current", crt: real.der, key: real.keyFile, password: PASSWORD }, META))
        .environment,
    ).toBe("test");
    // DEMO certificates carry the TEST CA's name too, so demo is accepted as well.
    expect((await importPkcs12(db, { scope: o.company, environment: "demo", mode: "current", p12: real.p12, password: PASSWORD }, META)).environment).toBe(
      "demo",
    );
  });

  it("a certificate of KSeF's production CA is refused as test and demo and accepted as production", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const m = await material(await generateKeyPair("EC-P256"), productionCa);
    for (const environment of ["test", "demo"] as const) {
      const err = await rejection(
        importCertificatePair(db, { scope: o.company, environment, mode: "current", crt: m.der, key: m.keyFile, password: PASSWORD }, META),
      );
      expect(err.code).toBe("VALIDATION");
      expect(err.message).toBe("This certificate was issued by KSeF's production environment (CCK KSeF); import it as production.");
      expect(err.violations[0]).toMatchObject({ rule: "certificate.environment", params: { issuer: "CCK KSeF", belongsTo: "production" } });
      expect(
        (await rejection(importPkcs12(db, { scope: o.company, environment, mode: "current", p12: m.p12, password: PASSWORD }, META))).violations[0]?.rule,
      ).toBe("certificate.environment");
    }
    expect((await stored(db)).certificates).toBe(0);
    expect(
      (await importCertificatePair(db, { scope: o.company, environment: "production", mode: "current", crt: m.der, key: m.keyFile, password: PASSWORD }, META))
        .environment,
    ).toBe("production");
  });

  it("a certificate of another CA works for test and demo as before, and for production only when explicitly allowed", async () => {
    const { db } = ctx();
    const o = await organisation(db);
    const m = await material(await generateKeyPair("EC-P256"), otherCa);
    const err = await rejection(
      importCertificatePair(db, { scope: o.company, environment: "production", mode: "current", crt: m.der, key: m.keyFile, password: PASSWORD }, META),
    );
    expect(err.code).toBe("VALIDATION");
    expect(err.violations[0]).toMatchObject({ field: "environment", rule: "certificate.issuer", params: { issuer: "Nasze Testowe CA", expected: "CCK KSeF" } });
    expect(err.message).toContain('issued by "Nasze Testowe CA", not by KSeF\'s production CA (CCK KSeF)');
    expect(violationMessagePl(err.violations[0] ?? { field: "", rule: "", message: "" })).toContain("„Nasze Testowe CA”");
    expect((await stored(db)).certificates).toBe(0);

    await importCertificatePair(db, { scope: o.company, environment: "test", mode: "current", crt: m.der, key: m.keyFile, password: PASSWORD }, META);
    await importPkcs12(db, { scope: o.company, environment: "demo", mode: "current", p12: m.p12, password: PASSWORD }, META);
    const allowed = await importCertificatePair(
      db,
      { scope: o.branch, environment: "production", mode: "current", crt: m.der, key: m.keyFile, password: PASSWORD },
      META,
      { allowUnknownIssuer: true },
    );
    expect(allowed.environment).toBe("production");
    expect((await stored(db)).certificates).toBe(3);
  });
});
