// Exports and imports as a hostile branch admin would try them: no request names a server path; exports leave as
// downloads or into destinations a super-admin configured; nothing is overwritten without an explicit, audited
// replace; a failed export leaves nothing; refusals never tell what exists on the server's disk.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCError } from "@trpc/server";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkExportRoot, listCertificateExports } from "@ksef-certs/domain/adapters";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import type { Store } from "@ksef-certs/domain/store";
import { buildWorld, callerFor, DB_KINDS, openTestStore, T0 } from "./__fixtures__/world.js";
import type { ServerServices } from "./services.js";
import { vaultFromMasterKey } from "@ksef-certs/domain/vault";

/** The key password of every fixture certificate (world.ts). */
const KEY_PASSWORD = "Haslo-klucza-123!";

async function refusal(p: Promise<unknown>): Promise<{ code: string; core: KsefCertsError | undefined }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return { code: err.code, core: err.cause instanceof KsefCertsError ? err.cause : undefined };
    throw err;
  }
  throw new Error("the call was not refused");
}

function stagingLeftovers(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith("ksef-certs-export-") || n.startsWith("ksef-certs-upload-"));
}

for (const kind of DB_KINDS) {
  describe(`exports and imports without server paths [${kind}]`, () => {
    let store: Store;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    let root: string;
    let outside: string;
    let services: ServerServices;
    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
      root = await checkExportRoot(mkdtempSync(join(tmpdir(), "ksef-export-root-")), undefined);
      outside = mkdtempSync(join(tmpdir(), "ksef-outside-"));
      services = { clock: () => T0, vault: vaultFromMasterKey(randomBytes(32)), exportRoot: root };
    }, 120_000);
    afterAll(async () => {
      await store.close();
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    });

    it("exports as a download (a ZIP of the pairs), recorded and audited; a path in the request is ignored, nothing is written on the server", async () => {
      const before = stagingLeftovers();
      const { caller } = await callerFor(store.db, services, w.sessions.branchAdmin);
      const victim = join(outside, "master.key");
      writeFileSync(victim, "the server's own file\n");
      // What the tester sent: a path. The API has no such field any more, so the request is a plain download.
      const r = await caller.certificates.export({ ids: [w.certs.b1], adapterId: "pem-pair", ...({ to: victim } as object) });
      expect(readFileSync(victim, "utf8")).toBe("the server's own file\n");
      expect(r.download?.contentType).toBe("application/zip");
      const entries = unzipSync(Buffer.from(r.download?.base64 ?? "", "base64"));
      const names = Object.keys(entries).sort();
      expect(names).toHaveLength(2);
      expect(names.filter((n) => n.endsWith(".crt"))).toHaveLength(1);
      expect(new TextDecoder().decode(entries[names.find((n) => n.endsWith(".key")) ?? ""])).toContain("BEGIN ENCRYPTED PRIVATE KEY");
      const records = await listCertificateExports(store.db, w.certs.b1);
      expect(records[0]?.target).toMatch(/^download:ksef-certs-pem-pair-\d{4}-\d{2}-\d{2}\.zip\//);
      expect(stagingLeftovers()).toEqual(before);
    });

    it("a pkcs12 download that cannot open one key records nothing, leaves nothing, and asks for the password", async () => {
      const before = stagingLeftovers();
      const { caller } = await callerFor(store.db, services, w.sessions.companyAdmin);
      const recorded = (await listCertificateExports(store.db, w.certs.b2)).length;
      const r = await refusal(caller.certificates.export({ ids: [w.certs.b2, w.certs.company], adapterId: "pkcs12" }));
      expect(r.code).toBe("BAD_REQUEST");
      expect(r.core?.code).toBe("PASSWORD_REQUIRED");
      expect(r.core?.violations.map((v) => v.field)).toEqual(["password"]);
      expect((await listCertificateExports(store.db, w.certs.b2)).length).toBe(recorded);
      expect(stagingLeftovers()).toEqual(before);
      const ok = await caller.certificates.export({ ids: [w.certs.b2, w.certs.company], adapterId: "pkcs12", password: KEY_PASSWORD });
      expect(Object.keys(unzipSync(Buffer.from(ok.download?.base64 ?? "", "base64"))).every((n) => n.endsWith(".p12"))).toBe(true);
    });

    it("destinations: configured by a super-admin only, picked by name, limited to their company; no replace without asking; refusals name no server path", async () => {
      const admin = (await callerFor(store.db, services, w.sessions.superAdmin)).caller;
      const branch = (await callerFor(store.db, services, w.sessions.branchAdmin)).caller;
      expect((await refusal(branch.adapters.addDestination({ name: "Moja", path: "x" }))).code).toBe("FORBIDDEN");
      for (const path of ["../poza", "/etc", "a/../../b", "C:/Windows", "a\\b", ""]) {
        const bad = await refusal(admin.adapters.addDestination({ name: `Zła ${path}`, path }));
        expect(
          bad.core?.violations.map((v) => v.rule),
          path,
        ).toEqual(["destination.path"]);
      }
      await admin.adapters.addDestination({ name: "F2000 Firma", path: "f2000/5265877635", companyId: w.company.id });
      await admin.adapters.addDestination({ name: "F2000 Inna", path: "f2000/7740001454", companyId: w.other.id });
      const seen = await branch.adapters.destinations();
      expect(seen.configured).toBe(true);
      // A branch admin sees its company's destination by name, never a folder.
      expect(seen.destinations).toEqual([{ id: expect.any(String) as string, name: "F2000 Firma", companyId: w.company.id }]);
      expect((await refusal(branch.certificates.export({ ids: [w.certs.b1], adapterId: "f2000", destination: "F2000 Inna" }))).code).toBe("NOT_FOUND");
      expect((await refusal(branch.certificates.export({ ids: [w.certs.b1], adapterId: "f2000", destination: "../../etc" }))).code).toBe("NOT_FOUND");

      const first = await branch.certificates.export({ ids: [w.certs.b1], adapterId: "pkcs12", destination: "F2000 Firma", password: KEY_PASSWORD });
      expect(first.download).toBeUndefined();
      expect(first.exported[0]?.ref).toMatch(/^destination:F2000 Firma\/.+\.p12$/);
      const folder = join(root, "f2000", "5265877635");
      const [p12] = readdirSync(folder);
      expect(p12).toMatch(/\.p12$/);
      const bytes = readFileSync(join(folder, p12 ?? ""));
      // Again: PKCS#12 re-encrypts, so the file differs: refused, the file untouched, no server path in the answer.
      const again = await refusal(branch.certificates.export({ ids: [w.certs.b1], adapterId: "pkcs12", destination: "F2000 Firma", password: KEY_PASSWORD }));
      expect(again.core?.code).toBe("CONFLICT");
      expect(JSON.stringify({ m: again.core?.message, h: again.core?.hint, d: again.core?.details })).not.toContain(root);
      expect(again.core?.message).toContain(`destination:F2000 Firma/${p12 ?? ""}`);
      expect(readFileSync(join(folder, p12 ?? "")).equals(bytes)).toBe(true);
      const replaced = await branch.certificates.export({
        ids: [w.certs.b1],
        adapterId: "pkcs12",
        destination: "F2000 Firma",
        password: KEY_PASSWORD,
        replace: true,
      });
      expect(replaced.replaced).toEqual([`destination:F2000 Firma/${p12 ?? ""}`]);
      const audit = await admin.audit.list({});
      expect(audit.entries.some((e) => e.action === "export.replace")).toBe(true);
      // Only its company's certificates go to a company's destination.
      const foreign = await refusal(admin.certificates.export({ ids: [w.certs.other], adapterId: "pem-pair", destination: "F2000 Firma" }));
      expect(foreign.core?.violations.map((v) => v.rule)).toEqual(["destination.company"]);
    });

    it("a destination whose folder leads out of the export root through a link is refused without a word about the disk", async () => {
      const admin = (await callerFor(store.db, services, w.sessions.superAdmin)).caller;
      mkdirSync(join(root, "share"), { recursive: true });
      symlinkSync(outside, join(root, "share", "link"));
      await admin.adapters.addDestination({ name: "Udział", path: "share/link/erp" });
      const r = await refusal(admin.certificates.export({ ids: [w.certs.company], adapterId: "pem-pair", destination: "Udział" }));
      expect(r.core?.code).toBe("IO");
      expect(JSON.stringify({ m: r.core?.message, h: r.core?.hint, d: r.core?.details })).not.toContain(outside);
      expect(existsSync(join(outside, "erp")) && readdirSync(join(outside, "erp")).length > 0).toBe(false);
    });

    it("without an export root there are no destinations, only downloads", async () => {
      const { exportRoot: _root, ...downloadsOnly } = services;
      const { caller } = await callerFor(store.db, downloadsOnly, w.sessions.superAdmin);
      expect((await caller.adapters.destinations()).configured).toBe(false);
      expect((await refusal(caller.certificates.export({ ids: [w.certs.company], adapterId: "pem-pair", destination: "F2000 Firma" }))).core?.code).toBe(
        "UNSUPPORTED",
      );
    });

    it("an upload's file names cannot leave the upload; one-file formats take one file", async () => {
      const before = stagingLeftovers();
      const { caller } = await callerFor(store.db, services, w.sessions.superAdmin);
      const scope = { companyId: w.company.id };
      for (const name of ["../../etc/cron.d/x.crt", "/etc/passwd", "a\\..\\b.key", "a/./b.crt"]) {
        const r = await refusal(
          caller.adapters.import({ adapterId: "pem-pair", files: [{ name, base64: "AA==" }], scope, environment: "test", password: "x" }),
        );
        expect(
          r.core?.violations.map((v) => v.rule),
          name,
        ).toEqual(["upload.name"]);
      }
      // A NUL is refused before any use case sees the input, with the field named.
      const nul = await refusal(
        caller.adapters.import({ adapterId: "pem-pair", files: [{ name: "x\u0000.crt", base64: "AA==" }], scope, environment: "test", password: "x" }),
      );
      expect(nul.core?.violations.map((v) => [v.field, v.rule])).toEqual([["files.0.name", "input.characters"]]);
      const two = await refusal(
        caller.adapters.import({
          adapterId: "bundle",
          files: [
            { name: "a.p7m", base64: "AA==" },
            { name: "b.p7m", base64: "AA==" },
          ],
          scope,
          password: "x",
        }),
      );
      expect(two.core?.violations.map((v) => v.rule)).toEqual(["upload.oneFile"]);
      expect(stagingLeftovers()).toEqual(before);
    });

    it("the export root can be neither inside the data folder nor contain it", async () => {
      const data = mkdtempSync(join(tmpdir(), "ksef-data-"));
      mkdirSync(join(data, "exports"));
      try {
        for (const [r, d] of [
          [join(data, "exports"), data],
          [tmpdir(), data],
        ] as const) {
          const err = await checkExportRoot(r, d).catch((e: unknown) => e);
          expect((err as KsefCertsError).violations.map((v) => v.rule)).toEqual(["exportRoot.dataDir"]);
        }
        const relative = (await checkExportRoot("relative/path", data).catch((e: unknown) => e)) as KsefCertsError;
        expect(relative.violations[0]?.rule).toBe("exportRoot.absolute");
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    });
  });
}
