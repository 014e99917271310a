/**
 * JSON Web Tokens as KSeF hands them out (SPEC examples: `alg: HS256`, claims `token-type`,
 * `operation-reference-number`, `context-identifier-type/-value`, `authentication-method`,
 * `subject-details`, `exp`, `iat`, `iss`, `aud`), signed with HMAC-SHA256 under a per-instance secret
 * (RFC 7519, RFC 7515 §3.1 compact serialisation, RFC 7518 §3.2). Only this simulator verifies them.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Claims the simulator writes; `exp`/`iat` are Unix seconds (RFC 7519 §4.1.4, §4.1.6). */
export interface TokenClaims {
  readonly "token-type": "OperationToken" | "ContextToken" | "RefreshToken";
  readonly "operation-reference-number": string;
  readonly "context-identifier-type"?: string;
  readonly "context-identifier-value"?: string;
  readonly "authentication-method"?: string;
  /** JSON text `{"SubjectIdentifier":{"Type":"Nip","Value":"…"}}`, as in the SPEC example token. */
  readonly "subject-details"?: string;
  /** Unique token id, so two tokens issued in the same second differ (RFC 7519 §4.1.7). */
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  readonly iss: string;
  readonly aud: string;
}

/** Longest token accepted for verification: far above what the simulator issues (≈ 600 bytes). */
const MAX_TOKEN_CHARS = 8192;

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/**
 * Signs `claims` as a compact HS256 JWT.
 * @param claims the payload
 * @param secret the HMAC key (per simulator instance)
 */
export function signJwt(claims: TokenClaims, secret: Uint8Array): string {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(claims));
  const mac = createHmac("sha256", secret).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(mac)}`;
}

/** Why a token was refused (for the 401 `detail`; never echoes the token). */
export type JwtRejection = "malformed" | "signature" | "expired";

/**
 * Verifies an HS256 JWT issued by {@link signJwt} with the same secret and checks `exp` against `now`.
 * @param token the compact token
 * @param secret the HMAC key
 * @param now the current time
 * @returns the claims, or the reason for refusal
 */
export function verifyJwt(token: string, secret: Uint8Array, now: Date): { ok: true; claims: TokenClaims } | { ok: false; reason: JwtRejection } {
  if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: "malformed" };
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [head, body, mac] = parts as [string, string, string];
  const expected = createHmac("sha256", secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "signature" };
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TokenClaims;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (typeof claims.exp !== "number" || claims.exp * 1000 <= now.getTime()) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}
