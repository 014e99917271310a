import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KSEF_ENVIRONMENTS, type KsefEnvironment } from "./environments.js";
import { issuerEnvironmentViolation, ksefIssuerOf, type IssuedCertificate } from "./issuers.js";

const CN = "2.5.4.3";
/** A certificate issued by a CA with these issuer attributes (C and O as KSeF's CAs write them). */
const issuedBy = (...commonNames: string[]): IssuedCertificate => ({
  issuer: [{ oid: "2.5.4.6", value: "PL" }, { oid: "2.5.4.10", value: "Ministerstwo Finansów" }, ...commonNames.map((value) => ({ oid: CN, value }))],
  issuerText: `C=PL, O=Ministerstwo Finansów${commonNames.map((c) => `, CN=${c}`).join("")}`,
});

describe("ksefIssuerOf", () => {
  it("knows KSeF's production CA and its test CAs by name, and nothing else", () => {
    expect(ksefIssuerOf(issuedBy("CCK KSeF"))).toEqual({ commonName: "CCK KSeF", environments: ["production"], belongsTo: "production" });
    expect(ksefIssuerOf(issuedBy("TEST CCK KSeF"))).toEqual({ commonName: "TEST CCK KSeF", environments: ["test", "demo"], belongsTo: "test" });
    expect(ksefIssuerOf(issuedBy("TI CCK KSeF"))?.belongsTo).toBe("test");
    for (const other of ["CCK MF ROOT", "XCCK KSeF", "CCK KSeF 2", "cck ksef", "Nasze Testowe CA", ""]) expect(ksefIssuerOf(issuedBy(other))).toBeUndefined();
    expect(ksefIssuerOf(issuedBy())).toBeUndefined();
    // The most specific (last) commonName decides.
    expect(ksefIssuerOf(issuedBy("CCK KSeF", "TEST CCK KSeF"))?.belongsTo).toBe("test");
    // An O or OU named like the CA does not make it one.
    expect(ksefIssuerOf({ issuer: [{ oid: "2.5.4.10", value: "CCK KSeF" }], issuerText: "O=CCK KSeF" })).toBeUndefined();
  });

  it("any prefix before 'CCK KSeF' is a test CA, never production (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((p) => p.trim().length > 0),
        (prefix) => {
          const found = ksefIssuerOf(issuedBy(`${prefix.trim()} CCK KSeF`));
          expect(found?.environments).toEqual(["test", "demo"]);
        },
      ),
    );
  });
});

describe("issuerEnvironmentViolation", () => {
  const cases: [string, KsefEnvironment, string | undefined][] = [
    ["CCK KSeF", "production", undefined],
    ["CCK KSeF", "test", "certificate.environment"],
    ["CCK KSeF", "demo", "certificate.environment"],
    ["TEST CCK KSeF", "production", "certificate.environment"],
    ["TEST CCK KSeF", "test", undefined],
    ["TEST CCK KSeF", "demo", undefined],
    ["Nasze Testowe CA", "production", "certificate.issuer"],
    ["Nasze Testowe CA", "test", undefined],
    ["Nasze Testowe CA", "demo", undefined],
  ];
  it.each(cases)("%s as %s → %s", (issuer, environment, rule) => {
    expect(issuerEnvironmentViolation(issuedBy(issuer), environment)?.rule).toBe(rule);
  });

  it("names the environment the certificate belongs to; an unknown issuer passes for production only when allowed", () => {
    expect(issuerEnvironmentViolation(issuedBy("TEST CCK KSeF"), "production")?.message).toBe(
      "This certificate was issued by KSeF's test environment (TEST CCK KSeF), which also signs demo certificates; import it as test or demo.",
    );
    expect(issuerEnvironmentViolation(issuedBy("CCK KSeF"), "demo")?.message).toBe(
      "This certificate was issued by KSeF's production environment (CCK KSeF); import it as production.",
    );
    expect(issuerEnvironmentViolation(issuedBy("Nasze Testowe CA"), "production", { allowUnknownIssuer: true })).toBeUndefined();
    // The option never lets a KSeF CA's certificate into another environment.
    for (const environment of KSEF_ENVIRONMENTS.filter((e) => e !== "production")) {
      expect(issuerEnvironmentViolation(issuedBy("CCK KSeF"), environment, { allowUnknownIssuer: true })?.rule).toBe("certificate.environment");
    }
    expect(issuerEnvironmentViolation(issuedBy("TEST CCK KSeF"), "production", { allowUnknownIssuer: true })?.rule).toBe("certificate.environment");
    // Without any commonName the one-line issuer is named.
    expect(issuerEnvironmentViolation({ issuer: [{ oid: "2.5.4.10", value: "Firma" }], issuerText: "O=Firma" }, "production")?.params).toEqual({
      issuer: "O=Firma",
      expected: "CCK KSeF",
    });
  });
});
