import type { common as en } from "../en/common.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, common section (same ids and parameters as the English one). */
export const common = {
  "error.validation": "Dane naruszają reguły ({{count}}): {{rules}}.",
  "error.internal": "W ksef-certs wystąpił nieoczekiwany błąd. Szczegóły są w dzienniku.",
  "error.legacy": "{{text}}",
  "input.characters": "Pole {{field}} zawiera znak NUL lub niesparowany surogat.",
  "input.encoding": "Treść żądania nie jest poprawnym tekstem UTF-8.",
} as const satisfies PolishSection<typeof en>;
