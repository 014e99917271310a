/**
 * Password profiles for the `.key` and `.p12` files we write.
 */
import { randomInt } from "node:crypto";
import { assertNoViolations, violation, type Violation } from "../errors.js";
import { msg } from "../messages/index.js";

/**
 * A password rule set.
 * - `ksef-app`: what the ministry web app demands for the `.key` it writes: 15–32 characters, at
 *   least one uppercase letter, one lowercase letter, one digit and one of `!@#$%^&*()-_+=`, and
 *   nothing else (no Polish letters, no spaces), so the same password works in every program.
 * - `f2000`: the F2000 ERP's rule: at least 12 characters with an uppercase and a lowercase letter,
 *   a digit and a special character (anything that is not a letter or digit).
 */
export type PasswordProfile = "ksef-app" | "f2000";

/** The special characters the `ksef-app` profile allows. */
export const KSEF_APP_PASSWORD_SPECIALS = "!@#$%^&*()-_+=";

const isUpper = (c: string): boolean => /^\p{Lu}$/u.test(c);
const isLower = (c: string): boolean => /^\p{Ll}$/u.test(c);
const isDigit = (c: string): boolean => /^[0-9]$/.test(c);

/**
 * Checks `password` against `profile` and returns every rule it breaks (field `password`), each
 * missing character class as its own violation. Neither the password nor anything derived from it
 * (its length, the offending characters) appears in a message or in `params`, so violations can be
 * logged and printed safely.
 * @param password the candidate password
 * @param profile see {@link PasswordProfile}
 * @returns violations, rules `password.length`, `password.upper`, `password.lower`, `password.digit`,
 *   `password.special`, `password.characters`
 */
export function checkPassword(password: string, profile: PasswordProfile): Violation[] {
  const chars = Array.from(password);
  const v: Violation[] = [];
  const push = (rule: string, params?: Record<string, string | number>): void => {
    v.push(violation("password", `password.${rule}`, params));
  };
  if (profile === "ksef-app") {
    const asciiLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);
    const special = (c: string): boolean => KSEF_APP_PASSWORD_SPECIALS.includes(c);
    if (chars.length < 15 || chars.length > 32) push("length", { min: 15, max: 32 });
    if (!chars.some((c) => /^[A-Z]$/.test(c))) push("upper", { context: "ascii" });
    if (!chars.some((c) => /^[a-z]$/.test(c))) push("lower", { context: "ascii" });
    if (!chars.some(isDigit)) push("digit");
    if (!chars.some(special)) push("special", { specials: KSEF_APP_PASSWORD_SPECIALS });
    const others = chars.filter((c) => !asciiLetter(c) && !isDigit(c) && !special(c));
    if (others.length > 0) {
      // The sentence names Polish letters only when some were typed: they are the usual reason.
      const polish = others.some((c) => /\p{L}/u.test(c));
      push("characters", { specials: KSEF_APP_PASSWORD_SPECIALS, ...(polish ? { context: "polish" } : {}) });
    }
  } else {
    if (chars.length < 12) push("length", { min: 12, context: "atLeast" });
    if (!chars.some(isUpper)) push("upper");
    if (!chars.some(isLower)) push("lower");
    if (!chars.some(isDigit)) push("digit");
    if (!chars.some((c) => !/^[\p{L}\p{N}]$/u.test(c))) push("special", { context: "any" });
  }
  return v;
}

/**
 * {@link checkPassword} that throws.
 * @param password the candidate password
 * @param profile see {@link PasswordProfile}
 * @throws {KsefCertsError} `VALIDATION` listing every violation
 */
export function assertPassword(password: string, profile: PasswordProfile): void {
  assertNoViolations(checkPassword(password, profile), msg("policy.password.invalid"));
}

/**
 * Whether `password` meets `profile` ({@link checkPassword} finds nothing).
 * @param password the candidate password
 * @param profile see {@link PasswordProfile}
 */
export function isValidPassword(password: string, profile: PasswordProfile): boolean {
  return checkPassword(password, profile).length === 0;
}

/**
 * A new random password that satisfies `ksef-app` (the ministry's rules, {@link checkPassword}): `length`
 * characters (15–32, default 24) of A–Z, a–z, 0–9 and {@link KSEF_APP_PASSWORD_SPECIALS}, at least one of each
 * class, from `node:crypto`'s CSPRNG. Used where nobody types the password (an unattended renewal that seals it).
 * @param length characters, 15–32
 * @throws {RangeError} for a length outside 15–32
 */
export function generateKsefPassword(length = 24): string {
  if (!Number.isInteger(length) || length < 15 || length > 32) throw new RangeError("length must be 15–32");
  const classes = ["ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789", KSEF_APP_PASSWORD_SPECIALS];
  const all = classes.join("");
  const pick = (from: string): string => from[randomInt(from.length)] ?? "";
  const chars = [...classes.map(pick), ...Array.from({ length: length - classes.length }, () => pick(all))];
  // Fisher–Yates, so the guaranteed classes do not always open the password.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] ?? "", chars[i] ?? ""];
  }
  return chars.join("");
}
