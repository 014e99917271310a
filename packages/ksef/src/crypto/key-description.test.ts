import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import { assertKsefKey, describeKey, keyTypeName } from "./key-description.js";

describe("describeKey", () => {
  it("accepts EC P-256 and RSA-2048 only, for private and public keys", () => {
    const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(describeKey(p256.privateKey)).toEqual({ type: "ec", curve: "P-256", algorithm: "EC-P256", ksefAccepted: true });
    expect(describeKey(p256.publicKey)).toEqual({ type: "ec", curve: "P-256", algorithm: "EC-P256", ksefAccepted: true });
    expect(describeKey(generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey)).toEqual({
      type: "ec",
      curve: "P-384",
      algorithm: undefined,
      ksefAccepted: false,
    });
    expect(describeKey(generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey)).toMatchObject({ curve: "secp256k1", ksefAccepted: false });
    const rsa2048 = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expect(describeKey(rsa2048.publicKey)).toEqual({ type: "rsa", bits: 2048, algorithm: "RSA-2048", ksefAccepted: true });
    expect(describeKey(generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey)).toEqual({
      type: "rsa",
      bits: 1024,
      algorithm: undefined,
      ksefAccepted: false,
    });
    expect(describeKey(generateKeyPairSync("rsa-pss", { modulusLength: 2048 }).privateKey)).toEqual({
      type: "rsa-pss",
      bits: 2048,
      algorithm: undefined,
      ksefAccepted: false,
    });
    expect(describeKey(generateKeyPairSync("ed25519").privateKey)).toEqual({ type: "ed25519", algorithm: undefined, ksefAccepted: false });
  });
});

describe("assertKsefKey", () => {
  it("passes EC P-256 and RSA-2048, refuses everything else as UNSUPPORTED naming the key type", () => {
    expect(assertKsefKey(generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey).algorithm).toBe("EC-P256");
    expect(assertKsefKey(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey).algorithm).toBe("RSA-2048");
    const refused: [string, ReturnType<typeof generateKeyPairSync>["privateKey"]][] = [
      ["EC P-384 (secp384r1)", generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey],
      ["EC P-521 (secp521r1)", generateKeyPairSync("ec", { namedCurve: "secp521r1" }).publicKey],
      ["EC secp256k1", generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey],
      ["EC brainpoolP256r1", generateKeyPairSync("ec", { namedCurve: "brainpoolP256r1" }).privateKey],
      ["Ed25519", generateKeyPairSync("ed25519").privateKey],
      ["Ed448", generateKeyPairSync("ed448").publicKey],
      ["RSA-1024", generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey],
      ["RSA-3072", generateKeyPairSync("rsa", { modulusLength: 3072 }).publicKey],
      ["RSA-PSS-2048", generateKeyPairSync("rsa-pss", { modulusLength: 2048 }).privateKey],
      ["DSA", generateKeyPairSync("dsa", { modulusLength: 1024, divisorLength: 160 }).privateKey],
    ];
    for (const [scheme, key] of refused) {
      expect(keyTypeName(describeKey(key))).toBe(scheme);
      try {
        assertKsefKey(key, { what: "The certificate's key" });
        expect.unreachable(`${scheme} was accepted`);
      } catch (err) {
        expect(isKsefCertsError(err, "UNSUPPORTED")).toBe(true);
        if (!isKsefCertsError(err)) throw err;
        expect(err.message).toBe(`The certificate's key is ${scheme}; KSeF issues certificates only for EC P-256 (prime256v1/secp256r1) or RSA-2048 keys.`);
        expect(err.details).toEqual({ scheme, accepted: ["EC-P256", "RSA-2048"] });
      }
    }
  });
});
