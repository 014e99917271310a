import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "@ksef-certs/domain/store";
import { buildWorld, callerFor, DB_KINDS, openTestStore, PASSWORD, T0 } from "./__fixtures__/world.js";
import { createEnrollmentRunner } from "./enrollments.js";
import { appRouter } from "./router.js";
import type { ServerServices } from "./services.js";

let services: ServerServices = { clock: () => T0 };
const GUESSED = "3f2b8c1e-9d4a-4e6b-8f00-123456789abc";

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
  return "OK";
}

for (const kind of DB_KINDS) {
  describe(`admin router per role [${kind}]`, () => {
    let store: Store;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
      // A runner whose KSeF is never reached: these tests only read enrollments.
      const noKsef = (): never => {
        throw new Error("KSeF is not used by this suite");
      };
      services = { clock: () => T0, enrollments: createEnrollmentRunner({ db: store.db, client: noKsef, clock: () => T0 }) };
    }, 120_000);
    afterAll(async () => {
      await store.close();
    });

    it("a branch admin cannot read, export, move, revoke or resolve another branch's certificate by any procedure, nor a guessed id", async () => {
      const { caller } = await callerFor(store.db, services, w.sessions.branchAdmin);
      const own = { companyId: w.company.id, branchId: w.b1.id };
      const byId = (id: string, enrollmentId: string, workstationId: string, operatorId: string, branchId: string) => [
        () => caller.certificates.get({ id }),
        () => caller.certificates.export({ ids: [id], adapterId: "pem-pair" }),
        () => caller.certificates.assign({ id, scope: own }),
        () => caller.certificates.revoke({ id, reason: "Superseded" }),
        () => caller.certificates.resolve({ companyId: w.company.id, branchId, environment: "test", certificateType: "Authentication" }),
        () => caller.certificates.resolve({ companyId: w.company.id, operatorId, environment: "test", certificateType: "Authentication" }),
        () =>
          caller.certificates.importPair({
            scope: { companyId: w.company.id, branchId },
            environment: "test",
            mode: "current",
            certificateBase64: "AA==",
            keyBase64: "AA==",
            password: "x",
          }),
        () => caller.audit.list({ entityId: id }),
        () => caller.audit.list({ entityId: enrollmentId }),
        () => caller.enrollments.get({ id: enrollmentId }),
        () => caller.enrollments.downloadRequest({ id: enrollmentId }),
        () => caller.enrollments.uploadSigned({ id: enrollmentId, signedBase64: "PHg+PC94Pg==" }),
        () => caller.org.addWorkstation({ branchId, name: "x", outboxDir: "/tmp/a", inboxDir: "/tmp/b" }),
        () => caller.org.assignOperatorToBranch({ operatorId, branchId: w.b1.id }),
        () => caller.workstations.createPairingCode({ workstationId }),
        () => caller.workstations.tokens({ workstationId }),
        () => caller.workstations.signingRequests({ workstationId }),
      ];
      const hidden = byId(w.certs.b2, w.enrollments.b2, w.w2.id, w.o2.id, w.b2.id);
      const guessed = byId(GUESSED, GUESSED, GUESSED, GUESSED, GUESSED);
      for (const call of [...hidden, ...guessed]) expect(await code(call())).toBe("NOT_FOUND");
      for (const id of [w.certs.b2, w.certs.o2, w.certs.other]) expect(await code(caller.certificates.get({ id }))).toBe("NOT_FOUND");
      // The subscription refuses before its first event.
      expect(
        await code(
          (async () => {
            for await (const _ of await caller.enrollments.watch({ id: w.enrollments.b2 })) break;
          })(),
        ),
      ).toBe("NOT_FOUND");
      // What it may see: its own branch, its operator, the company's certificate (read-only).
      const listed = await caller.certificates.list({});
      expect(listed.items.map((c) => c.id).sort()).toEqual([w.certs.company, w.certs.b1, w.certs.o1].sort());
      expect((await caller.certificates.get({ id: w.certs.b1 })).certificate.id).toBe(w.certs.b1);
      expect(await code(caller.certificates.revoke({ id: w.certs.company, reason: "Superseded" }))).toBe("FORBIDDEN");
      expect(await code(caller.certificates.export({ ids: [w.certs.company], adapterId: "pem-pair" }))).toBe("FORBIDDEN");
      const tree = await caller.org.tree();
      expect(tree.map((c) => c.id)).toEqual([w.company.id]);
      expect(tree[0]?.branches.map((b) => b.code)).toEqual(["B1"]);
      expect(tree[0]?.operators.map((o) => o.name)).toEqual(["Jan"]);
      const timeline = await caller.certificates.timeline({
        environment: "test",
        from: T0.toISOString(),
        to: new Date(T0.getTime() + 30 * 86_400_000).toISOString(),
      });
      expect(timeline.rows.flatMap((r) => r.spans.map((s) => s.id))).not.toContain(w.certs.b2);
      expect(await code(caller.users.list())).toBe("FORBIDDEN");
      expect(await code(caller.audit.list({}))).toBe("FORBIDDEN");
      expect((await caller.enrollments.get({ id: w.enrollments.b1 })).id).toBe(w.enrollments.b1);
    });

    it("company admin: its company only; auditor: reads, never writes; super-admin: everything", async () => {
      const company = (await callerFor(store.db, services, w.sessions.companyAdmin)).caller;
      expect((await company.certificates.list({})).total).toBe(5);
      expect(await code(company.certificates.get({ id: w.certs.other }))).toBe("NOT_FOUND");
      expect(await code(company.org.addCompany({ nip: "1234563218", name: "X" }))).toBe("FORBIDDEN");
      expect((await company.org.addBranch({ companyId: w.company.id, code: "B9", name: "Nowy" })).code).toBe("B9");
      expect(await code(company.org.addBranch({ companyId: w.other.id, code: "B9", name: "Nowy" }))).toBe("NOT_FOUND");
      const auditor = (await callerFor(store.db, services, w.sessions.auditor)).caller;
      expect((await auditor.certificates.get({ id: w.certs.b2 })).certificate.id).toBe(w.certs.b2);
      expect(await code(auditor.certificates.revoke({ id: w.certs.b2, reason: "KeyCompromise" }))).toBe("FORBIDDEN");
      expect(await code(auditor.org.addBranch({ companyId: w.company.id, code: "B8", name: "Nie" }))).toBe("FORBIDDEN");
      expect((await auditor.audit.list({ companyId: w.company.id })).entries.length).toBeGreaterThan(0);
      const superAdmin = (await callerFor(store.db, services, w.sessions.superAdmin)).caller;
      expect((await superAdmin.certificates.list({})).total).toBe(6);
      expect((await superAdmin.audit.verify()).ok).toBe(true);
      expect(await code(company.certificates.assign({ id: w.certs.o2, scope: { companyId: w.company.id, operatorId: w.o1.id } }))).toBe("CONFLICT");
      const b9 = (await company.org.tree())[0]?.branches.find((b) => b.code === "B9");
      expect((await company.certificates.assign({ id: w.certs.o2, scope: { companyId: w.company.id, branchId: b9?.id ?? "" } })).moved).toBe(true);
      expect((await company.certificates.get({ id: w.certs.o2 })).certificate.scope?.branchCode).toBe("B9");
    });

    it("every mutation (found by walking the router) is refused without the CSRF header or with a wrong one", async () => {
      const mutations = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
        .filter(([, p]) => p._def.type === "mutation")
        .map(([path]) => path);
      expect(mutations.length).toBeGreaterThan(20);
      expect(mutations).toContain("certificates.export");
      for (const csrf of [null, "wrong-token", w.sessions.branchAdmin.csrfToken]) {
        const { caller } = await callerFor(store.db, services, w.sessions.superAdmin, csrf);
        for (const path of mutations) {
          if (path === "auth.login") continue;
          const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (input: unknown) => Promise<unknown>;
          expect([path, await code(fn({}))]).toEqual([path, "FORBIDDEN"]);
        }
      }
      // With the right token the same caller gets past the check (to input validation).
      const { caller } = await callerFor(store.db, services, w.sessions.superAdmin);
      expect(await code(caller.org.addCompany({} as never))).toBe("BAD_REQUEST");
    });

    it("login sets a strict session cookie, throttles repeated failures, and an anonymous caller gets nothing", async () => {
      const anon = await callerFor(store.db, services, null);
      const ok = await anon.caller.auth.login({ login: "audytor", password: PASSWORD });
      expect(ok.roles).toEqual([{ role: "auditor", companyId: w.company.id, branchId: null }]);
      expect(anon.record.cookies[0]).toMatch(/^ksef_certs_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
      const https = await callerFor(store.db, services, null, null, true);
      await https.caller.auth.login({ login: "audytor", password: PASSWORD });
      expect(https.record.cookies[0]).toMatch(/; Secure$/);
      expect(await anon.caller.auth.me()).toBeNull();
      expect(await code(anon.caller.certificates.list({}))).toBe("UNAUTHORIZED");
      const codes: string[] = [];
      for (let i = 0; i < 6; i++) codes.push(await code(anon.caller.auth.login({ login: "firma-admin", password: "zle-haslo" })));
      // Five failures are answered as wrong credentials; from then on the login is locked.
      expect(codes).toEqual(["UNAUTHORIZED", "UNAUTHORIZED", "UNAUTHORIZED", "UNAUTHORIZED", "UNAUTHORIZED", "TOO_MANY_REQUESTS"]);
      expect(await code(anon.caller.auth.login({ login: "firma-admin", password: PASSWORD }))).toBe("TOO_MANY_REQUESTS");
    });

    it("core errors reach the client once mapped, with field violations in data.ksef", async () => {
      const { caller } = await callerFor(store.db, services, w.sessions.superAdmin);
      try {
        await caller.org.addCompany({ nip: "123", name: "" });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(TRPCError);
        const shape = appRouter._def._config.errorFormatter({
          error: err as TRPCError,
          type: "mutation",
          path: "org.addCompany",
          input: undefined,
          ctx: undefined,
          shape: { message: "", code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400, path: "org.addCompany" } },
        } as never) as unknown as { data: { ksef: { code: string; violations: { field: string; rule: string }[] } } };
        expect(shape.data.ksef.code).toBe("VALIDATION");
        expect(shape.data.ksef.violations.map((v) => v.field)).toEqual(expect.arrayContaining(["nip", "name"]));
      }
    });
    it("an expired session is no session", async () => {
      const later: ServerServices = { clock: () => new Date(T0.getTime() + 13 * 3_600_000) };
      const { caller } = await callerFor(store.db, later, w.sessions.superAdmin);
      expect(await caller.auth.me()).toBeNull();
      expect(await code(caller.org.tree())).toBe("UNAUTHORIZED");
    });
  });
}
