/**
 * Reliability against injected faults: bounded retries with backoff,
 * Retry-After honoured, rate limits respected by the client, and no key enrolled twice when KSeF's
 * answer is lost after it recorded the enrollment.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCsr, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { createKsefClient, KsefApiError, KsefStatusError, type KsefClient, type KsefSession, type RetryEvent } from "@ksef-certs/ksef/api";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { logIn, selfSignedPerson } from "./fixtures.js";

const MAX_ATTEMPTS = 6;
let sim: RunningSimulator;
let client: KsefClient;
let session: KsefSession;
let retries: RetryEvent[] = [];
const requests = (operation: string): number => sim.state.counters.requests[operation] ?? 0;

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, enrollmentDelayMs: 100 });
  client = createKsefClient({ baseUrl: sim.url, retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 10, maxDelayMs: 100 }, onRetry: (e) => retries.push(e) });
  session = await logIn(client, await selfSignedPerson({ givenName: "Jan", surname: "Kowalski" }));
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.setFaults({});
  retries = [];
});

async function csrBody(certificateType: "Authentication" | "Offline") {
  const data = await client.enrollmentData(session);
  const csr = await createCsr(data, await generateKeyPair("EC-P256"));
  return { certificateName: `Awaria test ${certificateType}`, certificateType, csr: Buffer.from(csr).toString("base64") };
}

describe("the client under injected faults", () => {
  it("rides out a 25 % rate of 500s on idempotent calls with bounded, jittered retries", async () => {
    sim.setFaults({ errorRate: 0.25 });
    const before = requests("GET /certificates/limits");
    for (let i = 0; i < 12; i++) expect((await client.certificateLimits(session)).canRequest).toBe(true);
    const sent = requests("GET /certificates/limits") - before;
    const serverErrors = retries.filter((r) => r.reason === "server-error");
    expect(serverErrors.length).toBeGreaterThan(0); // faults really happened
    expect(sent).toBe(12 + serverErrors.length); // every retry is one more request, nothing else
    expect(Math.max(...retries.map((r) => r.attempt))).toBeLessThan(MAX_ATTEMPTS);
    expect(new Set(serverErrors.map((r) => r.delayMs)).size).toBeGreaterThan(1); // jittered
  });

  it("gives up after the attempt limit with a retryable IO error when KSeF keeps failing", async () => {
    sim.setFaults({ errorRate: 1 });
    const before = requests("GET /certificates/limits");
    const err = await client.certificateLimits(session).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsefApiError);
    expect(err).toMatchObject({ code: "IO", retryable: true, httpStatus: 500 });
    expect(requests("GET /certificates/limits") - before).toBe(MAX_ATTEMPTS);
  });

  it("does not repeat an enrollment whose answer was lost after KSeF recorded it", async () => {
    const body = await csrBody("Authentication");
    const enrollments = sim.state.counters.enrollmentsCreated;
    const before = requests("POST /certificates/enrollments");
    sim.setFaults({ errorAfterProcessingRate: 1 });
    const err = await client.enrollCertificate(session, body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsefApiError);
    expect(err).toMatchObject({ outcomeUnknown: true, retryable: true });
    expect(requests("POST /certificates/enrollments") - before).toBe(1);
    expect(sim.state.counters.enrollmentsCreated - enrollments).toBe(1);
  });

  it("does not retry an enrollment on a 500, even one sent before KSeF processed it", async () => {
    const body = await csrBody("Offline");
    const enrollments = sim.state.counters.enrollmentsCreated;
    const before = requests("POST /certificates/enrollments");
    sim.setFaults({ errorRate: 1 });
    await expect(client.enrollCertificate(session, body)).rejects.toMatchObject({ outcomeUnknown: true });
    expect(requests("POST /certificates/enrollments") - before).toBe(1);
    expect(sim.state.counters.enrollmentsCreated - enrollments).toBe(0);
  });

  it("waits out a 429 storm for the Retry-After KSeF sends, then succeeds (an enrollment too)", async () => {
    const body = await csrBody("Offline");
    sim.setFaults({ rateLimitStorm: { requests: 2, retryAfterSeconds: 1 } });
    const started = Date.now();
    const { referenceNumber } = await client.enrollCertificate(session, body);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(retries.filter((r) => r.reason === "rate-limited")).toHaveLength(2);
    expect((await client.waitForEnrollment(session, referenceNumber, { intervalMs: 50 })).status.code).toBe(200);
  });

  it("keeps a burst of certificate calls under the published 10 per second, so KSeF never answers 429", async () => {
    const rateLimitedBefore = sim.state.counters.rateLimited;
    const started = Date.now();
    // GET /limits/subject: an endpoint no other test here calls, so its minute window starts empty.
    await Promise.all(Array.from({ length: 14 }, () => client.subjectLimits(session)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000); // the 11th call waited for the 1-second window (plus its margin)
    expect(sim.state.counters.rateLimited - rateLimitedBefore).toBe(0);
    expect(retries).toEqual([]);
  });

  it("reports status 550 (cancelled by the system) of an enrollment as a retryable failure", async () => {
    const body = await csrBody("Authentication");
    sim.setFaults({ enrollmentStatus550: 1 });
    const { referenceNumber } = await client.enrollCertificate(session, body);
    const err = await client.waitForEnrollment(session, referenceNumber, { intervalMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsefStatusError);
    expect(err).toMatchObject({ statusCode: 550, retryable: true });
  });

  it("reports status 550 of an authentication as retryable, and the next login works", async () => {
    sim.setFaults({ authStatus550: 1 });
    const person = await selfSignedPerson({ givenName: "Ewa", surname: "Nowak" });
    await expect(logIn(client, person)).rejects.toMatchObject({ statusCode: 550, retryable: true });
    const again = await logIn(client, person);
    expect((await client.enrollmentData(again)).surname).toBe("Nowak");
  });
});
