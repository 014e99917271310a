/**
 * What a key is (type, curve, size) and whether KSeF would certify it.
 */
import type { KeyObject } from "node:crypto";
import type { KeyDescription } from "./types.js";

/** OpenSSL curve names (what node:crypto reports) mapped to the JWK `crv` names KeyDescription uses. */
const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: "P-256",
  secp384r1: "P-384",
  secp521r1: "P-521",
};

/**
 * Describes a private or public key from its own parameters (no export, no parsing).
 * KSeF accepts EC keys on P-256 and RSA keys of exactly 2048 bits (ksef-api.md §3.3); an
 * RSA-PSS-restricted key (`rsa-pss`) is reported but not accepted.
 * @param key a node:crypto key object (private or public; a secret key is described as its type only)
 * @returns type, curve or bits, the KSeF algorithm name and whether KSeF accepts it
 */
export function describeKey(key: KeyObject): KeyDescription {
  const type = key.asymmetricKeyType ?? key.type;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === "ec") {
    const named = details.namedCurve;
    const curve = named === undefined ? undefined : (CURVE_NAMES[named] ?? named);
    const accepted = curve === "P-256";
    return { type, ...(curve === undefined ? {} : { curve }), algorithm: accepted ? "EC-P256" : undefined, ksefAccepted: accepted };
  }
  if (type === "rsa" || type === "rsa-pss") {
    const bits = details.modulusLength;
    const accepted = type === "rsa" && bits === 2048;
    return { type, ...(bits === undefined ? {} : { bits }), algorithm: accepted ? "RSA-2048" : undefined, ksefAccepted: accepted };
  }
  return { type, algorithm: undefined, ksefAccepted: false };
}
