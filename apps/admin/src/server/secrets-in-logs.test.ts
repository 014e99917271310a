/**
 * Secrets never reach the log, also when a query fails: every procedure that carries a password, a key file, a
 * sealed password, a password hash or a token is run over HTTP through the real server and its real logger,
 * once succeeding and once failing in the database (a trigger makes the write raise, so the driver's error
 * with its bound values is what the server logs), and the whole log is searched for each secret in every
 * encoding a log line could carry it in.
 */
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptPrivateKeyPem, exportPkcs12, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { issueKsefLikeCertificate } from "@ksef-certs/testing/certificates";
import { buildWorld, DB_KINDS, openTestStore, T0 } from "./__fixtures__/world.js";
import { createServer, type AdminServer } from "./app.js";
import { createServerLogger } from "./logger.js";
import { CSRF_HEADER, SESSION_COOKIE } from "./trpc.js";

/** Every way a log line could carry `bytes`: base64, base64url, hex, `\x` hex, JSON byte lists, a PEM body line. */
function encodingsOf(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  const head = [...b.subarray(0, 12)];
  const out = [
    b.toString("base64").slice(0, 24),
    b.toString("base64url").slice(0, 24),
    b.toString("hex").slice(0, 32),
    `\\\\x${b.toString("hex").slice(0, 32)}`,
    head.join(","),
    head.map((x, i) => `"${i}":${x}`).join(","),
  ];
  // A PEM file's body, as text: its second line.
  const text = b.toString("utf8");
  if (text.startsWith("-----BEGIN")) out.push((text.split("\n")[1] ?? "").slice(0, 40));
  return out.filter((s) => s.length >= 12);
}

for (const kind of DB_KINDS) {
  describe(`secrets never in logs [${kind}]`, () => {
    let store: Store;
    let server: AdminServer;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    const lines: string[] = [];
    const secrets: { name: string; text: string }[] = [];
    const secret = (name: string, text: string): void => {
      secrets.push({ name, text });
    };
    const secretBytes = (name: string, bytes: Uint8Array): void => {
      for (const e of encodingsOf(bytes)) secret(name, e);
    };
    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
      const destination = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString("utf8"));
          done();
        },
      });
      server = createServer({
        store,
        clock: () => T0,
        logger: createServerLogger({ level: "trace", destination }),
        masterKey: randomBytes(32),
        resumeEnrollments: false,
        takeoverIntervalMs: 0,
        // KSeF is never reachable here: runs and revocations fail, and their failures are logged too.
        ksefUrlFor: () => "http://127.0.0.1:9/v2",
        pollOptions: { intervalMs: 10, timeoutMs: 200 },
      });
      await store.db.execute(
        "CREATE OR REPLACE FUNCTION ksef_test_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql",
      );
    }, 120_000);
    afterAll(async () => {
      await server.close();
      await store.close();
    });

    /** Makes every insert or update of `table` fail while `work` runs. */
    async function failingWrites<T>(table: string, work: () => Promise<T> | T): Promise<T> {
      await store.db.execute(`CREATE TRIGGER ksef_test_refuse BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ksef_test_refuse()`);
      try {
        return await work();
      } finally {
        await store.db.execute(`DROP TRIGGER ksef_test_refuse ON ${table}`);
      }
    }

    async function call(path: string, input: unknown, session = w.sessions.superAdmin): Promise<{ status: number; body: string; setCookie: string | null }> {
      const res = await server.app.request(`http://localhost/trpc/${path}`, {
        method: "POST",
        headers: { host: "localhost", "content-type": "application/json", cookie: `${SESSION_COOKIE}=${session.token}`, [CSRF_HEADER]: session.csrfToken },
        body: JSON.stringify(input),
      });
      return { status: res.status, body: await res.text(), setCookie: res.headers.get("set-cookie") };
    }

    /** A refusal that came from the database failing: logged by the server as "procedure failed". */
    function failed(r: { status: number; body: string }): void {
      expect(r.status, r.body.slice(0, 300)).toBe(500);
    }

    it("runs every secret-bearing procedure, succeeding and failing in the database, and no secret reaches the log", async () => {
      for (const s of Object.values(w.sessions)) {
        secret("session token", s.token);
        secret("csrf token", s.csrfToken);
      }
      const companyId = w.company.id;
      const keyPassword = "Haslo-Do-Klucza-Tajne-2026!";
      secret("key password", keyPassword);
      const keys = await generateKeyPair("EC-P256");
      const issued = await issueKsefLikeCertificate({
        certificateType: "Offline",
        keys,
        enrollmentData: { commonName: "Firma", countryName: "PL", organizationName: "Firma", organizationIdentifier: "VATPL-5265877635" },
        validFrom: new Date(T0.getTime() - 86_400_000),
        validityDays: 365,
      });
      const keyPem = await encryptPrivateKeyPem(keys.privateKey, keyPassword, { iterations: 1000 });
      secretBytes("key file", new TextEncoder().encode(keyPem));
      secretBytes("key file DER", Buffer.from(keyPem.split("\n").slice(1, -2).join(""), "base64"));
      const pair = {
        scope: { companyId },
        environment: "test",
        mode: "current",
        certificateBase64: Buffer.from(issued.der).toString("base64"),
        keyBase64: Buffer.from(keyPem).toString("base64"),
        password: keyPassword,
        sealPassword: true,
      };
      const p12 = await exportPkcs12({ certificate: issued.der, privateKey: keys.privateKey, password: keyPassword, iterations: 2048 });
      secretBytes("p12", p12);

      // Accounts: a new password becomes a scrypt hash; the insert fails once.
      const accountPassword = "Nowe-Konto-Haslo-Tajne-1";
      secret("account password", accountPassword);
      const createUser = { login: "nowa-osoba", displayName: "Nowa", password: accountPassword, role: "auditor", companyId };
      const refused = await failingWrites("users", () => call("users.create", createUser));
      expect(refused.status, refused.body).toBe(500);
      expect((await call("users.create", createUser)).status).toBe(200);
      const login = await server.app.request("http://localhost/trpc/auth.login", {
        method: "POST",
        headers: { host: "localhost", "content-type": "application/json" },
        body: JSON.stringify({ login: "nowa-osoba", password: accountPassword }),
      });
      expect(login.status).toBe(200);
      secret("new session token", (login.headers.get("set-cookie") ?? "").split(";")[0]?.split("=")[1] ?? "");
      expect(
        (
          await server.app.request("http://localhost/trpc/auth.login", {
            method: "POST",
            headers: { host: "localhost", "content-type": "application/json" },
            body: JSON.stringify({ login: "nowa-osoba", password: "zle-haslo-tajne-x" }),
          })
        ).status,
      ).toBe(401);
      secret("wrong password", "zle-haslo-tajne-x");
      const nextPassword = "Zmienione-Haslo-Tajne-2";
      secret("changed password", nextPassword);
      failed(await failingWrites("users", () => call("auth.changePassword", { current: "Bardzo-dlugie-haslo-1", next: nextPassword })));
      expect((await call("auth.changePassword", { current: "Bardzo-dlugie-haslo-1", next: nextPassword })).status).toBe(200);

      // Imports: the key file and the sealed password are bound values of the insert that fails.
      failed(await failingWrites("certificates", () => call("certificates.importPair", pair)));
      failed(
        await failingWrites("certificates", () =>
          call("certificates.importPkcs12", { ...pair, certificateBase64: undefined, keyBase64: undefined, pkcs12Base64: Buffer.from(p12).toString("base64") }),
        ),
      );
      const upload = {
        adapterId: "pem-pair",
        files: [
          { name: "para.crt", base64: pair.certificateBase64 },
          { name: "para.key", base64: pair.keyBase64 },
        ],
        scope: { companyId, branchId: w.b1.id },
        environment: "test",
        password: keyPassword,
        sealPassword: true,
      };
      failed(await failingWrites("certificates", () => call("adapters.import", upload)));
      const imported = JSON.parse((await call("certificates.importPair", pair)).body) as { result: { data: { id: string } } };
      const certificateId = imported.result.data.id;

      // Exports: the key leaves in the answer (a download), never in the log; the record's insert fails once.
      failed(
        await failingWrites("certificate_exports", () => call("certificates.export", { ids: [certificateId], adapterId: "pkcs12", password: keyPassword })),
      );
      expect((await call("certificates.export", { ids: [certificateId], adapterId: "pkcs12", password: keyPassword })).status).toBe(200);

      // Enrollments: the new key's password is sealed on the row; the insert fails once; the run fails at KSeF.
      const enrollment = {
        scope: { companyId },
        environment: "test",
        certificateType: "Offline",
        mode: "queued",
        name: "Nowy offline",
        authMethod: "certificate",
        signingCertificateId: w.certs.company,
        keyPassword,
        sealPassword: true,
      };
      failed(await failingWrites("enrollments", () => call("enrollments.request", enrollment)));
      // Revocation in KSeF with a typed password: KSeF is unreachable.
      expect(
        (await call("certificates.revoke", { id: w.certs.b2, reason: "Superseded", ksef: { signingCertificateId: w.certs.company, password: keyPassword } }))
          .status,
      ).toBeGreaterThanOrEqual(400);

      // Pairing: the one-time code and the agent's token.
      const paired = JSON.parse((await call("workstations.createPairingCode", { workstationId: w.w1.id })).body) as { result: { data: { code: string } } };
      secret("pairing code", paired.result.data.code);
      expect(
        (
          await failingWrites("workstation_tokens", () =>
            server.app.request("http://localhost/agent/v1/pair", {
              method: "POST",
              headers: { host: "localhost", "content-type": "application/json" },
              body: JSON.stringify({ code: paired.result.data.code, label: "kasa-1" }),
            }),
          )
        ).status,
      ).toBeGreaterThanOrEqual(500);

      // What the database now holds that must not be logged either: hashes and sealed passwords.
      for (const u of await store.db.select({ passwordHash: schema.users.passwordHash }).from(schema.users)) {
        secret("password hash", u.passwordHash);
        secret("password hash's hash part", u.passwordHash.split("$").pop() ?? "");
      }
      for (const c of await store.db.select({ sealed: schema.certificates.sealedPassword }).from(schema.certificates))
        if (c.sealed !== null) secretBytes("sealed password", c.sealed);

      const log = lines.join("");
      // The failures really were logged (else this test could not fail)…
      expect(log.match(/"procedure failed"/g)?.length ?? 0).toBeGreaterThanOrEqual(6);
      for (const s of secrets.filter((x) => x.text.length >= 8)) expect(log.includes(s.text), `the log carries the ${s.name}`).toBe(false);
      // …with their query, without its values.
      expect(log).toContain('"paramsOmitted":true');
    }, 300_000);
  });
}
