import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejection } from "../../testing/errors.js";
import { KSEF_ENDPOINTS } from "../environments.js";
import { problem400, startMockServer, type MockServer, type RecordedRequest } from "./__fixtures__/mock-server.js";
import { VirtualClock } from "./__fixtures__/virtual-clock.js";
import { KsefClient, type KsefClientOptions } from "./client.js";
import { KsefApiError, KsefStatusError } from "./errors.js";
import type { RetryEvent, SystemWarningEvent } from "./http.js";
import type { ThrottleEvent } from "./rate-limiter.js";

const REF = "20251010-EH-1B6C9EB000-4B15D3AEB9-8A";
const SERIAL = "01F20A5D352AE590";
const pkgVersion = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;

let mock: MockServer;
let clock: VirtualClock;
beforeEach(async () => {
  mock = await startMockServer();
  clock = new VirtualClock();
});
afterEach(async () => {
  await mock.close();
});

function client(extra: Partial<KsefClientOptions> = {}): KsefClient {
  return new KsefClient({ baseUrl: mock.baseUrl, clock, random: () => 0.5, ...extra });
}

function json(r: RecordedRequest): unknown {
  return JSON.parse(r.body.toString("utf8"));
}

async function apiRejection(p: Promise<unknown>): Promise<KsefApiError> {
  const err = await rejection(p);
  if (!(err instanceof KsefApiError)) throw new Error(`expected a KsefApiError, got ${err.name}: ${err.message}`);
  return err;
}

async function statusRejection(p: Promise<unknown>): Promise<KsefStatusError> {
  const err = await rejection(p);
  if (!(err instanceof KsefStatusError)) throw new Error(`expected a KsefStatusError, got ${err.name}: ${err.message}`);
  return err;
}

describe("KsefClient construction", () => {
  it("uses the official base URL of an environment", () => {
    expect(new KsefClient({ environment: "test" }).baseUrl).toBe(KSEF_ENDPOINTS.test.apiBaseUrl);
    expect(new KsefClient({ environment: "production" }).baseUrl).toBe("https://api.ksef.mf.gov.pl/v2");
  });
  it("accepts a loopback http base URL and strips the trailing slash", () => {
    expect(new KsefClient({ baseUrl: "http://127.0.0.1:8080/v2/" }).baseUrl).toBe("http://127.0.0.1:8080/v2");
  });
  it("refuses plain http to another host, both or neither target, and unknown environments", async () => {
    for (const bad of [
      { baseUrl: "http://ksef.example.com/v2" },
      { baseUrl: "not a url" },
      { baseUrl: "https://u:p@api.example/v2" },
      {},
      { environment: "test" as const, baseUrl: "https://x.example/v2" },
      { environment: "prod" as never },
    ]) {
      const err = await rejection(Promise.resolve().then(() => new KsefClient(bad)));
      expect(err.code).toBe("VALIDATION");
    }
  });
});

describe("request shapes", () => {
  it("every request carries X-Error-Format, Accept and User-Agent ksef-certs/<package version>", async () => {
    mock.route("POST", "/auth/challenge", {
      status: 200,
      json: { challenge: "20250625-CR-20F5EE4000-DA48AE4124-46", timestamp: "2026-01-01T00:00:00Z", timestampMs: 1, clientIp: "127.0.0.1" },
    });
    const res = await client().challenge();
    expect(res.challenge).toBe("20250625-CR-20F5EE4000-DA48AE4124-46");
    const [req] = mock.requests;
    expect(req?.headers["x-error-format"]).toBe("problem-details");
    expect(req?.headers["accept"]).toBe("application/json");
    expect(req?.headers["user-agent"]).toBe(`ksef-certs/${pkgVersion}`);
    expect(req?.headers["authorization"]).toBeUndefined();
    expect(req?.body.length).toBe(0);
  });

  it("submitXadesSignature posts the exact bytes as application/xml, with verifyCertificateChain only when asked", async () => {
    mock.route("POST", "/auth/xades-signature", {
      status: 202,
      json: { referenceNumber: REF, authenticationToken: { token: "op.jwt", validUntil: "2026-01-01T01:00:00Z" } },
    });
    // BOM, CRLF, Polish letters and a trailing newline: any re-encoding would change them.
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('<?xml version="1.0"?>\r\n<AuthTokenRequest>żółć</AuthTokenRequest>\n')]);
    const c = client();
    const init = await c.submitXadesSignature(bytes, { verifyCertificateChain: true });
    await c.submitXadesSignature(bytes);
    expect(init.referenceNumber).toBe(REF);
    const [first, second] = mock.requestsTo("POST", "/auth/xades-signature");
    expect(first?.headers["content-type"]).toBe("application/xml");
    expect(Buffer.compare(first?.body ?? Buffer.alloc(0), Buffer.from(bytes))).toBe(0);
    expect(first?.query.get("verifyCertificateChain")).toBe("true");
    expect(second?.query.has("verifyCertificateChain")).toBe(false);
  });

  it("refuses an empty or oversized signed document without sending it", async () => {
    const c = client();
    expect((await rejection(c.submitXadesSignature(new Uint8Array(0)))).code).toBe("VALIDATION");
    expect((await rejection(c.submitXadesSignature(new Uint8Array(2 * 1024 * 1024 + 1)))).code).toBe("TOO_LARGE");
    expect(mock.requests).toHaveLength(0);
  });

  it("sends each operation to its path with its method, token and body", async () => {
    const ok = { status: 200, json: {} };
    mock.route("GET", `/auth/${REF}`, { status: 200, json: { status: { code: 100, description: "w toku" } } });
    mock.route("POST", "/auth/token/redeem", {
      status: 200,
      json: { accessToken: { token: "acc", validUntil: "2026-01-01T00:15:00Z" }, refreshToken: { token: "ref", validUntil: "2026-01-08T00:00:00Z" } },
    });
    mock.route("POST", "/auth/token/refresh", { status: 200, json: { accessToken: { token: "acc2", validUntil: "2026-01-01T00:30:00Z" } } });
    mock.route("GET", "/auth/sessions", { status: 200, json: { items: [], continuationToken: null } });
    mock.route("DELETE", "/auth/sessions/current", { status: 204 });
    mock.route("DELETE", `/auth/sessions/${REF}`, { status: 204 });
    mock.route("GET", "/certificates/limits", ok);
    mock.route("GET", "/certificates/enrollments/data", ok);
    mock.route("POST", "/certificates/enrollments", { status: 202, json: { referenceNumber: REF, timestamp: "2026-01-01T00:00:00Z" } });
    mock.route("GET", `/certificates/enrollments/${REF}`, { status: 200, json: { requestDate: "x", status: { code: 100, description: "przyjęty" } } });
    mock.route("POST", "/certificates/retrieve", { status: 200, json: { certificates: [] } });
    mock.route("POST", "/certificates/query", { status: 200, json: { certificates: [], hasMore: false } });
    mock.route("POST", `/certificates/${SERIAL}/revoke`, { status: 204 });
    mock.route("GET", "/limits/subject", ok);
    mock.route("GET", "/security/public-key-certificates", { status: 200, json: [] });

    const c = client();
    await c.authenticationStatus(REF, "op.jwt");
    await c.redeemToken("op.jwt");
    await c.refreshAccessToken("ref");
    await c.listSessions("acc", { pageSize: 20, continuationToken: "cont-1" });
    await c.revokeCurrentSession("ref");
    await c.revokeSession("acc", REF);
    await c.certificateLimits("acc");
    await c.enrollmentData("acc");
    const enrollBody = { certificateName: "Mój certyfikat", certificateType: "Offline" as const, csr: "MIIB", validFrom: "2026-02-01T00:00:00Z" };
    await c.enrollCertificate("acc", enrollBody);
    await c.enrollmentStatus("acc", REF);
    await c.retrieveCertificates("acc", [SERIAL.toLowerCase(), "0123456789ABCDEF"]);
    await c.queryCertificates("acc", { status: "Active", type: "Authentication" }, { pageSize: 20, pageOffset: 1 });
    await c.revokeCertificate("acc", SERIAL, { revocationReason: "Superseded" });
    await c.subjectLimits("acc");
    await c.publicKeyCertificates();

    const seen = mock.requests.map((r) => ({
      call: `${r.method} ${r.path}${r.query.size > 0 ? `?${r.query.toString()}` : ""}`,
      auth: r.headers["authorization"],
      body: r.body.length > 0 ? json(r) : undefined,
    }));
    expect(seen).toEqual([
      { call: `GET /auth/${REF}`, auth: "Bearer op.jwt", body: undefined },
      { call: "POST /auth/token/redeem", auth: "Bearer op.jwt", body: undefined },
      { call: "POST /auth/token/refresh", auth: "Bearer ref", body: undefined },
      { call: "GET /auth/sessions?pageSize=20", auth: "Bearer acc", body: undefined },
      { call: "DELETE /auth/sessions/current", auth: "Bearer ref", body: undefined },
      { call: `DELETE /auth/sessions/${REF}`, auth: "Bearer acc", body: undefined },
      { call: "GET /certificates/limits", auth: "Bearer acc", body: undefined },
      { call: "GET /certificates/enrollments/data", auth: "Bearer acc", body: undefined },
      { call: "POST /certificates/enrollments", auth: "Bearer acc", body: enrollBody },
      { call: `GET /certificates/enrollments/${REF}`, auth: "Bearer acc", body: undefined },
      { call: "POST /certificates/retrieve", auth: "Bearer acc", body: { certificateSerialNumbers: [SERIAL, "0123456789ABCDEF"] } },
      { call: "POST /certificates/query?pageSize=20&pageOffset=1", auth: "Bearer acc", body: { status: "Active", type: "Authentication" } },
      { call: `POST /certificates/${SERIAL}/revoke`, auth: "Bearer acc", body: { revocationReason: "Superseded" } },
      { call: "GET /limits/subject", auth: "Bearer acc", body: undefined },
      { call: "GET /security/public-key-certificates", auth: undefined, body: undefined },
    ]);
    expect(mock.requestsTo("GET", "/auth/sessions")[0]?.headers["x-continuation-token"]).toBe("cont-1");
    expect(mock.requestsTo("POST", "/certificates/enrollments")[0]?.headers["content-type"]).toBe("application/json");
  });

  it("validates arguments before sending anything", async () => {
    const c = client();
    const cases: Promise<unknown>[] = [
      c.retrieveCertificates("acc", []),
      c.retrieveCertificates(
        "acc",
        Array.from({ length: 11 }, () => SERIAL),
      ),
      c.retrieveCertificates("acc", ["01F2"]),
      c.revokeCertificate("acc", "../../auth/sessions"),
      c.queryCertificates("acc", {}, { pageSize: 5 }),
      c.queryCertificates("acc", {}, { pageSize: 51 }),
      c.queryCertificates("acc", {}, { pageOffset: -1 }),
      c.listSessions("acc", { pageSize: 101 }),
      c.enrollmentStatus("acc", "a/b"),
      c.authenticationStatus("", "t"),
    ];
    for (const p of cases) expect((await rejection(p)).code).toBe("VALIDATION");
    expect(mock.requests).toHaveLength(0);
  });
});

describe("error responses", () => {
  it("Problem Details 400 on enrollment → VALIDATION quoting KSeF's code, not retried", async () => {
    mock.route("POST", "/certificates/enrollments", problem400(25003, "Dane we wniosku niezgodne z danymi uwierzytelnienia.", ["commonName"]));
    const err = await apiRejection(client().enrollCertificate("acc", { certificateName: "Cert 1", certificateType: "Authentication", csr: "MIIB" }));
    expect(err.code).toBe("VALIDATION");
    expect(err.httpStatus).toBe(400);
    expect(err.ksefCodes).toEqual([25003]);
    expect(err.operation).toBe("POST /certificates/enrollments");
    expect(err.message).toBe("KSeF refused the enrollment: 25003 Dane we wniosku niezgodne z danymi uwierzytelnienia. (commonName).");
    expect(err.problem?.format).toBe("problem-details");
    expect(err.problem?.traceId).toBe("673843e023c432286660bc0501a3af44");
    expect(err.outcomeUnknown).toBe(false);
    expect(err.retryable).toBe(false);
    expect(mock.requests).toHaveLength(1);
  });

  it("the legacy exception format is parsed too", async () => {
    mock.route("POST", "/auth/token/redeem", {
      status: 400,
      json: {
        exception: {
          exceptionDetailList: [{ exceptionCode: 21301, exceptionDescription: "Brak autoryzacji.", details: ["Token został już wykorzystany."] }],
          serviceCode: "svc-1",
          timestamp: "2026-01-01T00:00:00",
        },
      },
    });
    const err = await apiRejection(client().redeemToken("op.jwt"));
    expect(err.ksefCodes).toEqual([21301]);
    expect(err.problem?.format).toBe("legacy-exception");
    expect(err.problem?.traceId).toBe("svc-1");
    expect(err.message).toContain("KSeF refused the token redemption: 21301 Brak autoryzacji.");
  });

  it("403 with reasonCode → FORBIDDEN with a matching hint; 401 → FORBIDDEN; 410 → NOT_FOUND", async () => {
    mock.route("GET", "/certificates/limits", {
      status: 403,
      contentType: "application/problem+json",
      json: { title: "Forbidden", status: 403, detail: "Adres IP niedozwolony.", reasonCode: "ip-not-allowed", security: { clientIp: "10.0.0.1" } },
    });
    mock.route("GET", "/limits/subject", {
      status: 401,
      contentType: "application/problem+json",
      json: { title: "Unauthorized", status: 401, detail: "Wymagane jest uwierzytelnienie." },
    });
    mock.route("GET", `/certificates/enrollments/${REF}`, {
      status: 410,
      contentType: "application/problem+json",
      json: { title: "Gone", status: 410, detail: "Operacja wygasła." },
    });
    const c = client();
    const forbidden = await apiRejection(c.certificateLimits("acc"));
    expect(forbidden.code).toBe("FORBIDDEN");
    expect(forbidden.problem?.reasonCode).toBe("ip-not-allowed");
    expect(forbidden.hint).toMatch(/IP address/);
    expect(forbidden.message).toContain("ip-not-allowed");
    const unauth = await apiRejection(c.subjectLimits("acc"));
    expect(unauth.code).toBe("FORBIDDEN");
    expect(unauth.httpStatus).toBe(401);
    const gone = await apiRejection(c.enrollmentStatus("acc", REF));
    expect(gone.code).toBe("NOT_FOUND");
    expect(gone.hint).toMatch(/30 days/);
  });

  it("never puts the bearer token into the error", async () => {
    mock.route("GET", "/certificates/limits", { status: 401, json: { title: "Unauthorized", detail: "x" } });
    const err = await apiRejection(client().certificateLimits("secret-access-token-xyz"));
    expect(JSON.stringify(err.toJSON())).not.toContain("secret-access-token-xyz");
    expect(err.message).not.toContain("secret-access-token-xyz");
  });

  it("refuses a response body over maxResponseBytes with TOO_LARGE", async () => {
    mock.route("GET", "/security/public-key-certificates", { status: 200, json: [{ certificate: "A".repeat(5_000) }] });
    const err = await rejection(client({ maxResponseBytes: 1_000 }).publicKeyCertificates());
    expect(err.code).toBe("TOO_LARGE");
  });

  it("a success body that is not JSON is MALFORMED", async () => {
    mock.route("POST", "/auth/challenge", { status: 200, text: "<html>proxy</html>" });
    expect((await rejection(client().challenge())).code).toBe("MALFORMED");
  });
});

describe("retries", () => {
  it("429 with Retry-After (seconds): waits that long in virtual time, then succeeds", async () => {
    mock.route(
      "POST",
      "/certificates/query",
      { status: 429, headers: { "retry-after": "30" }, json: { title: "Too Many Requests", status: 429, detail: "Przekroczono limit." } },
      { status: 200, json: { certificates: [], hasMore: false } },
    );
    const retries: RetryEvent[] = [];
    const throttles: ThrottleEvent[] = [];
    const t0 = clock.now();
    const page = await client({ onRetry: (e) => retries.push(e), onThrottle: (e) => throttles.push(e) }).queryCertificates("acc");
    expect(page.hasMore).toBe(false);
    expect(mock.requests).toHaveLength(2);
    expect(clock.now() - t0).toBe(30_000);
    expect(retries).toEqual([{ operation: "POST /certificates/query", attempt: 1, delayMs: 30_000, reason: "rate-limited", httpStatus: 429 }]);
    expect(throttles).toEqual([{ operation: "POST /certificates/query", waitMs: 30_000, reason: "server-block" }]);
  });

  it("429 with an HTTP-date Retry-After; enrollment is retried after 429 because KSeF did not process it", async () => {
    const at = new Date(clock.now() + 12_000).toUTCString();
    mock.route(
      "POST",
      "/certificates/enrollments",
      { status: 429, headers: { "retry-after": at }, json: { status: { code: 429, description: "Too Many Requests", details: [] } } },
      { status: 202, json: { referenceNumber: REF, timestamp: "t" } },
    );
    const t0 = clock.now();
    const res = await client().enrollCertificate("acc", { certificateName: "Cert 1", certificateType: "Authentication", csr: "MIIB" });
    expect(res.referenceNumber).toBe(REF);
    expect(mock.requests).toHaveLength(2);
    expect(clock.now() - t0).toBe(12_000);
  });

  it("a Retry-After beyond the retry budget surfaces at once with retryAfterMs", async () => {
    mock.route("GET", "/certificates/limits", { status: 429, headers: { "retry-after": "3600" }, json: { title: "Too Many Requests" } });
    const err = await apiRejection(client().certificateLimits("acc"));
    expect(err.code).toBe("IO");
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(3_600_000);
    expect(err.message).toMatch(/rate-limited the certificate limits query \(HTTP 429\); KSeF asks to wait 3600 s/);
    expect(mock.requests).toHaveLength(1);
  });

  it("5xx on an idempotent call: retried with full-jitter back-off, bounded by maxAttempts", async () => {
    mock.route("GET", "/certificates/limits", { status: 503, text: "unavailable" });
    const draws = [0.9, 0.1, 0.6];
    const retries: RetryEvent[] = [];
    const err = await apiRejection(client({ random: () => draws.shift() ?? 0, onRetry: (e) => retries.push(e) }).certificateLimits("acc"));
    expect(mock.requests).toHaveLength(4);
    expect(err.code).toBe("IO");
    expect(err.httpStatus).toBe(503);
    expect(err.retryable).toBe(true);
    expect(err.outcomeUnknown).toBe(false);
    expect(err.problem?.excerpt).toBe("unavailable");
    // attempt n waits floor(random · min(5000, 200·2^(n−1))): 0.9·200, 0.1·400, 0.6·800.
    expect(retries.map((r) => r.delayMs)).toEqual([180, 40, 480]);
    expect(clock.sleeps).toEqual([180, 40, 480]);
    expect(retries.every((r) => r.reason === "server-error" && r.httpStatus === 503)).toBe(true);
  });

  it("5xx then success on an idempotent call returns the success; maxAttempts is configurable", async () => {
    mock.route(
      "GET",
      "/limits/subject",
      { status: 500, text: "" },
      { status: 502, text: "" },
      { status: 200, json: { certificate: { maxCertificates: 100 } } },
    );
    const res = await client().subjectLimits("acc");
    expect(res.certificate?.maxCertificates).toBe(100);
    expect(mock.requests).toHaveLength(3);

    await mock.close();
    mock = await startMockServer();
    mock.route("GET", "/limits/subject", { status: 500, text: "" });
    await apiRejection(client({ retry: { maxAttempts: 2 } }).subjectLimits("acc"));
    expect(mock.requests).toHaveLength(2);
  });

  it("enrollment is NOT retried on 500: one request reached KSeF, the error says the outcome is unknown", async () => {
    mock.route("POST", "/certificates/enrollments", { status: 500, json: { title: "Internal Server Error", status: 500 } });
    const err = await apiRejection(client().enrollCertificate("acc", { certificateName: "Cert 1", certificateType: "Authentication", csr: "MIIB" }));
    expect(mock.requests).toHaveLength(1);
    expect(err.outcomeUnknown).toBe(true);
    expect(err.retryable).toBe(true);
    expect(err.code).toBe("IO");
    expect(err.hint).toMatch(/before repeating/);
  });

  it("XAdES submission and token redemption are not retried after a dropped connection", async () => {
    mock.route("POST", "/auth/xades-signature", { destroy: true });
    mock.route("POST", "/auth/token/redeem", { destroy: true });
    const c = client();
    const a = await apiRejection(c.submitXadesSignature(new TextEncoder().encode("<x/>")));
    const b = await apiRejection(c.redeemToken("op.jwt"));
    expect([a.outcomeUnknown, b.outcomeUnknown]).toEqual([true, true]);
    expect(mock.requests).toHaveLength(2);
  });

  it("an idempotent call is retried after a dropped connection", async () => {
    mock.route("GET", "/certificates/limits", { destroy: true }, { status: 200, json: { canRequest: true } });
    const res = await client().certificateLimits("acc");
    expect(res.canRequest).toBe(true);
    expect(mock.requests).toHaveLength(2);
  });

  it("an enrollment that times out is reported as outcome unknown, sent once", async () => {
    mock.route("POST", "/certificates/enrollments", { hang: true });
    const err = await apiRejection(
      client({ timeoutMs: 300 }).enrollCertificate("acc", { certificateName: "Cert 1", certificateType: "Authentication", csr: "MIIB" }),
    );
    expect(err.outcomeUnknown).toBe(true);
    expect(err.message).toMatch(/did not answer the enrollment within/);
    expect(mock.requests).toHaveLength(1);
  });

  it("a refused connection is retried (also for enrollment: KSeF never saw it) until the server is back", async () => {
    mock.route("POST", "/auth/challenge", { status: 200, json: { challenge: "c", timestamp: "t", timestampMs: 1, clientIp: "x" } });
    mock.route("POST", "/certificates/enrollments", { status: 202, json: { referenceNumber: REF, timestamp: "t" } });
    const retries: RetryEvent[] = [];
    const c = client({ onRetry: (e) => retries.push(e) });
    for (const call of [() => c.challenge(), () => c.enrollCertificate("acc", { certificateName: "Cert 1", certificateType: "Authentication", csr: "MIIB" })]) {
      await mock.close();
      let reopened = false;
      clock.beforeAdvance = async () => {
        if (!reopened) {
          reopened = true;
          await mock.reopen();
        }
      };
      await call();
    }
    expect(mock.requests.map((r) => r.path)).toEqual(["/auth/challenge", "/certificates/enrollments"]);
    expect(retries.map((r) => [r.operation, r.reason])).toEqual([
      ["POST /auth/challenge", "network"],
      ["POST /certificates/enrollments", "network"],
    ]);
  });

  it("a server that stays unreachable gives IO, retryable, after maxAttempts", async () => {
    await mock.close();
    const retries: RetryEvent[] = [];
    const err = await apiRejection(client({ onRetry: (e) => retries.push(e) }).publicKeyCertificates());
    expect(err.code).toBe("IO");
    expect(err.retryable).toBe(true);
    expect(err.outcomeUnknown).toBe(false);
    expect(err.httpStatus).toBeUndefined();
    expect(err.message).toMatch(/Could not reach KSeF for the public-key certificate list \(.*ECONNREFUSED.*\)/);
    expect(retries).toHaveLength(3);
  });

  it("a cancelled signal stops the retry wait", async () => {
    mock.route("GET", "/certificates/limits", { status: 503, text: "" });
    const ac = new AbortController();
    const err = await rejection(
      client({
        onRetry: () => {
          ac.abort();
        },
      }).certificateLimits("acc", { signal: ac.signal }),
    );
    expect(err.code).toBe("IO");
    expect(err.details).toMatchObject({ aborted: true });
    expect(mock.requests).toHaveLength(1);
  });
});

describe("client-side rate limiting through the client", () => {
  it("35 certificate queries are sent no faster than 10 per second and 30 per minute", async () => {
    mock.route("POST", "/certificates/query", { status: 200, json: { certificates: [], hasMore: false } });
    const sentAt: number[] = [];
    const c = client({
      fetch: (input, init) => {
        sentAt.push(clock.now());
        return fetch(input, init);
      },
    });
    await Promise.all(Array.from({ length: 35 }, () => c.queryCertificates("acc")));
    expect(mock.requests).toHaveLength(35);
    const maxIn = (w: number): number => Math.max(...sentAt.map((end) => sentAt.filter((t) => t > end - w && t <= end).length));
    expect(maxIn(1_000)).toBe(10);
    expect(maxIn(60_000)).toBe(30);
  });
});

describe("X-System-Warning", () => {
  it("is parsed and handed to onSystemWarning with the operation", async () => {
    mock.route("POST", "/auth/xades-signature", {
      status: 202,
      headers: { "x-system-warning": "[sig-001]: Format podpisu niezgodny z akceptowanymi profilami XAdES | [tst-2]: Drugie" },
      json: { referenceNumber: REF, authenticationToken: { token: "t", validUntil: "v" } },
    });
    const events: SystemWarningEvent[] = [];
    await client({ onSystemWarning: (e) => events.push(e) }).submitXadesSignature(new TextEncoder().encode("<x/>"));
    expect(events).toEqual([
      {
        operation: "POST /auth/xades-signature",
        warnings: [
          { code: "sig-001", message: "Format podpisu niezgodny z akceptowanymi profilami XAdES" },
          { code: "tst-2", message: "Drugie" },
        ],
      },
    ]);
  });
});

describe("queryAllCertificates", () => {
  it("follows hasMore page by page", async () => {
    const item = (n: number): Record<string, unknown> => ({ certificateSerialNumber: `00000000000000${String(n).padStart(2, "0")}`, name: `c${n}` });
    mock.route("POST", "/certificates/query", (req) => {
      const page = Number(req.query.get("pageOffset"));
      return { status: 200, json: { certificates: [item(page * 2), item(page * 2 + 1)], hasMore: page < 2 } };
    });
    const names: string[] = [];
    for await (const page of client().queryAllCertificates("acc", { type: "Offline" })) names.push(...page.certificates.map((c) => c.name));
    expect(names).toEqual(["c0", "c1", "c2", "c3", "c4", "c5"]);
    expect(mock.requests.map((r) => [r.query.get("pageSize"), r.query.get("pageOffset")])).toEqual([
      ["50", "0"],
      ["50", "1"],
      ["50", "2"],
    ]);
    expect(mock.requests.every((r) => JSON.stringify(json(r)) === '{"type":"Offline"}')).toBe(true);
  });

  it("stops with IO after maxPages when KSeF never ends", async () => {
    mock.route("POST", "/certificates/query", { status: 200, json: { certificates: [], hasMore: true } });
    const run = async (): Promise<void> => {
      for await (const _ of client().queryAllCertificates("acc", {}, { maxPages: 3 })) {
        // drain
      }
    };
    expect((await rejection(run())).code).toBe("IO");
    expect(mock.requests).toHaveLength(3);
  });
});

describe("waitForEnrollment", () => {
  const status = (code: number, description: string, extra: Record<string, unknown> = {}): { status: number; json: unknown } => ({
    status: 200,
    json: { requestDate: "2026-01-01T00:00:00Z", status: { code, description, details: code === 550 ? ["Spróbuj ponownie"] : [] }, ...extra },
  });

  it("polls 100 → 100 → 200 and returns the serial", async () => {
    mock.route(
      "GET",
      `/certificates/enrollments/${REF}`,
      status(100, "Wniosek przyjęty"),
      status(100, "Wniosek przyjęty"),
      status(200, "Wniosek obsłużony", { certificateSerialNumber: SERIAL }),
    );
    const progress: number[] = [];
    const done = await client().waitForEnrollment("acc", REF, { intervalMs: 3_000, onProgress: (s) => progress.push(s.status.code) });
    expect(done.certificateSerialNumber).toBe(SERIAL);
    expect(progress).toEqual([100, 100]);
    expect(mock.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([3_000, 3_000]);
  });

  it("550 → retryable KsefStatusError; 400 → CONFLICT, not retryable", async () => {
    mock.route("GET", `/certificates/enrollments/${REF}`, status(100, "Wniosek przyjęty"), status(550, "Operacja została anulowana przez system"));
    const cancelled = await statusRejection(client().waitForEnrollment("acc", REF));
    expect(cancelled.retryable).toBe(true);
    expect(cancelled.code).toBe("IO");
    expect(cancelled.statusCode).toBe(550);
    expect(cancelled.message).toBe(`KSeF rejected enrollment ${REF}: 550 Operacja została anulowana przez system (Spróbuj ponownie).`);

    await mock.close();
    mock = await startMockServer();
    mock.route(
      "GET",
      `/certificates/enrollments/${REF}`,
      status(400, "Wniosek odrzucony", {
        status: { code: 400, description: "Wniosek odrzucony", details: ["Osiągnięto dopuszczalny limit posiadanych certyfikatów."] },
      }),
    );
    const rejected = await rejection(client().waitForEnrollment("acc", REF));
    expect(rejected.code).toBe("CONFLICT");
    expect(rejected.retryable).toBe(false);
    expect(rejected.message).toContain("limit posiadanych certyfikatów");
  });

  it("gives up with a retryable IO error when still 100 after timeoutMs", async () => {
    mock.route("GET", `/certificates/enrollments/${REF}`, status(100, "Wniosek przyjęty"));
    const t0 = clock.now();
    const err = await rejection(client().waitForEnrollment("acc", REF, { timeoutMs: 10_000, intervalMs: 2_000 }));
    expect(err.code).toBe("IO");
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({ referenceNumber: REF, lastStatusCode: 100 });
    expect(clock.now() - t0).toBeLessThanOrEqual(10_000);
    expect(mock.requests).toHaveLength(6);
  });

  it("200 without a serial is MALFORMED", async () => {
    mock.route("GET", `/certificates/enrollments/${REF}`, status(200, "Wniosek obsłużony"));
    expect((await rejection(client().waitForEnrollment("acc", REF))).code).toBe("MALFORMED");
  });
});

describe("waitForAuthentication", () => {
  const status = (code: number, description: string, details: string[] = []): { status: number; json: unknown } => ({
    status: 200,
    json: {
      startDate: "2026-01-01T00:00:00Z",
      authenticationMethod: "QualifiedSeal",
      authenticationMethodInfo: { category: "XadesSignature", code: "xades.qualified-seal", displayName: "x" },
      status: { code, description, details },
    },
  });

  it("polls 100 → 200 with the authentication token", async () => {
    mock.route("GET", `/auth/${REF}`, status(100, "Uwierzytelnianie w toku"), status(200, "Uwierzytelnianie zakończone sukcesem"));
    const progress: number[] = [];
    const res = await client().waitForAuthentication(REF, "op.jwt", { onProgress: (s) => progress.push(s.status.code) });
    expect(res.status.code).toBe(200);
    expect(progress).toEqual([100]);
    expect(mock.requests.every((r) => r.headers["authorization"] === "Bearer op.jwt")).toBe(true);
    expect(clock.sleeps).toEqual([1_000]);
  });

  it.each([
    [460, "Uwierzytelnianie zakończone niepowodzeniem z powodu błędu certyfikatu", "VALIDATION", false],
    [415, "Uwierzytelnianie zakończone niepowodzeniem z powodu braku przypisanych uprawnień", "FORBIDDEN", false],
    [450, "Uwierzytelnianie zakończone niepowodzeniem z powodu błędnego tokenu", "VALIDATION", false],
    [480, "Uwierzytelnianie zablokowane", "FORBIDDEN", false],
    [500, "Nieznany błąd", "IO", false],
    [550, "Operacja została anulowana przez system", "IO", true],
  ] as const)("status %i → KsefStatusError %s (retryable %s)", async (code, description, taxonomy, retryable) => {
    mock.route("GET", `/auth/${REF}`, status(100, "Uwierzytelnianie w toku"), status(code, description, ["Nieważny certyfikat."]));
    const err = await statusRejection(client().waitForAuthentication(REF, "op.jwt"));
    expect(err.code).toBe(taxonomy);
    expect(err.retryable).toBe(retryable);
    expect(err.statusCode).toBe(code);
    expect(err.statusDescription).toBe(description);
    expect(err.message).toBe(`KSeF authentication ${REF} failed: ${code} ${description} (Nieważny certyfikat.).`);
  });
});

describe("KsefSession", () => {
  const tokens = (accessValidUntil: string): { status: number; json: unknown } => ({
    status: 200,
    json: { accessToken: { token: "acc-1", validUntil: accessValidUntil }, refreshToken: { token: "ref-1", validUntil: "2026-01-08T00:00:00Z" } },
  });

  it("refreshes once after a 401 and repeats the call with the new access token", async () => {
    mock.route("POST", "/auth/token/redeem", tokens("2026-01-01T00:15:00Z"));
    mock.route("POST", "/auth/token/refresh", { status: 200, json: { accessToken: { token: "acc-2", validUntil: "2026-01-01T00:30:00Z" } } });
    mock.route("GET", "/certificates/limits", (req) =>
      req.headers["authorization"] === "Bearer acc-2"
        ? { status: 200, json: { canRequest: true } }
        : { status: 401, json: { title: "Unauthorized", detail: "expired" } },
    );
    const c = client();
    const session = await c.openSession("op.jwt");
    const res = await c.certificateLimits(session);
    expect(res.canRequest).toBe(true);
    expect(mock.requests.map((r) => `${r.method} ${r.path} ${r.headers["authorization"] ?? ""}`)).toEqual([
      "POST /auth/token/redeem Bearer op.jwt",
      "GET /certificates/limits Bearer acc-1",
      "POST /auth/token/refresh Bearer ref-1",
      "GET /certificates/limits Bearer acc-2",
    ]);
    expect(session.accessTokenValidUntil).toBe("2026-01-01T00:30:00Z");
  });

  it("refreshes before the call when the access token has expired, and does not loop on a second 401", async () => {
    mock.route("POST", "/auth/token/redeem", tokens("2025-12-31T23:59:00Z"));
    mock.route("POST", "/auth/token/refresh", { status: 200, json: { accessToken: { token: "acc-2", validUntil: "2025-12-31T23:59:30Z" } } });
    mock.route("GET", "/limits/subject", { status: 401, json: { title: "Unauthorized", detail: "revoked" } });
    const c = client();
    const session = await c.openSession("op.jwt");
    const err = await apiRejection(c.subjectLimits(session));
    expect(err.httpStatus).toBe(401);
    expect(mock.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /auth/token/redeem",
      "POST /auth/token/refresh",
      "GET /limits/subject",
      "POST /auth/token/refresh",
      "GET /limits/subject",
    ]);
  });
});
