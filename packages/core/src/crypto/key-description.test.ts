import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { describeKey } from "./key-description.js";

describe("describeKey", () => {
  it("accepts EC P-256 and RSA-2048 only, for private and public keys", () => {
    const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(describeKey(p256.privateKey)).toEqual({ type: "ec", curve: "P-256", algorithm: "EC-P256", ksefAccepted: true });
    expect(describeKey(p256.publicKey)).toEqual({ type: "ec", curve: "P-256", algorithm: "EC-P256", ksefAccepted: true });
    expect(describeKey(generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey)).toEqual({ type: "ec", curve: "P-384", algorithm: undefined, ksefAccepted: false });
    expect(describeKey(generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey)).toMatchObject({ curve: "secp256k1", ksefAccepted: false });
    const rsa2048 = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expect(describeKey(rsa2048.publicKey)).toEqual({ type: "rsa", bits: 2048, algorithm: "RSA-2048", ksefAccepted: true });
    expect(describeKey(generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey)).toEqual({ type: "rsa", bits: 1024, algorithm: undefined, ksefAccepted: false });
    expect(describeKey(generateKeyPairSync("rsa-pss", { modulusLength: 2048 }).privateKey)).toEqual({ type: "rsa-pss", bits: 2048, algorithm: undefined, ksefAccepted: false });
    expect(describeKey(generateKeyPairSync("ed25519").privateKey)).toEqual({ type: "ed25519", algorithm: undefined, ksefAccepted: false });
  });
});
