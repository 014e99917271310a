import { describe, expect, it } from "vitest";
import { KsefCertsError } from "../../errors.js";
import { apiErrorFromResponse, errorCodeOfHttpStatus, KsefApiError, ksefCodesOf, parseKsefProblem } from "./errors.js";

describe("parseKsefProblem", () => {
  it("reads Problem Details 400 (spec BadRequestProblemDetails example)", () => {
    const p = parseKsefProblem({
      title: "Bad Request",
      status: 400,
      instance: "/v2/certificates/enrollments",
      detail: "Żądanie jest nieprawidłowe.",
      errors: [
        { code: 21405, description: "Błąd walidacji danych wejściowych.", details: ["Wskazany kod formularza nie jest wspierany."] },
        { code: 21157, description: "Nieprawidłowy rozmiar części pakietu.", details: null },
      ],
      timestamp: "2025-07-11T12:23:56.0154302+00:00",
      traceId: "673843e023c432286660bc0501a3af44",
    });
    expect(p).toEqual({
      format: "problem-details",
      status: 400,
      title: "Bad Request",
      detail: "Żądanie jest nieprawidłowe.",
      instance: "/v2/certificates/enrollments",
      traceId: "673843e023c432286660bc0501a3af44",
      timestamp: "2025-07-11T12:23:56.0154302+00:00",
      errors: [
        { code: 21405, description: "Błąd walidacji danych wejściowych.", details: ["Wskazany kod formularza nie jest wspierany."] },
        { code: 21157, description: "Nieprawidłowy rozmiar części pakietu.", details: [] },
      ],
    });
  });

  it("reads 403 Problem Details with reasonCode and security", () => {
    const p = parseKsefProblem({ title: "Forbidden", status: 403, detail: "x", reasonCode: "ip-not-allowed", security: { clientIp: "1.2.3.4" } });
    expect(p?.reasonCode).toBe("ip-not-allowed");
    expect(p?.security).toEqual({ clientIp: "1.2.3.4" });
    expect(p?.errors).toEqual([]);
  });

  it("reads the legacy ExceptionResponse (spec example)", () => {
    const p = parseKsefProblem({
      exception: {
        exceptionDetailList: [{ exceptionCode: 12345, exceptionDescription: "Opis błędu.", details: ["Opcjonalne dodatkowe szczegóły błędu."] }],
        referenceNumber: "a1b2c3d4-e5f6-4789-ab12-cd34ef567890",
        serviceCode: "00-c02cc3747020c605be02159bf3324f0e-eee7647dc67aa74a-00",
        serviceCtx: "srvABCDA",
        serviceName: "Undefined",
        timestamp: "2025-10-11T12:23:56.0154302",
      },
    });
    expect(p).toEqual({
      format: "legacy-exception",
      errors: [{ code: 12345, description: "Opis błędu.", details: ["Opcjonalne dodatkowe szczegóły błędu."] }],
      traceId: "00-c02cc3747020c605be02159bf3324f0e-eee7647dc67aa74a-00",
      timestamp: "2025-10-11T12:23:56.0154302",
      referenceNumber: "a1b2c3d4-e5f6-4789-ab12-cd34ef567890",
    });
  });

  it("reads the legacy 429 status body", () => {
    const p = parseKsefProblem({ status: { code: 429, description: "Too Many Requests", details: ["Przekroczono limit 20 żądań na minutę."] } });
    expect(p).toEqual({ format: "legacy-status", status: 429, title: "Too Many Requests", detail: "Przekroczono limit 20 żądań na minutę.", errors: [] });
  });

  it("keeps an excerpt of anything else", () => {
    expect(parseKsefProblem("<html>Bad gateway</html>")).toEqual({ format: "unparsed", errors: [], excerpt: "<html>Bad gateway</html>" });
    expect(parseKsefProblem(undefined)).toBeUndefined();
    expect(parseKsefProblem({ foo: 1 })?.format).toBe("unparsed");
  });
});

describe("errorCodeOfHttpStatus", () => {
  it.each([
    [400, "VALIDATION"],
    [401, "FORBIDDEN"],
    [403, "FORBIDDEN"],
    [404, "NOT_FOUND"],
    [410, "NOT_FOUND"],
    [409, "CONFLICT"],
    [413, "TOO_LARGE"],
    [415, "VALIDATION"],
    [429, "IO"],
    [500, "IO"],
    [503, "IO"],
  ] as const)("%i → %s", (status, code) => {
    expect(errorCodeOfHttpStatus(status)).toBe(code);
  });
});

describe("apiErrorFromResponse", () => {
  it("quotes KSeF's code and description and lists them as violations", () => {
    const err = apiErrorFromResponse({
      operation: "POST /certificates/enrollments",
      label: "enrollment",
      httpStatus: 400,
      problem: parseKsefProblem({ title: "Bad Request", errors: [{ code: 25003, description: "Dane w CSR niezgodne.", details: ["CN"] }] }),
    });
    expect(err).toBeInstanceOf(KsefApiError);
    expect(err).toBeInstanceOf(KsefCertsError);
    expect(err.name).toBe("KsefApiError");
    expect(err.code).toBe("VALIDATION");
    expect(err.message).toBe("KSeF refused the enrollment: 25003 Dane w CSR niezgodne. (CN).");
    expect(err.ksefCodes).toEqual([25003]);
    expect(err.violations.map((v) => v.rule)).toEqual(["ksef.25003"]);
    expect(err.retryable).toBe(false);
    expect(err.toJSON().details).toMatchObject({ operation: "POST /certificates/enrollments", httpStatus: 400, ksefCodes: [25003] });
  });

  it("marks 5xx on a non-idempotent operation as outcome unknown and retryable", () => {
    const err = apiErrorFromResponse({
      operation: "POST /certificates/enrollments",
      label: "enrollment",
      httpStatus: 500,
      problem: undefined,
      outcomeUnknown: true,
    });
    expect(err.code).toBe("IO");
    expect(err.retryable).toBe(true);
    expect(err.outcomeUnknown).toBe(true);
    expect(err.message).toMatch(/may have processed it/);
  });
});

describe("ksefCodesOf", () => {
  it("finds the codes of a KsefApiError, also as a cause", () => {
    const api = apiErrorFromResponse({
      operation: "x",
      label: "x",
      httpStatus: 400,
      problem: parseKsefProblem({ errors: [{ code: 21111, description: "d" }] }),
    });
    expect(ksefCodesOf(api)).toEqual([21111]);
    expect(ksefCodesOf(new KsefCertsError("IO", "wrapped", { cause: api }))).toEqual([21111]);
    expect(ksefCodesOf(new Error("plain"))).toEqual([]);
    expect(ksefCodesOf("nope")).toEqual([]);
  });
});
