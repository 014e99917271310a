// `certificates.revoke` with `ksef`: revocation in the real KSeF simulator (HTTP on loopback) through the router,
// signed in with a held Authentication certificate whose password is sealed (or typed), then in the registry.
// The certificates are issued by the simulator through the core enrollment service: Jan's Authentication
// certificate through a hand-off he signs (self-signed, as Profil Zaufany would), Offline ones with it.
import { randomBytes } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnrollmentService, type EnrollmentService } from "@ksef-certs/domain/enrollment";
import { openKsefSession } from "@ksef-certs/ksef/api";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { createKsefClient, systemClock, type KsefClient } from "@ksef-certs/ksef/api";
import { addOperator } from "@ksef-certs/domain/registry";
import type { Store } from "@ksef-certs/domain/store";
import { signXml, type XadesSigner } from "@ksef-certs/ksef/xades";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { JAN_PESEL, janSigner } from "./__fixtures__/jan.js";
import { buildWorld, callerFor, clockFromT0, DB_KINDS, openTestStore, T0 } from "./__fixtures__/world.js";
import { ksefErrorData, type KsefErrorData } from "./errors.js";
import type { ServerServices } from "./services.js";
import { LOCAL_SYSTEM_PRINCIPAL } from "@ksef-certs/domain/access";
import { vaultFromMasterKey } from "@ksef-certs/domain/vault";

const KEY_PASSWORD = "Nowy-Klucz!KSeF-2026x";
const GUESSED = "3f2b8c1e-9d4a-4e6b-8f00-123456789abc";

/** The core error behind a refused call (the router keeps it as the TRPCError's cause). */
async function refusal(p: Promise<unknown>): Promise<{ trpc: string; core: KsefCertsError | undefined; data: KsefErrorData | null }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    return { trpc: err.code, core: err.cause instanceof KsefCertsError ? err.cause : undefined, data: ksefErrorData(err.cause) };
  }
  throw new Error("the call was not refused");
}

for (const kind of DB_KINDS) {
  describe(`certificates.revoke in KSeF [${kind}]`, () => {
    let sim: RunningSimulator;
    let store: Store;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    let client: KsefClient;
    let services: ServerServices;
    let enrollment: EnrollmentService;
    let jan: XadesSigner;
    let operatorId: string;
    let auth: { id: string; serialNumber: string };
    const masterKey = randomBytes(32);
    const vault = vaultFromMasterKey(masterKey);
    // One clock for the server, the enrollment service, the simulator and the KSeF client.
    const clock = clockFromT0();

    /** Enrolls a certificate for Jan in the simulator and records it (sealed password), as the server would. */
    async function enroll(certificateType: "Authentication" | "Offline", name: string): Promise<{ id: string; serialNumber: string }> {
      const e = await enrollment.request(
        {
          scope: { type: "operator", operatorId },
          environment: "test",
          certificateType,
          mode: "current",
          name,
          keyPassword: KEY_PASSWORD,
          sealPassword: true,
          ...(certificateType === "Authentication"
            ? { authMethod: "handoff" as const, workstationId: w.w1.id }
            : { authMethod: "certificate" as const, signingCertificateId: auth.id }),
        },
        { actor: "test" },
      );
      const r = await enrollment.run(e.id, { actor: "test" });
      expect(r.outcome, r.message).toBe("completed");
      return { id: r.enrollment.certificateId ?? "", serialNumber: r.enrollment.certificateSerialNumber ?? "" };
    }

    /** What KSeF lists for Jan: serial → status (signed in as Jan himself). */
    async function ksefStatuses(): Promise<Map<string, string>> {
      const session = await openKsefSession({ client, signer: jan, contextIdentifier: { type: "Nip", value: w.company.nip }, pollOptions: { intervalMs: 20 } });
      const page = await client.queryCertificates(session, {}, { pageSize: 50 });
      return new Map(page.certificates.map((c) => [c.certificateSerialNumber, c.status]));
    }

    beforeAll(async () => {
      // One simulator per database kind: each issues its own certificates within Jan's PESEL limits.
      sim = await startSimulator({ enrollmentDelayMs: 0, now: clock });
      client = createKsefClient({ baseUrl: sim.url, clock: { now: () => clock().getTime(), sleep: (ms, signal) => systemClock.sleep(ms, signal) } });
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
      operatorId = (
        await addOperator(store.db, { companyId: w.company.id, name: "Jan Kowalski", pesel: JAN_PESEL, branchIds: [w.b1.id] }, { actor: "test", at: T0 })
      ).id;
      jan = await janSigner(clock());
      enrollment = createEnrollmentService({
        db: store.db,
        now: clock,
        client: () => client,
        vault,
        pollOptions: { intervalMs: 20 },
        // Jan signs auth.xml at once, wherever the hand-off put it.
        handoff: { publish: () => Promise.resolve({ file: "auth.xml" }), signed: async (req) => signXml(req.xml, jan) },
        signerFor: (id) => vault.unlockSigner(store.db, LOCAL_SYSTEM_PRINCIPAL, id, { hint: "test" }),
      });
      auth = await enroll("Authentication", "Jan Kowalski logowanie");
      services = { clock, masterKey, vault, ksefClient: () => client };
    }, 180_000);
    afterAll(async () => {
      await store.close();
      await sim.close();
    });

    it("revokes in KSeF with the sealed password of the signing certificate, then here: KSeF lists it Revoked, the registry says revoked", async () => {
      const offline = await enroll("Offline", "Jan Kowalski offline 1");
      expect((await ksefStatuses()).get(offline.serialNumber)).toBe("Active");
      const { caller } = await callerFor(store.db, services, w.sessions.companyAdmin);
      const r = await caller.certificates.revoke({ id: offline.id, reason: "KeyCompromise", ksef: { signingCertificateId: auth.id } });
      expect(r.ksef).toBe("revoked");
      expect(r.certificate).toMatchObject({ id: offline.id, state: "revoked" });
      expect((await ksefStatuses()).get(offline.serialNumber)).toBe("Revoked");
      expect(sim.state.certificates.get(offline.serialNumber)?.revocationReason).toBe("KeyCompromise");
      const got = await caller.certificates.get({ id: offline.id });
      expect(got.certificate).toMatchObject({ state: "revoked", revocationReason: "KeyCompromise" });
      expect(got.audit.map((a) => a.action)).toContain("certificate.revoke");
      // Revoked here already: refused before KSeF is called again.
      expect((await refusal(caller.certificates.revoke({ id: offline.id, reason: "KeyCompromise", ksef: { signingCertificateId: auth.id } }))).trpc).toBe(
        "CONFLICT",
      );
    });

    it("marks a certificate KSeF had already revoked (25009) revoked here too; a typed password opens the key, a wrong one is refused", async () => {
      const offline = await enroll("Offline", "Jan Kowalski offline 2");
      const record = sim.state.certificates.get(offline.serialNumber);
      if (record === undefined) throw new Error("the simulator does not know the certificate");
      record.revokedAt = clock();
      record.revocationReason = "Unspecified";
      const { caller } = await callerFor(store.db, services, w.sessions.superAdmin);
      const wrong = await refusal(
        caller.certificates.revoke({ id: offline.id, reason: "Superseded", ksef: { signingCertificateId: auth.id, password: "Zle-haslo-123!" } }),
      );
      expect(wrong.core?.code).toBe("WRONG_PASSWORD");
      expect((await caller.certificates.get({ id: offline.id })).certificate.state).not.toBe("revoked");
      const r = await caller.certificates.revoke({ id: offline.id, reason: "Superseded", ksef: { signingCertificateId: auth.id, password: KEY_PASSWORD } });
      expect(r.ksef).toBe("already-revoked");
      expect(r.certificate.state).toBe("revoked");
      // KSeF keeps its own reason; the registry records the one given here.
      expect(sim.state.certificates.get(offline.serialNumber)?.revocationReason).toBe("Unspecified");
      expect((await caller.certificates.get({ id: offline.id })).certificate.revocationReason).toBe("Superseded");
    });

    it("refuses a signing certificate of another person (VALIDATION with violations) and a reason KSeF does not know, before calling KSeF", async () => {
      const offline = await enroll("Offline", "Jan Kowalski offline 3");
      const { caller } = await callerFor(store.db, services, w.sessions.superAdmin);
      const challenges = sim.state.counters.requests["POST /auth/challenge"] ?? 0;
      // o1's certificate: Authentication, same environment, active, but another PESEL.
      const other = await refusal(caller.certificates.revoke({ id: offline.id, reason: "Superseded", ksef: { signingCertificateId: w.certs.o1 } }));
      expect(other.trpc).toBe("BAD_REQUEST");
      expect(other.core?.code).toBe("VALIDATION");
      expect(other.core?.violations).toEqual([expect.objectContaining({ field: "ksef.signingCertificateId", rule: "signingCertificate.identity" })]);
      // The Offline certificate itself cannot sign in.
      const self = await refusal(caller.certificates.revoke({ id: offline.id, reason: "Superseded", ksef: { signingCertificateId: offline.id } }));
      expect(self.core?.violations.map((v) => v.rule)).toContain("signingCertificate.type");
      const reason = await refusal(caller.certificates.revoke({ id: offline.id, reason: "Lost it" as never }));
      expect(reason.trpc).toBe("BAD_REQUEST");
      expect(reason.data?.violations).toEqual([
        {
          field: "reason",
          rule: "input.invalid_value",
          params: { allowed: "Unspecified, Superseded, KeyCompromise" },
          message: "The reason must be one of KSeF's revocation reasons: Unspecified, Superseded, KeyCompromise.",
        },
      ]);
      expect(sim.state.counters.requests["POST /auth/challenge"] ?? 0).toBe(challenges);
      expect(sim.state.certificates.get(offline.serialNumber)?.revokedAt).toBeUndefined();
      expect((await caller.certificates.get({ id: offline.id })).certificate.state).not.toBe("revoked");
      // Only here (no ksef): KSeF is not called.
      const local = await caller.certificates.revoke({ id: offline.id, reason: "Unspecified" });
      expect(local.ksef).toBe("not-called");
      expect(sim.state.certificates.get(offline.serialNumber)?.revokedAt).toBeUndefined();
    });

    it("a branch admin cannot sign in with another branch's certificate, nor a guessed one (NOT_FOUND), nor the company's it may only read (FORBIDDEN), and nothing is revoked", async () => {
      const offline = await enroll("Offline", "Jan Kowalski offline 4");
      const { caller } = await callerFor(store.db, services, w.sessions.branchAdmin);
      for (const signingCertificateId of [w.certs.b2, w.certs.other, GUESSED]) {
        expect((await refusal(caller.certificates.revoke({ id: offline.id, reason: "Superseded", ksef: { signingCertificateId } }))).trpc).toBe("NOT_FOUND");
      }
      expect(sim.state.certificates.get(offline.serialNumber)?.revokedAt).toBeUndefined();
      // Jan's Authentication certificate held for the whole company: the branch admin may read it, not use its key.
      const admin = await callerFor(store.db, services, w.sessions.superAdmin);
      // The company's own Authentication slot is taken by the fixture's certificate: retire it here first.
      await admin.caller.certificates.revoke({ id: w.certs.company, reason: "Superseded" });
      await admin.caller.certificates.assign({ id: auth.id, scope: { companyId: w.company.id } });
      const readOnly = await refusal(caller.certificates.revoke({ id: offline.id, reason: "Superseded", ksef: { signingCertificateId: auth.id } }));
      expect(readOnly.trpc).toBe("FORBIDDEN");
      expect(readOnly.core?.violations.map((v) => v.rule)).toEqual(["signingCertificate.access"]);
      expect(sim.state.certificates.get(offline.serialNumber)?.revokedAt).toBeUndefined();
      expect((await caller.certificates.get({ id: offline.id })).certificate.state).not.toBe("revoked");
      await admin.caller.certificates.assign({ id: auth.id, scope: { companyId: w.company.id, operatorId } });
      // Its own branch's operator, with Jan's certificate: allowed.
      expect((await caller.certificates.revoke({ id: offline.id, reason: "Superseded", ksef: { signingCertificateId: auth.id } })).ksef).toBe("revoked");
      expect(sim.state.certificates.get(offline.serialNumber)?.revokedAt).toBeInstanceOf(Date);
    });
  });
}
