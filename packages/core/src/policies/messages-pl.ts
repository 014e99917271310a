/**
 * Polish wording of every policy violation, keyed by its stable `rule` id, for the web app and CLI.
 */
import type { Violation } from "../errors.js";

type Params = Readonly<Record<string, string | number>>;

/** Polish message builders by rule id. */
export const MESSAGES_PL: Readonly<Record<string, (p: Params) => string>> = {
  "certificateName.length": (p) => `Nazwa certyfikatu musi mieć od ${p.min ?? 5} do ${p.max ?? 100} znaków (ma ${p.actual ?? "?"}).`,
  "certificateName.characters": () => "Nazwa certyfikatu może zawierać tylko litery (także polskie), cyfry, spację, _ oraz -.",
  "certificateName.charactersNoDiacritics": () => "Nazwa certyfikatu może zawierać tylko litery bez polskich znaków, cyfry, spację, _ oraz -.",
  "password.length": (p) => (p.max === undefined ? `Hasło musi mieć co najmniej ${p.min ?? 12} znaków.` : `Hasło musi mieć od ${p.min ?? 15} do ${p.max} znaków.`),
  "password.upper": () => "Hasło musi zawierać co najmniej jedną wielką literę.",
  "password.lower": () => "Hasło musi zawierać co najmniej jedną małą literę.",
  "password.digit": () => "Hasło musi zawierać co najmniej jedną cyfrę.",
  "password.special": (p) => (p.specials === undefined ? "Hasło musi zawierać co najmniej jeden znak specjalny." : `Hasło musi zawierać co najmniej jeden ze znaków ${p.specials}`),
  "password.characters": (p) => `Hasło może zawierać tylko litery A–Z i a–z (bez polskich znaków), cyfry oraz ${p.specials ?? ""}`,
  "nip.format": () => "NIP składa się z dokładnie 10 cyfr, bez spacji i kresek.",
  "nip.pattern": () => "KSeF nie przyjmuje takiego NIP: nie może zaczynać się od 0 ani mieć 00 na 2. i 3. pozycji.",
  "nip.checksum": () => "Błędna cyfra kontrolna NIP: sprawdź, czy nie ma literówki.",
  "pesel.format": () => "PESEL składa się z dokładnie 11 cyfr.",
  "pesel.birthDate": () => "Pierwsze sześć cyfr numeru PESEL nie jest poprawną datą urodzenia.",
  "pesel.checksum": () => "Błędna cyfra kontrolna numeru PESEL: sprawdź, czy nie ma literówki.",
  "internalId.format": () => "Identyfikator wewnętrzny to NIP, kreska i 5 cyfr (np. 5265877635-00017).",
  "internalId.checksum": () => "Błędna cyfra kontrolna identyfikatora wewnętrznego: sprawdź, czy nie ma literówki.",
};

/**
 * The Polish message of a violation; falls back to its English message for a rule without one.
 * @param violation a violation from any policy check
 */
export function violationMessagePl(violation: Violation): string {
  const build = MESSAGES_PL[violation.rule];
  return build ? build(violation.params ?? {}) : violation.message;
}
