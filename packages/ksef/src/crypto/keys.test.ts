import { createPublicKey, type KeyObject } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import { OpensslDir } from "./__fixtures__/openssl.js";
import { describeKey } from "./key-description.js";
import { generateKeyPair, keyPairOf } from "./keys.js";
import type { KeyAlgorithm } from "./types.js";

let dir: OpensslDir;
beforeAll(() => {
  dir = new OpensslDir();
});
afterAll(() => {
  dir.cleanup();
});

const spki = (key: KeyObject): Buffer => (key.type === "private" ? createPublicKey(key) : key).export({ type: "spki", format: "der" });

describe("generateKeyPair", () => {
  it("makes an EC P-256 pair by default, which openssl checks as prime256v1", async () => {
    const pair = await generateKeyPair();
    expect(pair.privateKey.type).toBe("private");
    expect(pair.publicKey.type).toBe("public");
    expect(describeKey(pair.privateKey)).toEqual({ type: "ec", curve: "P-256", algorithm: "EC-P256", ksefAccepted: true });
    expect(spki(pair.privateKey).equals(spki(pair.publicKey))).toBe(true);
    dir.write("ec.pem", pair.privateKey.export({ type: "pkcs8", format: "pem" }));
    const text = dir.runBoth(["ec", "-in", "ec.pem", "-check", "-noout", "-text"]);
    expect(text).toContain("ASN1 OID: prime256v1");
    expect(text).toContain("EC Key valid.");
  });

  it("makes an RSA-2048 pair with public exponent 65537", async () => {
    const pair = await generateKeyPair("RSA-2048");
    expect(describeKey(pair.publicKey)).toEqual({ type: "rsa", bits: 2048, algorithm: "RSA-2048", ksefAccepted: true });
    expect(pair.privateKey.asymmetricKeyDetails?.publicExponent).toBe(65537n);
    expect(spki(pair.privateKey).equals(spki(pair.publicKey))).toBe(true);
  });

  it("makes a fresh pair every time", async () => {
    const [a, b] = await Promise.all([generateKeyPair("EC-P256"), generateKeyPair("EC-P256")]);
    expect(spki(a.publicKey).equals(spki(b.publicKey))).toBe(false);
  });

  it("refuses an algorithm KSeF does not accept (untyped callers) as UNSUPPORTED", async () => {
    const err: unknown = await generateKeyPair("EC-P384" as KeyAlgorithm).catch((e: unknown) => e);
    expect(isKsefCertsError(err, "UNSUPPORTED")).toBe(true);
  });
});

describe("keyPairOf", () => {
  it("derives the public key of a private key, and refuses a public key", async () => {
    const pair = await generateKeyPair("EC-P256");
    expect(keyPairOf(pair.privateKey).publicKey.equals(pair.publicKey)).toBe(true);
    expect(() => keyPairOf(pair.publicKey)).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });
});
