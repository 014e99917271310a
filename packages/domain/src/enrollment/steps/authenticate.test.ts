import { beforeAll, describe, expect, it, vi } from "vitest";
import { generateKeyPair } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate } from "@ksef-certs/ksef/testing";
import type { XadesSigner } from "@ksef-certs/ksef/xades";
import { FAKE_ENROLLMENT_DATA, FakeKsef } from "../__fixtures__/fake-ksef.js";
import type { EnrollmentHandoff } from "../model.js";
import { enrollmentRow, fakeStepDeps, runContext } from "./__fixtures__/step-deps.js";
import { authenticate } from "./authenticate.js";
import { Stop } from "./common.js";

const AT = new Date("2026-03-01T12:00:00Z");
const SIGNING_CERTIFICATE_ID = "2d9f6b0e-7c1a-4f3b-9e8d-1a2b3c4d5e6f";
const WORKSTATION_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

let signer: XadesSigner;

beforeAll(async () => {
  const keys = await generateKeyPair("EC-P256");
  const cert = await issueKsefLikeCertificate({
    certificateType: "Authentication",
    keys,
    enrollmentData: FAKE_ENROLLMENT_DATA,
    validFrom: new Date(AT.getTime() - 86_400_000),
  });
  signer = { privateKey: keys.privateKey, certificate: cert.der };
});

function keyedRow(over: Parameters<typeof enrollmentRow>[0]): ReturnType<typeof enrollmentRow> {
  return enrollmentRow({ state: "key_generated", keyFile: new TextEncoder().encode("encrypted key"), publicKeySpki: new Uint8Array([1, 2, 3]), ...over }, AT);
}

/** A hand-off whose person signs at once (the published XML with a signature marker), or never (`sign: false`); `port` is what the step gets. */
function handoff(sign: boolean) {
  const publish = vi.fn((_req: Parameters<EnrollmentHandoff["publish"]>[0]) => Promise.resolve({ file: "outbox/auth.xml" }));
  const signed = vi.fn((req: Parameters<EnrollmentHandoff["signed"]>[0]) => {
    if (sign) return Promise.resolve(new TextEncoder().encode(`${new TextDecoder().decode(req.xml)}<!-- Signature -->`));
    return new Promise<Uint8Array>((_resolve, reject) => {
      req.signal.addEventListener("abort", () => {
        reject(new Error("aborted"));
      });
    });
  });
  const port: EnrollmentHandoff = { publish, signed };
  return { port, publish, signed };
}

describe("the authenticate step", () => {
  it("authMethod certificate signs the challenge with the held certificate, never touching the hand-off", async () => {
    const fake = new FakeKsef(() => AT);
    const signerFor = vi.fn(() => Promise.resolve(signer));
    const h = handoff(true);
    const { d, saved } = fakeStepDeps(fake, { signerFor, handoff: h.port });
    const ctx = runContext();
    const next = await authenticate(d, keyedRow({ authMethod: "certificate", signingCertificateId: SIGNING_CERTIFICATE_ID }), ctx);
    expect(signerFor).toHaveBeenCalledWith(SIGNING_CERTIFICATE_ID);
    expect(h.publish).not.toHaveBeenCalled();
    expect(h.signed).not.toHaveBeenCalled();
    expect(saved.map((s) => s.to)).toEqual(["authenticating", "authenticating", "authenticated"]);
    expect(saved[0]?.patch.challenge).toBe(fake.challenges[0]);
    expect(fake.submittedXml).toHaveLength(1);
    expect(new TextDecoder().decode(fake.submittedXml[0])).toContain(`<Challenge>${fake.challenges[0]}</Challenge>`);
    expect(next.state).toBe("authenticated");
    expect(ctx.session).toBeDefined();
  });

  it("authMethod handoff publishes auth.xml and sends the person's signed bytes exactly as received, never using the signer", async () => {
    const fake = new FakeKsef(() => AT);
    const signerFor = vi.fn(() => Promise.resolve(signer));
    const h = handoff(true);
    const { d, saved } = fakeStepDeps(fake, { signerFor, handoff: h.port });
    const next = await authenticate(d, keyedRow({ authMethod: "handoff", workstationId: WORKSTATION_ID }), runContext());
    expect(signerFor).not.toHaveBeenCalled();
    expect(h.publish).toHaveBeenCalledTimes(1);
    expect(h.publish.mock.calls[0]?.[0]).toMatchObject({ workstationId: WORKSTATION_ID, challenge: fake.challenges[0] });
    const signedBytes: unknown = await h.signed.mock.results[0]?.value;
    expect(fake.submittedXml).toEqual([signedBytes]);
    expect(saved.map((s) => s.to)).toEqual(["awaiting_signature", "awaiting_signature", "awaiting_signature", "authenticated"]);
    expect(saved[1]?.patch).toEqual({ handoffFile: "outbox/auth.xml" });
    expect(next.state).toBe("authenticated");
  });

  it("a hand-off nobody signs is renewed with a new challenge up to maxChallengeRenewals, then the run waits", async () => {
    const fake = new FakeKsef(() => AT);
    const h = handoff(false);
    const { d } = fakeStepDeps(fake, { handoff: h.port, maxChallengeRenewals: 1 });
    const err: unknown = await authenticate(d, keyedRow({ authMethod: "handoff", workstationId: WORKSTATION_ID }), runContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stop);
    expect((err as Stop).outcome).toBe("waiting");
    expect((err as Stop).event.kind).toBe("handoff.abandoned");
    expect(h.publish).toHaveBeenCalledTimes(2);
    expect(fake.challenges).toHaveLength(2);
    expect(fake.submittedXml).toEqual([]);
  });

  it("after KSeF got the request (a lost session), signing in again keeps the state", async () => {
    const fake = new FakeKsef(() => AT);
    const { d, saved } = fakeStepDeps(fake, { signerFor: () => Promise.resolve(signer) });
    const row = keyedRow({ state: "submitted", authMethod: "certificate", signingCertificateId: SIGNING_CERTIFICATE_ID, ksefReferenceNumber: "REF" });
    const next = await authenticate(d, row, runContext());
    expect(saved.map((s) => s.to)).toEqual(["submitted", "submitted", "submitted"]);
    expect(next.state).toBe("submitted");
  });

  it("automatic authentication without a signer is a validation error before KSeF is asked", async () => {
    const fake = new FakeKsef(() => AT);
    const challenge = vi.spyOn(fake, "challenge");
    const { d, saved } = fakeStepDeps(fake);
    await expect(authenticate(d, keyedRow({ authMethod: "certificate", signingCertificateId: SIGNING_CERTIFICATE_ID }), runContext())).rejects.toMatchObject({
      code: "VALIDATION",
    });
    expect(challenge).not.toHaveBeenCalled();
    expect(saved).toEqual([]);
  });
});
