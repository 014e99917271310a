/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call --
   Response bodies are read as loose JSON here; their shape is checked against the OpenAPI schema by expectConformingResponses. */
import {
  type EnrollmentData,
  type KeyPair,
  createCsr,
  generateKeyPair,
  isSignedBy,
  keyMatchesCertificate,
  parseCertificate,
  parseCsr,
} from "@ksef-certs/ksef/crypto";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type CallResult,
  type Credential,
  type Session,
  call,
  expectConformingResponses,
  newSimulator,
  personCredential,
  sharedAuthority,
  signIn,
  movableClock,
} from "../__fixtures__/harness.js";
import { signWithXmlsec } from "../__fixtures__/xmlsec-sign.js";
import type { SimulatorApp } from "../simulator.js";

const PESEL = "44051401458";
const DATA: EnrollmentData = { commonName: "Jan Kowalski", countryName: "PL", givenName: "Jan", surname: "Kowalski", serialNumber: `PNOPL-${PESEL}` };

let person: Credential;
let otherPerson: Credential;
let ecKeys: KeyPair;

beforeAll(async () => {
  person = await personCredential(PESEL);
  otherPerson = await personCredential("02070803628");
  ecKeys = await generateKeyPair("EC-P256");
});

async function enroll(sim: SimulatorApp, s: Session, keys: KeyPair, body: Record<string, unknown> = {}, data: EnrollmentData = DATA): Promise<CallResult> {
  const csr = Buffer.from(await createCsr(data, keys)).toString("base64");
  return call(sim, "POST", "/certificates/enrollments", {
    token: s.accessToken,
    json: { certificateName: "Kasa główna", certificateType: "Authentication", csr, ...body },
  });
}

/** Enrolls and returns the issued certificate's serial (enrollment delay 0). */
async function issue(sim: SimulatorApp, s: Session, keys: KeyPair, type: "Authentication" | "Offline" = "Authentication"): Promise<string> {
  const e = await enroll(sim, s, keys, { certificateType: type });
  expect(e.status, JSON.stringify(e.body)).toBe(202);
  const st = await call(sim, "GET", `/certificates/enrollments/${e.body.referenceNumber as string}`, { token: s.accessToken });
  expect(st.body.status.code, JSON.stringify(st.body)).toBe(200);
  return st.body.certificateSerialNumber as string;
}

function exceptionCode(res: CallResult): number {
  return res.body.exception.exceptionDetailList[0].exceptionCode as number;
}

describe("enrollment data and limits", () => {
  it("derives enrollment data from the signing certificate's subject, exactly", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    const res = await call(sim, "GET", "/certificates/enrollments/data", { token: s.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(DATA);
    expectConformingResponses(sim);
  });

  it("reports limits per identifier type (PESEL 12/6), and TEST overrides change and reset them", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    expect((await call(sim, "GET", "/limits/subject", { token: s.accessToken })).body).toEqual({
      enrollment: { maxEnrollments: 12 },
      certificate: { maxCertificates: 6 },
    });
    expect((await call(sim, "GET", "/certificates/limits", { token: s.accessToken })).body).toEqual({
      canRequest: true,
      enrollment: { limit: 12, remaining: 12 },
      certificate: { limit: 6, remaining: 6 },
    });
    const set = await call(sim, "POST", "/testdata/limits/subject/certificate", {
      token: s.accessToken,
      json: { subjectIdentifierType: "Pesel", enrollment: { maxEnrollments: 3 }, certificate: { maxCertificates: 1 } },
    });
    expect(set.status).toBe(200);
    expect((await call(sim, "GET", "/limits/subject", { token: s.accessToken })).body).toEqual({
      enrollment: { maxEnrollments: 3 },
      certificate: { maxCertificates: 1 },
    });
    expect((await call(sim, "DELETE", "/testdata/limits/subject/certificate", { token: s.accessToken })).status).toBe(200);
    expect((await call(sim, "GET", "/limits/subject", { token: s.accessToken })).body.certificate.maxCertificates).toBe(6);
    const bad = await call(sim, "POST", "/testdata/limits/subject/certificate", { token: s.accessToken, json: { certificate: { maxCertificates: -1 } } });
    expect(exceptionCode(bad)).toBe(21405);
    expectConformingResponses(sim);
  });
});

describe("enrollment", () => {
  it("accepts a CSR from the enrollment data, stays at 100 for the delay, then issues a KSeF-like certificate", async () => {
    const c = movableClock();
    const sim = await newSimulator({ now: c.now, enrollmentDelayMs: 1000 });
    const s = await signIn(sim, person);
    const res = await enroll(sim, s, ecKeys);
    expect(res.status).toBe(202);
    expect(res.body.referenceNumber).toMatch(/^\d{8}-EH-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$/);
    const ref = res.body.referenceNumber as string;
    const pending = await call(sim, "GET", `/certificates/enrollments/${ref}`, { token: s.accessToken });
    expect(pending.body).toMatchObject({ status: { code: 100 } });
    expect(pending.body.certificateSerialNumber).toBeUndefined();
    expect(sim.state.counters.certificatesIssued).toBe(0);
    c.advance(1000);
    const done = await call(sim, "GET", `/certificates/enrollments/${ref}`, { token: s.accessToken });
    expect(done.body.status).toEqual({ code: 200, description: "Wniosek obsłużony (certyfikat wygenerowany)" });
    const serial = done.body.certificateSerialNumber as string;
    expect(serial).toMatch(/^[0-9A-F]{16}$/);

    const got = await call(sim, "POST", "/certificates/retrieve", { token: s.accessToken, json: { certificateSerialNumbers: [serial] } });
    expect(got.body.certificates).toHaveLength(1);
    expect(got.body.certificates[0]).toMatchObject({ certificateName: "Kasa główna", certificateSerialNumber: serial, certificateType: "Authentication" });
    const info = parseCertificate(Buffer.from(got.body.certificates[0].certificate as string, "base64"));
    expect(info.serialNumber).toBe(serial);
    expect(info.ksefType).toBe("Authentication");
    expect(info.typeCheck.consistent).toBe(true);
    expect(info.commonName).toBe("Jan Kowalski (uwierzytelnienie)");
    expect(info.issuer.find((a) => a.oid === "2.5.4.3")?.value).toBe("TEST CCK KSeF");
    expect(info.signatureAlgorithm).toBe("ecdsa-with-SHA256");
    expect(info.signatureAlgorithmHasNullParameters).toBe(true);
    expect(isSignedBy(info, parseCertificate((await sharedAuthority()).der))).toBe(true);
    expect(Date.parse(info.validTo) - Date.parse(info.validFrom)).toBe(730 * 86_400_000);
    expect(Math.abs(Date.parse(info.validFrom) - c.now().getTime())).toBeLessThan(2000);
    expect(keyMatchesCertificate(ecKeys.privateKey, info)).toBe(true);
    expect(info.subjectIdentifier).toEqual({ type: "Pesel", value: PESEL });

    const list = await call(sim, "POST", "/certificates/query", { token: s.accessToken, json: {} });
    expect(list.body).toMatchObject({ hasMore: false });
    expect(list.body.certificates[0]).toMatchObject({
      certificateSerialNumber: serial,
      name: "Kasa główna",
      type: "Authentication",
      commonName: "Jan Kowalski",
      status: "Active",
      subjectIdentifier: { type: "Pesel", value: PESEL },
      validFrom: info.validFrom,
      validTo: info.validTo,
    });
    expect(sim.state.counters).toMatchObject({ enrollmentsCreated: 1, certificatesIssued: 1 });
    expectConformingResponses(sim);
  });

  it("issues Offline certificates with nonRepudiation and the (offline) suffix, valid from a requested date", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    const validFrom = new Date(Date.now() + 86_400_000);
    validFrom.setUTCMilliseconds(0);
    const e = await enroll(sim, s, ecKeys, { certificateType: "Offline", validFrom: validFrom.toISOString() });
    const st = await call(sim, "GET", `/certificates/enrollments/${e.body.referenceNumber as string}`, { token: s.accessToken });
    const got = await call(sim, "POST", "/certificates/retrieve", {
      token: s.accessToken,
      json: { certificateSerialNumbers: [st.body.certificateSerialNumber] },
    });
    const info = parseCertificate(Buffer.from(got.body.certificates[0].certificate as string, "base64"));
    expect(info.ksefType).toBe("Offline");
    expect(info.keyUsage).toEqual(["nonRepudiation"]);
    expect(info.commonName).toBe("Jan Kowalski (offline)");
    expect(info.validFrom).toBe(validFrom.toISOString());
    expectConformingResponses(sim);
  });

  it("issues for an RSA-2048 key too", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    const rsa = await generateKeyPair("RSA-2048");
    const serial = await issue(sim, s, rsa);
    const got = await call(sim, "POST", "/certificates/retrieve", { token: s.accessToken, json: { certificateSerialNumbers: [serial] } });
    const info = parseCertificate(Buffer.from(got.body.certificates[0].certificate as string, "base64"));
    expect(info.keyDescription).toMatchObject({ type: "rsa", bits: 2048 });
    expect(keyMatchesCertificate(rsa.privateKey, info)).toBe(true);
  });

  it("refuses what is not a CSR, and a CSR whose self-signature is broken, with 25004", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    const garbage = await call(sim, "POST", "/certificates/enrollments", {
      token: s.accessToken,
      json: { certificateName: "Kasa główna", certificateType: "Authentication", csr: Buffer.from("not a csr").toString("base64") },
    });
    expect(exceptionCode(garbage)).toBe(25004);
    const der = Buffer.from(await createCsr(DATA, ecKeys));
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0x01; // inside the signature value
    expect(parseCsr(der).signatureValid).toBe(false);
    const broken = await call(sim, "POST", "/certificates/enrollments", {
      token: s.accessToken,
      json: { certificateName: "Kasa główna", certificateType: "Authentication", csr: der.toString("base64") },
    });
    expect(exceptionCode(broken)).toBe(25004);
    expect(sim.state.counters.enrollmentsCreated).toBe(0);
    expectConformingResponses(sim);
  });

  it("refuses keys other than EC P-256 and RSA-2048 with 25010 (CSRs made by openssl)", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    const dir = mkdtempSync(join(tmpdir(), "ksef-sim-csr-"));
    const keyFile = join(dir, "p384.pem");
    writeFileSync(keyFile, generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey.export({ type: "pkcs8", format: "pem" }));
    const csrFile = join(dir, "p384.csr");
    execFileSync("/usr/bin/openssl", [
      "req",
      "-new",
      "-key",
      keyFile,
      "-utf8",
      "-subj",
      `/CN=Jan Kowalski/SN=Kowalski/GN=Jan/C=PL/serialNumber=PNOPL-${PESEL}`,
      "-outform",
      "DER",
      "-out",
      csrFile,
    ]);
    const res = await call(sim, "POST", "/certificates/enrollments", {
      token: s.accessToken,
      json: { certificateName: "Kasa główna", certificateType: "Authentication", csr: readFileSync(csrFile).toString("base64") },
    });
    expect(exceptionCode(res)).toBe(25010);
    expectConformingResponses(sim);
  });

  it("refuses a CSR whose subject differs from the enrollment data (value, missing or extra attribute) with 25003", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    for (const data of [
      { ...DATA, givenName: "Janusz" },
      { ...DATA, serialNumber: undefined },
      { ...DATA, organizationName: "Firma" },
    ] as EnrollmentData[]) {
      const res = await enroll(sim, s, ecKeys, {}, data);
      expect(res.status).toBe(400);
      expect(exceptionCode(res)).toBe(25003);
    }
    expectConformingResponses(sim);
  });

  it("validates the request against the schema: bad certificateName, unknown type → 21405", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    const name = await enroll(sim, s, ecKeys, { certificateName: "Kasa <1>" });
    expect(exceptionCode(name)).toBe(21405);
    expect(name.body.exception.exceptionDetailList[0].details.join(" ")).toMatch(/certificateName/);
    const type = await enroll(sim, s, ecKeys, { certificateType: "Seal" });
    expect(exceptionCode(type)).toBe(21405);
    expect(sim.state.openApiViolations.request.map((r) => r.operation)).toEqual(["POST /certificates/enrollments", "POST /certificates/enrollments"]);
    expectConformingResponses(sim);
  });

  it("enforces the enrollment-request limit (25006) and the active-certificate limit (25007)", async () => {
    const sim = await newSimulator({ certificateLimits: { Pesel: { maxEnrollments: 2, maxCertificates: 6 } } });
    const s = await signIn(sim, person);
    await issue(sim, s, ecKeys);
    await issue(sim, s, ecKeys);
    expect(exceptionCode(await enroll(sim, s, ecKeys))).toBe(25006);
    expect((await call(sim, "GET", "/certificates/limits", { token: s.accessToken })).body).toMatchObject({ canRequest: false, enrollment: { remaining: 0 } });

    const sim2 = await newSimulator({ certificateLimits: { Pesel: { maxEnrollments: 12, maxCertificates: 1 } } });
    const s2 = await signIn(sim2, person);
    await issue(sim2, s2, ecKeys);
    expect(exceptionCode(await enroll(sim2, s2, ecKeys))).toBe(25007);
    expectConformingResponses(sim);
    expectConformingResponses(sim2);
  });

  it("rejects at processing (status 400) a key already certified for another subject", async () => {
    const sim = await newSimulator();
    const a = await signIn(sim, person);
    await issue(sim, a, ecKeys);
    const b = await signIn(sim, otherPerson);
    const otherData = (await call(sim, "GET", "/certificates/enrollments/data", { token: b.accessToken })).body as EnrollmentData;
    const e = await enroll(sim, b, ecKeys, {}, otherData);
    expect(e.status).toBe(202);
    const st = await call(sim, "GET", `/certificates/enrollments/${e.body.referenceNumber as string}`, { token: b.accessToken });
    expect(st.body.status).toEqual({ code: 400, description: "Wniosek odrzucony", details: ["Klucz publiczny został już certyfikowany przez inny podmiot."] });
    // Another subject's enrollment reference is unknown to this one.
    expect(exceptionCode(await call(sim, "GET", `/certificates/enrollments/${e.body.referenceNumber as string}`, { token: a.accessToken }))).toBe(25005);
    expect(exceptionCode(await call(sim, "GET", "/certificates/enrollments/20260302-EH-0000000000-0000000000-00", { token: a.accessToken }))).toBe(25005);
    expectConformingResponses(sim);
  });

  it("enrollmentStatus550 ends the next enrollment with 550; errorAfterProcessingRate answers 500 but the enrollment exists", async () => {
    const sim = await newSimulator({ faults: { enrollmentStatus550: 1 } });
    const s = await signIn(sim, person);
    const e = await enroll(sim, s, ecKeys);
    const st = await call(sim, "GET", `/certificates/enrollments/${e.body.referenceNumber as string}`, { token: s.accessToken });
    expect(st.body.status.code).toBe(550);

    sim.setFaults({ errorAfterProcessingRate: 1 });
    const lost = await enroll(sim, s, ecKeys);
    expect(lost.status).toBe(500);
    expect(sim.state.counters.enrollmentsCreated).toBe(2);
    expectConformingResponses(sim);
  });
});

describe("query, retrieve, revoke", () => {
  it("pages results sorted by request date, newest first, and filters", async () => {
    const c = movableClock();
    const sim = await newSimulator({ now: c.now, rateLimits: "off", certificateLimits: { Pesel: { maxEnrollments: 50, maxCertificates: 50 } } });
    const s = await signIn(sim, person);
    const serials: string[] = [];
    for (let i = 0; i < 11; i++) {
      serials.push(await issue(sim, s, ecKeys, i === 0 ? "Offline" : "Authentication"));
      c.advance(1000);
    }
    const first = await call(sim, "POST", "/certificates/query?pageSize=10", { token: s.accessToken, json: {} });
    expect(first.body.hasMore).toBe(true);
    expect(first.body.certificates.map((x: { certificateSerialNumber: string }) => x.certificateSerialNumber)).toEqual([...serials].reverse().slice(0, 10));
    const second = await call(sim, "POST", "/certificates/query?pageSize=10&pageOffset=1", { token: s.accessToken, json: {} });
    expect(second.body).toMatchObject({ hasMore: false, certificates: [{ certificateSerialNumber: serials[0] }] });
    expect((await call(sim, "POST", "/certificates/query", { token: s.accessToken, json: { type: "Offline" } })).body.certificates).toHaveLength(1);
    expect(
      (await call(sim, "POST", "/certificates/query", { token: s.accessToken, json: { certificateSerialNumber: serials[3] } })).body.certificates,
    ).toHaveLength(1);
    expect((await call(sim, "POST", "/certificates/query", { token: s.accessToken, json: { name: "GŁÓWNA" } })).body.certificates).toHaveLength(10);
    expect(
      (
        await call(sim, "POST", "/certificates/query", {
          token: s.accessToken,
          json: { expiresAfter: new Date(c.now().getTime() + 800 * 86_400_000).toISOString() },
        })
      ).body.certificates,
    ).toHaveLength(0);
    expect(exceptionCode(await call(sim, "POST", "/certificates/query?pageSize=9", { token: s.accessToken, json: {} }))).toBe(21405);
    // No body at all lists everything too.
    expect((await call(sim, "POST", "/certificates/query?pageSize=50", { token: s.accessToken })).body.certificates).toHaveLength(11);
    expectConformingResponses(sim);
  });

  it("revokes once (204), then 25009; unknown or another subject's serial is 25008; retrieve skips others' certificates", async () => {
    const sim = await newSimulator();
    const a = await signIn(sim, person);
    const serial = await issue(sim, a, ecKeys);
    const b = await signIn(sim, otherPerson);
    expect(exceptionCode(await call(sim, "POST", `/certificates/${serial}/revoke`, { token: b.accessToken, json: {} }))).toBe(25008);
    expect(
      (await call(sim, "POST", "/certificates/retrieve", { token: b.accessToken, json: { certificateSerialNumbers: [serial] } })).body.certificates,
    ).toEqual([]);
    const revoked = await call(sim, "POST", `/certificates/${serial}/revoke`, { token: a.accessToken, json: { revocationReason: "KeyCompromise" } });
    expect(revoked.status).toBe(204);
    expect(revoked.body).toBeUndefined();
    expect(sim.state.certificates.get(serial)?.revocationReason).toBe("KeyCompromise");
    expect(exceptionCode(await call(sim, "POST", `/certificates/${serial}/revoke`, { token: a.accessToken, json: {} }))).toBe(25009);
    expect(exceptionCode(await call(sim, "POST", "/certificates/0123456789ABCDEF/revoke", { token: a.accessToken }))).toBe(25008);
    expect(
      (await call(sim, "POST", "/certificates/query", { token: a.accessToken, json: { status: "Revoked" } })).body.certificates[0].certificateSerialNumber,
    ).toBe(serial);
    expectConformingResponses(sim);
  });
});

describe("signing in with a KSeF certificate", () => {
  async function retrieve(sim: SimulatorApp, s: Session, serial: string): Promise<Uint8Array> {
    const got = await call(sim, "POST", "/certificates/retrieve", { token: s.accessToken, json: { certificateSerialNumbers: [serial] } });
    return Buffer.from(got.body.certificates[0].certificate as string, "base64");
  }

  it("an Authentication certificate issued here signs in even with verifyCertificateChain=true, keeps the identity and renews itself", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    const serial = await issue(sim, s, ecKeys);
    const ksef: Credential = { keys: ecKeys, certificate: await retrieve(sim, s, serial) };
    const renewed = await signIn(sim, ksef, "?verifyCertificateChain=true");
    const status = await call(sim, "GET", `/auth/${renewed.referenceNumber}`, { token: renewed.authenticationToken });
    expect(status.body).toMatchObject({ authenticationMethod: "InternalCertificate", authenticationMethodInfo: { code: "xades.internal-certificate" } });
    expect((await call(sim, "GET", "/certificates/enrollments/data", { token: renewed.accessToken })).body).toEqual(DATA);
    const next = await generateKeyPair("EC-P256");
    const successor = await issue(sim, renewed, next);
    const list = await call(sim, "POST", "/certificates/query", { token: renewed.accessToken, json: {} });
    expect(list.body.certificates.map((x: { certificateSerialNumber: string }) => x.certificateSerialNumber).sort()).toEqual([serial, successor].sort());
    expect(list.body.certificates.find((x: { certificateSerialNumber: string }) => x.certificateSerialNumber === serial).lastUseDate).not.toBeNull();
    expectConformingResponses(sim);
  });

  it("an Offline certificate is refused (400/21115, by the XAdES verifier); a revoked Authentication certificate ends with status 460", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    const offlineKeys = await generateKeyPair("EC-P256");
    const offline = await issue(sim, s, offlineKeys, "Offline");
    const authKeys = await generateKeyPair("EC-P256");
    const auth = await issue(sim, s, authKeys);
    expect((await call(sim, "POST", `/certificates/${auth}/revoke`, { token: s.accessToken, json: {} })).status).toBe(204);

    // core's signer refuses Offline certificates outright, so xmlsec1 signs here (what another client could send).
    const c1 = await call(sim, "POST", "/auth/challenge");
    const refused = await call(sim, "POST", "/auth/xades-signature", {
      xml: signWithXmlsec(c1.body.challenge as string, { keys: offlineKeys, certificate: await retrieve(sim, s, offline) }),
    });
    expect(refused.status).toBe(400);
    expect(exceptionCode(refused)).toBe(21115);

    const c2 = await call(sim, "POST", "/auth/challenge");
    const init = await call(sim, "POST", "/auth/xades-signature", {
      xml: signWithXmlsec(c2.body.challenge as string, { keys: authKeys, certificate: await retrieve(sim, s, auth) }),
    });
    expect(init.status, JSON.stringify(init.body)).toBe(202);
    const status = await call(sim, "GET", `/auth/${init.body.referenceNumber as string}`, { token: init.body.authenticationToken.token as string });
    expect(status.body.status).toMatchObject({ code: 460, details: ["Certyfikat odwołany."] });
    expectConformingResponses(sim);
  });
});
