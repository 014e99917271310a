import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { encryptPrivateKeyPem, generateKeyPair, parseCertificate, readPrivateKey } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate } from "@ksef-certs/ksef/testing";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { getCertificateSecrets } from "../registry/certificates.js";
import { addBranch, addCompany, addOperator } from "../registry/organisation.js";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { auditLog, certificateExports, certificates } from "../store/schema.js";
import { seal, unseal } from "@ksef-certs/ksef/crypto";
import { vaultFromMasterKey } from "../vault/index.js";
import { defineAdapter, type AdapterFailure, type AdapterScope, type ExportPair, type ImportedPair } from "@ksef-certs/ksef/adapters";
import { exportWithAdapter, listCertificateExports } from "./export.js";
import { ensureFolder, writeFileAtomic, writeOptions } from "@ksef-certs/ksef/adapters";
import { importWithAdapter, type BatchProgress } from "./import.js";

const PASSWORD = "Tajne-Haslo-2026!";
const NIP = "5265877635";
const PESEL = "44051401359";
const T0 = new Date("2026-11-30T12:00:00Z");

interface Made {
  readonly pair: ImportedPair;
  readonly serial: string;
}

/** A KSeF-like pair with its key encrypted under `password` (few iterations: the use cases do not care). */
async function makePair(
  ref: string,
  type: "Authentication" | "Offline",
  scope: AdapterScope | undefined,
  extra: { mode?: "current" | "queued"; password?: string; validFrom?: Date } = {},
): Promise<Made> {
  const keys = await generateKeyPair();
  const issued = await issueKsefLikeCertificate({
    certificateType: type,
    keys,
    enrollmentData: { commonName: `Jan ${ref}`, countryName: "PL", serialNumber: `PNOPL-${PESEL}` },
    validFrom: extra.validFrom ?? new Date(T0.getTime() - 86_400_000),
    validityDays: 365,
  });
  const keyFile = new TextEncoder().encode(await encryptPrivateKeyPem(keys.privateKey, extra.password ?? PASSWORD, { iterations: 1000 }));
  return {
    pair: {
      ref,
      certificateDer: issued.der,
      keyFile,
      metadata: {
        certificateType: type,
        environment: "test",
        ...(scope === undefined ? {} : { scope }),
        ...(extra.mode === undefined ? {} : { mode: extra.mode }),
        name: `Jan ${ref}`,
      },
    },
    serial: parseCertificate(issued.der).serialNumber,
  };
}

/** An adapter over a list in memory (import) and a folder (export, one `.der` + `.key` per pair, temp + rename). */
function memoryAdapter(pairs: readonly ImportedPair[], readFailures: readonly AdapterFailure[] = []) {
  const received: ExportPair[][] = [];
  const adapter = defineAdapter({
    id: "memory-test",
    description: "Pairs from a list in memory; exports to a folder.",
    capabilities: { import: true, export: true, certificateTypes: ["Authentication", "Offline"], carriesPasswords: false },
    sourceKinds: ["folder"],
    targetKinds: ["folder"],
    import: () => Promise.resolve({ pairs, failures: readFailures }),
    async export(list, target, ctx) {
      if (target.kind !== "folder") throw new KsefCertsError("UNSUPPORTED", "folders only");
      received.push([...list]);
      await ensureFolder(target.path, writeOptions(ctx));
      const written = [];
      for (const [i, p] of list.entries()) {
        if (p.metadata.name === "fail") throw new KsefCertsError("IO", "disk full", { retryable: true });
        // Formats that re-encrypt ask for the key's password: exercised here so the unseal path is.
        await readPrivateKey(p.keyFile, { password: await ctx.password({ purpose: "key", ref: p.serialNumber, certificateId: p.certificateId }) });
        await writeFileAtomic(join(target.path, `${p.serialNumber}.der`), p.certificateDer, 0o600, writeOptions(ctx));
        await writeFileAtomic(join(target.path, `${p.serialNumber}.key`), p.keyFile, 0o600, writeOptions(ctx));
        written.push({ certificateId: p.certificateId, ref: join(target.path, `${p.serialNumber}.der`) });
        ctx.onProgress?.(i + 1, list.length);
      }
      return { written };
    },
  });
  return { adapter, received };
}

async function organisation(db: Db) {
  const meta = { actor: "admin", at: T0 };
  const company = await addCompany(db, { nip: NIP, name: "Firma" }, meta);
  const branch = await addBranch(db, { companyId: company.id, code: "WAW", name: "Warszawa" }, meta);
  const operator = await addOperator(db, { companyId: company.id, name: "Jan Kowalski", pesel: PESEL, branchIds: [branch.id] }, meta);
  return { company, branch, operator };
}

async function snapshot(db: Db): Promise<{ certificates: string[]; audit: number }> {
  const rows = await db.select({ serial: certificates.serialNumber, mode: certificates.mode }).from(certificates);
  return { certificates: rows.map((r) => `${r.serial}:${r.mode}`).sort(), audit: (await db.select({ seq: auditLog.seq }).from(auditLog)).length };
}

const ctxFor = (wrongFor: readonly string[] = []) => ({
  password: ({ ref }: { ref: string }) => Promise.resolve(wrongFor.includes(ref) ? "Zle-Haslo-1!" : PASSWORD),
});

const companyScope: AdapterScope = { companyNip: NIP };
const branchScope: AdapterScope = { companyNip: NIP, branchCode: "WAW" };
const operatorScope: AdapterScope = { companyNip: NIP, operatorPesel: PESEL };

let made: Record<string, Made>;
beforeAll(async () => {
  made = {
    companyAuth: await makePair("companyAuth", "Authentication", companyScope),
    branchOff: await makePair("branchOff", "Offline", branchScope),
    operatorAuth: await makePair("operatorAuth", "Authentication", operatorScope),
    operatorAuthQueued: await makePair("operatorAuthQueued", "Authentication", operatorScope, { mode: "queued" }),
    companyAuth2: await makePair("companyAuth2", "Authentication", companyScope),
    otherPassword: await makePair("otherPassword", "Offline", companyScope, { password: "Inne-Haslo-9!" }),
    unknownBranch: await makePair("unknownBranch", "Offline", { companyNip: NIP, branchCode: "XXX" }),
    noScope: await makePair("noScope", "Offline", undefined),
  };
}, 60_000);

describeEachDb("importWithAdapter", (ctx) => {
  it("atomic: records every pair with its scope, current before queued, audited, in source order", async () => {
    const { db } = ctx();
    await organisation(db);
    // The queued successor comes first in the source: it is still recorded after its current one.
    const order = ["operatorAuthQueued", "companyAuth", "branchOff", "operatorAuth"];
    const { adapter } = memoryAdapter(order.map((k) => made[k]?.pair as ImportedPair));
    const progress: BatchProgress[] = [];
    const report = await importWithAdapter({
      db,
      adapter,
      source: { kind: "folder", path: "/unused" },
      ctx: ctxFor(),
      atomic: true,
      actor: "cli:test",
      at: T0,
      onProgress: (p) => progress.push(p),
    });
    expect(report.failed).toEqual([]);
    expect(report.imported.map((i) => i.ref)).toEqual(order);
    const rows = await db.select().from(certificates);
    const bySerial = new Map(rows.map((r) => [r.serialNumber, r]));
    expect(bySerial.get(made["operatorAuthQueued"]?.serial ?? "")?.mode).toBe("queued");
    expect(bySerial.get(made["operatorAuth"]?.serial ?? "")).toMatchObject({ mode: "current", scopeType: "operator" });
    expect(bySerial.get(made["branchOff"]?.serial ?? "")).toMatchObject({ scopeType: "branch", certificateType: "Offline", source: "imported" });
    // The key file is stored byte for byte.
    expect(Buffer.from(bySerial.get(made["companyAuth"]?.serial ?? "")?.keyFile ?? []).equals(Buffer.from(made["companyAuth"]?.pair.keyFile ?? []))).toBe(true);
    const records = await db.select().from(auditLog).where(eq(auditLog.action, "certificate.record"));
    expect(records.map((r) => r.actor)).toEqual(["cli:test", "cli:test", "cli:test", "cli:test"]);
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true });
    expect(progress.filter((p) => p.phase === "record").at(-1)).toEqual({ phase: "record", done: 4, total: 4 });
    expect(progress.filter((p) => p.phase === "verify")).toHaveLength(4);
  });

  it("atomic: leaves the registry unchanged when one pair fails verification or a registry rule", async () => {
    const { db } = ctx();
    await organisation(db);
    const before = await snapshot(db);
    const wrong = memoryAdapter(["companyAuth", "otherPassword", "branchOff"].map((k) => made[k]?.pair as ImportedPair));
    const err = await importWithAdapter({
      db,
      adapter: wrong.adapter,
      source: { kind: "folder", path: "/x" },
      ctx: ctxFor(),
      atomic: true,
      actor: "t",
      at: T0,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "WRONG_PASSWORD", details: { failures: [{ ref: "otherPassword", code: "WRONG_PASSWORD" }] } });
    expect(await snapshot(db)).toEqual(before);
    // Both pairs verify, but the slot takes one current certificate: the second fails when recorded, the first is rolled back.
    const rule = memoryAdapter(["companyAuth", "branchOff", "companyAuth2"].map((k) => made[k]?.pair as ImportedPair));
    await expect(
      importWithAdapter({ db, adapter: rule.adapter, source: { kind: "folder", path: "/x" }, ctx: ctxFor(), atomic: true, actor: "t", at: T0 }),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      details: { failures: [{ ref: "companyAuth2", code: "CONFLICT" }] },
    });
    expect(await snapshot(db)).toEqual(before);
    // A pair the adapter could not read fails the atomic import too.
    const unread = memoryAdapter(
      [made["companyAuth"]?.pair as ImportedPair],
      [{ ref: "broken.crt", error: new KsefCertsError("MALFORMED", "not a certificate") }],
    );
    await expect(
      importWithAdapter({ db, adapter: unread.adapter, source: { kind: "folder", path: "/x" }, ctx: ctxFor(), atomic: true, actor: "t", at: T0 }),
    ).rejects.toMatchObject({ code: "MALFORMED" });
    expect(await snapshot(db)).toEqual(before);
  });

  it("per-pair: records the good pairs, reports each failed one with its typed error, writes nothing for them", async () => {
    const { db } = ctx();
    await organisation(db);
    const keys = ["companyAuth", "otherPassword", "unknownBranch", "noScope", "companyAuth2", "branchOff", "operatorAuthQueued", "operatorAuth"];
    const { adapter } = memoryAdapter(
      keys.map((k) => made[k]?.pair as ImportedPair),
      [{ ref: "broken.crt", error: new KsefCertsError("MALFORMED", "not a certificate") }],
    );
    const report = await importWithAdapter({
      db,
      adapter,
      source: { kind: "folder", path: "/x" },
      ctx: ctxFor(),
      atomic: "per-pair",
      actor: "t",
      at: T0,
      concurrency: 3,
    });
    expect(report.imported.map((i) => i.ref)).toEqual(["companyAuth", "branchOff", "operatorAuthQueued", "operatorAuth"]);
    expect(Object.fromEntries(report.failed.map((f) => [f.ref, f.error.code]))).toEqual({
      "broken.crt": "MALFORMED",
      otherPassword: "WRONG_PASSWORD",
      unknownBranch: "NOT_FOUND",
      noScope: "VALIDATION",
      companyAuth2: "CONFLICT",
    });
    const stored = (await snapshot(db)).certificates.map((c) => c.split(":")[0]);
    for (const f of ["otherPassword", "unknownBranch", "noScope", "companyAuth2"]) expect(stored).not.toContain(made[f]?.serial);
    const records = await db.select().from(auditLog).where(eq(auditLog.action, "certificate.record"));
    expect(records.map((r) => r.entityId).sort()).toEqual(report.imported.map((i) => i.certificateId).sort());
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true });
  });

  it("per-pair over several recording batches: the same rules across batches, scope and environment from the caller, sealed passwords", async () => {
    const { db } = ctx();
    const { branch } = await organisation(db);
    const count = 260;
    const many: ImportedPair[] = [];
    for (let i = 0; i < count; i++) {
      const { pair } = await makePair(`p${i}`, i % 2 === 0 ? "Authentication" : "Offline", undefined);
      // No environment in the source: the caller gives it.
      many.push({ ...pair, metadata: { certificateType: pair.metadata.certificateType } });
    }
    const master = randomBytes(32);
    const { adapter } = memoryAdapter(many);
    const report = await importWithAdapter({
      db,
      adapter,
      source: { kind: "folder", path: "/x" },
      ctx: ctxFor(),
      atomic: "per-pair",
      actor: "t",
      at: T0,
      scope: { type: "branch", branchId: branch.id },
      environment: "demo",
      sealPassword: { seal: (p, aad) => seal(master, p, aad) },
    });
    // One current per type in the branch: the first of each type wins, every later one is refused by the rules.
    expect(report.imported.map((i) => i.ref)).toEqual(["p0", "p1"]);
    expect(report.failed).toHaveLength(count - 2);
    expect(new Set(report.failed.map((f) => f.error.code))).toEqual(new Set(["CONFLICT"]));
    expect(report.imported.every((i) => i.environment === "demo")).toBe(true);
    const secrets = await getCertificateSecrets(db, report.imported[0]?.certificateId ?? "");
    expect(new TextDecoder().decode(unseal(master, secrets.sealedPassword ?? new Uint8Array(), secrets.sealedPasswordAad))).toBe(PASSWORD);
  }, 120_000);

  it("refuses an adapter that does not import, and passes on what the adapter throws", async () => {
    const { db } = ctx();
    const { adapter } = memoryAdapter([]);
    await expect(
      importWithAdapter({
        db,
        adapter: { ...adapter, capabilities: { ...adapter.capabilities, import: false } },
        source: { kind: "folder", path: "/x" },
        ctx: ctxFor(),
        atomic: true,
        actor: "t",
      }),
    ).rejects.toMatchObject({ code: "UNSUPPORTED" });
    const throwing = { ...adapter, import: () => Promise.reject(new KsefCertsError("IO", "gone", { retryable: true })) };
    await expect(
      importWithAdapter({ db, adapter: throwing, source: { kind: "folder", path: "/x" }, ctx: ctxFor(), atomic: "per-pair", actor: "t" }),
    ).rejects.toMatchObject({ code: "IO", retryable: true });
  });
});

describeEachDb("exportWithAdapter and listCertificateExports", (ctx) => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function imported(db: Db, master?: Uint8Array) {
    await organisation(db);
    const { adapter } = memoryAdapter(["companyAuth", "branchOff", "operatorAuth"].map((k) => made[k]?.pair as ImportedPair));
    return importWithAdapter({
      db,
      adapter,
      source: { kind: "folder", path: "/x" },
      ctx: ctxFor(),
      atomic: true,
      actor: "t",
      at: T0,
      ...(master === undefined ? {} : { sealPassword: { seal: (p: Uint8Array, aad: string) => seal(master, p, aad) } }),
    });
  }

  it("writes every pair (temp + rename), records one certificate_exports row and one audit entry per certificate", async () => {
    const { db } = ctx();
    const report = await imported(db);
    const dir = await mkdtemp(join(tmpdir(), "export-use-case-"));
    dirs.push(dir);
    const { adapter, received } = memoryAdapter([]);
    const ids = report.imported.map((i) => i.certificateId);
    const at1 = new Date(T0.getTime() + 60_000);
    const out = await exportWithAdapter({
      db,
      adapter,
      target: { kind: "folder", path: dir },
      ctx: ctxFor(),
      certificateIds: [...ids, ids[0] ?? ""],
      actor: "admin",
      at: at1,
    });
    expect(out.exported.map((e) => e.certificateId)).toEqual(ids);
    // The adapter got each certificate once, with the scope by the identifiers an ERP knows.
    expect(received[0]?.map((p) => p.metadata.scope)).toEqual([companyScope, branchScope, operatorScope]);
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(report.imported.flatMap((i) => [`${i.serialNumber}.der`, `${i.serialNumber}.key`]).sort());
    expect(files.some((f) => f.includes(".tmp"))).toBe(false);
    expect(Buffer.from(await readFile(join(dir, `${made["branchOff"]?.serial ?? ""}.key`))).equals(Buffer.from(made["branchOff"]?.pair.keyFile ?? []))).toBe(
      true,
    );

    const rows = await db.select().from(certificateExports);
    expect(rows.map((r) => r.certificateId).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.adapterId === "memory-test" && r.actor === "admin" && r.at.getTime() === at1.getTime())).toBe(true);
    const audit = await db.select().from(auditLog).where(eq(auditLog.action, "certificate.export"));
    expect(audit.map((a) => a.entityId).sort()).toEqual([...ids].sort());
    expect(audit[0]?.after).toMatchObject({ adapterId: "memory-test" });
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true });

    // Exported again by filter, later: listCertificateExports returns newest first, and by adapter.
    const at2 = new Date(T0.getTime() + 120_000);
    await exportWithAdapter({
      db,
      adapter: { ...adapter, id: "other" },
      target: { kind: "folder", path: join(dir, "again") },
      ctx: ctxFor(),
      filter: { certificateType: "Offline" },
      actor: "admin",
      at: at2,
    });
    const branchId = report.imported.find((i) => i.ref === "branchOff")?.certificateId ?? "";
    const list = await listCertificateExports(db, branchId);
    expect(list.map((r) => [r.adapterId, r.at.getTime()])).toEqual([
      ["other", at2.getTime()],
      ["memory-test", at1.getTime()],
    ]);
    expect((await listCertificateExports(db, branchId, "memory-test")).map((r) => r.adapterId)).toEqual(["memory-test"]);
    expect(await listCertificateExports(db, randomUUID())).toEqual([]);
    expect(await listCertificateExports(db, "not-a-uuid")).toEqual([]);
  });

  it("records nothing when the adapter fails, and refuses bad selections", async () => {
    const { db } = ctx();
    const report = await imported(db);
    const before = await snapshot(db);
    const dir = await mkdtemp(join(tmpdir(), "export-fail-"));
    dirs.push(dir);
    const ids = report.imported.map((i) => i.certificateId);
    const { adapter } = memoryAdapter([]);
    const failing = {
      ...adapter,
      export: (pairs: readonly ExportPair[], target: Parameters<typeof adapter.export>[1], c: Parameters<typeof adapter.export>[2]) =>
        adapter.export(
          pairs.map((p) => ({ ...p, metadata: { ...p.metadata, name: "fail" } })),
          target,
          c,
        ),
    };
    await expect(
      exportWithAdapter({ db, adapter: failing, target: { kind: "folder", path: dir }, ctx: ctxFor(), certificateIds: ids, actor: "a" }),
    ).rejects.toMatchObject({ code: "IO", retryable: true });
    expect(await db.select().from(certificateExports)).toEqual([]);
    expect(await snapshot(db)).toEqual(before);
    const target = { kind: "folder", path: dir } as const;
    await expect(exportWithAdapter({ db, adapter, target, ctx: ctxFor(), actor: "a" })).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(exportWithAdapter({ db, adapter, target, ctx: ctxFor(), certificateIds: ids, filter: {}, actor: "a" })).rejects.toMatchObject({
      code: "VALIDATION",
    });
    await expect(exportWithAdapter({ db, adapter, target, ctx: ctxFor(), filter: { environment: "production" }, actor: "a" })).rejects.toMatchObject({
      code: "VALIDATION",
    });
    await expect(exportWithAdapter({ db, adapter, target, ctx: ctxFor(), certificateIds: [randomUUID()], actor: "a" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(
      exportWithAdapter({
        db,
        adapter: { ...adapter, capabilities: { ...adapter.capabilities, export: false } },
        target,
        ctx: ctxFor(),
        certificateIds: ids,
        actor: "a",
      }),
    ).rejects.toMatchObject({ code: "UNSUPPORTED" });
    expect(await db.select().from(certificateExports)).toEqual([]);
  });

  it("an export that fails midway leaves nothing behind: its files and folders removed, a file it replaced restored, nothing recorded", async () => {
    const { db } = ctx();
    const report = await imported(db);
    const ids = report.imported.map((i) => i.certificateId);
    const dir = await mkdtemp(join(tmpdir(), "export-undo-"));
    dirs.push(dir);
    const { adapter } = memoryAdapter([]);
    // The first key's password is known, the second is not: two files are written before the failure.
    const first = ids[0] ?? "";
    const oneKnown = {
      password: (r: { certificateId?: string }) =>
        r.certificateId === first ? Promise.resolve(PASSWORD) : Promise.reject(new KsefCertsError("PASSWORD_REQUIRED", "not sealed")),
    };
    await expect(
      exportWithAdapter({ db, adapter, target: { kind: "folder", path: join(dir, "nowy", "folder") }, ctx: oneKnown, certificateIds: ids, actor: "a", at: T0 }),
    ).rejects.toMatchObject({ code: "PASSWORD_REQUIRED" });
    expect(await readdir(dir)).toEqual([]);
    expect(await db.select().from(certificateExports)).toEqual([]);

    // A complete export, then someone else's edit of one file: without replace it is a CONFLICT and stays.
    const full = join(dir, "pelny");
    await exportWithAdapter({ db, adapter, target: { kind: "folder", path: full }, ctx: ctxFor(), certificateIds: ids, actor: "a", at: T0 });
    const edited = join(full, `${report.imported[0]?.serialNumber ?? ""}.key`);
    await writeFile(edited, "ERP's own copy\n");
    await expect(
      exportWithAdapter({ db, adapter, target: { kind: "folder", path: full }, ctx: ctxFor(), certificateIds: ids, actor: "a", at: T0 }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await readFile(edited, "utf8")).toBe("ERP's own copy\n");
    // With replace, but failing on the second pair: the replaced file comes back.
    await expect(
      exportWithAdapter({ db, adapter, target: { kind: "folder", path: full }, ctx: oneKnown, certificateIds: ids, actor: "a", at: T0, replace: true }),
    ).rejects.toMatchObject({ code: "PASSWORD_REQUIRED" });
    expect(await readFile(edited, "utf8")).toBe("ERP's own copy\n");
    expect(await db.select().from(certificateExports)).toHaveLength(ids.length);
    // With replace, complete: replaced and audited.
    const out = await exportWithAdapter({
      db,
      adapter,
      target: { kind: "folder", path: full },
      ctx: ctxFor(),
      certificateIds: ids,
      actor: "a",
      at: T0,
      replace: true,
    });
    expect(out.replaced).toEqual([edited]);
    const audit = await db.select().from(auditLog).where(eq(auditLog.action, "export.replace"));
    expect(audit.map((a) => a.after)).toEqual([{ adapterId: "memory-test", files: [edited] }]);
  });

  it("answers key password requests from sealed passwords when given the vault", async () => {
    const { db } = ctx();
    const master = randomBytes(32);
    const report = await imported(db, master);
    const dir = await mkdtemp(join(tmpdir(), "export-unseal-"));
    dirs.push(dir);
    const { adapter } = memoryAdapter([]);
    const asked: string[] = [];
    const noPassword = {
      password: (r: { purpose: string }) => (asked.push(r.purpose), Promise.reject(new KsefCertsError("PASSWORD_REQUIRED", "no prompt here"))),
    };
    const out = await exportWithAdapter({
      db,
      adapter,
      target: { kind: "folder", path: dir },
      ctx: noPassword,
      certificateIds: report.imported.map((i) => i.certificateId),
      actor: "a",
      vault: vaultFromMasterKey(master),
    });
    expect(out.exported).toHaveLength(3);
    expect(asked).toEqual([]);
    await expect(
      exportWithAdapter({
        db,
        adapter,
        target: { kind: "folder", path: join(dir, "b") },
        ctx: noPassword,
        certificateIds: report.imported.map((i) => i.certificateId),
        actor: "a",
      }),
    ).rejects.toMatchObject({ code: "PASSWORD_REQUIRED" });
  });
});
