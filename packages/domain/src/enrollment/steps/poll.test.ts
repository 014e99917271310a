import { describe, expect, it, vi } from "vitest";
import { generateKeyPair } from "@ksef-certs/ksef/crypto";
import { KsefStatusError } from "@ksef-certs/ksef/api";
import { statusError } from "../__fixtures__/fake-ksef.js";
import { enrollmentRow, fakeStepDeps, runContext } from "./__fixtures__/step-deps.js";
import { download } from "./download.js";
import { stepFor } from "./index.js";
import { awaitIssuance } from "./poll.js";

const AT = new Date("2026-03-01T12:00:00Z");
const REF = "20260301-EH-1111111111-2222222222-33";
const SESSION = { fake: "session" };
/** KSeF's final status of an issued enrollment (`GET /certificates/enrollments/{referenceNumber}`, `spec/open-api.json`). */
const ISSUED = { requestDate: AT.toISOString(), status: { code: 200, description: "Wydano certyfikat" }, certificateSerialNumber: "01ABCDEF" };

function submittedRow(): ReturnType<typeof enrollmentRow> {
  return enrollmentRow(
    {
      state: "submitted",
      keyFile: new TextEncoder().encode("encrypted key"),
      publicKeySpki: new Uint8Array([1, 2, 3]),
      csrDer: new Uint8Array([4, 5, 6]),
      submittedAt: AT,
      ksefReferenceNumber: REF,
    },
    AT,
  );
}

describe("the poll step", () => {
  it("stores the serial KSeF issued and stays submitted, downloading nothing yet", async () => {
    const waitForEnrollment = vi.fn(() => Promise.resolve(ISSUED));
    const retrieveCertificates = vi.fn();
    const { d, saved } = fakeStepDeps({ waitForEnrollment, retrieveCertificates });
    const next = await awaitIssuance(d, submittedRow(), runContext(SESSION));
    expect(waitForEnrollment).toHaveBeenCalledWith(SESSION, REF, expect.anything());
    expect(saved.map((s) => [s.to, s.patch])).toEqual([["submitted", { certificateSerialNumber: "01ABCDEF" }]]);
    expect(saved[0]?.report.event.kind).toBe("certificate.issued");
    expect(next.certificateSerialNumber).toBe("01ABCDEF");
    expect(retrieveCertificates).not.toHaveBeenCalled();
    expect(stepFor(next)).toBe(download);
  });

  it("KSeF cancelling the enrollment (550) discards the key and goes back to requested", async () => {
    const { d, saved } = fakeStepDeps({ waitForEnrollment: () => Promise.reject(statusError(550, REF)) });
    const ctx = runContext(SESSION);
    ctx.privateKey = (await generateKeyPair("EC-P256")).privateKey;
    const next = await awaitIssuance(d, submittedRow(), ctx);
    expect(saved).toHaveLength(1);
    expect(saved[0]?.to).toBe("requested");
    expect(saved[0]?.action).toBe("enrollment.key_discarded");
    expect(saved[0]?.patch).toEqual({ keyFile: null, publicKeySpki: null, csrDer: null, submittedAt: null, ksefReferenceNumber: null });
    expect(ctx.privateKey).toBeUndefined();
    expect(next.state).toBe("requested");
  });

  it("any other KSeF status (a rejection) is thrown unchanged for the driver to fail the enrollment, with nothing saved", async () => {
    const rejected = statusError(400, REF);
    const { d, saved } = fakeStepDeps({ waitForEnrollment: () => Promise.reject(rejected) });
    const err: unknown = await awaitIssuance(d, submittedRow(), runContext(SESSION)).catch((e: unknown) => e);
    expect(err).toBe(rejected);
    expect(err).toBeInstanceOf(KsefStatusError);
    expect(saved).toEqual([]);
  });

  it("a submitted row without a reference number is an internal error", async () => {
    const waitForEnrollment = vi.fn(() => Promise.resolve(ISSUED));
    const { d } = fakeStepDeps({ waitForEnrollment });
    await expect(awaitIssuance(d, { ...submittedRow(), ksefReferenceNumber: null }, runContext(SESSION))).rejects.toMatchObject({ code: "INTERNAL" });
    expect(waitForEnrollment).not.toHaveBeenCalled();
  });

  it("the driver polls a submitted row until it has a serial, then downloads", () => {
    expect(stepFor(submittedRow())).toBe(awaitIssuance);
    expect(stepFor({ ...submittedRow(), certificateSerialNumber: "01ABCDEF" })).toBe(download);
  });
});
