/**
 * The certificate name rules: what KSeF's API accepts, and the web app's stricter form.
 */
import { assertNoViolations, violation, type Violation } from "../errors.js";
import { msg } from "../messages/index.js";

/**
 * Which certificate-name rule applies.
 * - `ksef-api`: SPEC `EnrollCertificateRequest.certificateName`: 5–100 characters of
 *   `^[a-zA-Z0-9_\-\ ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]+$` (letters incl. Polish ones, digits, space, `_`, `-`).
 * - `ksef-app`: the ministry web app's form: 5–50 characters, the same set without diacritics.
 */
export type CertificateNameProfile = "ksef-api" | "ksef-app";

const RULES: Record<CertificateNameProfile, { min: number; max: number; allowed: RegExp; allowedText: string }> = {
  "ksef-api": { min: 5, max: 100, allowed: /^[a-zA-Z0-9_\- ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]$/u, allowedText: "letters (Polish ones too), digits, space, _ and -" },
  "ksef-app": { min: 5, max: 50, allowed: /^[a-zA-Z0-9_\- ]$/u, allowedText: "letters without diacritics, digits, space, _ and -" },
};

/**
 * Checks a certificate name (the `certificateName` sent on enrollment) and returns every rule it breaks.
 * Length counts Unicode code points, as KSeF's validator counts characters.
 * @param name the proposed name
 * @param options `profile` (default `ksef-api`), see {@link CertificateNameProfile}
 * @returns violations with rules `certificateName.length` and `certificateName.characters` (field `certificateName`)
 */
export function checkCertificateName(name: string, options: { profile?: CertificateNameProfile } = {}): Violation[] {
  const profile = options.profile ?? "ksef-api";
  const rule = RULES[profile];
  const chars = Array.from(name);
  const violations: Violation[] = [];
  if (chars.length < rule.min || chars.length > rule.max) {
    violations.push(violation("certificateName", "certificateName.length", { min: rule.min, max: rule.max, actual: chars.length }));
  }
  const bad = [...new Set(chars.filter((c) => !rule.allowed.test(c)))];
  if (bad.length > 0) {
    violations.push(
      violation("certificateName", profile === "ksef-app" ? "certificateName.charactersNoDiacritics" : "certificateName.characters", {
        notAllowed: bad.join(""),
        notAllowedList: bad.map((c) => JSON.stringify(c)).join(" "),
      }),
    );
  }
  return violations;
}

/**
 * {@link checkCertificateName} that throws.
 * @param name the proposed name
 * @param options see {@link checkCertificateName}
 * @throws {KsefCertsError} `VALIDATION` listing every violation
 */
export function assertCertificateName(name: string, options: { profile?: CertificateNameProfile } = {}): void {
  assertNoViolations(checkCertificateName(name, options), msg("policy.certificateName.invalid"));
}

/**
 * Whether `name` is an acceptable certificate name ({@link checkCertificateName} finds nothing).
 * @param name the proposed name
 * @param options see {@link checkCertificateName}
 */
export function isValidCertificateName(name: string, options: { profile?: CertificateNameProfile } = {}): boolean {
  return checkCertificateName(name, options).length === 0;
}
