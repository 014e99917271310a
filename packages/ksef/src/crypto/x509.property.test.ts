/**
 * Hostile input into the certificate and CSR readers: random bytes, mutated and truncated DER,
 * truncated PEM and bad base64 must give a KsefCertsError (or a parsed object), never another exception.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import { parseCertificate, parseCertificates } from "./certificate.js";
import { createCsr, parseCsr } from "./csr.js";
import { encodePem } from "./encoding.js";
import { generateKeyPair } from "./keys.js";
import { issueKsefLikeCertificate } from "../testing/ksef-like-certificate.js";

const READERS = {
  certificate: (input: Uint8Array | string): unknown => parseCertificate(input),
  certificates: (input: Uint8Array | string): unknown => parseCertificates(input),
  csr: (input: Uint8Array | string): unknown => parseCsr(input),
} as const;
type ReaderName = keyof typeof READERS;

/** The error codes damaged input may produce. */
const EXPECTED_CODES = ["MALFORMED", "UNSUPPORTED", "TOO_LARGE"] as const;

function outcome(reader: ReaderName, input: Uint8Array | string): string {
  try {
    READERS[reader](input);
    return "ok";
  } catch (err) {
    if (isKsefCertsError(err, ...EXPECTED_CODES)) return err.code;
    throw err;
  }
}

const reader = fc.constantFrom<ReaderName>("certificate", "certificates", "csr");
let samples: Record<"certificate" | "csr", Uint8Array>;

beforeAll(async () => {
  const keys = await generateKeyPair("EC-P256");
  const data = { commonName: "Zażółć Gęślą Jaźń", countryName: "PL", organizationIdentifier: "VATPL-5265877635", organizationName: "Zażółć" };
  const issued = await issueKsefLikeCertificate({ certificateType: "Authentication", keys, enrollmentData: data });
  samples = { certificate: issued.der, csr: await createCsr(data, keys) };
});

const sample = fc.constantFrom<"certificate" | "csr">("certificate", "csr");

describe("readers never crash", () => {
  it("on random bytes", () => {
    fc.assert(
      fc.property(reader, fc.uint8Array({ minLength: 0, maxLength: 600 }), (r, bytes) => {
        expect(outcome(r, bytes)).not.toBe("ok");
      }),
      { numRuns: 500 },
    );
  });

  it("on DER with random bytes overwritten", () => {
    fc.assert(
      fc.property(reader, sample, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (r, s, edits) => {
        const bytes = Uint8Array.from(samples[s]);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        outcome(r, bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("on truncated DER and truncated PEM", () => {
    fc.assert(
      fc.property(reader, sample, fc.nat(), fc.boolean(), (r, s, cut, pem) => {
        const der = samples[s];
        const label = s === "csr" ? "CERTIFICATE REQUEST" : "CERTIFICATE";
        const input = pem ? encodePem(label, der) : der;
        // Dropping only the final newline leaves a valid PEM, so PEM loses at least two characters.
        const truncated = input.slice(0, cut % (input.length - (pem ? 1 : 0)));
        expect(outcome(r, truncated)).not.toBe("ok");
      }),
      { numRuns: 500 },
    );
  });

  it("on PEM with a bad base64 character", () => {
    fc.assert(
      fc.property(reader, sample, fc.nat(), fc.constantFrom("!", "*", "é", "-", "_", "%", "\u0000"), (r, s, at, bad) => {
        const label = s === "csr" ? "CERTIFICATE REQUEST" : "CERTIFICATE";
        const pem = encodePem(label, samples[s]);
        const body = pem.indexOf("\n") + 1;
        const end = pem.indexOf("-----END");
        const pos = body + (at % (end - body));
        if (pem[pos] === "\n") return;
        expect(outcome(r, `${pem.slice(0, pos)}${bad}${pem.slice(pos + 1)}`)).toBe("MALFORMED");
      }),
      { numRuns: 300 },
    );
  });
});
