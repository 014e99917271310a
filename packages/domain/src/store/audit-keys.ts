/**
 * The audit log's keys and how an entry is hashed.
 *
 * Two keys are derived from the 32-byte master key (the one that seals passwords, `seal.ts`) with
 * HKDF-SHA256 (RFC 5869), each under its own `info` label, so neither can be computed from the other and
 * neither is the master key itself:
 * - the entry key: an entry's `hash` is HMAC-SHA256 (RFC 2104) under it over the entry's canonical JSON
 *   (which includes `prevHash`, so each MAC also covers everything before the entry);
 * - the checkpoint key: the MAC of the head checkpoint file (`audit-checkpoint.ts`).
 * No salt: the master key is already 32 uniformly random bytes, for which RFC 5869 §3.1 says a salt adds
 * nothing essential.
 *
 * The database does not hold the master key, so someone who can only edit the database can neither write
 * an entry that verifies nor re-key the chain after editing one.
 *
 * How appends find the key without every use case passing it: {@link bindAuditKey} attaches it to a
 * drizzle database handle, in a WeakMap keyed by the handle's SQL dialect object. drizzle (0.45) hands the
 * database's dialect to every transaction and nested transaction (savepoint) it creates, on PGlite and on
 * postgres.js alike, and a new `drizzle(…)` gets a new dialect, so the binding reaches every appender of
 * that database and no other (tested in `audit.test.ts`).
 */
import { createHash, createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from "node:crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Db } from "./db.js";
import type { AUDIT_HASH_SCHEMES } from "./schema.js";
import { MASTER_KEY_BYTES } from "@ksef-certs/ksef/crypto";

/** How an entry's hash was made: `sha256` (no key; only before the first keyed entry) or `hmac-sha256` (the audit entry key). */
export type AuditHashScheme = (typeof AUDIT_HASH_SCHEMES)[number];

/** HKDF `info` of the entry key (RFC 5869 §2.3): changing it re-keys every future entry, so it is versioned. */
const ENTRY_KEY_INFO = "ksef-certs audit-log entry-mac v1";
/** HKDF `info` of the checkpoint key. */
const CHECKPOINT_KEY_INFO = "ksef-certs audit-log checkpoint-mac v1";
/** Length of both derived keys: 32 bytes, the output length of SHA-256 (RFC 2104 §3 recommends at least that). */
const DERIVED_KEY_BYTES = 32;

/** The two keys of the audit log, derived from the master key. Never logged: `KeyObject`s print no bytes. */
export interface AuditKeys {
  /** Key of the entries' HMAC-SHA256. */
  readonly entry: KeyObject;
  /** Key of the head checkpoint's HMAC-SHA256. */
  readonly checkpoint: KeyObject;
}

/**
 * Derives the audit keys: HKDF-SHA256 (RFC 5869) with the master key as input keying material, an empty
 * salt, `info` `ksef-certs audit-log entry-mac v1` for the entry key and `ksef-certs audit-log checkpoint-mac v1`
 * for the checkpoint key, 32 bytes each.
 * @param masterKey the 32-byte master key (`loadMasterKey`)
 * @returns both keys
 * @throws {KsefCertsError} VALIDATION when the master key is not 32 bytes
 */
export function deriveAuditKeys(masterKey: Uint8Array): AuditKeys {
  if (masterKey.byteLength !== MASTER_KEY_BYTES) {
    throw new KsefCertsError("VALIDATION", msg("store.auditKey.length", { expected: MASTER_KEY_BYTES, actual: masterKey.byteLength }), {
      hint: msg("store.auditKey.length.hint"),
    });
  }
  const derive = (info: string): KeyObject => createSecretKey(new Uint8Array(hkdfSync("sha256", masterKey, new Uint8Array(0), info, DERIVED_KEY_BYTES)));
  return { entry: derive(ENTRY_KEY_INFO), checkpoint: derive(CHECKPOINT_KEY_INFO) };
}

/**
 * JSON with sorted keys and no whitespace; `undefined` members dropped, dates as ISO strings.
 * @param value any JSON-like value
 * @throws {KsefCertsError} INTERNAL for binary data (it never belongs in the log)
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Uint8Array) throw new KsefCertsError("INTERNAL", msg("store.audit.binary"));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The hash of a canonical body: HMAC-SHA256 under `key`, or plain SHA-256 without one, as 64 lowercase hex digits.
 * @param body the canonical JSON
 * @param key the key, or `undefined` for plain SHA-256
 */
export function macHex(body: string, key: KeyObject | undefined): string {
  return (key === undefined ? createHash("sha256") : createHmac("sha256", key)).update(body, "utf8").digest("hex");
}

/**
 * Whether two hex digests are equal, in time that does not depend on where they differ.
 * @param a a digest as hex
 * @param b another
 */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}

/** Audit keys per drizzle dialect object (shared by a database and all its transactions). */
const boundKeys = new WeakMap<object, AuditKeys>();

function dialectOf(db: Db): object {
  const dialect: unknown = (db as unknown as { dialect?: unknown }).dialect;
  if (typeof dialect !== "object" || dialect === null) {
    // A drizzle upgrade that moved the dialect would silently make every append unkeyed: refuse instead.
    throw new KsefCertsError("INTERNAL", msg("store.auditKey.noDialect"));
  }
  return dialect;
}

/**
 * Makes every later append to the audit log through `db`, or through any transaction made from it,
 * keyed: its hash becomes HMAC-SHA256 under the entry key derived from `masterKey`. Bind once, right
 * after opening the store and before the first change. Binding the same key again does nothing.
 * @param db the database handle (not a transaction: the binding is per database)
 * @param masterKey the 32-byte master key
 * @throws {KsefCertsError} VALIDATION when the key is not 32 bytes
 * @throws {KsefCertsError} CONFLICT when another key is already bound to this database (one chain has one key)
 */
export function bindAuditKey(db: Db, masterKey: Uint8Array): void {
  const keys = deriveAuditKeys(masterKey);
  const dialect = dialectOf(db);
  const existing = boundKeys.get(dialect);
  if (existing !== undefined) {
    if (existing.entry.equals(keys.entry)) return;
    throw new KsefCertsError("CONFLICT", msg("store.auditKey.otherBound"), {
      hint: msg("store.auditKey.otherBound.hint"),
    });
  }
  boundKeys.set(dialect, keys);
}

/**
 * The audit keys bound to `db` (or to the database `db` is a transaction of), if any.
 * @param db a database or transaction handle
 */
export function boundAuditKeys(db: Db): AuditKeys | undefined {
  return boundKeys.get(dialectOf(db));
}
