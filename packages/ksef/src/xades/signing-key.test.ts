import { createPublicKey, type KeyObject } from "node:crypto";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { rejection, thrown } from "../testing/errors.js";
import { encryptPrivateKeyPem, generateKeyPair, type KeyPair } from "../crypto/index.js";
import { UnlockedKeyCache } from "./signing-key.js";

const PASSWORD = "Tajne-Haslo-123!";
let keys: KeyPair;
let other: KeyPair;
let encrypted: string;
let encryptedOther: string;

beforeAll(async () => {
  keys = await generateKeyPair("EC-P256");
  other = await generateKeyPair("EC-P256");
  // The KSeF web app layout: PBES2, PBKDF2-HMAC-SHA256, 100 000 iterations, AES-256-CBC (the defaults).
  encrypted = await encryptPrivateKeyPem(keys.privateKey, PASSWORD);
  encryptedOther = await encryptPrivateKeyPem(other.privateKey, PASSWORD);
});

afterEach(() => {
  vi.useRealTimers();
});

const publicOf = (k: KeyObject): KeyObject => (k.type === "public" ? k : createPublicKey(k));
const samePublicKey = (a: KeyObject, b: KeyObject): boolean => publicOf(a).equals(publicOf(b));

describe("UnlockedKeyCache", () => {
  it("unlocks the key once and then serves the same KeyObject (PEM text or the same bytes)", async () => {
    const cache = new UnlockedKeyCache();
    const first = await cache.unlock(encrypted, PASSWORD);
    expect(samePublicKey(first, keys.publicKey)).toBe(true);
    expect(first.type).toBe("private");
    expect(await cache.unlock(encrypted, PASSWORD)).toBe(first);
    expect(await cache.unlock(Buffer.from(encrypted, "utf8"), PASSWORD)).toBe(first);
    expect(cache.size).toBe(1);
    cache.clear();
  });

  it("never returns the cached key for a wrong password, and does not cache the failure", async () => {
    const cache = new UnlockedKeyCache();
    const first = await cache.unlock(encrypted, PASSWORD);
    expect((await rejection(cache.unlock(encrypted, "wrong password"))).code).toBe("WRONG_PASSWORD");
    expect((await rejection(cache.unlock(encrypted, `${PASSWORD} `))).code).toBe("WRONG_PASSWORD");
    expect((await rejection(cache.unlock(encrypted, ""))).code).toBe("WRONG_PASSWORD");
    expect(cache.size).toBe(1);
    expect(await cache.unlock(encrypted, PASSWORD)).toBe(first);
    cache.clear();
  });

  it("keeps different key files apart", async () => {
    const cache = new UnlockedKeyCache();
    const a = await cache.unlock(encrypted, PASSWORD);
    const b = await cache.unlock(encryptedOther, PASSWORD);
    expect(samePublicKey(b, other.publicKey)).toBe(true);
    expect(samePublicKey(a, b)).toBe(false);
    expect(cache.size).toBe(2);
    cache.clear();
  });

  it("shares one derivation between concurrent unlocks", async () => {
    const cache = new UnlockedKeyCache();
    const [a, b, c] = await Promise.all([cache.unlock(encrypted, PASSWORD), cache.unlock(encrypted, PASSWORD), cache.unlock(encrypted, PASSWORD)]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(cache.size).toBe(1);
    cache.clear();
  });

  it("forgets a key ttlMs after its last use, and each use extends it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const cache = new UnlockedKeyCache({ ttlMs: 1000 });
    const first = await cache.unlock(encrypted, PASSWORD);
    vi.advanceTimersByTime(900);
    expect(await cache.unlock(encrypted, PASSWORD)).toBe(first);
    vi.advanceTimersByTime(900); // 1800 ms after the first use, 900 after the last
    expect(await cache.unlock(encrypted, PASSWORD)).toBe(first);
    vi.advanceTimersByTime(1001);
    expect(cache.size).toBe(0);
    const again = await cache.unlock(encrypted, PASSWORD);
    expect(again).not.toBe(first);
    expect(samePublicKey(again, first)).toBe(true);
    cache.clear();
  });

  it("forgets the least recently used key beyond maxEntries", async () => {
    const cache = new UnlockedKeyCache({ maxEntries: 1 });
    const a = await cache.unlock(encrypted, PASSWORD);
    await cache.unlock(encryptedOther, PASSWORD);
    expect(cache.size).toBe(1);
    expect(await cache.unlock(encrypted, PASSWORD)).not.toBe(a);
    cache.clear();
  });

  it("clear() forgets everything", async () => {
    const cache = new UnlockedKeyCache();
    const a = await cache.unlock(encrypted, PASSWORD);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(await cache.unlock(encrypted, PASSWORD)).not.toBe(a);
    cache.clear();
  });

  it("its timers do not keep the process alive (its Timeout is unref'd)", async () => {
    // Its own timer is told apart by its delay: counting every Timeout in the process would also count the test
    // runner's, which come and go while the key is decrypted.
    const ttlMs = 61_237;
    const timers: { ms: number | undefined; timer: NodeJS.Timeout }[] = [];
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation((fn: () => void, ms?: number) => {
      const timer = realSetTimeout(fn, ms);
      timers.push({ ms, timer });
      return timer;
    });
    const cache = new UnlockedKeyCache({ ttlMs });
    try {
      await cache.unlock(encrypted, PASSWORD);
    } finally {
      spy.mockRestore();
    }
    expect(cache.size).toBe(1);
    const own = timers.filter((t) => t.ms === ttlMs);
    expect(own).toHaveLength(1);
    expect(own[0]?.timer.hasRef()).toBe(false);
    cache.clear();
  });

  it("passes key errors through and validates its options", async () => {
    const cache = new UnlockedKeyCache();
    expect((await rejection(cache.unlock("not a key", PASSWORD))).code).toBe("MALFORMED");
    expect(cache.size).toBe(0);
    const err = thrown(() => new UnlockedKeyCache({ ttlMs: 0, maxEntries: 1.5 }));
    expect(err.code).toBe("VALIDATION");
    expect(err.violations.map((v) => v.field)).toEqual(["ttlMs", "maxEntries"]);
  });
});
