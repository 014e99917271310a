import type { enrollment as en } from "../en/enrollment.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for enrollment runs, their steps and the vault (sealing, unsealing, opening held keys) (same ids and parameters as the English one). */
export const enrollment = {
  // Requesting an enrollment: checks of the input and the registry rules.
  "enrollment.request.invalid": "Nie można złożyć wniosku o certyfikat: {{reasons}}",
  "enrollment.request.notInserted": "Zapis wniosku o certyfikat nie zwrócił wiersza.",
  "enrollment.request.signerUnfit": "Tym certyfikatem nie można podpisać tego uwierzytelnienia: {{reasons}}",
  "enrollment.request.workstationOtherCompany": "Stanowisko należy do innej firmy.",
  "enrollment.slot.maxActive_one":
    "Zakres {{scopeType}}, środowisko {{environment}}, typ {{certificateType}}: jest już {{count}} aktywny certyfikat (najwyżej {{max}}).",
  "enrollment.slot.maxActive_few":
    "Zakres {{scopeType}}, środowisko {{environment}}, typ {{certificateType}}: są już {{count}} aktywne certyfikaty (najwyżej {{max}}).",
  "enrollment.slot.maxActive_many":
    "Zakres {{scopeType}}, środowisko {{environment}}, typ {{certificateType}}: jest już {{count}} aktywnych certyfikatów (najwyżej {{max}}).",
  "enrollment.slot.maxActive_other":
    "Zakres {{scopeType}}, środowisko {{environment}}, typ {{certificateType}}: jest już {{count}} aktywnego certyfikatu (najwyżej {{max}}).",
  "enrollment.slot.maxActive.hint": "Najpierw unieważnij jeden z nich albo poczekaj, aż któryś wygaśnie.",
  "enrollment.slot.queuedNeedsCurrent":
    "Certyfikat oczekujący wymaga bieżącego w tym samym zakresie, środowisku i typie; zakres {{scopeType}}, środowisko {{environment}}, typ {{certificateType}} go nie ma.",
  "enrollment.slot.queuedNeedsCurrent.hint": "Złóż wniosek o certyfikat jako bieżący.",
  "enrollment.slot.oneQueued": "Zakres {{scopeType}}, środowisko {{environment}}, typ {{certificateType}} ma już certyfikat oczekujący.",
  "enrollment.slot.oneQueued.hint": "Najpierw unieważnij certyfikat oczekujący.",
  "enrollment.slot.oneCurrent": "Zakres {{scopeType}}, środowisko {{environment}}, typ {{certificateType}} ma już bieżący certyfikat (ważny do {{validTo}}).",
  "enrollment.slot.oneCurrent.hint": "Złóż wniosek o nowy certyfikat jako oczekujący: zastąpi bieżący, gdy ten wygaśnie.",
  // Running an enrollment.
  "enrollment.run.alreadyRunning": "Wniosek o certyfikat {{id}} jest już w toku.",
  "enrollment.run.unsettled": "Wniosek o certyfikat {{id}} nie ustalił się w ciągu {{steps}} kroków.",
  "enrollment.run.unknownState": "Wniosek o certyfikat {{id}} jest w nieznanym stanie „{{state}}”.",
  "enrollment.run.cancelled.enrolling": "Przerwano w trakcie uzyskiwania certyfikatu; wniosek można wznowić.",
  "enrollment.run.cancelled.waitingAuthXml": "Przerwano w trakcie oczekiwania na podpisany auth.xml; wniosek można wznowić.",
  "enrollment.run.concurrentChange": "Ktoś inny zmienił wniosek o certyfikat {{id}} w trakcie tego kroku.",
  "enrollment.run.concurrentChange.hint": "Prawdopodobnie obsługuje go inny proces; poczekaj, aż skończy, albo uruchom go ponownie później.",
  "enrollment.notFound.enrollment": "Nie ma wniosku o certyfikat o identyfikatorze {{id}}.",
  "enrollment.notFound.certificate": "Nie ma certyfikatu o identyfikatorze {{id}}.",
  "enrollment.notFound.workstation": "Nie ma stanowiska o identyfikatorze {{id}}.",
  "enrollment.notFound.company": "Nie ma firmy o identyfikatorze {{id}}.",
  // Steps: authentication, submission, polling, download, storing.
  "enrollment.auth.noHandoff": "Ten program nie ma skonfigurowanego przekazywania przez folder.",
  "enrollment.auth.noSigner": "Automatyczne uwierzytelnienie wymaga podpisującego.",
  "enrollment.auth.signerMissing": "Automatyczne uwierzytelnienie wymaga certyfikatu do podpisu i podpisującego.",
  "enrollment.auth.signerMissing.hint":
    "Certyfikat do podpisu usunięto albo program uruchomiono bez podpisującego; złóż wniosek ponownie z przekazaniem przez stanowisko.",
  "enrollment.auth.handoffMissing": "Przekazanie wymaga stanowiska i skonfigurowanego przekazywania przez folder.",
  "enrollment.auth.handoffMissing.hint": "Stanowisko usunięto albo program uruchomiono bez przekazywania; złóż wniosek o certyfikat ponownie.",
  "enrollment.auth.noSession": "Uwierzytelnienie zakończyło się bez sesji.",
  "enrollment.submit.limitReached":
    "KSeF nie pozwala teraz tej osobie złożyć wniosku o certyfikat (pozostałe wnioski: {{enrollmentRemaining}} z {{enrollmentLimit}}; pozostałe certyfikaty: {{certificateRemaining}} z {{certificateLimit}}).",
  "enrollment.submit.limitReached.hint": "Unieważnij niepotrzebne certyfikaty albo poproś MF o podniesienie limitu.",
  "enrollment.key.missing": "Wniosek o certyfikat {{id}} jest w stanie {{state}} bez klucza.",
  "enrollment.poll.noReference": "Wniosek o certyfikat {{id}} wysłano bez numeru referencyjnego KSeF.",
  "enrollment.download.noSerial": "Wniosek o certyfikat {{id}} nie ma numeru seryjnego certyfikatu do pobrania.",
  "enrollment.download.empty": "KSeF nie zwrócił certyfikatu o numerze seryjnym {{serial}}.",
  "enrollment.download.empty.hint": "Spróbuj ponownie za chwilę.",
  "enrollment.store.keyMismatch": "Certyfikat KSeF {{serial}} nie poświadcza klucza z wniosku {{id}}.",
  "enrollment.store.keyMismatch.hint": "Zgłoś to do wsparcia MF, podając numer seryjny i numer referencyjny wniosku.",
  "enrollment.store.typeMismatch": "Certyfikat KSeF {{serial}} jest typu {{actual}}, a nie {{requested}}, jak wnioskowano.",
  "enrollment.store.noKey": "Wniosek o certyfikat {{id}} nie ma klucza do połączenia z certyfikatem.",
  // The vault.
  "vault.passwordNotSealed": "Hasło klucza prywatnego certyfikatu do podpisu nie jest zapieczętowane, więc serwer nie może się nim sam uwierzytelnić.",
  // Rules only the enrollment request checks.
} as const satisfies PolishSection<typeof en>;
