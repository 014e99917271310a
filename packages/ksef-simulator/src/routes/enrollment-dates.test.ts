/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Response bodies are read as loose JSON here; their shape is checked against the OpenAPI schema by expectConformingResponses. */
import { type EnrollmentData, type KeyPair, createCsr, generateKeyPair, parseCertificate } from "@ksef-certs/ksef/crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { dateTimeLike } from "../__fixtures__/date-times.js";
import {
  type CallResult,
  type Credential,
  type Session,
  call,
  capturingLogger,
  expectConformingResponses,
  movableClock,
  newSimulator,
  personCredential,
  signIn,
} from "../__fixtures__/harness.js";
import { openApiValidator } from "../openapi/validator.js";
import type { SimulatorApp } from "../simulator.js";
import { LATEST_VALID_FROM_MS } from "./certificates.js";

/** The simulator's clock in every test here; the signing certificates are valid from the day before. */
const T0 = new Date("2026-03-02T10:00:00.000Z");
const DAY = 86_400_000;

let person: Credential;
let otherPerson: Credential;
let keys: KeyPair;
let otherKeys: KeyPair;

beforeAll(async () => {
  person = await personCredential("44051401458", undefined, [], new Date(T0.getTime() - DAY));
  otherPerson = await personCredential("02070803628", undefined, [], new Date(T0.getTime() - DAY));
  keys = await generateKeyPair("EC-P256");
  otherKeys = await generateKeyPair("EC-P256");
});

/** A signed-in subject with a CSR made from its own enrollment data. */
interface Enrollee {
  readonly session: Session;
  readonly csr: string;
}

async function enrollee(sim: SimulatorApp, credential: Credential, k: KeyPair): Promise<Enrollee> {
  const session = await signIn(sim, credential);
  const data = (await call(sim, "GET", "/certificates/enrollments/data", { token: session.accessToken })).body as EnrollmentData;
  return { session, csr: Buffer.from(await createCsr(data, k)).toString("base64") };
}

function enroll(sim: SimulatorApp, who: Enrollee, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<CallResult> {
  return call(sim, "POST", "/certificates/enrollments", {
    token: who.session.accessToken,
    json: { certificateName: "Kasa główna", certificateType: "Authentication", csr: who.csr, ...extra },
    headers,
  });
}

function status(sim: SimulatorApp, who: Enrollee, referenceNumber: string): Promise<CallResult> {
  return call(sim, "GET", `/certificates/enrollments/${referenceNumber}`, { token: who.session.accessToken });
}

/** Enrolls with the given body and returns the final status body (enrollment delay 0). */
async function enrolledStatus(
  sim: SimulatorApp,
  who: Enrollee,
  extra: Record<string, unknown> = {},
): Promise<{ status: { code: number }; certificateSerialNumber?: string }> {
  const e = await enroll(sim, who, extra);
  expect(e.status, JSON.stringify(e.body)).toBe(202);
  const st = await status(sim, who, e.body.referenceNumber as string);
  expect(st.status).toBe(200);
  return st.body as { status: { code: number }; certificateSerialNumber?: string };
}

async function issuedCertificate(sim: SimulatorApp, who: Enrollee, serial: string): Promise<ReturnType<typeof parseCertificate>> {
  const got = await call(sim, "POST", "/certificates/retrieve", { token: who.session.accessToken, json: { certificateSerialNumbers: [serial] } });
  return parseCertificate(Buffer.from(got.body.certificates[0].certificate as string, "base64"));
}

function exceptionOf(res: CallResult): { exceptionCode: number; details: string[] } {
  return res.body.exception.exceptionDetailList[0] as { exceptionCode: number; details: string[] };
}

/** Every certificate endpoint a subject reads, each expected to answer 200. */
async function expectCertificateEndpointsAnswer(sim: SimulatorApp, who: Enrollee, referenceNumber: string, serial: string): Promise<void> {
  const token = who.session.accessToken;
  const answers = [
    await call(sim, "GET", "/certificates/limits", { token }),
    await call(sim, "GET", "/certificates/enrollments/data", { token }),
    await call(sim, "GET", `/certificates/enrollments/${referenceNumber}`, { token }),
    await call(sim, "POST", "/certificates/query", { token, json: {} }),
    await call(sim, "POST", "/certificates/retrieve", { token, json: { certificateSerialNumbers: [serial] } }),
  ];
  expect(answers.map((a) => [a.status, a.contentType.split(";")[0]])).toEqual(Array.from({ length: 5 }, () => [200, "application/json"]));
}

describe("validFrom that no certificate can hold", () => {
  it("refuses 9999-12-31T00:00:00Z at submission with 400/21405, after which the same subject and another one enroll and every certificate endpoint answers 200", async () => {
    const sim = await newSimulator({ now: () => T0 });
    const a = await enrollee(sim, person, keys);
    const b = await enrollee(sim, otherPerson, otherKeys);

    const refused = await enroll(sim, a, { validFrom: "9999-12-31T00:00:00Z" });
    expect(refused.status).toBe(400);
    expect(refused.contentType).toMatch(/^application\/json/);
    expect(exceptionOf(refused).exceptionCode).toBe(21405);
    expect(exceptionOf(refused).details.join(" ")).toMatch(/^validFrom: .*9999-12-31T23:59:59Z/);
    const asProblem = await enroll(sim, a, { validFrom: "9999-12-31T00:00:00Z" }, { "X-Error-Format": "problem-details" });
    expect(asProblem.contentType).toMatch(/^application\/problem\+json/);
    expect(asProblem.body).toMatchObject({ status: 400, errors: [{ code: 21405 }] });
    expect(sim.state.enrollments.size).toBe(0);

    for (const who of [a, b]) {
      const e = await enroll(sim, who);
      expect(e.status, JSON.stringify(e.body)).toBe(202);
      const st = await status(sim, who, e.body.referenceNumber as string);
      expect(st.body.status.code, JSON.stringify(st.body)).toBe(200);
      await expectCertificateEndpointsAnswer(sim, who, e.body.referenceNumber as string, st.body.certificateSerialNumber as string);
    }
    expect(sim.state.counters.certificatesIssued).toBe(2);
    expectConformingResponses(sim);
  });

  it("takes the latest validFrom whose end of validity fits 9999-12-31T23:59:59Z, and refuses one second later", async () => {
    const sim = await newSimulator({ now: () => T0 });
    const a = await enrollee(sim, person, keys);
    const latest = new Date(LATEST_VALID_FROM_MS).toISOString();
    const done = await enrolledStatus(sim, a, { validFrom: latest });
    expect(done.status.code).toBe(200);
    const info = await issuedCertificate(sim, a, done.certificateSerialNumber ?? "");
    expect([info.validFrom, info.validTo]).toEqual([latest, "9999-12-31T23:59:59.000Z"]);

    const oneLater = await enroll(sim, a, { validFrom: new Date(LATEST_VALID_FROM_MS + 1000).toISOString() });
    expect(exceptionOf(oneLater).exceptionCode).toBe(21405);
    // validFrom + two years past year 9999 cannot even be a JavaScript Date's ISO string.
    expect(exceptionOf(await enroll(sim, a, { validFrom: "9999-12-31T23:59:59.999-23:59" })).exceptionCode).toBe(21405);
    expectConformingResponses(sim);
  });

  it("refuses leap seconds and instants before year 0000 with 400/21405", async () => {
    const sim = await newSimulator({ now: () => T0 });
    const a = await enrollee(sim, person, keys);
    for (const validFrom of [
      "2016-12-31T23:59:60Z",
      "2016-12-31T23:59:60.5Z",
      "2017-01-01T00:59:60+01:00",
      "0000-01-01T00:00:00+00:01",
      "0000-01-01T00:30:00+01",
    ]) {
      const res = await enroll(sim, a, { validFrom });
      expect(res.status, validFrom).toBe(400);
      expect(exceptionOf(res).exceptionCode, validFrom).toBe(21405);
      expect(exceptionOf(res).details.join(" "), validFrom).toMatch(/validFrom/);
    }
    expect(sim.state.enrollments.size).toBe(0);
    expect((await enrolledStatus(sim, a)).status.code).toBe(200);
    expectConformingResponses(sim);
  });
});

describe("validFrom in every form the SPEC's date-time allows", () => {
  it("reads non-UTC offsets, lowercase and space separators and fractional seconds to the same instant, and issues from that second", async () => {
    const sim = await newSimulator({ now: () => T0, certificateLimits: { Pesel: { maxEnrollments: 50, maxCertificates: 50 } } });
    const a = await enrollee(sim, person, keys);
    for (const validFrom of [
      "2030-01-01T01:00:00+01:00",
      "2030-01-01T05:30:00+0530",
      "2029-12-31T19:00:00-05",
      "2030-01-01t00:00:00z",
      "2030-01-01 00:00:00Z",
      "2030-01-01T00:00:00.999999999Z",
      "2030-01-01T00:00:00.0154302+00:00",
    ]) {
      const done = await enrolledStatus(sim, a, { validFrom });
      expect(done.status.code, validFrom).toBe(200);
      expect((await issuedCertificate(sim, a, done.certificateSerialNumber ?? "")).validFrom, validFrom).toBe("2030-01-01T00:00:00.000Z");
    }
    expectConformingResponses(sim);
  });

  it("issues from a far past date that X.509 writes as GeneralizedTime; the certificate is already expired", async () => {
    const sim = await newSimulator({ now: () => T0 });
    const a = await enrollee(sim, person, keys);
    const done = await enrolledStatus(sim, a, { validFrom: "1900-01-01T00:00:00Z" });
    expect(done.status.code).toBe(200);
    const info = await issuedCertificate(sim, a, done.certificateSerialNumber ?? "");
    expect([info.validFrom, info.validTo]).toEqual(["1900-01-01T00:00:00.000Z", new Date(Date.parse("1900-01-01T00:00:00Z") + 730 * DAY).toISOString()]);
    const list = await call(sim, "POST", "/certificates/query", { token: a.session.accessToken, json: {} });
    expect(list.body.certificates[0]).toMatchObject({ status: "Expired", validFrom: "1900-01-01T00:00:00.000Z" });
    expectConformingResponses(sim);
  });

  it("refuses a leap second in the query filter expiresAfter with 400/21405 instead of matching nothing", async () => {
    const sim = await newSimulator({ now: () => T0 });
    const a = await enrollee(sim, person, keys);
    await enrolledStatus(sim, a);
    const res = await call(sim, "POST", "/certificates/query", { token: a.session.accessToken, json: { expiresAfter: "2016-12-31T23:59:60Z" } });
    expect(exceptionOf(res).exceptionCode).toBe(21405);
    const offset = await call(sim, "POST", "/certificates/query", { token: a.session.accessToken, json: { expiresAfter: "2026-03-02T11:00:00+01" } });
    expect(offset.body.certificates).toHaveLength(1);
    expectConformingResponses(sim);
  });
});

describe("background issuing", () => {
  it("an enrollment that fails while its certificate is issued ends alone with status 500, leaves no certificate behind, and is logged; the others are issued", async () => {
    const clock = movableClock(T0);
    const { logger, entries } = capturingLogger();
    const sim = await newSimulator({ now: clock.now, enrollmentDelayMs: 1000, logger });
    const a = await enrollee(sim, person, keys);
    const b = await enrollee(sim, otherPerson, otherKeys);
    const failing = (await enroll(sim, a)).body.referenceNumber as string;
    const sameSubject = (await enroll(sim, a)).body.referenceNumber as string;
    const otherSubject = (await enroll(sim, b)).body.referenceNumber as string;
    sim.setFaults({ enrollmentStatus500: 1 });
    clock.advance(1000);

    // The other subject's status request runs the background work for all three.
    const other = await status(sim, b, otherSubject);
    expect(other.body.status.code).toBe(200);
    const failed = await status(sim, a, failing);
    expect(failed.status).toBe(200);
    expect(failed.body.status).toEqual({ code: 500, description: "Nieznany błąd" });
    expect(failed.body.certificateSerialNumber).toBeUndefined();
    const same = await status(sim, a, sameSubject);
    expect(same.body.status.code).toBe(200);

    const record = sim.state.enrollments.get(failing);
    expect(record?.failureReason).toMatch(/enrollmentStatus500/);
    expect(record?.certificateSerialNumber).toBeUndefined();
    expect(sim.state.counters.certificatesIssued).toBe(2);
    expect([...sim.state.certificates.values()].map((c) => c.serialNumber).sort()).toEqual(
      [other.body.certificateSerialNumber, same.body.certificateSerialNumber].sort(),
    );
    expect(sim.state.faults.enrollmentStatus500).toBe(0);
    expect(entries.filter((e) => e["msg"] === "enrollment failed").map((e) => e["referenceNumber"])).toEqual([failing]);

    await expectCertificateEndpointsAnswer(sim, a, sameSubject, same.body.certificateSerialNumber as string);
    // A retry of the failed request is a new enrollment and succeeds.
    const retry = (await enroll(sim, a)).body.referenceNumber as string;
    clock.advance(1000);
    expect((await status(sim, a, retry)).body.status.code).toBe(200);
    expectConformingResponses(sim);
  });

  it("concurrent requests issue one certificate per enrollment, not one per request", async () => {
    const clock = movableClock(T0);
    const sim = await newSimulator({ now: clock.now, enrollmentDelayMs: 1000 });
    const a = await enrollee(sim, person, keys);
    const ref = (await enroll(sim, a)).body.referenceNumber as string;
    clock.advance(1000);
    const answers = await Promise.all(Array.from({ length: 5 }, () => status(sim, a, ref)));
    expect(new Set(answers.map((r) => r.body.certificateSerialNumber as string)).size).toBe(1);
    expect(sim.state.counters.certificatesIssued).toBe(1);
    expect(sim.state.certificates.size).toBe(1);
    expectConformingResponses(sim);
  });
});

const hostileValidFrom: fc.Arbitrary<string | null> = fc.oneof(
  dateTimeLike,
  fc.constantFrom(
    "9999-12-31T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:60Z",
    "9999-12-31T23:59:59-23:59",
    "0000-01-01T00:00:00Z",
    "0000-01-01T00:00:00+23:59",
    "0099-12-31T23:59:59Z",
    "1969-12-31T23:59:59.999Z",
    "2016-12-31T23:59:60Z",
    "2016-12-31T18:59:60-05:00",
    "2026-01-01T24:59:00+01:00",
    "+275760-09-13T00:00:00Z",
    "-000001-01-01T00:00:00Z",
    "2030-02-29T00:00:00Z",
    "2030-01-01T00:00:00",
    "2030-01-01",
    "",
  ),
  // Any Date's ISO form: extended six-digit years included.
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.string({ maxLength: 40 }),
  fc.constant(null),
);

describe("hostile validFrom (property)", () => {
  it("never answers 5xx, always answers per the OpenAPI document, and a normal enrollment afterwards is issued", async () => {
    const validator = openApiValidator();
    const sim = await newSimulator({
      now: () => T0,
      rateLimits: "off",
      certificateLimits: { Pesel: { maxEnrollments: 1_000_000, maxCertificates: 1_000_000 } },
      logger: capturingLogger().logger,
    });
    const a = await enrollee(sim, person, keys);
    const b = await enrollee(sim, otherPerson, otherKeys);
    const conforms = (method: string, template: string, res: CallResult): void => {
      expect(validator.validateResponse(method, template, res.status, res.contentType, res.body), `${method} ${template} ${String(res.status)}`).toEqual([]);
    };

    await fc.assert(
      fc.asyncProperty(hostileValidFrom, async (validFrom) => {
        const hostile = await enroll(sim, a, { validFrom });
        expect(hostile.status).toBeLessThan(500);
        expect([202, 400]).toContain(hostile.status);
        conforms("POST", "/certificates/enrollments", hostile);
        if (hostile.status === 202) {
          const st = await status(sim, a, hostile.body.referenceNumber as string);
          conforms("GET", "/certificates/enrollments/{referenceNumber}", st);
          // Issued, or failed alone in the background; never left at 100 or turned into an HTTP error.
          expect([200, 500]).toContain(st.body.status.code);
        }
        const normal = await enroll(sim, a);
        expect(normal.status, JSON.stringify(normal.body)).toBe(202);
        const st = await status(sim, a, normal.body.referenceNumber as string);
        conforms("GET", "/certificates/enrollments/{referenceNumber}", st);
        expect(st.body.status.code).toBe(200);
      }),
      { numRuns: 150 },
    );
    expect((await enrolledStatus(sim, b)).status.code).toBe(200);
    expectConformingResponses(sim);
  });
});
