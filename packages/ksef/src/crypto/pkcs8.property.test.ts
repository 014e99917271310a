import { generateKeyPairSync, type KeyObject } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import { encodePem } from "./encoding.js";
import { encryptPrivateKey, encryptPrivateKeyPem, readPrivateKey } from "./pkcs8.js";

let ec: KeyObject;
let rsa: KeyObject;
let ecDer: Buffer;
let rsaDer: Buffer;

beforeAll(() => {
  ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  ecDer = ec.export({ type: "pkcs8", format: "der" });
  rsaDer = rsa.export({ type: "pkcs8", format: "der" });
});

const POLISH = ["ą", "ć", "ę", "ł", "ń", "ó", "ś", "ź", "ż", "Ą", "Ć", "Ę", "Ł", "Ń", "Ó", "Ś", "Ź", "Ż"];
const password = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(...POLISH, "a", "Z", "1", " ", "€", "😀", "ß"), minLength: 1, maxLength: 30 }),
  fc.string({ unit: "binary", minLength: 1, maxLength: 30 }),
);
const keyType = fc.constantFrom("ec" as const, "rsa" as const);

/** The error codes a damaged or hostile key file may produce. */
const EXPECTED_CODES = ["MALFORMED", "WRONG_PASSWORD", "UNSUPPORTED", "TOO_LARGE", "PASSWORD_REQUIRED"] as const;

async function outcome(promise: Promise<unknown>): Promise<"ok" | (typeof EXPECTED_CODES)[number]> {
  try {
    await promise;
    return "ok";
  } catch (err) {
    if (isKsefCertsError(err, ...EXPECTED_CODES)) return err.code as (typeof EXPECTED_CODES)[number];
    throw err;
  }
}

describe("encrypt → read round trip", () => {
  it("holds for random Unicode passwords and both key types (1 000 iterations)", async () => {
    await fc.assert(
      fc.asyncProperty(password, password, keyType, fc.boolean(), async (pw, other, which, pem) => {
        const key = which === "ec" ? ec : rsa;
        const data = pem ? await encryptPrivateKeyPem(key, pw, { iterations: 1000 }) : await encryptPrivateKey(key, pw, { iterations: 1000 });
        const back = await readPrivateKey(data, { password: pw });
        expect(back.key.export({ type: "pkcs8", format: "der" }).equals(which === "ec" ? ecDer : rsaDer)).toBe(true);
        expect(back.container).toBe(pem ? "pem" : "der");
        if (Buffer.from(other, "utf8").equals(Buffer.from(pw, "utf8"))) return;
        expect(await outcome(readPrivateKey(data, { password: other }))).toBe("WRONG_PASSWORD");
      }),
      { numRuns: 100 },
    );
  });

  it("holds at the KSeF default (100 000 iterations)", async () => {
    await fc.assert(
      fc.asyncProperty(password, keyType, async (pw, which) => {
        const key = which === "ec" ? ec : rsa;
        const back = await readPrivateKey(await encryptPrivateKey(key, pw), { password: pw });
        expect(back.key.export({ type: "pkcs8", format: "der" }).equals(which === "ec" ? ecDer : rsaDer)).toBe(true);
        expect(back.encryption?.iterations).toBe(100_000);
      }),
      { numRuns: 4 },
    );
  });
});

describe("damaged input never crashes or hangs", () => {
  it("random bytes give a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), async (bytes) => {
        expect(await outcome(readPrivateKey(bytes, { password: "x" }))).not.toBe("ok");
      }),
      { numRuns: 300 },
    );
  });

  it("random DER-looking structures (SEQUENCE of random TLVs) give a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 200 }), async (body) => {
        const der = Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body]);
        expect(["ok", ...EXPECTED_CODES]).toContain(await outcome(readPrivateKey(der, { password: "x" })));
      }),
      { numRuns: 300 },
    );
  });

  it("bit-flipped encrypted DER, truncated PEM and corrupted base64 give a key or a typed error", async () => {
    const pw = "hasło";
    const der = await encryptPrivateKey(ec, pw, { iterations: 1000 });
    const pem = encodePem("ENCRYPTED PRIVATE KEY", der);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant("flip" as const), at: fc.nat({ max: der.length * 8 - 1 }) }),
          fc.record({ kind: fc.constant("truncate" as const), at: fc.nat({ max: pem.length }) }),
          fc.record({
            kind: fc.constant("base64" as const),
            at: fc.nat({ max: pem.length - 1 }),
            ch: fc.constantFrom("!", "*", "-", "=", "A", "/", "\u0105", " "),
          }),
        ),
        async (damage) => {
          let input: Uint8Array | string;
          if (damage.kind === "flip") {
            const copy = Buffer.from(der);
            copy[damage.at >> 3] = (copy[damage.at >> 3] ?? 0) ^ (1 << (damage.at & 7));
            input = copy;
          } else if (damage.kind === "truncate") {
            input = pem.slice(0, damage.at);
          } else {
            input = pem.slice(0, damage.at) + damage.ch + pem.slice(damage.at + 1);
          }
          const started = Date.now();
          // CBC is not authenticated: a flip inside the key's bytes can still decrypt to a (different) valid key.
          expect(["ok", ...EXPECTED_CODES]).toContain(await outcome(readPrivateKey(input, { password: pw })));
          expect(Date.now() - started).toBeLessThan(5000);
        },
      ),
      { numRuns: 250 },
    );
  });
});
