import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSigningRequest, listSigningRequests } from "@ksef-certs/domain/agent";
import { buildAuthTokenRequest } from "@ksef-certs/ksef/api";
import { addOperator } from "@ksef-certs/domain/registry";
import type { Store } from "@ksef-certs/domain/store";
import { hostileXmlDocuments } from "@ksef-certs/testing/xml";
import { signXml } from "@ksef-certs/ksef/xades";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { JAN_PESEL, janSigner } from "./__fixtures__/jan.js";
import { buildWorld, openTestStore, PASSWORD } from "./__fixtures__/world.js";
import { createServer, type AdminServer } from "./app.js";
import type { AppRouter } from "./router.js";

/** Signs in over HTTP → the session cookie, the CSRF token and the raw Set-Cookie header. */
async function loginAt(base: string, login: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await fetch(`${base}/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ login, password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  const setCookie = res.headers.get("set-cookie") ?? "";
  const body = (await res.json()) as { result: { data: { csrfToken: string } } };
  return { cookie: setCookie.split(";")[0] ?? "", csrf: body.result.data.csrfToken, setCookie };
}

/** A tRPC client as the web app builds it (batch for queries/mutations, SSE for subscriptions), with a cookie. */
function clientAt(base: string, cookie: string, csrf: string | undefined) {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: `${base}/trpc`,
          EventSource,
          eventSourceOptions: { fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, cookie } }) },
        }),
        false: httpBatchLink({ url: `${base}/trpc`, headers: () => ({ cookie, ...(csrf === undefined ? {} : { "x-csrf-token": csrf }) }) }),
      }),
    ],
  });
}

describe("admin server over real HTTP", () => {
  let store: Store;
  let server: AdminServer;
  let url: string;
  let webRoot: string;
  let w: Awaited<ReturnType<typeof buildWorld>>;
  beforeAll(async () => {
    store = await openTestStore("pglite");
    w = await buildWorld(store.db);
    webRoot = await mkdtemp(join(tmpdir(), "ksef-web-"));
    await writeFile(join(webRoot, "index.html"), "<!doctype html><title>ksef-certs</title>");
    // The session fixtures were made at T0; the server's own clock must be within the session's idle limit.
    server = createServer({ store, port: 0, webRoot, resumeEnrollments: false, clock: () => new Date("2026-11-30T10:05:00Z") });
    ({ url } = await server.listen());
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await store.close();
    await rm(webRoot, { recursive: true, force: true });
  });
  const login = (name: string) => loginAt(url, name);
  const client = (cookie: string, csrf: string | undefined) => clientAt(url, cookie, csrf);

  it("signs in with a strict cookie, refuses a mutation without the CSRF header, accepts it with", async () => {
    const s = await login("super");
    expect(s.setCookie).toMatch(/^ksef_certs_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect((await client(s.cookie, s.csrf).auth.me.query())?.user.login).toBe("super");
    const noCsrf = await client(s.cookie, undefined)
      .org.addBranch.mutate({ companyId: w.company.id, code: "B7", name: "Siódmy" })
      .catch((e: unknown) => e);
    expect(noCsrf).toBeInstanceOf(TRPCClientError);
    expect((noCsrf as TRPCClientError<AppRouter>).data?.httpStatus).toBe(403);
    const added = await client(s.cookie, s.csrf).org.addBranch.mutate({ companyId: w.company.id, code: "B7", name: "Siódmy" });
    expect(added.code).toBe("B7");
    const bad = await client(s.cookie, s.csrf)
      .org.addCompany.mutate({ nip: "12", name: "" })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TRPCClientError);
    expect((bad as TRPCClientError<AppRouter>).data?.ksef?.violations.map((v) => v.field)).toEqual(expect.arrayContaining(["nip", "name"]));
    // Without a cookie: nothing.
    expect(await client("", undefined).auth.me.query()).toBeNull();
  });

  it("streams enrollments.watch over SSE: the current state first, ending at a final state; another branch's enrollment is refused", async () => {
    const s = await login("b1-admin");
    const c = client(s.cookie, s.csrf);
    const events = await new Promise<{ state: string; final: boolean }[]>((resolve, reject) => {
      const got: { state: string; final: boolean }[] = [];
      const sub = c.enrollments.watch.subscribe(
        { id: w.enrollments.b1 },
        {
          onData: (e) => {
            got.push({ state: e.data.state, final: e.data.final });
            if (e.data.final) {
              sub.unsubscribe();
              resolve(got);
            }
          },
          onError: reject,
        },
      );
    });
    expect(events).toEqual([{ state: "completed", final: true }]);
    const refused = await new Promise<unknown>((resolve) => {
      const sub = c.enrollments.watch.subscribe(
        { id: w.enrollments.b2 },
        {
          onData: () => {
            resolve(new Error("an event of a hidden enrollment arrived"));
          },
          onError: (err) => {
            sub.unsubscribe();
            resolve(err);
          },
        },
      );
    });
    expect((refused as TRPCClientError<AppRouter>).data?.code).toBe("NOT_FOUND");
  });

  it("a signed auth.xml uploaded in the browser that is XML too deep or too wide: BAD_REQUEST with the typed error, the hand-off still waits", async () => {
    const s = await login("super");
    const challenge = "20261130-CR-0A1B2C3D4E-5F6A7B8C9D-0E";
    const request = { challenge, contextIdentifier: { type: "Nip" as const, value: "5265877635" }, subjectIdentifierType: "certificateSubject" as const };
    await createSigningRequest(store.db, {
      workstationId: w.w2.id,
      enrollmentId: w.enrollments.b2,
      challenge,
      contextIdentifier: request.contextIdentifier,
      xml: new TextEncoder().encode(buildAuthTokenRequest(request)),
      expiresAt: new Date("2026-11-30T10:15:00Z"),
    });
    for (const doc of hostileXmlDocuments()) {
      const error = await client(s.cookie, s.csrf)
        .enrollments.uploadSigned.mutate({ id: w.enrollments.b2, signedBase64: Buffer.from(doc.bytes).toString("base64") })
        .catch((e: unknown) => e);
      expect(error, doc.name).toBeInstanceOf(TRPCClientError);
      const data = (error as TRPCClientError<AppRouter>).data;
      expect(data).toMatchObject({
        code: "BAD_REQUEST",
        httpStatus: 400,
        ksef: { code: "MALFORMED", violations: [{ field: "xml", rule: `xml.${doc.limit}`, params: { max: doc.limit === "depth" ? 64 : 10_000 } }] },
      });
      expect(data?.ksef?.hint).toContain("AuthTokenRequest");
    }
    const [pending] = await listSigningRequests(store.db, { enrollmentId: w.enrollments.b2, statuses: ["pending"], limit: 1 });
    expect(pending?.challenge).toBe(challenge);
  });

  it("serves the web app with SPA fallback and strict headers, never outside its folder", async () => {
    const page = await fetch(`${url}/certificates/123`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>ksef-certs</title>");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect((await fetch(`${url}/assets/missing.js`)).status).toBe(404);
    expect(await (await fetch(`${url}/%2e%2e/%2e%2e/package.json`)).text()).not.toContain('"name"');
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ ok: true });
    const big = await fetch(`${url}/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(3 * 1024 * 1024) });
    expect(big.status).toBe(413);
  });

  it("answers only to its own host names (DNS rebinding), and a malformed URL encoding is a 400, not a 500", async () => {
    const { port } = new URL(url);
    for (const path of ["/", "/trpc/auth.me", "/agent/v1/requests", "/healthz"]) {
      expect((await rawGet(port, path, "evil.example")).status, path).toBe(421);
      expect((await rawGet(port, path, `evil.example:${port}`)).status, path).toBe(421);
    }
    // No Host at all: Node's HTTP/1.1 parser refuses it before the app (400); either way, never answered.
    expect([400, 421]).toContain((await rawGet(port, "/healthz", "")).status);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "LOCALHOST"]) expect((await rawGet(port, "/healthz", host)).status, host).toBe(200);
    for (const path of ["/%", "/%E0%A4%A", "/a%zz"]) {
      const r = await rawGet(port, path, `127.0.0.1:${port}`);
      expect(r.status, path).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: "MALFORMED" } });
    }
    expect((await rawGet(port, "/%00", `127.0.0.1:${port}`)).status).toBe(404);
  });
});

/** A GET with exactly this `Host` header (fetch would not let the header be chosen). */
function rawGet(port: string, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: Number(port), path, method: "GET", setHost: false, headers: host === "" ? {} : { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("enrollments.watch over SSE while a run is in progress (KSeF simulator)", () => {
  let sim: RunningSimulator;
  let store: Store;
  let server: AdminServer;
  let url: string;
  let w: Awaited<ReturnType<typeof buildWorld>>;
  let operatorId: string;
  beforeAll(async () => {
    sim = await startSimulator({ enrollmentDelayMs: 200 });
    store = await openTestStore("pglite");
    w = await buildWorld(store.db);
    operatorId = (await addOperator(store.db, { companyId: w.company.id, name: "Jan Kowalski", pesel: JAN_PESEL, branchIds: [w.b1.id] }, { actor: "test" })).id;
    // The real clock: the enrollment's challenge and KSeF's timestamps must agree.
    server = createServer({ store, port: 0, ksefUrlFor: () => sim.url, masterKey: randomBytes(32), resumeEnrollments: false, pollOptions: { intervalMs: 20 } });
    ({ url } = await server.listen());
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await store.close();
    await sim.close();
  });

  it("delivers the hand-off wait and the steps after the signed upload as they happen, not only the first and the final state", async () => {
    const s = await loginAt(url, "firma-admin");
    const c = clientAt(url, s.cookie, s.csrf);
    const { enrollmentId } = await c.enrollments.request.mutate({
      scope: { companyId: w.company.id, operatorId },
      environment: "test",
      certificateType: "Authentication",
      mode: "current",
      name: "Jan Kowalski logowanie",
      authMethod: "handoff",
      workstationId: w.w1.id,
      keyPassword: "Nowy-Klucz!KSeF-2026x",
    });
    const jan = await janSigner();
    const events = await new Promise<{ state: string; final: boolean; workstationName: string | null }[]>((resolve, reject) => {
      const got: { state: string; final: boolean; workstationName: string | null }[] = [];
      let uploaded = false;
      const sub = c.enrollments.watch.subscribe(
        { id: enrollmentId },
        {
          onData: (e) => {
            got.push({ state: e.data.state, final: e.data.final, workstationName: e.data.handoff?.workstationName ?? null });
            if (e.data.final) {
              sub.unsubscribe();
              resolve(got);
            } else if (e.data.state === "awaiting_signature" && !uploaded) {
              // The run waits for Jan: sign the auth.xml waiting at kasa-1 and upload it as the browser would.
              uploaded = true;
              void (async () => {
                const request = await c.enrollments.downloadRequest.query({ id: enrollmentId });
                const signed = await signXml(Buffer.from(request.xmlBase64, "base64"), jan);
                await c.enrollments.uploadSigned.mutate({ id: enrollmentId, signedBase64: Buffer.from(signed).toString("base64") });
              })().catch(reject);
            }
          },
          onError: reject,
        },
      );
    });
    const waiting = events.findIndex((e) => e.state === "awaiting_signature");
    expect(waiting).toBeGreaterThanOrEqual(0);
    expect(events[waiting]?.workstationName).toBe("kasa-1");
    expect(events.at(-1)).toMatchObject({ state: "completed", final: true });
    // Steps of the run after the upload reached the subscriber while it was still running.
    const between = events.slice(waiting + 1, -1).map((e) => e.state);
    expect(between, JSON.stringify(events)).toContain("submitted");
    expect(events.slice(0, -1).every((e) => !e.final)).toBe(true);
  });

  it("a page that subscribes late (or reconnects) gets the steps already taken, in order, then the rest; a reconnect names its last step and gets only what followed", async () => {
    const s = await loginAt(url, "firma-admin");
    const c = clientAt(url, s.cookie, s.csrf);
    const { enrollmentId } = await c.enrollments.request.mutate({
      scope: { companyId: w.company.id, operatorId },
      environment: "test",
      certificateType: "Authentication",
      mode: "queued",
      name: "Jan Kowalski spóźniony",
      authMethod: "handoff",
      workstationId: w.w1.id,
      keyPassword: "Nowy-Klucz!KSeF-2026x",
    });
    // Nobody watches until the run waits for the signature: the steps before it were published to no one.
    for (let i = 0; (await c.enrollments.get.query({ id: enrollmentId })).state !== "awaiting_signature"; i += 1) {
      expect(i).toBeLessThan(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    type Got = { seq: number; state: string; kind: string; final: boolean };
    const watch = (lastEventId: string | undefined, until: (e: Got) => boolean) =>
      new Promise<Got[]>((resolve, reject) => {
        const got: Got[] = [];
        const sub = c.enrollments.watch.subscribe(
          { id: enrollmentId, ...(lastEventId === undefined ? {} : { lastEventId }) },
          {
            onData: (e) => {
              const one = { seq: e.data.seq, state: e.data.state, kind: e.data.event.kind, final: e.data.final };
              got.push(one);
              if (until(one)) {
                sub.unsubscribe();
                resolve(got);
              }
            },
            onError: reject,
          },
        );
      });
    const late = await watch(undefined, (e) => e.kind === "handoff.published");
    expect(late.length, JSON.stringify(late)).toBeGreaterThan(1);
    expect(late.map((e) => e.seq)).toEqual(late.map((_, i) => i + 1));
    expect(late.at(-1)?.state).toBe("awaiting_signature");
    const request = await c.enrollments.downloadRequest.query({ id: enrollmentId });
    const signed = await signXml(Buffer.from(request.xmlBase64, "base64"), await janSigner());
    await c.enrollments.uploadSigned.mutate({ id: enrollmentId, signedBase64: Buffer.from(signed).toString("base64") });
    const rest = await watch(String(late.at(-1)?.seq), (e) => e.final);
    expect(rest[0]?.seq).toBe((late.at(-1)?.seq ?? 0) + 1);
    expect(rest.map((e) => e.seq)).toEqual(rest.map((_, i) => (late.at(-1)?.seq ?? 0) + 1 + i));
    expect(rest.at(-1)).toMatchObject({ state: "completed", final: true });
  });
});
