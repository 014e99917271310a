import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  AGENT_API_PREFIX,
  MAX_WAIT_MS,
  agentErrorBodySchema,
  failedAnswerSchema,
  pairAnswerSchema,
  requestsAnswerSchema,
  signedUploadAnswerSchema,
  workstationSchema,
} from "@ksef-certs/ksef/agent-protocol";
import {
  createPairingCode,
  createSigningRequest,
  createSigningRequestNotifier,
  listWorkstationTokens,
  revokeWorkstationToken,
  sha256Hex,
  type SigningRequestNotifier,
} from "@ksef-certs/domain/agent";
import { generateKeyPair, type KeyPair } from "@ksef-certs/ksef/crypto";
import { buildAuthTokenRequest } from "@ksef-certs/ksef/api";
import { openStore, type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { createScratchDatabase, type ScratchDatabase } from "@ksef-certs/testing/database";
import { hostileXmlDocuments } from "@ksef-certs/testing/xml";
import { selfSignedCertificate } from "@ksef-certs/testing/certificates";
import { signAuthTokenRequest } from "@ksef-certs/ksef/xades";
import { createAgentApi } from "./index.js";

const NIP = "5265877635";
/**
 * The answer's JSON, checked against the agent protocol the way the agent reads it: it parses, and parsing keeps it
 * whole (a field the contract does not declare would be dropped by the parse, so the server must not send one).
 */
async function onContract<S extends z.ZodType>(schema: S, res: Response): Promise<z.output<S>> {
  const body: unknown = await res.json();
  const parsed = schema.safeParse(body);
  expect(parsed.error?.issues ?? []).toEqual([]);
  expect(parsed.data).toEqual(body);
  return parsed.data as z.output<S>;
}

const kinds = process.env.KSEF_CERTS_TEST_DATABASE_URL ? (["pglite", "postgres"] as const) : (["pglite"] as const);

let signer: { privateKey: KeyPair["privateKey"]; certificate: Uint8Array };
beforeAll(async () => {
  const keys = await generateKeyPair("EC-P256");
  const cert = await selfSignedCertificate(keys, [
    { oid: "2.5.4.42", value: "Anna", stringType: "UTF8String" },
    { oid: "2.5.4.4", value: "Nowak", stringType: "UTF8String" },
    { oid: "2.5.4.5", value: `TINPL-${NIP}`, stringType: "PrintableString" },
    { oid: "2.5.4.3", value: "Anna Nowak", stringType: "UTF8String" },
  ]);
  signer = { privateKey: keys.privateKey, certificate: cert.der };
});

function newChallenge(): string {
  const hex = (n: number): string => randomBytes(n).toString("hex").toUpperCase();
  return `20261130-CR-${hex(5)}-${hex(5)}-${hex(1)}`;
}

const input = (challenge: string) => ({
  challenge,
  contextIdentifier: { type: "Nip" as const, value: NIP },
  subjectIdentifierType: "certificateSubject" as const,
});

for (const kind of kinds) {
  describe(`agent HTTP API [${kind}]`, () => {
    let store: Store;
    let scratch: ScratchDatabase | undefined;
    let server: ServerType;
    let base: string;
    let notifier: SigningRequestNotifier;
    let clock = 0; // ms added to the real clock, to step over code expiry
    let ws: { id: string; other: string; branchId: string };

    beforeAll(async () => {
      if (kind === "postgres") {
        scratch = await createScratchDatabase(process.env.KSEF_CERTS_TEST_DATABASE_URL ?? "");
        store = await openStore({ databaseUrl: scratch.url, env: {} });
      } else {
        store = await openStore({ dataDir: ":memory:", env: {} });
      }
      const db = store.db;
      const [c] = await db.insert(schema.companies).values({ nip: NIP, name: "Hurtownia Testowa" }).returning();
      const [b] = await db
        .insert(schema.branches)
        .values({ companyId: c?.id ?? "", code: "WAW", name: "Oddział Warszawa" })
        .returning();
      const [w1, w2] = await db
        .insert(schema.workstations)
        .values([
          { branchId: b?.id ?? "", name: "kasa-1", outboxDir: "/srv/kasa1/out", inboxDir: "/srv/kasa1/in" },
          { branchId: b?.id ?? "", name: "kasa-2", outboxDir: "/srv/kasa2/out", inboxDir: "/srv/kasa2/in" },
        ])
        .returning();
      ws = { id: w1?.id ?? "", other: w2?.id ?? "", branchId: b?.id ?? "" };
      notifier = createSigningRequestNotifier();
      const app = new Hono();
      app.route(
        AGENT_API_PREFIX,
        createAgentApi({
          db,
          notifier,
          now: () => new Date(Date.now() + clock),
          version: "9.9.9-test",
          clientKey: (c) => c.req.header("X-Test-Client") ?? "default",
        }),
      );
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
      await new Promise<void>((resolve) =>
        server.once("listening", () => {
          resolve();
        }),
      );
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${AGENT_API_PREFIX}`;
    }, 120_000);

    afterAll(async () => {
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await store.close();
      await scratch?.drop();
    });

    const pair = (code: string, label = "kasa-1.local ksef-signer/0.1.0", headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${base}/pair`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify({ code, label }) });

    async function paired(workstationId = ws.id): Promise<{ token: string; auth: Record<string, string> }> {
      const { code } = await createPairingCode(store.db, { workstationId, actor: "admin" });
      const res = await pair(code.toLowerCase());
      expect(res.status).toBe(200);
      const body = await onContract(pairAnswerSchema, res);
      return { token: body.token, auth: { Authorization: `Bearer ${body.token}` } };
    }

    async function newRequest(workstationId = ws.id, enrollmentId: string | null = null, expiresInMs = 600_000) {
      const challenge = newChallenge();
      const xml = new TextEncoder().encode(buildAuthTokenRequest(input(challenge)));
      const view = await createSigningRequest(store.db, {
        workstationId,
        enrollmentId,
        challenge,
        contextIdentifier: { type: "Nip", value: NIP },
        xml,
        expiresAt: new Date(Date.now() + expiresInMs),
        notifier,
      });
      return { view, challenge, xml, sign: () => signAuthTokenRequest(input(challenge), signer) };
    }

    const upload = (auth: Record<string, string>, id: string, bytes: Uint8Array, sha = sha256Hex(bytes)): Promise<Response> =>
      fetch(`${base}/requests/${id}/signed`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/octet-stream", "X-Content-SHA256": sha },
        body: bytes,
      });

    /** The status of a 1 MiB + 1 byte upload, on a connection of its own (the server answers 413 before reading it and drops the connection). */
    function oversizeUpload(auth: Record<string, string>, id: string): Promise<number | undefined> {
      const bytes = new Uint8Array(1_048_577);
      return new Promise((resolve, reject) => {
        const req = httpRequest(`${base}/requests/${id}/signed`, {
          method: "POST",
          agent: false,
          headers: { ...auth, "Content-Type": "application/octet-stream", "Content-Length": String(bytes.byteLength), "X-Content-SHA256": sha256Hex(bytes) },
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on("error", reject);
        req.end(bytes);
      });
    }

    it("pairs with a good code (once), answers 404 for wrong, reused and expired codes", async () => {
      const { code } = await createPairingCode(store.db, { workstationId: ws.id, actor: "admin" });
      const ok = await pair(code, "kasa-1");
      expect(ok.status).toBe(200);
      const body = await onContract(pairAnswerSchema, ok);
      expect(body.workstation).toMatchObject({
        id: ws.id,
        name: "kasa-1",
        branchId: ws.branchId,
        branchCode: "WAW",
        companyNip: NIP,
        companyName: "Hurtownia Testowa",
        outboxDir: "/srv/kasa1/out",
        inboxDir: "/srv/kasa1/in",
      });
      expect(body.server).toEqual({ version: "9.9.9-test" });
      const me = await fetch(`${base}/workstation`, { headers: { Authorization: `Bearer ${body.token}` } });
      expect(me.status).toBe(200);
      expect((await onContract(workstationSchema, me)).id).toBe(ws.id);

      const reused = await pair(code);
      expect(reused.status).toBe(404);
      expect((await onContract(agentErrorBodySchema, reused)).error).toMatchObject({
        code: "NOT_FOUND",
        message: expect.stringContaining("expired") as unknown,
      });
      const late = await createPairingCode(store.db, { workstationId: ws.id, actor: "admin" });
      clock = 601_000;
      try {
        expect((await pair(late.code)).status).toBe(404);
      } finally {
        clock = 0;
      }
      const notJson = await fetch(`${base}/pair`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{not json" });
      expect(notJson.status).toBe(400);
      expect((await onContract(agentErrorBodySchema, notJson)).error.code).toBe("MALFORMED");
      const tooLarge = await fetch(`${base}/pair`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code: "x".repeat(20_000), label: "x" }),
      });
      expect(tooLarge.status).toBe(413);
      expect((await onContract(agentErrorBodySchema, tooLarge)).error.code).toBe("TOO_LARGE");
      const invalid = await fetch(`${base}/pair`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code: "x" }) });
      expect(invalid.status).toBe(400);
      expect((await onContract(agentErrorBodySchema, invalid)).error).toMatchObject({ code: "VALIDATION", violations: [{ field: "label" }] });
    });

    it("throttles a client after 5 wrong codes (429 with Retry-After, even for a right code)", async () => {
      const client = { "X-Test-Client": "guesser" };
      for (let i = 0; i < 5; i++) expect((await pair("ZZZZ-ZZZZ", "x", client)).status).toBe(404);
      const { code } = await createPairingCode(store.db, { workstationId: ws.id, actor: "admin" });
      const throttled = await pair(code, "x", client);
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get("Retry-After"))).toBeGreaterThan(500);
      expect((await onContract(agentErrorBodySchema, throttled)).error).toMatchObject({ code: "FORBIDDEN", reason: "throttled" });
      // Other clients are not affected, and the same client may try again after 10 minutes.
      expect((await pair(code, "x", { "X-Test-Client": "someone-else" })).status).toBe(200);
      clock = 600_000;
      try {
        expect((await pair("ZZZZ-ZZZZ", "x", client)).status).toBe(404);
      } finally {
        clock = 0;
      }
    });

    it("refuses a missing, unknown or revoked token with 401 and WWW-Authenticate, at once after revocation", async () => {
      const none = await fetch(`${base}/workstation`);
      expect(none.status).toBe(401);
      expect(none.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
      expect((await onContract(agentErrorBodySchema, none)).error.code).toBe("FORBIDDEN");
      expect((await fetch(`${base}/requests?waitMs=0`, { headers: { Authorization: "Bearer ksw_unknown" } })).status).toBe(401);
      const { auth } = await paired();
      expect((await fetch(`${base}/workstation`, { headers: auth })).status).toBe(200);
      const [newest] = await listWorkstationTokens(store.db, ws.id);
      await revokeWorkstationToken(store.db, { tokenId: newest?.id ?? "", actor: "admin" });
      const after = await fetch(`${base}/workstation`, { headers: auth });
      expect(after.status).toBe(401);
      expect(after.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    });

    it("long poll: times out at waitMs with nothing new, wakes within ms on a new request, validates waitMs", async () => {
      const { auth } = await paired();
      const first = await onContract(requestsAnswerSchema, await fetch(`${base}/requests?waitMs=0`, { headers: auth }));
      const t0 = performance.now();
      const idle = await fetch(`${base}/requests?waitMs=400&after=${first.cursor}`, { headers: auth });
      const idleMs = performance.now() - t0;
      expect(idle.status).toBe(200);
      expect((await onContract(requestsAnswerSchema, idle)).requests).toEqual([]);
      expect(idleMs).toBeGreaterThanOrEqual(390);
      expect(idleMs).toBeLessThan(3000);

      const polling = fetch(`${base}/requests?waitMs=30000&after=${first.cursor}`, { headers: auth });
      // Let the poll reach its wait before the request appears.
      await new Promise((r) => setTimeout(r, 150));
      const t1 = performance.now();
      const made = await newRequest();
      const res = await polling;
      const wokeMs = performance.now() - t1;
      expect(wokeMs).toBeLessThan(1000);
      const body = await onContract(requestsAnswerSchema, res);
      const got = body.requests.find((r) => r.id === made.view.id);
      expect(got).toMatchObject({
        challenge: made.challenge,
        status: "pending",
        contextIdentifier: { type: "Nip", value: NIP },
        fileName: made.view.fileName,
        expiresAt: made.view.expiresAt.toISOString(),
      });
      expect(Buffer.from(got?.xmlBase64 ?? "", "base64").equals(Buffer.from(made.xml))).toBe(true);
      expect(body.cursor).not.toBe(first.cursor);

      for (const waitMs of [String(MAX_WAIT_MS + 1), "abc", ""]) {
        const bad = await fetch(`${base}/requests?waitMs=${waitMs}`, { headers: auth });
        expect(bad.status).toBe(400);
        expect(await onContract(agentErrorBodySchema, bad)).toEqual({
          error: {
            code: "VALIDATION",
            message: "waitMs must be a whole number of milliseconds from 0 to 30000.",
            violations: [{ field: "waitMs", rule: "agent.waitMs.range", message: "Between 0 and 30000 ms.", params: { min: 0, max: 30_000 } }],
          },
        });
      }
      expect((await fetch(`${base}/requests?waitMs=0&after=garbage`, { headers: auth })).status).toBe(400);
    });

    it("upload: signed (bytes stored exactly), duplicate, 409 for other bytes, 404 for another workstation's request, 400/413 for bad uploads", async () => {
      const { auth } = await paired();
      const other = await paired(ws.other);
      const r = await newRequest();
      const signed = await r.sign();
      expect((await upload(other.auth, r.view.id, signed)).status).toBe(404);
      expect((await upload(auth, r.view.id, signed, "0".repeat(64))).status).toBe(400);
      expect(
        (
          await fetch(`${base}/requests/${r.view.id}/signed`, {
            method: "POST",
            headers: { ...auth, "Content-Type": "application/octet-stream" },
            body: signed,
          })
        ).status,
      ).toBe(400);
      expect((await upload(auth, r.view.id, r.xml)).status).toBe(400); // the unsigned auth.xml

      const ok = await upload(auth, r.view.id, signed);
      expect(ok.status).toBe(200);
      const okBody = await onContract(signedUploadAnswerSchema, ok);
      expect(okBody).toMatchObject({ status: "signed", signer: { identity: { type: "Nip", value: NIP } } });
      const row = (await store.db.select().from(schema.signingRequests)).find((x) => x.id === r.view.id);
      expect(Buffer.from(row?.signedXml ?? new Uint8Array()).equals(Buffer.from(signed))).toBe(true);

      const dup = await upload(auth, r.view.id, signed);
      expect(dup.status).toBe(200);
      expect(await onContract(signedUploadAnswerSchema, dup)).toEqual({ status: "duplicate" });
      const again = await r.sign();
      const conflict = await upload(auth, r.view.id, again);
      expect(conflict.status).toBe(409);
      expect((await onContract(agentErrorBodySchema, conflict)).error.code).toBe("CONFLICT");
      expect((await upload(auth, "00000000-0000-4000-8000-000000000000", signed)).status).toBe(404);
      expect(await oversizeUpload(auth, r.view.id)).toBe(413);
    });

    it("upload of XML nested or spread beyond the parser's limits: 400 with the typed error naming the limit, never a 500; the request stays open", async () => {
      const { auth } = await paired();
      const r = await newRequest();
      for (const doc of hostileXmlDocuments()) {
        const started = Date.now();
        const res = await upload(auth, r.view.id, doc.bytes);
        expect(res.status, doc.name).toBe(400);
        expect(Date.now() - started).toBeLessThan(5000);
        const body = await onContract(agentErrorBodySchema, res);
        expect(body.error).toMatchObject({ code: "MALFORMED", violations: [{ field: "xml", rule: `xml.${doc.limit}` }] });
        expect(body.error.message).toMatch(/^The file (nests elements more than 64 levels deep|holds more than 10000)/);
        expect(body.error.hint).toContain("AuthTokenRequest");
      }
      const ok = await upload(auth, r.view.id, await r.sign());
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ status: "signed" });
    });

    it("upload for an expired request: 410 with replacedBy once renewed; failed is recorded", async () => {
      const { auth } = await paired();
      const [e] = await store.db
        .insert(schema.enrollments)
        .values({
          scopeType: "company",
          companyId: (await store.db.select().from(schema.companies))[0]?.id ?? "",
          environment: "test",
          certificateType: "Authentication",
          mode: "current",
          name: "HTTP test",
          state: "awaiting_signature",
          authMethod: "handoff",
          workstationId: ws.id,
        })
        .returning();
      const old = await newRequest(ws.id, e?.id ?? null);
      const renewed = await newRequest(ws.id, e?.id ?? null);
      const res = await upload(auth, old.view.id, await old.sign());
      expect(res.status).toBe(410);
      const body = await onContract(agentErrorBodySchema, res);
      expect(body.error.code).toBe("CONFLICT");
      expect(body.error.message).toContain("expired");
      expect(body.replacedBy).toBe(renewed.view.id);

      const before = await onContract(requestsAnswerSchema, await fetch(`${base}/requests?waitMs=0`, { headers: auth }));
      expect(before.requests.find((x) => x.id === old.view.id)).toBeUndefined(); // expired: no longer pending
      const failed = await fetch(`${base}/requests/${renewed.view.id}/failed`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ reason: "Operator closed the signing page" }),
      });
      expect(failed.status).toBe(200);
      expect(await onContract(failedAnswerSchema, failed)).toEqual({ status: "failed" });
      const row = (await store.db.select().from(schema.signingRequests)).find((x) => x.id === renewed.view.id);
      expect(row?.failureReason).toBe("Operator closed the signing page");
      const noReason = await fetch(`${base}/requests/${renewed.view.id}/failed`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({}),
      });
      expect(noReason.status).toBe(400);
      expect((await onContract(agentErrorBodySchema, noReason)).error).toMatchObject({ code: "VALIDATION", violations: [{ field: "reason" }] });
      // The long poll delivers the change: the failed request with its reason, as the contract describes it.
      const page = await onContract(requestsAnswerSchema, await fetch(`${base}/requests?waitMs=0&after=${before.cursor ?? ""}`, { headers: auth }));
      expect(page.requests.find((x) => x.id === renewed.view.id)).toMatchObject({ status: "failed", failureReason: "Operator closed the signing page" });
    });
  });
}
