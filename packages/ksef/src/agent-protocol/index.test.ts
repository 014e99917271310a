import { describe, expect, it } from "vitest";
import { CONTEXT_IDENTIFIER_TYPES } from "../vocabulary.js";
import {
  DEFAULT_WAIT_MS,
  MAX_FAILURE_REASON_LENGTH,
  MAX_WAIT_MS,
  SIGNING_REQUEST_STATUSES,
  agentErrorBodySchema,
  contentSha256Schema,
  failedAnswerSchema,
  failedReportSchema,
  pairAnswerSchema,
  pairRequestSchema,
  requestsAnswerSchema,
  requestsQuerySchema,
  signedUploadAnswerSchema,
  signingRequestSchema,
  workstationSchema,
  type SigningRequestInput,
} from "./index.js";

const request: SigningRequestInput = {
  id: "0b7c1f5e-3d2a-4c1b-9e8f-7a6b5c4d3e2f",
  enrollmentId: null,
  challenge: "20261130-CR-0123456789-ABCDEF0123-45",
  contextIdentifier: { type: "Nip", value: "5265877635" },
  fileName: "5265877635_20261130-CR-0123456789-ABCDEF0123-45.xml",
  xmlBase64: Buffer.from("<AuthTokenRequest/>").toString("base64"),
  expiresAt: "2026-11-30T12:00:00.000Z",
  status: "pending",
};

const workstation = {
  id: "ws-1",
  name: "kasa-1",
  branchId: "b-1",
  branchCode: "WAW",
  companyNip: "5265877635",
  companyName: "Hurtownia Testowa",
  outboxDir: "/srv/kasa1/out",
  inboxDir: "/srv/kasa1/in",
};

describe("agent protocol limits", () => {
  it("caps the long poll at 30 s and waits 25 s by default", () => {
    expect(MAX_WAIT_MS).toBe(30_000);
    expect(DEFAULT_WAIT_MS).toBe(25_000);
    expect(DEFAULT_WAIT_MS).toBeLessThanOrEqual(MAX_WAIT_MS);
  });
});

describe("requestsQuerySchema", () => {
  it("defaults waitMs, reads it as a number of ms and accepts the bounds", () => {
    expect(requestsQuerySchema.parse({})).toEqual({ waitMs: DEFAULT_WAIT_MS });
    expect(requestsQuerySchema.parse({ waitMs: "0", after: "1764500000000" })).toEqual({ waitMs: 0, after: "1764500000000" });
    expect(requestsQuerySchema.parse({ waitMs: String(MAX_WAIT_MS) }).waitMs).toBe(MAX_WAIT_MS);
  });

  it.each(["30001", "1000000", "-1", "", "abc", "1.5", "1e3", " 10", "0x10"])("rejects waitMs=%j", (waitMs) => {
    expect(requestsQuerySchema.safeParse({ waitMs }).success).toBe(false);
  });
});

describe("pairRequestSchema and failedReportSchema", () => {
  it("accept the bodies the agent sends", () => {
    expect(pairRequestSchema.parse({ code: "ABCD-EFGH", label: "kasa-1.local ksef-signer/0.1.0" })).toEqual({
      code: "ABCD-EFGH",
      label: "kasa-1.local ksef-signer/0.1.0",
    });
    expect(failedReportSchema.parse({ reason: "x".repeat(MAX_FAILURE_REASON_LENGTH) }).reason).toHaveLength(MAX_FAILURE_REASON_LENGTH);
  });

  it("reject empty and oversize fields", () => {
    expect(pairRequestSchema.safeParse({ code: "", label: "x" }).success).toBe(false);
    expect(pairRequestSchema.safeParse({ code: "x".repeat(65), label: "x" }).success).toBe(false);
    expect(pairRequestSchema.safeParse({ code: "x", label: "x".repeat(201) }).success).toBe(false);
    expect(pairRequestSchema.safeParse({ code: "x" }).success).toBe(false);
    expect(failedReportSchema.safeParse({ reason: "" }).success).toBe(false);
    expect(failedReportSchema.safeParse({ reason: "x".repeat(MAX_FAILURE_REASON_LENGTH + 1) }).success).toBe(false);
    expect(failedReportSchema.safeParse({}).success).toBe(false);
  });
});

describe("signingRequestSchema", () => {
  it("accepts a request as delivered, with replacedBy and failureReason when present", () => {
    expect(signingRequestSchema.parse(request)).toEqual(request);
    const replaced = { ...request, status: "expired", replacedBy: "1b7c1f5e-3d2a-4c1b-9e8f-7a6b5c4d3e2f" };
    expect(signingRequestSchema.parse(replaced)).toEqual(replaced);
    const failed = { ...request, status: "failed", failureReason: "Operator closed the signing page" };
    expect(signingRequestSchema.parse(failed)).toEqual(failed);
  });

  it("takes its context identifier types from the vocabulary and knows every status", () => {
    for (const type of CONTEXT_IDENTIFIER_TYPES) {
      expect(signingRequestSchema.safeParse({ ...request, contextIdentifier: { type, value: "x" } }).success).toBe(true);
    }
    for (const status of SIGNING_REQUEST_STATUSES) expect(signingRequestSchema.safeParse({ ...request, status }).success).toBe(true);
    expect(SIGNING_REQUEST_STATUSES).toEqual(["pending", "signed", "submitted", "expired", "cancelled", "failed"]);
  });

  it.each([
    ["an unknown status", { status: "archived" }],
    ["an unknown context type", { contextIdentifier: { type: "Pesel", value: "x" } }],
    ["an empty id", { id: "" }],
    ["an oversize id", { id: "x".repeat(65) }],
    ["an oversize enrollment id", { enrollmentId: "x".repeat(65) }],
    ["an oversize challenge", { challenge: "x".repeat(65) }],
    ["an oversize context value", { contextIdentifier: { type: "Nip", value: "1".repeat(65) } }],
    ["an oversize file name", { fileName: "x".repeat(201) }],
    ["an oversize auth.xml", { xmlBase64: "A".repeat(2_000_001) }],
    ["an oversize expiresAt", { expiresAt: "x".repeat(41) }],
    ["an oversize replacedBy", { replacedBy: "x".repeat(65) }],
    ["an oversize failure reason", { failureReason: "x".repeat(MAX_FAILURE_REASON_LENGTH + 1) }],
    ["a missing challenge", { challenge: undefined }],
  ])("rejects %s", (_, change) => {
    expect(signingRequestSchema.safeParse({ ...request, ...change }).success).toBe(false);
  });
});

describe("requestsAnswerSchema", () => {
  it("accepts a page with its cursor, and without one", () => {
    expect(requestsAnswerSchema.parse({ requests: [request], cursor: "1764500000000" }).requests).toHaveLength(1);
    expect(requestsAnswerSchema.parse({ requests: [] }).cursor).toBeUndefined();
  });

  it("rejects more than 1000 requests, an oversize cursor and a bad request inside", () => {
    expect(requestsAnswerSchema.safeParse({ requests: Array.from({ length: 1001 }, () => request), cursor: "1" }).success).toBe(false);
    expect(requestsAnswerSchema.safeParse({ requests: [], cursor: "1".repeat(201) }).success).toBe(false);
    expect(requestsAnswerSchema.safeParse({ requests: [{ ...request, status: "unknown" }], cursor: "1" }).success).toBe(false);
  });
});

describe("workstationSchema and pairAnswerSchema", () => {
  it("accept the server's workstation and pairing answer; server.version is optional, extra keys kept", () => {
    expect(workstationSchema.parse(workstation)).toEqual(workstation);
    expect(workstationSchema.parse({ id: "ws-1", name: "kasa-1", outboxDir: null })).toEqual({ id: "ws-1", name: "kasa-1", outboxDir: null });
    const answer = { token: `ksw_${"a".repeat(43)}`, workstation, server: { version: "1.2.3" } };
    expect(pairAnswerSchema.parse(answer)).toEqual(answer);
    expect(pairAnswerSchema.parse({ ...answer, server: { build: "x" } }).server).toEqual({ build: "x" });
  });

  it("reject oversize fields and short or long tokens", () => {
    expect(workstationSchema.safeParse({ ...workstation, id: "" }).success).toBe(false);
    expect(workstationSchema.safeParse({ ...workstation, name: "x".repeat(201) }).success).toBe(false);
    expect(workstationSchema.safeParse({ ...workstation, companyName: "x".repeat(301) }).success).toBe(false);
    expect(workstationSchema.safeParse({ ...workstation, inboxDir: "x".repeat(4097) }).success).toBe(false);
    const answer = { token: `ksw_${"a".repeat(43)}`, workstation, server: { version: "1.2.3" } };
    expect(pairAnswerSchema.safeParse({ ...answer, token: "short" }).success).toBe(false);
    expect(pairAnswerSchema.safeParse({ ...answer, token: "x".repeat(513) }).success).toBe(false);
    expect(pairAnswerSchema.safeParse({ ...answer, server: { version: "x".repeat(101) } }).success).toBe(false);
    expect(pairAnswerSchema.safeParse({ ...answer, workstation: { ...workstation, id: "" } }).success).toBe(false);
  });
});

describe("signedUploadAnswerSchema and failedAnswerSchema", () => {
  it("accept signed (with the signer), duplicate and a failed status", () => {
    expect(signedUploadAnswerSchema.parse({ status: "signed", signer: { identity: { type: "Nip", value: "5265877635" } } }).status).toBe("signed");
    expect(signedUploadAnswerSchema.parse({ status: "duplicate" })).toEqual({ status: "duplicate" });
    expect(failedAnswerSchema.parse({ status: "failed" })).toEqual({ status: "failed" });
  });

  it("reject any other status", () => {
    expect(signedUploadAnswerSchema.safeParse({ status: "pending" }).success).toBe(false);
    expect(failedAnswerSchema.safeParse({ status: "gone" }).success).toBe(false);
  });
});

describe("contentSha256Schema", () => {
  it("accepts 64 hexadecimal digits in either case only", () => {
    expect(contentSha256Schema.safeParse("a".repeat(64)).success).toBe(true);
    expect(contentSha256Schema.safeParse("A".repeat(64)).success).toBe(true);
    expect(contentSha256Schema.safeParse("a".repeat(63)).success).toBe(false);
    expect(contentSha256Schema.safeParse("g".repeat(64)).success).toBe(false);
  });
});

describe("agentErrorBodySchema", () => {
  it("reads the server's error bodies, keeping replacedBy and unknown keys", () => {
    const body = {
      error: {
        code: "VALIDATION",
        message: "waitMs must be between 0 and 30000 ms.",
        violations: [{ field: "waitMs", rule: "agent.waitMs.range", message: "Between 0 and 30000 ms.", params: { min: 0, max: 30_000 } }],
      },
    };
    expect(agentErrorBodySchema.parse(body)).toEqual(body);
    const expired = { error: { code: "CONFLICT", message: "The challenge expired.", reason: "challenge-expired" }, replacedBy: "r-2", traceId: "t" };
    expect(agentErrorBodySchema.parse(expired)).toEqual(expired);
  });

  it("rejects a body without code or message, and oversize catalogue ids or parameters", () => {
    expect(agentErrorBodySchema.safeParse({ error: { message: "x" } }).success).toBe(false);
    expect(agentErrorBodySchema.safeParse({ error: { code: "IO" } }).success).toBe(false);
    expect(agentErrorBodySchema.safeParse({ error: { code: "IO", message: "x", messageId: "x".repeat(201) } }).success).toBe(false);
    expect(agentErrorBodySchema.safeParse({ error: { code: "IO", message: "x", params: { p: "x".repeat(2001) } } }).success).toBe(false);
    expect(agentErrorBodySchema.safeParse({ error: { code: "IO", message: "x", hintParams: { ["k".repeat(101)]: 1 } } }).success).toBe(false);
    expect(agentErrorBodySchema.safeParse({ error: { code: "IO", message: "x", violations: [{ field: "f" }] } }).success).toBe(false);
  });
});
