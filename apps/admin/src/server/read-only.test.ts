/**
 * Auditors only read: every mutation of the router (found by walking it, so a new one cannot be left out) is called
 * by an auditor of the company and by an auditor of every company, with an input that names the company's own
 * things, and each one is FORBIDDEN with nothing written. Only an account's own session, language and password are
 * theirs to change.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate, createUser, type NewSession } from "@ksef-certs/domain/access";
import { createPairingCode, pairWorkstation } from "@ksef-certs/domain/agent";
import { type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { buildWorld, callerFor, DB_KINDS, openTestStore, PASSWORD, T0, trpcCode } from "./__fixtures__/world.js";
import { createEnrollmentRunner } from "./enrollments.js";
import { appRouter } from "./router.js";
import type { ServerServices } from "./services.js";

/** What any signed-in account may do to itself. */
const SELF_SERVICE = ["auth.login", "auth.logout", "auth.setLocale", "auth.changePassword"];

for (const kind of DB_KINDS) {
  describe(`an auditor writes nothing [${kind}]`, () => {
    let store: Store;
    let services: ServerServices;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    let auditorOfAll: NewSession;
    let tokenId = "";
    let renewalId = "";
    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
      const noKsef = (): never => {
        throw new Error("KSeF is not used by this suite");
      };
      services = { clock: () => T0, enrollments: createEnrollmentRunner({ db: store.db, client: noKsef, clock: () => T0 }) };
      await createUser(
        store.db,
        { login: "audytor-wszystkich", displayName: "Audytor", password: PASSWORD, role: { role: "auditor" } },
        { actor: "test", at: T0 },
      );
      auditorOfAll = await authenticate(store.db, { login: "audytor-wszystkich", password: PASSWORD, clientKey: "test", at: T0 });
      const { code } = await createPairingCode(store.db, { workstationId: w.w1.id, actor: "test", now: T0 });
      ({ tokenId } = await pairWorkstation(store.db, { code, label: "kasa-1", now: T0 }));
      // A renewal waiting for an admin, so approving it is refused for being an auditor, not for not existing.
      const [renewal] = await store.db
        .insert(schema.renewals)
        .values({ certificateId: w.certs.b1, companyId: w.company.id, state: "awaiting_approval", dueAt: T0, nextAttemptAt: T0, createdAt: T0, updatedAt: T0 })
        .returning({ id: schema.renewals.id });
      renewalId = renewal?.id ?? "";
    }, 120_000);
    afterAll(async () => {
      await services.enrollments?.close();
      await store.close();
    });

    /** Each mutation with an input about the auditor's company that a company admin could send. */
    function inputs(): Record<string, unknown> {
      const companyId = w.company.id;
      return {
        "users.create": { login: "nowe-konto", displayName: "Nowe", password: PASSWORD, role: "auditor", companyId },
        "users.grant": { userId: w.sessions.branchAdmin.principal.userId, role: "auditor", companyId },
        "users.revoke": { userId: w.sessions.companyAdmin.principal.userId, role: "company_admin", companyId },
        "org.addCompany": { nip: "1234563218", name: "Nowa firma" },
        "org.addBranch": { companyId, code: "B7", name: "Oddział 7" },
        "org.addOperator": { companyId, name: "Nowy operator", branchIds: [w.b1.id] },
        "org.addWorkstation": { branchId: w.b1.id, name: "kasa-9", outboxDir: "/tmp/o9", inboxDir: "/tmp/i9" },
        "org.assignOperatorToBranch": { operatorId: w.o1.id, branchId: w.b2.id },
        "certificates.importPair": { scope: { companyId }, environment: "test", mode: "queued", certificateBase64: "AA==", keyBase64: "AA==", password: "x" },
        "certificates.importPkcs12": { scope: { companyId }, environment: "test", mode: "queued", pkcs12Base64: "AA==", password: "x" },
        "certificates.assign": { id: w.certs.b1, scope: { companyId, branchId: w.b2.id } },
        "certificates.revoke": { id: w.certs.company, reason: "Superseded" },
        "certificates.export": { ids: [w.certs.company], adapterId: "pem-pair" },
        "adapters.import": { adapterId: "pem-pair", files: [{ name: "a.crt", base64: "AA==" }], scope: { companyId }, environment: "test" },
        "adapters.addDestination": { name: "Udział", path: "f2000" },
        "adapters.removeDestination": { id: "00000000-0000-4000-8000-000000000000" },
        "enrollments.request": {
          scope: { companyId },
          environment: "test",
          certificateType: "Offline",
          mode: "current",
          name: "Nowy offline",
          authMethod: "certificate",
          signingCertificateId: w.certs.company,
          keyPassword: "Klucz-Testowy-2026!",
        },
        "enrollments.uploadSigned": { id: w.enrollments.b2, signedBase64: "PHg+PC94Pg==" },
        "workstations.createPairingCode": { workstationId: w.w1.id },
        "workstations.revokeToken": { tokenId },
        "renewals.setPolicy": { companyId, patch: { approval: "ask_first" } },
        "renewals.approve": { renewalId },
      };
    }

    it.each(["auditor", "auditor of every company"] as const)("%s: every mutation is FORBIDDEN and the audit log does not grow", async (who) => {
      const session = who === "auditor" ? w.sessions.auditor : auditorOfAll;
      const { caller } = await callerFor(store.db, services, session);
      const mutations = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
        .filter(([, p]) => p._def.type === "mutation")
        .map(([path]) => path)
        .filter((path) => !SELF_SERVICE.includes(path));
      const table = inputs();
      expect(
        mutations.filter((path) => !(path in table)),
        "mutations without an auditor case: add one",
      ).toEqual([]);
      const before = (await store.db.select({ seq: schema.auditLog.seq }).from(schema.auditLog)).length;
      const got: [string, string][] = [];
      for (const path of mutations) {
        const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (input: unknown) => Promise<unknown>;
        got.push([path, await trpcCode(fn(table[path]))]);
      }
      expect(got).toEqual(mutations.map((path) => [path, "FORBIDDEN"]));
      expect((await store.db.select({ seq: schema.auditLog.seq }).from(schema.auditLog)).length).toBe(before);
      // What the auditor may do: read the same things.
      expect((await caller.certificates.get({ id: w.certs.b2 })).certificate.id).toBe(w.certs.b2);
      expect((await caller.workstations.tokens({ workstationId: w.w1.id })).map((t) => t.id)).toEqual([tokenId]);
    });
  });
}
