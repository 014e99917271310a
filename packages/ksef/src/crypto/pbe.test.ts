import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import { OpensslDir } from "./__fixtures__/openssl.js";
import { algorithmIdentifier, integer, OID, octetString, parseDer, sequence, toDer } from "./asn1.js";
import {
  bmpPassword,
  KdfBudget,
  MAX_PKCS12_KDF_ITERATIONS,
  parsePbeAlgorithm,
  pbeDecrypt,
  pbeDecryptSync,
  pbes2Encrypt,
  pkcs12Kdf,
  pkcs12KdfSync,
} from "./pbe.js";
import { thrown } from "../testing/errors.js";

let dir: OpensslDir;
beforeAll(() => {
  dir = new OpensslDir();
});
afterAll(() => {
  dir.cleanup();
});

/** OpenSSL's own PKCS#12 KDF (EVP_KDF PKCS12KDF) on exact password bytes. */
function opensslKdf(digest: string, password: Uint8Array, salt: Uint8Array, id: number, iterations: number, length: number): string {
  const out = dir.run([
    "kdf",
    "-keylen",
    String(length),
    "-kdfopt",
    `digest:${digest}`,
    "-kdfopt",
    `hexpass:${Buffer.from(password).toString("hex")}`,
    "-kdfopt",
    `hexsalt:${Buffer.from(salt).toString("hex")}`,
    "-kdfopt",
    `iter:${iterations}`,
    "-kdfopt",
    `id:${id}`,
    "PKCS12KDF",
  ]);
  return out.toString().trim().replace(/:/g, "").toLowerCase();
}

describe("PKCS#12 KDF (RFC 7292 App. B.2)", () => {
  it("matches OpenSSL's PKCS12KDF for SHA-1/256/384/512, ids 1-3, multi-block outputs and odd salt/password sizes", async () => {
    const cases: [string, string, number, number, number, number][] = [
      ["SHA1", "sha1", 1, 2048, 24, 8], // 3DES key: two SHA-1 blocks, exercises the I_j update
      ["SHA1", "sha1", 2, 2048, 8, 8],
      ["SHA1", "sha1", 3, 1, 20, 5],
      ["SHA1", "sha1", 1, 3, 100, 70], // five blocks, salt longer than v
      ["SHA256", "sha256", 3, 2048, 32, 16],
      ["SHA256", "sha256", 1, 10, 80, 3],
      ["SHA384", "sha384", 3, 100, 48, 8],
      ["SHA512", "sha512", 3, 100, 150, 20],
    ];
    for (const password of ["zażółć gęślą jaźń", "", "a".repeat(70)]) {
      for (const [ossl, hash, id, iterations, length, saltBytes] of cases) {
        const salt = randomBytes(saltBytes);
        const pw = bmpPassword(password);
        const expected = opensslKdf(ossl, pw, salt, id, iterations, length);
        expect({ hash, id, length, got: Buffer.from(await pkcs12Kdf(hash, pw, salt, id, iterations, length)).toString("hex") }).toEqual({
          hash,
          id,
          length,
          got: expected,
        });
        expect(Buffer.from(pkcs12KdfSync(hash, pw, salt, id, iterations, length)).toString("hex")).toBe(expected);
      }
    }
  });

  it("yields to the event loop during long derivations", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await pkcs12Kdf("sha256", bmpPassword("x"), randomBytes(8), 3, 150_000, 32);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(3);
  });

  it("encodes passwords as BMPString + NUL, keeping surrogate pairs (as OpenSSL)", () => {
    expect(Buffer.from(bmpPassword("Aż")).toString("hex")).toBe("0041017c0000");
    expect(Buffer.from(bmpPassword("😀")).toString("hex")).toBe("d83dde000000");
    expect(bmpPassword("")).toEqual(new Uint8Array([0, 0]));
    expect(bmpPassword("", true)).toEqual(new Uint8Array(0));
  });
});

describe("parsePbeAlgorithm", () => {
  const pbkdf2 = (params: Parameters<typeof sequence>[0], cipherOid: string = OID.aes256Cbc, ivBytes = 16) =>
    parseDer(
      toDer(
        algorithmIdentifier(
          OID.pbes2,
          sequence([algorithmIdentifier(OID.pbkdf2, sequence(params)), algorithmIdentifier(cipherOid, octetString(randomBytes(ivBytes)))]),
        ),
      ),
      "t",
    );

  it("reads PBKDF2 parameters with and without keyLength and PRF", () => {
    const withKeyLength = parsePbeAlgorithm(pbkdf2([octetString(randomBytes(8)), integer(5000), integer(32), algorithmIdentifier(OID.hmacWithSHA384)]), "key");
    expect(withKeyLength.encryption).toEqual({
      scheme: "PBES2",
      kdf: "PBKDF2",
      prf: "hmacWithSHA384",
      prfHasNullParameters: false,
      cipher: "aes-256-cbc",
      saltBytes: 8,
      iterations: 5000,
    });
    const defaultPrf = parsePbeAlgorithm(pbkdf2([octetString(randomBytes(8)), integer(5000)], OID.desEde3Cbc, 8), "key");
    expect(defaultPrf).toMatchObject({ kind: "pbkdf2", hash: "sha1", encryption: { prf: "hmacWithSHA1", cipher: "des-ede3-cbc" } });
  });

  it("refuses a keyLength that does not fit the cipher and an IV of the wrong size (MALFORMED)", () => {
    expect(thrown(() => parsePbeAlgorithm(pbkdf2([octetString(randomBytes(8)), integer(5000), integer(16)]), "key")).code).toBe("MALFORMED");
    expect(thrown(() => parsePbeAlgorithm(pbkdf2([octetString(randomBytes(8)), integer(5000)], OID.aes128Cbc, 8), "key")).code).toBe("MALFORMED");
    expect(thrown(() => parsePbeAlgorithm(pbkdf2([octetString(randomBytes(8)), integer(0)]), "key")).code).toBe("MALFORMED");
  });

  it("names PBES1 and unknown schemes (UNSUPPORTED) and caps PKCS#12-PBE iterations", () => {
    const pbes1 = parseDer(toDer(algorithmIdentifier("1.2.840.113549.1.5.3", sequence([octetString(randomBytes(8)), integer(2048)]))), "t");
    expect(thrown(() => parsePbeAlgorithm(pbes1, "key")).details["scheme"]).toBe("pbeWithMD5AndDES-CBC");
    const unknown = parseDer(toDer(algorithmIdentifier("1.2.3.4")), "t");
    expect(thrown(() => parsePbeAlgorithm(unknown, "key"))).toMatchObject({ code: "UNSUPPORTED", details: { scheme: "1.2.3.4" } });
    const hostile = parseDer(
      toDer(algorithmIdentifier(OID.pbeWithSHAAnd3KeyTripleDesCbc, sequence([octetString(randomBytes(8)), integer(MAX_PKCS12_KDF_ITERATIONS + 1)]))),
      "t",
    );
    expect(thrown(() => parsePbeAlgorithm(hostile, "key"))).toMatchObject({ code: "UNSUPPORTED", details: { limit: MAX_PKCS12_KDF_ITERATIONS } });
  });
});

describe("PBES2 encrypt/decrypt", () => {
  it("round-trips through pbes2Encrypt and pbeDecrypt(Sync), and reports a wrong password", async () => {
    const plain = randomBytes(100);
    const enc = await pbes2Encrypt(plain, "hasło", {
      prf: "hmacWithSHA256",
      cipher: "aes-192-cbc",
      iterations: 1000,
      salt: randomBytes(16),
      iv: randomBytes(16),
      prfNullParameters: true,
    });
    const scheme = parsePbeAlgorithm(parseDer(toDer(enc.algorithm), "t"), "data");
    expect(scheme.encryption).toMatchObject({ prfHasNullParameters: true, cipher: "aes-192-cbc" });
    expect(Buffer.from(await pbeDecrypt(scheme, "hasło", enc.ciphertext, "data")).equals(plain)).toBe(true);
    expect(Buffer.from(pbeDecryptSync(scheme, "hasło", enc.ciphertext, "data")).equals(plain)).toBe(true);
    let wrong = 0;
    for (let i = 0; i < 20; i++) {
      try {
        await pbeDecrypt(scheme, `haslo${i}`, enc.ciphertext, "data");
      } catch (err) {
        if (isKsefCertsError(err, "WRONG_PASSWORD")) wrong++;
      }
    }
    // CBC padding passes for ~1 in 256 wrong passwords; the caller's structure check catches those.
    expect(wrong).toBeGreaterThanOrEqual(19);
    await expect(pbeDecrypt(scheme, "hasło", enc.ciphertext.subarray(0, 20), "data")).rejects.toMatchObject({ code: "MALFORMED" });
  });
});

describe("KdfBudget", () => {
  it("throws UNSUPPORTED once the work for one file is spent", () => {
    const budget = new KdfBudget(1000);
    budget.spend(600, "file");
    expect(
      thrown(() => {
        budget.spend(600, "file");
      }).code,
    ).toBe("UNSUPPORTED");
  });
});
