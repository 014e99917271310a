/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call --
   Response bodies are read as loose JSON here; their shape is checked against the OpenAPI schema by expectConformingResponses. */
import { parseCertificate } from "@ksef-certs/ksef/crypto";
import { constants, privateDecrypt, publicEncrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { call, capturingLogger, expectConformingResponses, newSimulator } from "./__fixtures__/harness.js";
import { CHALLENGE_PATTERN } from "./ids.js";

describe("challenge", () => {
  it("issues a KSeF-shaped challenge with timestamp, timestampMs and the client IP", async () => {
    const now = new Date("2026-03-02T10:00:00.123Z");
    const sim = await newSimulator({ now: () => now });
    const res = await call(sim, "POST", "/auth/challenge", { headers: { "X-Forwarded-For": "203.0.113.7" } });
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.body.challenge).toMatch(CHALLENGE_PATTERN);
    expect(res.body.challenge.startsWith("20260302-CR-")).toBe(true);
    expect(res.body).toMatchObject({ timestamp: "2026-03-02T10:00:00.123Z", timestampMs: now.getTime(), clientIp: "203.0.113.7" });
    const again = await call(sim, "POST", "/auth/challenge");
    expect(again.body.challenge).not.toBe(res.body.challenge);
    expect(sim.state.challenges.get(res.body.challenge as string)?.expiresAt.toISOString()).toBe("2026-03-02T10:10:00.123Z");
    expect(sim.state.counters.requests["POST /auth/challenge"]).toBe(2);
    expectConformingResponses(sim);
  });
});

describe("error formats", () => {
  it("answers a missing bearer token with 401 Problem Details whatever the requested format", async () => {
    const sim = await newSimulator();
    for (const headers of [{}, { "X-Error-Format": "problem-details" }]) {
      const res = await call(sim, "GET", "/certificates/limits", { headers });
      expect(res.status).toBe(401);
      expect(res.contentType).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ title: "Unauthorized", status: 401, instance: "/v2/certificates/limits" });
    }
    const forged = await call(sim, "GET", "/certificates/limits", { token: "eyJhbGciOiJIUzI1NiJ9.e30.AAAA" });
    expect(forged.status).toBe(401);
    expectConformingResponses(sim);
  });

  it("writes a 400 in the legacy exception format by default and as Problem Details on request", async () => {
    const sim = await newSimulator();
    const legacy = await call(sim, "POST", "/auth/xades-signature?verifyCertificateChain=maybe", { xml: "<a/>" });
    expect(legacy.status).toBe(400);
    expect(legacy.contentType).toMatch(/^application\/json/);
    expect(legacy.body.exception.exceptionDetailList[0]).toMatchObject({ exceptionCode: 21405, exceptionDescription: "Błąd walidacji danych wejściowych." });
    expect(legacy.body.exception.referenceNumber).toHaveLength(36);
    const problem = await call(sim, "POST", "/auth/xades-signature?verifyCertificateChain=maybe", {
      xml: "<a/>",
      headers: { "X-Error-Format": "problem-details" },
    });
    expect(problem.contentType).toMatch(/^application\/problem\+json/);
    expect(problem.body).toMatchObject({ title: "Bad Request", status: 400, instance: "/v2/auth/xades-signature", errors: [{ code: 21405 }] });
    expect(typeof problem.body.traceId).toBe("string");
    expectConformingResponses(sim);
  });

  it("echoes X-Test-System-Warning as X-System-Warning, ASCII-folded", async () => {
    const sim = await newSimulator();
    const res = await call(sim, "POST", "/auth/challenge", { headers: { "X-Test-System-Warning": "[sig-001]: Format podpisu niezgodny café" } });
    expect(res.headers.get("x-system-warning")).toBe("[sig-001]: Format podpisu niezgodny cafe");
    const none = await call(sim, "POST", "/auth/challenge");
    expect(none.headers.get("x-system-warning")).toBeNull();
  });

  it("refuses an oversized body with 21405 before reading it", async () => {
    const sim = await newSimulator();
    const res = await call(sim, "POST", "/auth/xades-signature", { xml: "<a/>", headers: { "Content-Length": String(2 * 1024 * 1024) } });
    expect(res.status).toBe(400);
    expect(res.body.exception.exceptionDetailList[0].exceptionCode).toBe(21405);
  });

  it("answers unknown paths with 404", async () => {
    const sim = await newSimulator();
    expect((await call(sim, "GET", "/nothing/here")).status).toBe(404);
  });

  it("answers an error no handler expected, in a KSeF operation or outside one, with 500 Problem Details JSON and logs it with the same traceId", async () => {
    const { logger, entries } = capturingLogger();
    const now = new Date("2026-03-02T10:00:00Z");
    const sim = await newSimulator({ now: () => now, logger });
    sim.simulator.route("GET", "/__test/operation", {}, () => {
      throw new TypeError("handler bug");
    });
    sim.app.get("/__test/raw", () => {
      throw new RangeError("raw handler bug");
    });
    for (const [path, message] of [
      ["/v2/__test/operation", "handler bug"],
      ["/__test/raw", "raw handler bug"],
    ] as const) {
      for (const headers of [{}, { "X-Error-Format": "problem-details" }]) {
        const res = await call(sim, "GET", path, { headers });
        expect(res.status, path).toBe(500);
        expect(res.contentType, path).toMatch(/^application\/problem\+json/);
        expect(res.body, path).toMatchObject({ title: "Internal Server Error", status: 500, instance: path, timestamp: now.toISOString() });
        expect(res.body.traceId, path).toMatch(/^[0-9a-f]{32}$/);
        // Nothing of the error's own text reaches the client.
        expect(JSON.stringify(res.body), path).not.toContain(message);
        const logged = entries.filter((e) => e["traceId"] === res.body.traceId);
        expect(logged, path).toHaveLength(1);
        expect(logged[0], path).toMatchObject({ msg: "request failed", level: 50, path, err: { message } });
      }
    }
    // The failures stay with their requests.
    expect((await call(sim, "POST", "/auth/challenge")).status).toBe(200);
  });
});

describe("rate limits", () => {
  it("allows the published 60 challenges per second and answers the 61st with 429, Retry-After and the SPEC body", async () => {
    const now = new Date("2026-03-02T10:00:00Z");
    const sim = await newSimulator({ now: () => now });
    for (let i = 0; i < 60; i++) expect((await call(sim, "POST", "/auth/challenge")).status).toBe(200);
    const limited = await call(sim, "POST", "/auth/challenge");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(limited.body.status).toMatchObject({ code: 429, description: "Too Many Requests" });
    expect(limited.body.status.details[0]).toMatch(/60 żądań na sekundę/);
    const problem = await call(sim, "POST", "/auth/challenge", { headers: { "X-Error-Format": "problem-details" } });
    expect(problem.contentType).toMatch(/problem\+json/);
    expect(problem.body).toMatchObject({ title: "Too Many Requests", status: 429 });
    // Another client has its own counter.
    expect((await call(sim, "POST", "/auth/challenge", { headers: { "X-Forwarded-For": "198.51.100.1" } })).status).toBe(200);
    expect(sim.state.counters.rateLimited).toBe(2);
    expectConformingResponses(sim);
  });

  it("slides: after a second the window has room again", async () => {
    let t = Date.parse("2026-03-02T10:00:00Z");
    const sim = await newSimulator({ now: () => new Date(t), rateLimits: { scale: 0.05 } }); // 60/s × 0.05 = 3/s
    for (let i = 0; i < 3; i++) expect((await call(sim, "POST", "/auth/challenge")).status).toBe(200);
    expect((await call(sim, "POST", "/auth/challenge")).status).toBe(429);
    t += 1000;
    expect((await call(sim, "POST", "/auth/challenge")).status).toBe(200);
  });

  it("can be switched off", async () => {
    const sim = await newSimulator({ rateLimits: "off", now: () => new Date("2026-03-02T10:00:00Z") });
    for (let i = 0; i < 70; i++) expect((await call(sim, "POST", "/auth/challenge")).status).toBe(200);
  });
});

describe("faults", () => {
  it("errorRate 1 answers every request with 500 before processing; the seeded generator makes partial rates reproducible", async () => {
    const sim = await newSimulator({ faults: { errorRate: 1 } });
    const res = await call(sim, "POST", "/auth/challenge");
    expect(res.status).toBe(500);
    expect(sim.state.challenges.size).toBe(0);
    expect(sim.state.counters.faultsInjected).toBe(1);

    const outcomes = async (): Promise<number[]> => {
      const s = await newSimulator({ faults: { errorRate: 0.5 }, seed: 42, rateLimits: "off" });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await call(s, "POST", "/auth/challenge")).status);
      return statuses;
    };
    const first = await outcomes();
    expect(await outcomes()).toEqual(first);
    expect(first).toContain(500);
    expect(first).toContain(200);
    expectConformingResponses(sim);
  });

  it("errorAfterProcessingRate answers 500 after the state changed", async () => {
    const sim = await newSimulator({ faults: { errorAfterProcessingRate: 1 } });
    const res = await call(sim, "POST", "/auth/challenge");
    expect(res.status).toBe(500);
    expect(sim.state.challenges.size).toBe(1);
  });

  it("rateLimitStorm answers the next N requests 429 with the given Retry-After, then recovers", async () => {
    const sim = await newSimulator();
    sim.setFaults({ rateLimitStorm: { requests: 2, retryAfterSeconds: 7 } });
    for (let i = 0; i < 2; i++) {
      const res = await call(sim, "POST", "/auth/challenge");
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("7");
    }
    expect((await call(sim, "POST", "/auth/challenge")).status).toBe(200);
    expectConformingResponses(sim);
  });

  it("latencyMs delays each answer", async () => {
    const sim = await newSimulator({ faults: { latencyMs: 120 } });
    const started = performance.now();
    await call(sim, "POST", "/auth/challenge");
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it("can be set over HTTP at /__simulator/faults, which refuses nonsense", async () => {
    const sim = await newSimulator();
    const bad = await call(sim, "POST", "/__simulator/faults", { json: { errorRate: 2, bogus: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(['unknown fault "bogus"', "errorRate must be between 0 and 1"]);
    expect((await call(sim, "POST", "/__simulator/faults", { json: { enrollmentStatus500: 1 } })).body.faults).toEqual({ enrollmentStatus500: 1 });
    const ok = await call(sim, "POST", "/__simulator/faults", { json: { errorRate: 1 } });
    expect(ok.status).toBe(200);
    expect((await call(sim, "POST", "/auth/challenge")).status).toBe(500);
    const read = await call(sim, "GET", "/__simulator/faults");
    expect(read.body.faults).toEqual({ errorRate: 1 });
  });
});

describe("security public keys", () => {
  it("publishes two RSA-2048 certificates, one per usage, with ids that are SHA-256 of the certificate and of its key", async () => {
    const sim = await newSimulator();
    const res = await call(sim, "GET", "/security/public-key-certificates");
    expect(res.status).toBe(200);
    expect(res.body.map((e: { usage: string[] }) => e.usage[0])).toEqual(["KsefTokenEncryption", "SymmetricKeyEncryption"]);
    const { createHash } = await import("node:crypto");
    for (const entry of res.body as { certificate: string; certificateId: string; publicKeyId: string; validFrom: string; validTo: string }[]) {
      const der = Buffer.from(entry.certificate, "base64");
      const info = parseCertificate(der);
      expect(info.keyDescription).toMatchObject({ type: "rsa", bits: 2048 });
      expect(entry.certificateId).toBe(createHash("sha256").update(der).digest("base64"));
      expect(entry.publicKeyId).toBe(createHash("sha256").update(info.subjectPublicKeyInfo).digest("base64"));
      expect(new Date(entry.validFrom) < new Date()).toBe(true);
      expect(new Date(entry.validTo) > new Date()).toBe(true);
    }
    // The private half is real: what is encrypted to the published key decrypts (RSA-OAEP SHA-256, as for KSeF tokens).
    const [tokenKey] = await sim.simulator.publicKeyCertificates();
    const first = res.body[0] as { certificate: string };
    const cipher = publicEncrypt(
      { key: parseCertificate(Buffer.from(first.certificate, "base64")).publicKey, oaepHash: "sha256", padding: constants.RSA_PKCS1_OAEP_PADDING },
      Buffer.from("token|1"),
    );
    expect(privateDecrypt({ key: tokenKey?.keys.privateKey ?? "", oaepHash: "sha256", padding: constants.RSA_PKCS1_OAEP_PADDING }, cipher).toString()).toBe(
      "token|1",
    );
    expectConformingResponses(sim);
  });
});
