/**
 * Key-pair generation for KSeF certificates (ksef-docs `certyfikaty-KSeF.md`: EC P-256, recommended, or RSA with exactly 2048 bits).
 */
import { createPublicKey, generateKeyPair as generateNodeKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { KsefCertsError } from "../errors.js";
import type { KeyAlgorithm } from "./types.js";

/** A private key with its public key, as node:crypto key objects. */
export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const generate = promisify(generateNodeKeyPair);

/**
 * Generates a fresh key pair KSeF will certify, off the main thread (node:crypto async keygen).
 * EC uses the named curve prime256v1 (P-256, ~3 ms); RSA uses a 2048-bit modulus and public exponent
 * 65537 (~100–200 ms, sometimes more). Source: ksef-docs `certyfikaty-KSeF.md`; timings measured.
 * @param algorithm `EC-P256` (default, recommended by the ministry) or `RSA-2048`
 * @returns the private and public key objects
 * @throws {KsefCertsError} `UNSUPPORTED` for any other algorithm name (from untyped callers)
 */
export async function generateKeyPair(algorithm: KeyAlgorithm = "EC-P256"): Promise<KeyPair> {
  switch (algorithm) {
    case "EC-P256": {
      const { privateKey, publicKey } = await generate("ec", { namedCurve: "prime256v1" });
      return { privateKey, publicKey };
    }
    case "RSA-2048": {
      const { privateKey, publicKey } = await generate("rsa", { modulusLength: 2048, publicExponent: 65537 });
      return { privateKey, publicKey };
    }
    default:
      throw new KsefCertsError("UNSUPPORTED", `Key algorithm "${String(algorithm)}" is not one KSeF accepts.`, {
        hint: "Use EC-P256 (recommended) or RSA-2048.",
        details: { scheme: String(algorithm) },
      });
  }
}

/**
 * The key pair of an existing private key (e.g. one read from a `.key` file), its public key derived
 * from it, for {@link KeyPair} consumers such as CSR building.
 * @param privateKey a private key object
 * @returns the pair
 * @throws {KsefCertsError} `VALIDATION` when `privateKey` is not a private key
 */
export function keyPairOf(privateKey: KeyObject): KeyPair {
  if (privateKey.type !== "private") {
    throw new KsefCertsError("VALIDATION", "A private key is needed here.", {
      violations: [{ field: "privateKey", rule: "key.private", message: "privateKey must be a private key" }],
    });
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
