/**
 * The registry against the simulator: a company with 2 branches and 3 operators; an operator's
 * Authentication certificate enrolled through the folder hand-off (the test signs auth.xml as the person would
 * and drops it into the inbox, slowly, under an odd name); then an Offline certificate and a queued successor
 * enrolled automatically with that Authentication certificate; a branch and the company get theirs the same way;
 * time moves past expiry and the queued one takes over; resolution answers for every operator and branch; and an
 * enrollment killed while KSeF is issuing resumes in a fresh service without enrolling twice.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, readPrivateKey, type KeyPair } from "@ksef-certs/ksef/crypto";
import { createEnrollmentService, createFolderHandoff, type EnrollmentDeps, type EnrollmentService } from "@ksef-certs/domain/enrollment";
import { createKsefClient } from "@ksef-certs/ksef/api";
import { certificateFor, getCertificateSecrets, listCertificates, promoteQueued, type Branch, type Operator } from "@ksef-certs/domain/registry";
import { openStore, verifyAuditLog, type Store } from "@ksef-certs/domain/store";
import { createScratchDatabase, type ScratchDatabase } from "@ksef-certs/testing/database";
import { createTestOrganisation } from "@ksef-certs/testing/organisation";
import { selfSignedCertificate } from "@ksef-certs/testing/certificates";
import { signXml } from "@ksef-certs/ksef/xades";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { vaultFromMasterKey } from "@ksef-certs/domain/vault";

const NIP = "5265877635";
const PASSWORD = "Klucz-KSeF-2026-bezpieczny!";
const meta = { actor: "test:e2e" };

const KINDS = process.env.KSEF_CERTS_TEST_DATABASE_URL ? (["pglite", "postgres"] as const) : (["pglite"] as const);

for (const kind of KINDS) {
  describe(`the registry's main job against the simulator [${kind}]`, () => {
    let sim: RunningSimulator;
    let store: Store;
    let scratch: ScratchDatabase | undefined;
    let folders: string;
    let outbox: string;
    let inbox: string;
    let waw: Branch;
    let krk: Branch;
    let jan: Operator;
    let anna: Operator;
    let piotr: Operator;
    let janKeys: KeyPair;
    let janCert: Uint8Array;
    const masterKey = randomBytes(32);
    const certs = { janAuth: "", janOffline: "", janNext: "", wawAuth: "", companyOffline: "" };

    function deps(): EnrollmentDeps {
      return {
        db: store.db,
        client: () => createKsefClient({ baseUrl: sim.url }),
        handoff: createFolderHandoff({ db: store.db, stabilityMs: 150, rescanIntervalMs: 500 }),
        vault: vaultFromMasterKey(masterKey),
        // Automatic authentication with a held certificate: the key is opened with its (test-known) password.
        signerFor: async (certificateId) => {
          const s = await getCertificateSecrets(store.db, certificateId);
          return { privateKey: (await readPrivateKey(s.keyFile, { password: PASSWORD })).key, certificate: s.certificateDer };
        },
        pollOptions: { intervalMs: 100 },
      };
    }

    async function waitForFile(dir: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const found = (await readdir(dir)).find((n) => pattern.test(n));
        if (found !== undefined) return join(dir, found);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no file matching ${pattern} in ${dir}`);
    }

    async function enrollAutomatically(service: EnrollmentService, input: Parameters<EnrollmentService["request"]>[0]): Promise<string> {
      const requested = await service.request(input, meta);
      const result = await service.run(requested.id);
      expect(result.outcome, result.message).toBe("completed");
      return result.enrollment.certificateId ?? "";
    }

    beforeAll(async () => {
      // Jan (PESEL) holds more than KSeF's published 6 here; raised as KSeF TEST allows (POST /testdata/limits/subject/certificate).
      sim = await startSimulator({ enrollmentDelayMs: 150, certificateLimits: { Pesel: { maxEnrollments: 50, maxCertificates: 20 } } });
      if (kind === "postgres") {
        scratch = await createScratchDatabase(process.env.KSEF_CERTS_TEST_DATABASE_URL ?? "");
        store = await openStore({ databaseUrl: scratch.url });
      } else {
        store = await openStore({ dataDir: ":memory:" });
      }
      folders = await mkdtemp(join(tmpdir(), "ksef-handoff-"));
      outbox = join(folders, "do-podpisu");
      inbox = join(folders, "podpisane");
      await Promise.all([import("node:fs/promises").then((fs) => fs.mkdir(outbox)), import("node:fs/promises").then((fs) => fs.mkdir(inbox))]);
      const org = await createTestOrganisation(
        store.db,
        {
          nip: NIP,
          name: "Hurtownia Testowa",
          branches: [
            { code: "WAW", name: "Oddział Warszawa", workstations: [{ name: "Stanowisko 1", outboxDir: outbox, inboxDir: inbox }] },
            { code: "KRK", name: "Oddział Kraków" },
          ],
          operators: [
            { name: "Jan Kowalski", pesel: "44051401458", branchCodes: ["WAW"] },
            { name: "Anna Nowak", pesel: "02070803628", branchCodes: ["KRK"] },
            { name: "Piotr Wiśniewski", branchCodes: ["WAW", "KRK"] },
          ],
        },
        meta,
      );
      waw = org.branches["WAW"]!;
      krk = org.branches["KRK"]!;
      jan = org.operators["Jan Kowalski"]!;
      anna = org.operators["Anna Nowak"]!;
      piotr = org.operators["Piotr Wiśniewski"]!;
      // Jan's own signature (what Profil Zaufany or a qualified certificate does for him): PESEL in the subject.
      janKeys = await generateKeyPair("EC-P256");
      janCert = (
        await selfSignedCertificate(janKeys, [
          { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
          { oid: "2.5.4.42", value: "Jan", stringType: "UTF8String" },
          { oid: "2.5.4.4", value: "Kowalski", stringType: "UTF8String" },
          { oid: "2.5.4.5", value: "PNOPL-44051401458", stringType: "PrintableString" },
          { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
        ])
      ).der;
    });

    afterAll(async () => {
      await store.close();
      await scratch?.drop();
      await sim.close();
      await rm(folders, { recursive: true, force: true });
    });

    it("enrolls Jan's Authentication certificate through the folder hand-off, signed by Jan and dropped slowly under an odd name", async () => {
      const service = createEnrollmentService(deps());
      const workstationId = (await store.db.query.workstations.findFirst())?.id ?? "";
      const requested = await service.request(
        {
          scope: { type: "operator", operatorId: jan.id },
          environment: "test",
          certificateType: "Authentication",
          mode: "current",
          name: "Jan Kowalski logowanie",
          authMethod: "handoff",
          workstationId,
          keyPassword: PASSWORD,
        },
        meta,
      );
      const running = service.run(requested.id);
      const authXml = await waitForFile(outbox, /^auth-.*\.xml$/);
      const signed = await signXml(await readFile(authXml), { privateKey: janKeys.privateKey, certificate: janCert });
      const dropped = join(inbox, "podpisany (1).xml.xades");
      const half = Math.floor(signed.length / 2);
      await writeFile(dropped, signed.subarray(0, half));
      await new Promise((r) => setTimeout(r, 400));
      await appendFile(dropped, signed.subarray(half));
      const result = await running;
      expect(result.outcome, result.message).toBe("completed");
      certs.janAuth = result.enrollment.certificateId ?? "";
      const [row] = await listCertificates(store.db, { operatorId: jan.id });
      expect(row).toMatchObject({
        certificateType: "Authentication",
        mode: "current",
        subjectIdentifierType: "Pesel",
        subjectIdentifierValue: "44051401458",
        state: "active",
      });
      expect(await readdir(join(inbox, "processed"))).toContain("podpisany (1).xml.xades");
    });

    it("enrolls an Offline certificate and a queued successor automatically with that Authentication certificate, and the branch's and company's too", async () => {
      const service = createEnrollmentService(deps());
      const auto = { environment: "test" as const, authMethod: "certificate" as const, signingCertificateId: certs.janAuth, keyPassword: PASSWORD };
      certs.janOffline = await enrollAutomatically(service, {
        ...auto,
        scope: { type: "operator", operatorId: jan.id },
        certificateType: "Offline",
        mode: "current",
        name: "Jan Kowalski offline",
      });
      const successorFrom = new Date(Date.now() + 86_400_000);
      certs.janNext = await enrollAutomatically(service, {
        ...auto,
        scope: { type: "operator", operatorId: jan.id },
        certificateType: "Authentication",
        mode: "queued",
        name: "Jan Kowalski następca",
        validFrom: successorFrom,
      });
      certs.wawAuth = await enrollAutomatically(service, {
        ...auto,
        scope: { type: "branch", branchId: waw.id },
        certificateType: "Authentication",
        mode: "current",
        name: "Oddział WAW logowanie",
      });
      certs.companyOffline = await enrollAutomatically(service, {
        ...auto,
        scope: { type: "company", companyId: jan.companyId },
        certificateType: "Offline",
        mode: "current",
        name: "Hurtownia offline",
      });
      const janCerts = await listCertificates(store.db, { operatorId: jan.id });
      expect(janCerts.map((c) => [c.certificateType, c.mode]).sort()).toEqual([
        ["Authentication", "current"],
        ["Authentication", "queued"],
        ["Offline", "current"],
      ]);
      expect(sim.state.counters.certificatesIssued).toBe(5);
    });

    it("resolves for every operator and branch: operator first, then branch, then company", async () => {
      const at = new Date();
      const resolve = (operatorId: string | undefined, branchId: string | undefined, certificateType: "Authentication" | "Offline") =>
        certificateFor(store.db, {
          ...(operatorId === undefined ? {} : { operatorId }),
          ...(branchId === undefined ? {} : { branchId }),
          companyId: jan.companyId,
          environment: "test",
          certificateType,
          at,
        });
      const rule = async (...args: Parameters<typeof resolve>) => {
        const r = await resolve(...args);
        return r.found ? `${r.rule}:${r.certificate.id}` : `none(${r.tried.join(">")})`;
      };
      expect(await rule(jan.id, waw.id, "Authentication")).toBe(`operator:${certs.janAuth}`);
      expect(await rule(jan.id, waw.id, "Offline")).toBe(`operator:${certs.janOffline}`);
      expect(await rule(piotr.id, waw.id, "Authentication")).toBe(`branch:${certs.wawAuth}`);
      expect(await rule(piotr.id, krk.id, "Offline")).toBe(`company:${certs.companyOffline}`);
      expect(await rule(anna.id, krk.id, "Authentication")).toBe("none(operator>branch>company)");
      expect(await rule(anna.id, krk.id, "Offline")).toBe(`company:${certs.companyOffline}`);
      expect(await rule(undefined, waw.id, "Authentication")).toBe(`branch:${certs.wawAuth}`);
      expect(await rule(undefined, krk.id, "Authentication")).toBe("none(branch>company)");
    });

    it("lets the queued successor take over when the current certificate expires (clock moved two years on)", async () => {
      const [current] = await listCertificates(store.db, { operatorId: jan.id, certificateType: "Authentication", mode: "current" });
      const after = new Date(current!.validTo.getTime() + 3_600_000);
      const r = await certificateFor(store.db, { operatorId: jan.id, branchId: waw.id, environment: "test", certificateType: "Authentication", at: after });
      expect(r.found && r.rule).toBe("operator");
      expect(r.found && r.certificate.id).toBe(certs.janNext);
      // Asking about that day wrote nothing; the background job (the server's, or `cert takeover`) records the takeover.
      const asked = await listCertificates(store.db, { operatorId: jan.id, certificateType: "Authentication", at: after });
      expect(asked.find((c) => c.id === certs.janNext)).toMatchObject({ mode: "queued", state: "active" });
      expect((await promoteQueued(store.db, { at: after })).map((p) => p.certificateId)).toEqual([certs.janNext]);
      const after2 = await listCertificates(store.db, { operatorId: jan.id, certificateType: "Authentication", at: after });
      expect(after2.find((c) => c.id === certs.janNext)).toMatchObject({ mode: "current", state: "active" });
      expect(after2.find((c) => c.id === certs.janAuth)).toMatchObject({ state: "expired" });
    });

    it("resumes an enrollment killed while KSeF was issuing it, in a fresh service, without enrolling twice", async () => {
      const first = createEnrollmentService(deps());
      const requested = await first.request(
        {
          scope: { type: "branch", branchId: krk.id },
          environment: "test",
          certificateType: "Offline",
          mode: "current",
          name: "Oddział KRK offline",
          authMethod: "certificate",
          signingCertificateId: certs.janAuth,
          keyPassword: PASSWORD,
          sealPassword: true,
        },
        meta,
      );
      const created = sim.state.counters.enrollmentsCreated;
      const kill = new AbortController();
      const killed = createEnrollmentService({
        ...deps(),
        onProgress: (e) => {
          if (e.state === "submitted") kill.abort();
        },
      });
      await expect(killed.run(requested.id, { signal: kill.signal })).rejects.toBeDefined();
      const resumed = createEnrollmentService(deps()); // a new process: nothing in memory, the password is sealed
      await resumed.resumeAll({ signal: AbortSignal.timeout(60_000) });
      expect((await resumed.get(requested.id)).state).toBe("completed");
      expect(sim.state.counters.enrollmentsCreated - created).toBe(1);
      const krkOffline = await listCertificates(store.db, { branchId: krk.id, certificateType: "Offline" });
      expect(krkOffline).toHaveLength(1);
      expect((await certificateFor(store.db, { operatorId: anna.id, branchId: krk.id, environment: "test", certificateType: "Offline" })).found).toBe(true);
    });

    it.each(["key_generated", "authenticated", "submitting"] as const)("resumes an enrollment killed at %s, without enrolling a key twice", async (step) => {
      const scopes = {
        key_generated: { type: "operator", operatorId: anna.id },
        authenticated: { type: "operator", operatorId: piotr.id },
        submitting: { type: "branch", branchId: krk.id },
      } as const;
      const first = createEnrollmentService(deps());
      const requested = await first.request(
        {
          scope: scopes[step],
          environment: "test",
          certificateType: "Authentication",
          mode: "current",
          name: `Zabity na ${step}`,
          authMethod: "certificate",
          signingCertificateId: certs.janAuth,
          keyPassword: PASSWORD,
          sealPassword: true,
        },
        meta,
      );
      const created = sim.state.counters.enrollmentsCreated;
      const kill = new AbortController();
      const killed = createEnrollmentService({
        ...deps(),
        onProgress: (e) => {
          if (e.state === step) kill.abort();
        },
      });
      await expect(killed.run(requested.id, { signal: kill.signal })).rejects.toBeDefined();
      const resumed = createEnrollmentService({ ...deps(), reconcileGraceMs: 1_500, reconcilePollMs: 250 });
      const result = await resumed.run(requested.id, { signal: AbortSignal.timeout(60_000) });
      expect(result.outcome, result.message).toBe("completed");
      // One certificate in KSeF for this enrollment: either the first key's (adopted) or a fresh key's, never both.
      expect(sim.state.counters.enrollmentsCreated - created).toBe(1);
      const scope = scopes[step];
      const where = scope.type === "operator" ? { operatorId: scope.operatorId } : { branchId: scope.branchId };
      expect(await listCertificates(store.db, { ...where, environment: "test", certificateType: "Authentication" })).toHaveLength(1);
    });

    it("kept an intact audit log of all of it", async () => {
      const v = await verifyAuditLog(store.db);
      expect(v.ok).toBe(true);
      expect(v.entries).toBeGreaterThan(20);
    });
  });
}
