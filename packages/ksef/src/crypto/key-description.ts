/**
 * What a key is (type, curve, size) and whether KSeF would certify it. KSeF certifies exactly two kinds
 * of keys (spec/open-api.json, `POST /certificates/enrollments`: "Dozwolone typy kluczy prywatnych"):
 * EC keys (OID 1.2.840.10045.2.1) on NIST P-256 (prime256v1 / secp256r1), recommended, and RSA keys
 * (OID 1.2.840.113549.1.1.1) of exactly 2048 bits. {@link assertKsefKey} is the one check every path
 * that makes or takes a KSeF key pair runs (CSR, import, registry).
 */
import { KeyObject } from "node:crypto";
import { KsefCertsError } from "../errors.js";
import type { KeyDescription } from "./types.js";

/** OpenSSL curve names (what node:crypto reports) mapped to the JWK `crv` names KeyDescription uses. */
const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: "P-256",
  secp384r1: "P-384",
  secp521r1: "P-521",
};

/**
 * Describes a private or public key from its own parameters (no export, no parsing).
 * KSeF accepts EC keys on P-256 and RSA keys of exactly 2048 bits (ksef-docs `certyfikaty-KSeF.md`); an
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

/** What KSeF issues, as a message says it. */
export const KSEF_KEY_TYPES_TEXT = "EC P-256 (prime256v1/secp256r1) or RSA-2048";

/** OpenSSL names of the JWK curve names, for messages that show both. */
const OPENSSL_CURVE_NAMES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(CURVE_NAMES).map(([openssl, jwk]) => [jwk, openssl]));

/**
 * The key type as a person names it: `EC P-384 (secp384r1)`, `EC secp256k1`, `RSA-1024`, `RSA-PSS-2048`, `Ed25519`.
 * @param description from {@link describeKey}
 * @returns one short phrase
 */
export function keyTypeName(description: KeyDescription): string {
  const { type, curve, bits } = description;
  if (type === "ec") {
    const openssl = curve === undefined ? undefined : OPENSSL_CURVE_NAMES[curve];
    return curve === undefined ? "EC (unknown curve)" : openssl === undefined ? `EC ${curve}` : `EC ${curve} (${openssl})`;
  }
  if (type === "rsa" || type === "rsa-pss") return `${type.toUpperCase()}-${bits === undefined ? "?" : String(bits)}`;
  if (type === "ed25519" || type === "ed448") return `Ed${type.slice(2)}`;
  if (type === "x25519" || type === "x448") return `X${type.slice(1)}`;
  return type.toUpperCase();
}

/** Options of {@link assertKsefKey}. */
export interface AssertKsefKeyOptions {
  /** Names the key at the start of the message, e.g. "The certificate's key" (default "This key"). */
  readonly what?: string;
  /** What to do instead (default: pick what KSeF issued, or enroll a new certificate). */
  readonly hint?: string;
}

/**
 * Throws unless the key is one KSeF issues certificates for: EC P-256 or RSA with exactly 2048 bits (module comment).
 * @param key a key object (private or public) or its description
 * @param options how the message names the key, and the hint
 * @returns the key's description
 * @throws {KsefCertsError} `UNSUPPORTED` naming the key type found and what KSeF issues; `details.scheme` is the key type
 *   ({@link keyTypeName}), `details.accepted` the two KSeF algorithm names
 */
export function assertKsefKey(key: KeyObject | KeyDescription, options: AssertKsefKeyOptions = {}): KeyDescription {
  const description = key instanceof KeyObject ? describeKey(key) : key;
  if (description.ksefAccepted) return description;
  const scheme = keyTypeName(description);
  throw new KsefCertsError("UNSUPPORTED", `${options.what ?? "This key"} is ${scheme}; KSeF issues certificates only for ${KSEF_KEY_TYPES_TEXT} keys.`, {
    hint:
      options.hint ??
      "This is not a certificate KSeF issued: pick the files downloaded from KSeF (Aplikacja Podatnika), or enroll a new certificate (EC P-256).",
    details: { scheme, accepted: ["EC-P256", "RSA-2048"] },
  });
}
