import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import { OpensslDir } from "./__fixtures__/openssl.js";
import { exportPkcs12, type ImportedPkcs12, importPkcs12 } from "./pkcs12.js";

const EXPECTED_CODES = ["MALFORMED", "WRONG_PASSWORD", "UNSUPPORTED", "TOO_LARGE", "KEY_MISMATCH"] as const;

async function outcome(promise: Promise<ImportedPkcs12>, expected?: ImportedPkcs12): Promise<string> {
  try {
    const r = await promise;
    // Anything that opens must be exactly what was put in: the MAC covers every bag.
    if (expected !== undefined) {
      expect(Buffer.from(r.certificate).equals(Buffer.from(expected.certificate))).toBe(true);
      expect(r.privateKey.equals(expected.privateKey)).toBe(true);
    }
    return "ok";
  } catch (err) {
    if (isKsefCertsError(err, ...EXPECTED_CODES)) return err.code;
    throw err;
  }
}

let dir: OpensslDir;
let p12: Uint8Array;
let legacy: Uint8Array;
let expectedModern: ImportedPkcs12;
let expectedLegacy: ImportedPkcs12;
const PASSWORD = "Żółw-42";

beforeAll(async () => {
  dir = new OpensslDir();
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  dir.write("k.pem", privateKey.export({ type: "pkcs8", format: "pem" }));
  dir.write("pw", PASSWORD);
  dir.run(["req", "-new", "-x509", "-key", "k.pem", "-subj", "/CN=t", "-days", "2", "-outform", "DER", "-out", "c.der"]);
  dir.run(["x509", "-inform", "DER", "-in", "c.der", "-out", "c.pem"]);
  p12 = await exportPkcs12({ certificate: dir.read("c.der"), privateKey, password: PASSWORD, iterations: 1000, macIterations: 1000 });
  dir.run(["pkcs12", "-export", "-legacy", "-in", "c.pem", "-inkey", "k.pem", "-passout", "file:pw", "-out", "legacy.p12"]);
  legacy = dir.read("legacy.p12");
  expectedModern = await importPkcs12(p12, PASSWORD);
  expectedLegacy = await importPkcs12(legacy, PASSWORD);
});

afterAll(() => {
  dir.cleanup();
});

describe("importPkcs12 on damaged input", () => {
  it("random bytes give a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), async (bytes) => {
        expect(await outcome(importPkcs12(bytes, PASSWORD))).not.toBe("ok");
      }),
      { numRuns: 200 },
    );
  });

  it("bit flips and truncation of modern and legacy files give the original content or a typed error, quickly", async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.boolean(), fc.nat(), async (useLegacy, truncate, n) => {
        const original = useLegacy ? legacy : p12;
        let input: Uint8Array;
        if (truncate) {
          input = original.subarray(0, n % original.length);
        } else {
          const copy = Buffer.from(original);
          const bit = n % (copy.length * 8);
          copy[bit >> 3] = (copy[bit >> 3] ?? 0) ^ (1 << (bit & 7));
          input = copy;
        }
        const started = Date.now();
        expect(["ok", ...EXPECTED_CODES]).toContain(await outcome(importPkcs12(input, PASSWORD), useLegacy ? expectedLegacy : expectedModern));
        expect(Date.now() - started).toBeLessThan(5000);
      }),
      { numRuns: 150 },
    );
  });
});
