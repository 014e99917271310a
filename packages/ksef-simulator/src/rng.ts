/**
 * A small seedable pseudo-random generator for fault injection, so a test that sets `seed` sees
 * the same sequence of injected failures on every run. Not for cryptography.
 * Algorithm: mulberry32 (public domain, 32-bit state; period 2^32).
 */

/** A function returning uniformly distributed numbers in [0, 1). */
export type Random = () => number;

/**
 * A generator seeded with `seed` (any 32-bit integer; other numbers are truncated).
 * @param seed the seed; default a value from Math.random (non-reproducible)
 */
export function seededRandom(seed: number = Math.floor(Math.random() * 2 ** 32)): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
