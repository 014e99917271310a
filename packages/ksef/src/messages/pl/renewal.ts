import type { renewal as en } from "../en/renewal.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for renewals (same ids and parameters as the English one). */
export const renewal = {
  "renewal.policy.invalid": "Zasady odnawiania są nieprawidłowe: {{reasons}}",
  "renewal.policy.workstation": "Stanowisko musi należeć do firmy tego zakresu.",
  "renewal.blocked": "Odnowienie nie może przebiec samo.",
  "renewal.blocked.noMasterKey": "Nie skonfigurowano klucza głównego: bez niego nic nie zostanie podpisane ani zapieczętowane automatycznie.",
  "renewal.blocked.passwordNotSealed":
    "Hasło klucza nie jest zapieczętowane kluczem głównym, a zasady każą go użyć ponownie: zapieczętuj je albo wybierz hasło generowane.",
  "renewal.blocked.noWorkstation": "Musi podpisać osoba, ale zasady nie wskazują stanowiska.",
  "renewal.blocked.noSignerOffline":
    "Żaden ważny certyfikat Authentication posiadacza z zapieczętowanym hasłem nie może podpisać, a zasady nie wskazują stanowiska dla osoby.",
  "renewal.blocked.slotFull": "Ten zakres ma już {{max}} aktywne certyfikaty tego rodzaju (najwięcej, ile wolno): najpierw unieważnij jeden.",
  "renewal.blocked.refused": "Wniosek certyfikacyjny odrzucono: {{reason}}",
  "renewal.waiting.approval": "Czeka na zgodę administratora (zasady każą najpierw zapytać).",
  "renewal.waiting.password": "Czeka, aż administrator zatwierdzi odnowienie i poda hasło nowego klucza.",
  "renewal.waiting.signature": "Czeka na podpis osoby na stanowisku; prośba jest ponawiana codziennie aż do podpisu.",
  "renewal.retrying": "Przerwane przez przejściowy błąd, zostanie ponowione: {{reason}}",
  "renewal.failed": "Odnawianie przerwano po powtarzających się błędach: {{reason}}",
  "renewal.failed.gone": "Certyfikat wygasł albo został unieważniony, zanim uzyskano następcę.",
  "renewal.enrollmentFailed": "Wniosek certyfikacyjny odnowienia się nie powiódł: {{reason}}",
  "renewal.approve.notWaiting": "To odnowienie nie czeka na zgodę.",
  "renewal.approve.passwordNeeded": "Zasady wymagają hasła nowego klucza: podaj je razem ze zgodą.",
  "renewal.notFound": "Nie ma takiego odnowienia.",
} as const satisfies PolishSection<typeof en>;
