/**
 * Password profiles for the `.key` and `.p12` files we write.
 */
import { assertNoViolations, type Violation } from "../errors.js";

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
  const push = (rule: string, message: string, params?: Record<string, string | number>): void => {
    v.push({ field: "password", rule: `password.${rule}`, message, ...(params ? { params } : {}) });
  };
  if (profile === "ksef-app") {
    const asciiLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);
    const special = (c: string): boolean => KSEF_APP_PASSWORD_SPECIALS.includes(c);
    if (chars.length < 15 || chars.length > 32) push("length", "The password must have 15 to 32 characters.", { min: 15, max: 32 });
    if (!chars.some((c) => /^[A-Z]$/.test(c))) push("upper", "The password needs at least one uppercase letter (A–Z).");
    if (!chars.some((c) => /^[a-z]$/.test(c))) push("lower", "The password needs at least one lowercase letter (a–z).");
    if (!chars.some(isDigit)) push("digit", "The password needs at least one digit.");
    if (!chars.some(special)) push("special", `The password needs at least one of ${KSEF_APP_PASSWORD_SPECIALS}`, { specials: KSEF_APP_PASSWORD_SPECIALS });
    const others = chars.filter((c) => !asciiLetter(c) && !isDigit(c) && !special(c));
    if (others.length > 0) {
      const polish = others.some((c) => /\p{L}/u.test(c));
      push(
        "characters",
        `The password may contain only letters A–Z and a–z, digits and ${KSEF_APP_PASSWORD_SPECIALS}${polish ? " (no Polish letters)" : ""}.`,
        { specials: KSEF_APP_PASSWORD_SPECIALS },
      );
    }
  } else {
    if (chars.length < 12) push("length", "The password must have at least 12 characters.", { min: 12 });
    if (!chars.some(isUpper)) push("upper", "The password needs at least one uppercase letter.");
    if (!chars.some(isLower)) push("lower", "The password needs at least one lowercase letter.");
    if (!chars.some(isDigit)) push("digit", "The password needs at least one digit.");
    if (!chars.some((c) => !/^[\p{L}\p{N}]$/u.test(c))) push("special", "The password needs at least one special character (not a letter or digit).");
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
  assertNoViolations(checkPassword(password, profile), "The password does not meet the rules");
}

/**
 * Whether `password` meets `profile` ({@link checkPassword} finds nothing).
 * @param password the candidate password
 * @param profile see {@link PasswordProfile}
 */
export function isValidPassword(password: string, profile: PasswordProfile): boolean {
  return checkPassword(password, profile).length === 0;
}
