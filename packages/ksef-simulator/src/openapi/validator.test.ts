import { describe, expect, it } from "vitest";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultSpecPath, loadOpenApiDocument, openApiValidator } from "./validator.js";

const v = openApiValidator();

describe("OpenAPI validator over spec/open-api.json", () => {
  it("finds the repository's spec and reads its version", () => {
    expect(defaultSpecPath()).toMatch(/spec[\\/]open-api\.json$/);
    expect(v.document.openapi).toBe("3.0.4");
    expect(v.operations().length).toBeGreaterThan(50);
    expect(v.operation("POST", "/auth/challenge")?.["x-rate-limits"]).toEqual({ perSecond: 60 });
  });

  it("accepts a valid enrollment request, including Polish letters in the name and a null validFrom", () => {
    expect(
      v.validateRequest("POST", "/certificates/enrollments", {
        body: { certificateName: "Kasa źółć 1", certificateType: "Offline", csr: "MIIB", validFrom: null },
      }),
    ).toEqual([]);
  });

  it("lists every violation of an invalid enrollment request (pattern, length, enum, byte format, required)", () => {
    const problems = v.validateRequest("POST", "/certificates/enrollments", { body: { certificateName: "A!", certificateType: "Seal", csr: "not base64!" } });
    const paths = problems.map((p) => p.path);
    expect(paths).toContain("/certificateName");
    expect(paths).toContain("/certificateType");
    expect(paths).toContain("/csr");
    expect(
      v
        .validateRequest("POST", "/certificates/enrollments", { body: {} })
        .map((p) => p.message)
        .join(" "),
    ).toMatch(/certificateName/);
    expect(v.validateRequest("POST", "/certificates/enrollments", {})).toEqual([{ path: "", message: "a request body is required" }]);
  });

  it("checks int32 ranges and date-time formats", () => {
    expect(
      v.validateRequest("POST", "/testdata/limits/subject/certificate", { body: { subjectIdentifierType: "Nip", certificate: { maxCertificates: 2 ** 31 } } }),
    ).not.toEqual([]);
    expect(v.validateRequest("POST", "/certificates/query", { body: { expiresAfter: "yesterday" } })).not.toEqual([]);
    expect(v.validateRequest("POST", "/certificates/query", { body: { expiresAfter: "2026-01-01T00:00:00Z", status: null } })).toEqual([]);
  });

  it("validates responses: documented status, media type, schema, nullable $ref properties", () => {
    const challenge = {
      challenge: "20250514-CR-226FB7B000-3ACF9BE4C0-10",
      timestamp: "2025-07-11T12:23:56.015Z",
      timestampMs: 1752236636015,
      clientIp: "127.0.0.1",
    };
    expect(v.validateResponse("POST", "/auth/challenge", 200, "application/json; charset=utf-8", challenge)).toEqual([]);
    expect(v.validateResponse("POST", "/auth/challenge", 200, "application/json", { ...challenge, timestampMs: "x" })).not.toEqual([]);
    expect(v.validateResponse("POST", "/auth/challenge", 418, "application/json", {})[0]?.message).toMatch(/418 is not documented/);
    expect(v.validateResponse("GET", "/auth/{referenceNumber}", 401, "application/json", {})[0]?.message).toMatch(/media type/);
    expect(v.validateResponse("GET", "/limits/subject", 200, "application/json", { enrollment: null, certificate: { maxCertificates: 6 } })).toEqual([]);
    expect(v.validateResponse("POST", "/certificates/{certificateSerialNumber}/revoke", 204, undefined, undefined)).toEqual([]);
    expect(v.validateResponse("POST", "/certificates/{certificateSerialNumber}/revoke", 204, "application/json", {})).not.toEqual([]);
  });

  it("reports an unknown operation instead of passing it", () => {
    expect(v.validateRequest("POST", "/nowhere", { body: {} })[0]?.message).toMatch(/not an operation/);
  });

  it("refuses a file that is not an OpenAPI document with MALFORMED, and a missing one with IO", () => {
    const dir = mkdtempSync(join(tmpdir(), "ksef-sim-"));
    const file = join(dir, "x.json");
    writeFileSync(file, JSON.stringify({ swagger: "2.0" }));
    expect(() => loadOpenApiDocument(file)).toThrow(expect.objectContaining({ code: "MALFORMED" }) as Error);
    try {
      loadOpenApiDocument(join(dir, "missing.json"));
      expect.unreachable();
    } catch (err) {
      expect(isKsefCertsError(err, "IO")).toBe(true);
    }
  });
});
