/**
 * Password hashing for admin-app accounts with scrypt (RFC 7914) from node:crypto, in a self-describing
 * string `scrypt$N$r$p$saltB64$hashB64` so the cost can be raised later without invalidating old hashes.
 * The async `crypto.scrypt` runs on libuv's thread pool, so a sign-in does not block the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelisation. */
  readonly p: number;
}

/** Default cost: N = 2^15, r = 8, p = 1 (32 MiB, about 100 ms on one core; OWASP Password Storage Cheat Sheet minimum is N=2^17 r=8 p=1 or N=2^15 with more p). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

/** Longest password accepted (characters): longer inputs are a denial-of-service vector, not a better password. */
export const MAX_PASSWORD_CHARS = 1024;

const SALT_BYTES = 16;
const HASH_BYTES = 32;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // maxmem must exceed 128·N·r bytes (the default 32 MiB is exactly N=2^15, r=8 and would be refused).
  const maxmem = 256 * params.N * params.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, HASH_BYTES, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/**
 * Hashes a password with a fresh 16-byte salt.
 * @param password the password (1..{@link MAX_PASSWORD_CHARS} characters, NFC-normalised before hashing)
 * @param params scrypt cost; default {@link DEFAULT_SCRYPT_PARAMS}
 * @returns `scrypt$N$r$p$saltB64$hashB64`
 * @throws {KsefCertsError} VALIDATION for an empty or overlong password
 */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  if (typeof password !== "string" || password.length === 0 || password.length > MAX_PASSWORD_CHARS) {
    throw new KsefCertsError("VALIDATION", msg("password.length", { max: MAX_PASSWORD_CHARS }), {
      violations: [
        {
          field: "password",
          rule: "password.length",
          message: `A password must have 1 to ${MAX_PASSWORD_CHARS} characters.`,
          params: { min: 1, max: MAX_PASSWORD_CHARS },
        },
      ],
    });
  }
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/**
 * Checks a password against a stored hash in constant time (for equal-length hashes).
 * @param password the password given
 * @param stored a string from {@link hashPassword}
 * @returns whether it matches; `false` for a malformed stored string or an overlong password
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = typeof stored === "string" ? stored.split("$") : [];
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((x) => Number.isSafeInteger(x) && x > 0) || N > 2 ** 20 || r > 32 || p > 16) return false;
  if (typeof password !== "string" || password.length > MAX_PASSWORD_CHARS) return false;
  const salt = Buffer.from(parts[4] ?? "", "base64");
  const expected = Buffer.from(parts[5] ?? "", "base64");
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = await derive(password, salt, { N, r, p });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash of a random password, compared against for unknown logins so they take as long as known ones. */
let dummyHash: Promise<string> | undefined;

/**
 * A valid-looking hash nobody knows the password of (computed once per process).
 * @returns a {@link hashPassword} string
 */
export function dummyPasswordHash(): Promise<string> {
  return (dummyHash ??= hashPassword(randomBytes(24).toString("base64")));
}
