// adapters.import over the router: uploads only (no server path), who may import where, and what a wrong password leaves behind.
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptPrivateKeyPem, generateKeyPair } from "@ksef-certs/ksef/crypto";
import type { Store } from "@ksef-certs/domain/store";
import { issueKsefLikeCertificate } from "@ksef-certs/testing/certificates";
import { buildWorld, callerFor, DB_KINDS, openTestStore, T0 } from "./__fixtures__/world.js";
import type { ServerServices } from "./services.js";

const KEY_PASSWORD = "Haslo-klucza-456!";
const services: ServerServices = { clock: () => T0 };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
  return "OK";
}

/** The ministry web app's pair as a browser uploads it: NAME.crt + NAME.key (encrypted PKCS#8), base64. */
async function pemPairUpload(name: string): Promise<{ name: string; base64: string }[]> {
  const keys = await generateKeyPair("EC-P256");
  const issued = await issueKsefLikeCertificate({
    certificateType: "Offline",
    keys,
    enrollmentData: { commonName: "Firma", countryName: "PL", organizationName: "Firma", organizationIdentifier: "VATPL-5265877635" },
    validFrom: new Date(T0.getTime() - 86_400_000),
    validityDays: 365,
  });
  return [
    { name: `${name}.crt`, base64: Buffer.from(issued.der).toString("base64") },
    { name: `${name}.key`, base64: Buffer.from(await encryptPrivateKeyPem(keys.privateKey, KEY_PASSWORD, { iterations: 1000 })).toString("base64") },
  ];
}

for (const kind of DB_KINDS) {
  describe(`adapters.import [${kind}]`, () => {
    let store: Store;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
    }, 120_000);
    afterAll(async () => {
      await store.close();
    });

    it("records an uploaded pem-pair for the caller's own branch, refuses other scopes and scope-less imports below super-admin", async () => {
      const files = await pemPairUpload("oddzial-1");
      const branchAdmin = (await callerFor(store.db, services, w.sessions.branchAdmin)).caller;
      const companyAdmin = (await callerFor(store.db, services, w.sessions.companyAdmin)).caller;
      const auditor = (await callerFor(store.db, services, w.sessions.auditor)).caller;
      const base = { adapterId: "pem-pair", files, environment: "test" as const, password: KEY_PASSWORD };

      // Another branch is hidden from a branch admin; an auditor writes nothing; without a scope the manifest decides: super-admin only.
      expect(await code(branchAdmin.adapters.import({ ...base, scope: { companyId: w.company.id, branchId: w.b2.id } }))).toBe("NOT_FOUND");
      expect(await code(auditor.adapters.import({ ...base, scope: { companyId: w.company.id, branchId: w.b1.id } }))).toBe("FORBIDDEN");
      expect(await code(companyAdmin.adapters.import({ ...base }))).toBe("FORBIDDEN");

      // A wrong password records nothing (all or nothing by default).
      const before = (await companyAdmin.certificates.list({ branchId: w.b1.id })).total;
      expect(await code(branchAdmin.adapters.import({ ...base, password: "Zle-haslo-000!", scope: { companyId: w.company.id, branchId: w.b1.id } }))).not.toBe(
        "OK",
      );
      expect((await companyAdmin.certificates.list({ branchId: w.b1.id })).total).toBe(before);

      const report = await branchAdmin.adapters.import({ ...base, scope: { companyId: w.company.id, branchId: w.b1.id } });
      expect(report.failed).toEqual([]);
      expect(report.imported).toHaveLength(1);
      expect(report.imported[0]).toMatchObject({ certificateType: "Offline", environment: "test" });
      const listed = await branchAdmin.certificates.list({ branchId: w.b1.id });
      expect(listed.total).toBe(before + 1);
      expect(listed.totalIsCapped).toBe(false);
      expect(listed.items.map((c) => c.id)).toContain(report.imported[0]?.certificateId);
    });
  });
}
