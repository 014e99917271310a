/**
 * Unlocked signing keys kept in memory for a short while. Opening an encrypted KSeF `.key` costs
 * PBKDF2 with 100 000 iterations (~20–45 ms, measured), and the peer client pays it on every
 * signature (measured: 23.8 ms per EC signature against 0.036 ms with a ready key). A login, a renewal and a
 * batch of KOD II links in a row should pay it once.
 *
 * What is kept: the `KeyObject` only, never the password nor the key bytes. Entries are found by an
 * HMAC-SHA256 under a random per-instance secret of (key file bytes, NUL, password): the password is
 * not retained, entries cannot be correlated across instances or processes, and a wrong password maps
 * to another entry and so never returns the cached key (it is derived and fails like any wrong password).
 */
import { createHmac, type KeyObject, randomBytes } from "node:crypto";
import { KsefCertsError } from "../errors.js";
import { readPrivateKey } from "../crypto/pkcs8.js";

/** Options of {@link UnlockedKeyCache}. */
export interface UnlockedKeyCacheOptions {
  /** How long an unlocked key is kept after its last use, ms; default 300 000 (5 minutes). 1 .. 86 400 000. */
  readonly ttlMs?: number;
  /** Most keys kept at once; the least recently used is forgotten first. Default 16; 1 .. 10 000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly key: Promise<KeyObject>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const MAX_TTL_MS = 86_400_000;
const MAX_ENTRIES = 10_000;

/**
 * A small in-memory cache of unlocked private keys (see the module comment). Keys are never exported
 * or written; timers are `unref`'d so the cache never keeps a process alive.
 *
 * @example
 * const keys = new UnlockedKeyCache();
 * const privateKey = await keys.unlock(await readFile("cert.key"), password); // PBKDF2 once
 * await signAuthTokenRequest(input, { privateKey, certificate });
 */
export class UnlockedKeyCache {
  readonly #secret = randomBytes(32);
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  /**
   * @param options time to live after last use and capacity
   * @throws {KsefCertsError} VALIDATION when `ttlMs` or `maxEntries` is out of range
   */
  constructor(options: UnlockedKeyCacheOptions = {}) {
    const ttlMs = options.ttlMs ?? 300_000;
    const maxEntries = options.maxEntries ?? 16;
    const violations = [];
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS) {
      violations.push({
        field: "ttlMs",
        rule: "unlockedKeyCache.ttlMs",
        message: `ttlMs must be an integer from 1 to ${MAX_TTL_MS} (ms).`,
        params: { max: MAX_TTL_MS },
      });
    }
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1 || maxEntries > MAX_ENTRIES) {
      violations.push({
        field: "maxEntries",
        rule: "unlockedKeyCache.maxEntries",
        message: `maxEntries must be an integer from 1 to ${MAX_ENTRIES}.`,
        params: { max: MAX_ENTRIES },
      });
    }
    if (violations.length > 0) throw new KsefCertsError("VALIDATION", "Invalid UnlockedKeyCache options.", { violations });
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** Number of keys currently held (including ones still being unlocked). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The private key of an encrypted (or plain) key file, derived once and then served from memory
   * until `ttlMs` after its last use. Concurrent calls for the same file and password share one
   * derivation. Failures are not cached.
   * @param encryptedKey the key file: PEM text or DER bytes (any layout `readPrivateKey` reads, at most 64 KiB)
   * @param password the key's password
   * @returns the private key
   * @throws {KsefCertsError} WRONG_PASSWORD, PASSWORD_REQUIRED, UNSUPPORTED, MALFORMED, TOO_LARGE as `readPrivateKey`;
   *   VALIDATION when `password` is not a string
   */
  async unlock(encryptedKey: Uint8Array | string, password: string): Promise<KeyObject> {
    if (typeof password !== "string") {
      throw new KsefCertsError("VALIDATION", "The key password must be text.", {
        violations: [{ field: "password", rule: "password.type", message: "The key password must be text." }],
      });
    }
    const id = this.#idOf(encryptedKey, password);
    const hit = this.#entries.get(id);
    if (hit !== undefined) {
      // Most recently used goes last; a key still being unlocked gets its timer when it resolves.
      this.#entries.delete(id);
      this.#entries.set(id, hit);
      if (hit.timer !== undefined) this.#schedule(id, hit);
      return hit.key;
    }
    const entry: Entry = { key: readPrivateKey(encryptedKey, { password }).then((info) => info.key), timer: undefined };
    this.#entries.set(id, entry);
    this.#evict();
    try {
      const key = await entry.key;
      if (this.#entries.get(id) === entry) this.#schedule(id, entry);
      return key;
    } catch (err) {
      if (this.#entries.get(id) === entry) this.#entries.delete(id);
      throw err;
    }
  }

  /** Forgets every key now (e.g. on logout or when the user locks the app). */
  clear(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #idOf(encryptedKey: Uint8Array | string, password: string): string {
    const bytes = typeof encryptedKey === "string" ? Buffer.from(encryptedKey, "utf8") : encryptedKey;
    return createHmac("sha256", this.#secret).update(bytes).update(Buffer.of(0)).update(password, "utf8").digest("base64");
  }

  #schedule(id: string, entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (this.#entries.get(id) === entry) this.#entries.delete(id);
    }, this.#ttlMs);
    entry.timer.unref();
  }

  #evict(): void {
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) return;
      clearTimeout(this.#entries.get(oldest.value)?.timer);
      this.#entries.delete(oldest.value);
    }
  }
}
