// Certificate uploads over real HTTP (certificates.importPair): only what KSeF issues is recorded (a key
// type KSeF never certifies, or a certificate of KSeF's TEST CA as production, is refused with the reason),
// and heavy key work never starves sign-in: eight concurrent uploads whose keys ask for 10 000 000 PBKDF2
// iterations (the most we run) keep the server busy for tens of seconds, and a sign-in (auth.login, scrypt
// on libuv's thread pool) made meanwhile still answers within a second.
import { generateKeyPairSync } from "node:crypto";
import { encryptPrivateKeyPem, encryptPrivateKeySync, encodePem, generateKeyPair, type KeyPair } from "@ksef-certs/ksef/crypto";
import type { Violation } from "@ksef-certs/ksef/errors";
import { type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { issueKsefLikeCertificate } from "@ksef-certs/testing/certificates";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWorld, openTestStore, PASSWORD, T0 } from "./__fixtures__/world.js";
import { createServer, type AdminServer } from "./app.js";

const KEY_PASSWORD = "Haslo-Ciezkiego-Klucza-1!";
const UPLOADS = 8;

/** Signs in over HTTP; returns the session cookie, the CSRF token and how long the request took (ms). */
async function login(base: string, name: string): Promise<{ cookie: string; csrf: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${base}/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ login: name, password: PASSWORD }),
  });
  const body = (await res.json()) as { result: { data: { csrfToken: string } } };
  const ms = performance.now() - started;
  expect(res.status).toBe(200);
  return { cookie: (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "", csrf: body.result.data.csrfToken, ms };
}

/** The answer of one upload: HTTP status, and the core error's code, message and violations when refused. */
async function upload(
  base: string,
  session: { cookie: string; csrf: string },
  input: Record<string, unknown>,
): Promise<{ status: number; ksef?: { code: string; message: string; violations?: Violation[] } }> {
  const res = await fetch(`${base}/trpc/certificates.importPair`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: session.cookie, "x-csrf-token": session.csrf },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { error?: { data?: { ksef?: { code: string; message: string; violations?: Violation[] } } } };
  const ksef = body.error?.data?.ksef;
  return { status: res.status, ...(ksef === undefined ? {} : { ksef }) };
}

describe("certificate uploads", () => {
  let store: Store;
  let server: AdminServer;
  let url: string;
  let w: Awaited<ReturnType<typeof buildWorld>>;
  let keyBase64: string;
  const certificatesBase64: string[] = [];
  beforeAll(async () => {
    store = await openTestStore("pglite");
    w = await buildWorld(store.db);
    server = createServer({ store, port: 0, runEnrollments: false, resumeEnrollments: false, clock: () => new Date(T0.getTime() + 5 * 60_000) });
    ({ url } = await server.listen());
    // One key at the iteration cap (synchronous: a few seconds of setup), certified eight times (eight serials).
    const keys = await generateKeyPair("EC-P256");
    keyBase64 = Buffer.from(encodePem("ENCRYPTED PRIVATE KEY", encryptPrivateKeySync(keys.privateKey, KEY_PASSWORD, { iterations: 10_000_000 }))).toString(
      "base64",
    );
    for (let i = 0; i < UPLOADS; i++) {
      const issued = await issueKsefLikeCertificate({
        certificateType: "Authentication",
        keys,
        enrollmentData: { commonName: `Firma ${i}`, countryName: "PL", organizationName: "Firma", organizationIdentifier: "VATPL-5265877635" },
        validFrom: new Date(T0.getTime() - 86_400_000),
        validityDays: 365,
      });
      certificatesBase64.push(Buffer.from(issued.der).toString("base64"));
    }
  }, 180_000);
  afterAll(async () => {
    // Also stops the key-derivation workers: the uploads still deriving fail at once instead of running on.
    await server.close();
    await store.close();
  });

  it("refuses a key type KSeF never issues and a TEST-CA certificate as production, naming why, and records nothing; the same certificate as test is recorded", async () => {
    const admin = await login(url, "firma-admin");
    const rows = async (): Promise<number> => (await store.db.select({ id: schema.certificates.id }).from(schema.certificates)).length;
    const before = await rows();
    const pairOf = async (keys: KeyPair) => ({
      certificateBase64: Buffer.from(
        (
          await issueKsefLikeCertificate({
            certificateType: "Authentication",
            keys,
            enrollmentData: { commonName: "Jan Kowalski", countryName: "PL", serialNumber: "PNOPL-44051401359" },
            validFrom: new Date(T0.getTime() - 86_400_000),
            validityDays: 365,
          })
        ).der,
      ).toString("base64"),
      keyBase64: Buffer.from(await encryptPrivateKeyPem(keys.privateKey, KEY_PASSWORD, { iterations: 1000 })).toString("base64"),
      password: KEY_PASSWORD,
    });
    // The world holds a current certificate in this slot already: an accepted upload becomes its queued successor.
    const common = { scope: { companyId: w.company.id }, mode: "queued" };

    const p384 = await upload(url, admin, { ...common, environment: "test", ...(await pairOf(generateKeyPairSync("ec", { namedCurve: "secp384r1" }))) });
    expect(p384.status).toBe(400);
    expect(p384.ksef?.code).toBe("UNSUPPORTED");
    expect(p384.ksef?.message).toContain("EC P-384 (secp384r1)");

    const real = await pairOf(await generateKeyPair("EC-P256"));
    const asProduction = await upload(url, admin, { ...common, environment: "production", ...real });
    expect(asProduction.status).toBe(400);
    expect(asProduction.ksef).toMatchObject({
      code: "VALIDATION",
      message: expect.stringContaining("issued by KSeF's test environment (TEST CCK KSeF)") as unknown,
    });
    expect(asProduction.ksef?.violations?.map((v) => [v.field, v.rule])).toEqual([["environment", "certificate.environment"]]);
    expect(await rows()).toBe(before);

    expect((await upload(url, admin, { ...common, environment: "test", ...real })).status).toBe(200);
    expect(await rows()).toBe(before + 1);
  });

  it("eight uploads of keys with 10 000 000 PBKDF2 iterations do not hold up auth.login: it answers within a second", async () => {
    // Timing: one 10 000 000-iteration PBKDF2 takes ~2.5 s of one core (longer on a loaded machine), so eight keep every
    // thread they get busy for 20 s or more. Where they run on libuv's pool (4 threads), the sign-in's scrypt waits behind
    // at least one whole derivation: several seconds. On the key-derivation pool (cores − 1 workers of their own) the
    // sign-in costs what it costs alone: ~100–200 ms on an idle machine. The bound is a second, or on a machine so loaded
    // that a sign-in alone takes over half a second, twice that.
    const alone = Math.min((await login(url, "super")).ms, (await login(url, "super")).ms);
    const admin = await login(url, "firma-admin");
    let settled = 0;
    const uploads = certificatesBase64.map((certificateBase64) =>
      fetch(`${url}/trpc/certificates.importPair`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: admin.cookie, "x-csrf-token": admin.csrf },
        body: JSON.stringify({
          scope: { companyId: w.company.id },
          environment: "test",
          mode: "current",
          certificateBase64,
          keyBase64,
          password: KEY_PASSWORD,
        }),
      })
        .then((res) => res.text())
        .finally(() => {
          settled++;
        }),
    );
    // Long enough for the eight requests to pass authorisation and reach their key derivations.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = await login(url, "super");
    expect(during.ms).toBeLessThan(Math.max(1000, 2 * alone));
    // It was measured while every upload was still deriving its key.
    expect(settled).toBe(0);
    // Clean-up: closing the server stops the derivations; every upload then ends (with an error) instead of running on.
    await server.close();
    const outcomes = await Promise.allSettled(uploads);
    expect(outcomes).toHaveLength(UPLOADS);
    expect(settled).toBe(UPLOADS);
  }, 120_000);
});
