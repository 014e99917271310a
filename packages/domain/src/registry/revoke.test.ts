// revokeCertificate: what is checked before KSeF is called, how KSeF's answers decide what happens here.
// The KSeF side is a recording stub of the client operations (real sign-in and revocation against the
// simulator run in apps/admin: src/cli/enroll.test.ts and src/server/revoke.test.ts).
import { expect, it } from "vitest";
import { rejection } from "@ksef-certs/ksef/testing";
import { KsefApiError } from "@ksef-certs/ksef/api";
import { systemClock } from "@ksef-certs/ksef/api";
import { KsefSession } from "@ksef-certs/ksef/api";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import { readPrivateKey } from "@ksef-certs/ksef/crypto";
import { getCertificate, recordCertificate, type Scope } from "./certificates.js";
import { addCompany, addOperator } from "./organisation.js";
import { revokeCertificate, type RevokeKsefClient } from "./revoke.js";
import { DAY, PERSON, testCertificate, testKey } from "./__fixtures__/certs.js";

const AT = new Date("2026-11-30T10:00:00Z");
const META = { actor: "test", at: AT };

const TOKEN = { token: "access", validUntil: "2099-01-01T00:00:00Z" };
const SESSION = new KsefSession({ accessToken: TOKEN, refreshToken: TOKEN }, () => Promise.reject(new Error("no refresh in this stub")), systemClock);

/** A stub KSeF: records calls; `revoke` decides the answer of the revocation. */
function stubKsef(revoke: () => Promise<void>) {
  const calls: string[] = [];
  const client: RevokeKsefClient = {
    challenge: () => (
      calls.push("challenge"),
      Promise.resolve({ challenge: "20261130-CR-0000000000-0000000000-00", timestamp: AT.toISOString(), timestampMs: AT.getTime(), clientIp: "127.0.0.1" })
    ),
    submitXadesSignature: () => (
      calls.push("submit"),
      Promise.resolve({ referenceNumber: "20261130-AU-0000000000-0000000000-00", authenticationToken: { token: "t", validUntil: AT.toISOString() } })
    ),
    waitForAuthentication: () => (calls.push("wait"), Promise.resolve({} as never)),
    openSession: () => (calls.push("session"), Promise.resolve(SESSION)),
    revokeCertificate: (_session, serial, options) => (calls.push(`revoke ${serial} ${options?.revocationReason ?? ""}`), revoke()),
  };
  return { client, calls };
}

describeEachDb("registry: revokeCertificate", (ctx) => {
  async function world() {
    const db = ctx().db;
    const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, META);
    const jan = await addOperator(db, { companyId: company.id, name: "Jan Kowalski", pesel: "44051401359" }, META);
    const key = await testKey();
    const record = async (type: "Authentication" | "Offline", data = PERSON, scope: Scope = { type: "operator", operatorId: jan.id }) =>
      (
        await recordCertificate(
          db,
          {
            scope,
            environment: "test",
            mode: "current",
            name: type,
            certificateDer: await testCertificate(key, type, new Date(AT.getTime() - DAY), 365, data),
            keyFile: key.keyFile,
            source: "imported",
          },
          META,
        )
      ).id;
    const signer = async () => ({
      privateKey: (await readPrivateKey(key.keyFile, { password: key.password })).key,
      certificate: (await getCertificate(db, auth, AT)).certificateDer,
    });
    const auth = await record("Authentication");
    const offline = await record("Offline");
    return { db, auth, offline, signer, record, companyId: company.id };
  }

  it("revokes in KSeF (signed in with the Authentication certificate, context NIP), then here; KSeF's 25009 still marks it revoked", async () => {
    const { db, auth, offline, signer, record } = await world();
    const ok = stubKsef(() => Promise.resolve());
    const progress: string[] = [];
    const r = await revokeCertificate({
      db,
      certificateId: offline,
      reason: "KeyCompromise",
      actor: "test",
      at: AT,
      onProgress: (m) => progress.push(m),
      ksef: { client: () => ok.client, signingCertificateId: auth, signer },
    });
    expect(r.ksef).toBe("revoked");
    expect(r.certificate).toMatchObject({ state: "revoked", revocationReason: "KeyCompromise" });
    expect(ok.calls).toEqual(["challenge", "submit", "wait", "session", `revoke ${r.certificate.serialNumber} KeyCompromise`]);
    expect(progress.join("\n")).toContain("context NIP 5265877635");

    const already = stubKsef(() =>
      Promise.reject(
        new KsefApiError("VALIDATION", "already revoked", {
          operation: "POST /certificates/{certificateSerialNumber}/revoke",
          httpStatus: 400,
          retryable: false,
          problem: { format: "problem-details", errors: [{ code: 25009, description: "odwołany", details: [] }] },
        }),
      ),
    );
    const third = await record("Offline");
    const r2 = await revokeCertificate({
      db,
      certificateId: third,
      reason: "Superseded",
      actor: "test",
      at: AT,
      ksef: { client: () => already.client, signingCertificateId: auth, signer },
    });
    expect(r2.ksef).toBe("already-revoked");
    expect(r2.certificate.state).toBe("revoked");
  });

  it("checks the reason and the signing certificate before any KSeF call; another refusal of KSeF changes nothing here", async () => {
    const { db, auth, offline, signer, record, companyId } = await world();
    const never = stubKsef(() => Promise.resolve());
    const reason = await rejection(revokeCertificate({ db, certificateId: offline, reason: "Lost" as never, actor: "test", at: AT }));
    expect(reason.violations).toEqual([expect.objectContaining({ field: "reason", rule: "reason.oneOf" })]);
    const seal = await record(
      "Authentication",
      { commonName: "Firma", countryName: "PL", organizationName: "Firma", organizationIdentifier: "VATPL-5265877635" },
      { type: "company", companyId },
    );
    const wrong = await rejection(
      revokeCertificate({
        db,
        certificateId: offline,
        reason: "Superseded",
        actor: "test",
        at: AT,
        ksef: { client: () => never.client, signingCertificateId: seal, signingField: "--with-certificate", signer },
      }),
    );
    expect(wrong.code).toBe("VALIDATION");
    expect(wrong.violations).toEqual([{ field: "--with-certificate", rule: "signingCertificate.identity", message: expect.any(String) as string }]);
    const offlineSigner = await rejection(
      revokeCertificate({
        db,
        certificateId: offline,
        reason: "Superseded",
        actor: "test",
        at: AT,
        ksef: { client: () => never.client, signingCertificateId: offline, signer },
      }),
    );
    expect(offlineSigner.violations.map((v) => v.rule)).toEqual(["signingCertificate.type"]);
    expect(never.calls).toEqual([]);

    const refused = stubKsef(() =>
      Promise.reject(
        new KsefApiError("VALIDATION", "not found", {
          operation: "POST /certificates/{certificateSerialNumber}/revoke",
          httpStatus: 400,
          retryable: false,
          problem: { format: "problem-details", errors: [{ code: 25008, description: "nie istnieje", details: [] }] },
        }),
      ),
    );
    const e = await rejection(
      revokeCertificate({
        db,
        certificateId: offline,
        reason: "Superseded",
        actor: "test",
        at: AT,
        ksef: { client: () => refused.client, signingCertificateId: auth, signer },
      }),
    );
    expect(e).toBeInstanceOf(KsefApiError);
    expect((await getCertificate(db, offline, AT)).state).toBe("active");
    // Only here: no client needed; then a KSeF revocation is refused as already revoked here, before KSeF.
    expect((await revokeCertificate({ db, certificateId: offline, reason: "Unspecified", actor: "test", at: AT })).ksef).toBe("not-called");
    expect(
      (
        await rejection(
          revokeCertificate({
            db,
            certificateId: offline,
            reason: "Unspecified",
            actor: "test",
            at: AT,
            ksef: { client: () => never.client, signingCertificateId: auth, signer },
          }),
        )
      ).code,
    ).toBe("CONFLICT");
    expect(never.calls).toEqual([]);
  });
});
