/**
 * Hostile input, driven by fast-check through the whole HTTP stack (Hono, tRPC, zod, core, the database), at
 * every tRPC procedure (found by walking the router, so a new one cannot be left out) and every agent API route:
 * NUL characters, lone surrogates, invalid UTF-8, malformed URL encodings, very long strings, odd numbers, random
 * JSON and deep nesting. The server may refuse anything, but never with a 5xx, always as JSON, and a refused input
 * is a typed violation (field, rule), never a validator's raw dump.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { createPairingCode, pairWorkstation } from "@ksef-certs/domain/agent";
import type { Store } from "@ksef-certs/domain/store";
import { buildWorld, DB_KINDS, openTestStore, PASSWORD, T0 } from "./__fixtures__/world.js";
import { createServer, type AdminServer } from "./app.js";
import { appRouter } from "./router.js";
import { CSRF_HEADER, SESSION_COOKIE } from "./trpc.js";

/** Strings an attacker or a careless paste sends. */
const HOSTILE_STRING = fc.oneof(
  fc.constantFrom(
    "\u0000",
    "a\u0000b",
    "\ud800",
    "x\udfffy",
    "%",
    "%E0%A4%A",
    "../../etc/passwd",
    "C:\\Windows\\win.ini",
    "'; DROP TABLE users; --",
    "\u202e",
    "🧾".repeat(40),
    "",
    " ",
    "null",
    "NaN",
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.nat({ max: 3 }).map((n) => "x".repeat([201, 5_000, 70_000, 300_000][n] ?? 1)),
);
const HOSTILE_NUMBER = fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53 + 2, 0.5, 36_501, 10_001);

/** `value` with every string leaf replaced by a hostile string and every number by a hostile number (drawn). */
function hostile(value: unknown): fc.Arbitrary<unknown> {
  if (typeof value === "string") return HOSTILE_STRING;
  if (typeof value === "number") return HOSTILE_NUMBER;
  if (Array.isArray(value)) return fc.tuple(...value.map(hostile));
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    return fc.tuple(...entries.map(([, v]) => hostile(v))).map((vs) => Object.fromEntries(entries.map(([k], i) => [k, vs[i]])));
  }
  return fc.constant(value);
}

for (const kind of DB_KINDS) {
  describe(`hostile input never answers 5xx [${kind}]`, () => {
    let store: Store;
    let server: AdminServer;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    let agentToken = "";
    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
      server = createServer({ store, clock: () => T0, resumeEnrollments: false, takeoverIntervalMs: 0, ksefUrlFor: () => "http://127.0.0.1:9/v2" });
      const { code } = await createPairingCode(store.db, { workstationId: w.w1.id, actor: "test", now: T0 });
      agentToken = (await pairWorkstation(store.db, { code, label: "kasa-1", now: T0 })).token;
    }, 120_000);
    afterAll(async () => {
      await server.close();
      await store.close();
    });

    /** A valid-looking input for every procedure, naming the fixture's own things (`undefined`: no input). */
    function baseInputs(): Record<string, unknown> {
      const companyId = w.company.id;
      const day = 86_400_000;
      return {
        "auth.login": { login: "nobody-here", password: "x" },
        "auth.logout": undefined,
        "auth.me": undefined,
        "auth.setLocale": { locale: "pl" },
        "auth.changePassword": { current: "wrong-password-x", next: "Nowe-Haslo-2026-x" },
        "auth.ping": undefined,
        "users.list": undefined,
        "users.get": { id: w.sessions.branchAdmin.principal.userId },
        "users.create": { login: "nowe-konto", displayName: "Nowe", password: PASSWORD, role: "auditor", companyId },
        "users.grant": { userId: w.sessions.branchAdmin.principal.userId, role: "auditor", companyId },
        "users.revoke": { userId: w.sessions.branchAdmin.principal.userId, role: "auditor", companyId },
        "org.tree": undefined,
        "org.addCompany": { nip: "1234563218", name: "Nowa firma" },
        "org.addBranch": { companyId, code: "B7", name: "Oddział 7" },
        "org.addOperator": { companyId, name: "Nowy operator", pesel: "44051401458", branchIds: [w.b1.id] },
        "org.addWorkstation": { branchId: w.b1.id, name: "kasa-9", outboxDir: "C:\\podpis", inboxDir: "C:\\podpisane" },
        "org.assignOperatorToBranch": { operatorId: w.o1.id, branchId: w.b2.id },
        "certificates.list": { companyId, search: "Jan", expiringWithinDays: 30, limit: 50, cursor: "abc" },
        "certificates.get": { id: w.certs.b1 },
        "certificates.timeline": { companyId, environment: "test", from: T0.toISOString(), to: new Date(T0.getTime() + 90 * day).toISOString() },
        "certificates.resolve": { companyId, branchId: w.b1.id, environment: "test", certificateType: "Authentication" },
        "certificates.importPair": {
          scope: { companyId },
          environment: "test",
          mode: "queued",
          name: "Nazwa",
          certificateBase64: "AA==",
          keyBase64: "AA==",
          password: "x",
        },
        "certificates.importPkcs12": { scope: { companyId }, environment: "test", mode: "queued", name: "Nazwa", pkcs12Base64: "AA==", password: "x" },
        "certificates.assign": { id: w.certs.b1, scope: { companyId, branchId: w.b2.id } },
        "certificates.revoke": { id: w.certs.b2, reason: "Superseded", ksef: { signingCertificateId: w.certs.b1, password: "x" } },
        "certificates.export": { ids: [w.certs.company], adapterId: "pem-pair", password: "x", destination: "Udział" },
        "adapters.list": undefined,
        "adapters.import": { adapterId: "pem-pair", files: [{ name: "a.crt", base64: "AA==" }], scope: { companyId }, environment: "test", password: "x" },
        "adapters.destinations": undefined,
        "adapters.addDestination": { name: "Udział", path: "f2000/firma", companyId },
        "adapters.removeDestination": { id: "00000000-0000-4000-8000-000000000000" },
        "enrollments.request": {
          scope: { companyId },
          environment: "test",
          certificateType: "Offline",
          mode: "current",
          name: "Nowy offline",
          validFrom: T0.toISOString(),
          authMethod: "certificate",
          signingCertificateId: w.certs.company,
          keyPassword: "Klucz-Testowy-2026!",
        },
        "enrollments.list": { companyId, state: "completed" },
        "enrollments.get": { id: w.enrollments.b1 },
        "enrollments.watch": { id: w.enrollments.b1 },
        "enrollments.uploadSigned": { id: w.enrollments.b2, signedBase64: "PHg+PC94Pg==" },
        "enrollments.downloadRequest": { id: w.enrollments.b2 },
        "audit.list": { entityId: w.certs.b1, actor: "user:super", action: "certificate.record", limit: 10 },
        "audit.verify": undefined,
        "workstations.createPairingCode": { workstationId: w.w1.id },
        "workstations.tokens": { workstationId: w.w1.id },
        "workstations.revokeToken": { tokenId: "00000000-0000-4000-8000-000000000000" },
        "workstations.signingRequests": { workstationId: w.w1.id },
        "renewals.plan": { companyId: w.company.id, branchId: w.b1.id, environment: "test" },
        "renewals.policy": { companyId: w.company.id, branchId: w.b1.id },
        "renewals.setPolicy": { companyId: w.company.id, branchId: w.b1.id, patch: { renewBeforeDays: 45, approval: "ask_first", workstationId: w.w1.id } },
        "renewals.approve": { renewalId: "00000000-0000-4000-8000-000000000000", keyPassword: "Nowe-haslo-klucza-2026!" },
      };
    }

    /** Calls a procedure over HTTP as the super-admin; returns the status and the parsed body. */
    async function call(path: string, type: string, input: unknown): Promise<{ status: number; body: unknown }> {
      const session = w.sessions.superAdmin;
      const headers = { cookie: `${SESSION_COOKIE}=${session.token}`, [CSRF_HEADER]: session.csrfToken, host: "localhost" };
      const res =
        type === "mutation"
          ? await server.app.request(`http://localhost/trpc/${path}`, {
              method: "POST",
              headers: { ...headers, "content-type": "application/json" },
              body: input === undefined ? "" : JSON.stringify(input),
            })
          : await server.app.request(`http://localhost/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, {
              headers,
            });
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(
          text.startsWith("data:")
            ? (text
                .split("\n")
                .find((l) => l.startsWith("data:"))
                ?.slice(5) ?? "null")
            : text,
        );
      } catch {
        body = text;
      }
      return { status: res.status, body };
    }

    /** What a refusal must look like: a message that is not a validator's dump; violations with field and rule. */
    function assertTypedRefusal(where: string, body: unknown): void {
      const error = (body as { error?: { message?: unknown; data?: { ksef?: { violations?: { field: unknown; rule: unknown }[] } | null } } } | null)?.error;
      if (error === undefined) return;
      const message = typeof error.message === "string" ? error.message : "";
      expect(message.trimStart().startsWith("["), `${where}: a raw validator dump: ${message.slice(0, 200)}`).toBe(false);
      expect(message.length, `${where}: an overlong message`).toBeLessThan(1000);
      for (const v of error.data?.ksef?.violations ?? []) {
        expect(typeof v.field === "string" && typeof v.rule === "string", `${where}: a violation without field or rule`).toBe(true);
      }
    }

    it("every tRPC procedure: hostile strings and numbers in a valid-looking input, and random JSON", async () => {
      const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
        .map(([path, p]) => ({ path, type: p._def.type }))
        // Signing out would end the session the property runs in; it takes no input anyway.
        .filter((p) => p.path !== "auth.logout");
      const inputs = baseInputs();
      expect(
        procedures.filter((p) => !(p.path in inputs)).map((p) => p.path),
        "procedures without a base input: add one",
      ).toEqual([]);
      for (const { path, type } of procedures) {
        const base = inputs[path];
        await fc.assert(
          fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: hostile(base) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }), async (input) => {
            const { status, body } = await call(path, type, input);
            expect(
              status,
              `${path} ${((JSON.stringify(input) as string | undefined) ?? "").slice(0, 300)} → ${((JSON.stringify(body) as string | undefined) ?? "").slice(0, 300)}`,
            ).toBeLessThan(500);
            assertTypedRefusal(path, body);
          }),
          { numRuns: 25, seed: 1207 },
        );
      }
    }, 900_000);

    it("raw requests: invalid UTF-8 bodies, malformed URL encodings, deep nesting, wrong content types", async () => {
      const session = w.sessions.superAdmin;
      const headers = { cookie: `${SESSION_COOKIE}=${session.token}`, [CSRF_HEADER]: session.csrfToken, host: "localhost" };
      const post = (path: string, body: string | Uint8Array, type = "application/json") =>
        server.app.request(`http://localhost/trpc/${path}`, { method: "POST", headers: { ...headers, "content-type": type }, body });
      const badUtf8 = new Uint8Array([
        0x7b, 0x22, 0x6e, 0x69, 0x70, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x2c, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80,
        0x22, 0x7d,
      ]);
      const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
      const responses = [
        await post("org.addCompany", badUtf8),
        await post("org.addCompany", "{not json"),
        await post("org.addCompany", deep),
        await post("org.addCompany", JSON.stringify({ nip: "5265877635", name: "x" }), "text/plain"),
        await post("certificates.export", JSON.stringify({ ids: Array(501).fill(w.certs.b1), adapterId: "pem-pair" })),
        await server.app.request("http://localhost/trpc/certificates.list?input=%", { headers }),
        await server.app.request("http://localhost/trpc/certificates.list?input=%FF%FE", { headers }),
        await server.app.request("http://localhost/trpc/certificates.list?input=%7B%22search%22%3A%22%ED%A0%80%22%7D", { headers }),
        await server.app.request(`http://localhost/trpc/certificates.list?input=${encodeURIComponent(deep)}`, { headers }),
        await server.app.request("http://localhost/trpc/nie.istnieje", { headers }),
        // A batch whose input is not one per call: each call refused on its own (207), none a 5xx.
        await server.app.request("http://localhost/trpc/certificates.list,certificates.get?batch=1&input=%7B%7D", { headers }),
      ];
      for (const [i, r] of responses.entries()) {
        const text = await r.text();
        expect(r.status, `request ${i}: ${text.slice(0, 300)}`).toBeLessThan(500);
        if (i < responses.length - 1) expect(r.status, `request ${i}`).toBeGreaterThanOrEqual(400);
        expect(() => JSON.parse(text) as unknown, `request ${i} is not JSON: ${text.slice(0, 100)}`).not.toThrow();
      }
      // A name of 200 characters: a typed violation on the field, not a dump.
      const long = await call("org.addCompany", "mutation", { nip: "5265877635", name: "n".repeat(201) });
      expect(long.status).toBe(400);
      assertTypedRefusal("org.addCompany", long.body);
      expect((long.body as { error: { data: { ksef: { violations: { field: string }[] } } } }).error.data.ksef.violations.map((v) => v.field)).toEqual([
        "name",
      ]);
      // A NUL in a search: refused with the field named, not a database error.
      const nul = await call("certificates.list", "query", { search: "Jan\u0000" });
      expect(nul.status).toBe(400);
      expect((nul.body as { error: { data: { ksef: { violations: { field: string; rule: string }[] } } } }).error.data.ksef.violations).toEqual([
        expect.objectContaining({ field: "search", rule: "input.characters" }),
      ]);
    }, 120_000);

    it("every agent API route: hostile bodies, headers and parameters", async () => {
      const routes: [string, string][] = [
        ["POST", "/agent/v1/pair"],
        ["GET", "/agent/v1/workstation"],
        ["GET", "/agent/v1/requests"],
        ["POST", `/agent/v1/requests/${encodeURIComponent("x")}/signed`],
        ["POST", `/agent/v1/requests/${encodeURIComponent("x")}/failed`],
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.oneof(
            HOSTILE_STRING,
            fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          ),
          fc.constantFrom("", "%", "%FF", "\u0000", "../..", "x".repeat(5000), "00000000-0000-4000-8000-000000000000"),
          fc.constantFrom("application/json", "application/octet-stream", "text/plain", ""),
          fc.boolean(),
          async ([method, route], body, param, type, authorised) => {
            const url = `http://localhost${route.replace("/x/", `/${encodeURIComponent(param)}/`)}?waitMs=${encodeURIComponent(param)}&after=${encodeURIComponent(param)}`;
            const res = await server.app.request(url, {
              method,
              headers: {
                host: "localhost",
                ...(type === "" ? {} : { "content-type": type }),
                ...(authorised ? { authorization: `Bearer ${agentToken}` } : {}),
                "x-content-sha256": param.replace(/[^\x21-\x7e]/g, "").slice(0, 100),
              },
              ...(method === "POST" ? { body } : {}),
            });
            const text = await res.text();
            expect(res.status, `${method} ${url.slice(0, 200)} → ${text.slice(0, 200)}`).toBeLessThan(500);
            expect(() => JSON.parse(text) as unknown, `${method} ${url.slice(0, 200)} → ${res.status} ${text.slice(0, 200)}`).not.toThrow();
          },
        ),
        { numRuns: 150, seed: 1207 },
      );
    }, 300_000);
  });
}
