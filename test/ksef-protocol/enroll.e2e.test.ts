/**
 * The KSeF protocol end to end: sign an AuthTokenRequest, authenticate against the simulator, enroll both
 * certificate types from our CSRs, retrieve them and pair them with our keys; then query, revoke,
 * renew with the issued Authentication certificate, and sign a KOD II link with the Offline one.
 * Every request our client sent and every response the simulator gave is checked against the
 * OpenAPI document (the simulator records violations of both).
 */
import { createHash, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertKeyMatchesCertificate,
  createCsr,
  encryptPrivateKeyPem,
  generateKeyPair,
  parseCertificate,
  readPrivateKey,
  type KeyPair,
} from "@ksef-certs/ksef/crypto";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import { createKsefClient, KsefApiError, type KsefClient, type KsefSession } from "@ksef-certs/ksef/api";
import { prepareKod2Signer, verifyKod2Url } from "@ksef-certs/ksef/qr";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { logIn, NIP, selfSignedPerson, type Signer } from "./fixtures.js";

let sim: RunningSimulator;
let client: KsefClient;
let person: Signer;
let session: KsefSession;
const issued: Record<"Authentication" | "Offline", { keys: KeyPair; der: Uint8Array; serial: string } | undefined> = {
  Authentication: undefined,
  Offline: undefined,
};

beforeAll(async () => {
  sim = await startSimulator({ enrollmentDelayMs: 400 });
  client = createKsefClient({ baseUrl: sim.url });
  person = await selfSignedPerson({ givenName: "Anna", surname: "Żółkiewska" });
});

afterAll(async () => {
  await sim.close();
});

describe("KSeF protocol end to end against the simulator", () => {
  it("authenticates with a self-signed XAdES AuthTokenRequest and reads the enrollment data from the signing certificate", async () => {
    session = await logIn(client, person);
    const data = await client.enrollmentData(session);
    expect(data).toMatchObject({ commonName: "Anna Żółkiewska", givenName: "Anna", surname: "Żółkiewska", serialNumber: `TINPL-${NIP}`, countryName: "PL" });
    const limits = await client.certificateLimits(session);
    expect(limits.canRequest).toBe(true);
  });

  it.each(["Authentication", "Offline"] as const)(
    "enrolls a %s certificate from our CSR, waits for it, retrieves it and pairs it with our key",
    async (certificateType) => {
      const data = await client.enrollmentData(session);
      const keys = await generateKeyPair("EC-P256");
      const csr = await createCsr(data, keys);
      const progress: number[] = [];
      const { referenceNumber } = await client.enrollCertificate(session, {
        certificateName: `Certyfikat ${certificateType} Żółkiewska`,
        certificateType,
        csr: Buffer.from(csr).toString("base64"),
      });
      const done = await client.waitForEnrollment(session, referenceNumber, { intervalMs: 100, onProgress: (s) => progress.push(s.status.code) });
      expect(progress.length).toBeGreaterThan(0); // it really was asynchronous: status 100 first
      expect(done.status.code).toBe(200);

      const { certificates } = await client.retrieveCertificates(session, [done.certificateSerialNumber]);
      expect(certificates).toHaveLength(1);
      const der = Buffer.from(certificates[0]!.certificate, "base64");
      const info = parseCertificate(der);
      expect(info.ksefType).toBe(certificateType);
      expect(info.serialNumber).toBe(done.certificateSerialNumber);
      expect(info.serialNumber).toMatch(/^[0-9A-F]{16}$/);
      expect(info.subjectIdentifier).toEqual({ type: "Nip", value: NIP });
      expect(new X509Certificate(der).verify(new X509Certificate(sim.ca.der).publicKey)).toBe(true);
      assertKeyMatchesCertificate(keys.privateKey, der);

      // The pair as the ministry's web app hands it out: .crt + password-protected .key, and it opens again.
      const keyPem = await encryptPrivateKeyPem(keys.privateKey, "Hasło-do-klucza-1!");
      const reopened = await readPrivateKey(keyPem, { password: "Hasło-do-klucza-1!" });
      assertKeyMatchesCertificate(reopened.key, der);
      issued[certificateType] = { keys, der, serial: done.certificateSerialNumber };
    },
  );

  it("lists both certificates, signs a KOD II link with the Offline one and refuses the Authentication one", async () => {
    const listed = [];
    for await (const page of client.queryAllCertificates(session, {})) listed.push(...page.certificates);
    const serials = listed.map((c) => c.certificateSerialNumber);
    expect(serials).toEqual(expect.arrayContaining([issued.Authentication!.serial, issued.Offline!.serial]));
    expect(listed.every((c) => c.status === "Active")).toBe(true);

    const offline = issued.Offline!;
    const signer = prepareKod2Signer({
      environment: "test",
      contextIdentifier: { type: "Nip", value: NIP },
      sellerNip: NIP,
      certificate: offline.der,
      privateKey: offline.keys.privateKey,
    });
    const link = signer.link({ sha256: createHash("sha256").update("<Faktura/>").digest() });
    expect(link).toContain(`/certificate/Nip/${NIP}/${NIP}/${offline.serial}/`);
    expect(verifyKod2Url(link, offline.der).valid).toBe(true);
    const auth = issued.Authentication!;
    expect(() =>
      prepareKod2Signer({
        environment: "test",
        contextIdentifier: { type: "Nip", value: NIP },
        sellerNip: NIP,
        certificate: auth.der,
        privateKey: auth.keys.privateKey,
      }),
    ).toThrow(/Offline/);
  });

  it("renews unattended: the issued Authentication certificate logs in by itself; our signer refuses the Offline one", async () => {
    const auth = issued.Authentication!;
    const renewed = await logIn(client, { keys: auth.keys, certificate: auth.der });
    const data = await client.enrollmentData(renewed);
    expect(data.commonName).toBe("Anna Żółkiewska"); // the " (uwierzytelnienie)" suffix is not part of the enrollment data
    const newKeys = await generateKeyPair("EC-P256");
    const { referenceNumber } = await client.enrollCertificate(renewed, {
      certificateName: "Następca Authentication",
      certificateType: "Authentication",
      csr: Buffer.from(await createCsr(data, newKeys)).toString("base64"),
    });
    expect((await client.waitForEnrollment(renewed, referenceNumber, { intervalMs: 100 })).status.code).toBe(200);
    // An Offline certificate cannot authenticate (KSeF answers 21115; the simulator's own suite shows that with an xmlsec1
    // signature): our signer refuses before anything is sent.
    const offline = issued.Offline!;
    const refused = await logIn(client, { keys: offline.keys, certificate: offline.der }).catch((e: unknown) => e);
    expect(isKsefCertsError(refused, "VALIDATION")).toBe(true);
    expect((refused as Error).message).toMatch(/Offline/);
  });

  it("revokes the Offline certificate; KSeF then lists it as Revoked and refuses a second revocation with 25009", async () => {
    const offline = issued.Offline!;
    await client.revokeCertificate(session, offline.serial, { revocationReason: "Superseded" });
    const page = await client.queryCertificates(session, { certificateSerialNumber: offline.serial });
    expect(page.certificates[0]?.status).toBe("Revoked");
    const again = await client.revokeCertificate(session, offline.serial, { revocationReason: "Superseded" }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(KsefApiError);
    expect((again as KsefApiError).ksefCodes).toContain(25009);
  });

  it("sent only requests the OpenAPI document allows and got only responses it describes", () => {
    expect(sim.state.openApiViolations.request).toEqual([]);
    expect(sim.state.openApiViolations.response).toEqual([]);
  });
});
