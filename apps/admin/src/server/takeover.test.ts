// The queued takeover is persisted by the server's background job at the moment it happens, with its audit entry,
// and by nothing that only reads (the certificate list of a branch admin, resolution).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate } from "@ksef-certs/domain/access";
import { encryptPrivateKeyPem, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { recordCertificate } from "@ksef-certs/domain/registry";
import { type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { issueKsefLikeCertificate } from "@ksef-certs/testing/certificates";
import { buildWorld, callerFor, DB_KINDS, openTestStore, PASSWORD, T0 } from "./__fixtures__/world.js";
import { createServer } from "./app.js";

const DAY = 86_400_000;

for (const kind of DB_KINDS) {
  describe(`queued takeover [${kind}]`, () => {
    let store: Store;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
    }, 120_000);
    afterAll(async () => {
      await store.close();
    });

    it("readers never write it; the background job persists it once, audited by system", async () => {
      const keys = await generateKeyPair("EC-P256");
      const keyFile = new TextEncoder().encode(await encryptPrivateKeyPem(keys.privateKey, "Haslo-klucza-123!", { iterations: 1000 }));
      const enrollmentData = { commonName: "Firma", countryName: "PL", organizationName: "Firma", organizationIdentifier: "VATPL-5265877635" };
      const issue = async (fromDays: number, days: number) =>
        (
          await issueKsefLikeCertificate({
            certificateType: "Offline",
            keys,
            enrollmentData,
            validFrom: new Date(T0.getTime() + fromDays * DAY),
            validityDays: days,
          })
        ).der;
      const scope = { type: "branch" as const, branchId: w.b1.id };
      const meta = { actor: "test", at: T0 };
      await recordCertificate(
        store.db,
        { scope, environment: "test", mode: "current", name: "Stary", certificateDer: await issue(-360, 361), keyFile, source: "imported" },
        meta,
      ); // ends day 1
      const next = await recordCertificate(
        store.db,
        { scope, environment: "test", mode: "queued", name: "Następca", certificateDer: await issue(0, 730), keyFile, source: "imported" },
        meta,
      );
      const later = new Date(T0.getTime() + 2 * DAY);
      const services = { clock: () => later };
      // A branch admin lists and resolves two days later: the successor answers, nothing is written.
      const session = await authenticate(store.db, { login: "b1-admin", password: PASSWORD, clientKey: "takeover-test", at: later });
      const { caller } = await callerFor(store.db, services, session);
      const resolved = await caller.certificates.resolve({ companyId: w.company.id, branchId: w.b1.id, environment: "test", certificateType: "Offline" });
      expect(resolved.found && resolved.certificate.id).toBe(next.id);
      await caller.certificates.list({ branchId: w.b1.id });
      const row = async () =>
        (await store.db.select({ id: schema.certificates.id, mode: schema.certificates.mode }).from(schema.certificates)).find((r) => r.id === next.id)?.mode;
      expect(await row()).toBe("queued");
      // The server's job, on its first run after listening.
      const server = createServer({ store, port: 0, clock: () => later, runEnrollments: false, takeoverIntervalMs: 60_000 });
      await server.listen();
      try {
        await expect.poll(row, { timeout: 10_000 }).toBe("current");
      } finally {
        await server.close();
      }
      const promo = (await store.db.select().from(schema.auditLog)).filter((e) => e.action === "certificate.promote");
      expect(promo.map((p) => [p.entityId, p.actor])).toEqual([[next.id, "system"]]);
    });
  });
}
