/**
 * CSR round trip with random enrollment data: arbitrary Unicode (any code point, controls included)
 * for the UTF8String attributes and the PrintableString alphabet for countryName and serialNumber.
 * What goes in must come back byte-exact, in the C# client's order, with a valid signature.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpensslDir } from "./__fixtures__/openssl.js";
import { parseCertificate } from "./certificate.js";
import { createCsr, parseCsr } from "./csr.js";
import { generateKeyPair, type KeyPair } from "./keys.js";
import { issueKsefLikeCertificate } from "../testing/ksef-like-certificate.js";
import type { EnrollmentData } from "./types.js";

const PRINTABLE = Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?");
const text = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 80 }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...Array.from('ąćęłńóśźżĄĆĘŁŃÓŚŹŻ -.,"+<>;#\\')), minLength: 1, maxLength: 200 }),
);
const printable = fc.string({ unit: fc.constantFrom(...PRINTABLE), minLength: 1, maxLength: 64 });
const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

const enrollmentData: fc.Arbitrary<EnrollmentData> = fc
  .record({
    commonName: text.filter((s) => s.trim() !== ""),
    countryName: printable.filter((s) => s.trim() !== ""),
    surname: optional(text),
    givenName: optional(text),
    organizationName: optional(text),
    organizationIdentifier: optional(text),
    serialNumber: optional(printable),
    uniqueIdentifier: optional(text),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as EnrollmentData);

/** [OID, value, string type] the CSR must hold for `data`, in the C# client's order. */
function expected(data: EnrollmentData): [string, string, string][] {
  const order: [keyof EnrollmentData, string, string][] = [
    ["commonName", "2.5.4.3", "UTF8String"],
    ["surname", "2.5.4.4", "UTF8String"],
    ["givenName", "2.5.4.42", "UTF8String"],
    ["organizationName", "2.5.4.10", "UTF8String"],
    ["organizationIdentifier", "2.5.4.97", "UTF8String"],
    ["countryName", "2.5.4.6", "PrintableString"],
    ["serialNumber", "2.5.4.5", "PrintableString"],
    ["uniqueIdentifier", "2.5.4.45", "UTF8String"],
  ];
  return order.flatMap(([field, oid, type]) => {
    const value = data[field];
    return typeof value === "string" && value !== "" ? [[oid, value, type] as [string, string, string]] : [];
  });
}

let ec: KeyPair;
let rsa: KeyPair;
let dir: OpensslDir;

beforeAll(async () => {
  [ec, rsa] = await Promise.all([generateKeyPair("EC-P256"), generateKeyPair("RSA-2048")]);
  dir = new OpensslDir();
});

afterAll(() => {
  dir.cleanup();
});

describe("createCsr → parseCsr", () => {
  it("round-trips random enrollment data byte-exact with a valid signature (EC and RSA)", async () => {
    await fc.assert(
      fc.asyncProperty(enrollmentData, fc.boolean(), async (data, useRsa) => {
        const der = await createCsr(data, useRsa ? rsa : ec);
        const info = parseCsr(der);
        expect(info.subject.map((a) => [a.oid, a.value, a.stringType])).toEqual(expected(data));
        expect(info.signatureValid).toBe(true);
        expect(info.signatureAlgorithm).toBe(useRsa ? "sha256WithRSAEncryption" : "ecdsa-with-SHA256");
        expect(info.signatureAlgorithmHasNullParameters).toBe(useRsa);
      }),
      { numRuns: 150 },
    );
  });

  it("gives CSRs openssl verifies", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(enrollmentData, async (data) => {
        const file = dir.write(`p${String(n++)}.csr`, await createCsr(data, ec));
        expect(dir.runBoth(["req", "-inform", "DER", "-in", file, "-verify", "-noout"])).toMatch(/verify OK/);
      }),
      { numRuns: 15 },
    );
  });
});

describe("issueKsefLikeCertificate → parseCertificate", () => {
  it("keeps every subject value byte-exact and suffixes the CN", async () => {
    await fc.assert(
      fc.asyncProperty(enrollmentData, fc.constantFrom("Authentication" as const, "Offline" as const), async (data, type) => {
        const info = parseCertificate((await issueKsefLikeCertificate({ certificateType: type, keys: ec, enrollmentData: data })).der);
        const suffix = type === "Authentication" ? " (uwierzytelnienie)" : " (offline)";
        const want = expected(data).map(([oid, value, t]) => [oid, oid === "2.5.4.3" ? `${value}${suffix}` : value, t]);
        expect(info.subject.map((a) => [a.oid, a.value, a.stringType]).sort()).toEqual(want.sort());
        expect(info.subject[info.subject.length - 1]?.oid).toBe("2.5.4.3");
        expect(info.ksefType).toBe(type);
        expect(info.typeCheck.consistent).toBe(true);
        expect(info.serialNumber).toMatch(/^[0-9A-F]{16}$/);
      }),
      { numRuns: 100 },
    );
  });
});
