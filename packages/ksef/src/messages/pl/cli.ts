import type { cli as en } from "../en/cli.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the `ksef-certs` command line (same ids and parameters as the English one). */
export const cli = {
  "cli.error.label": "błąd:",
  "cli.hint.label": "wskazówka:",
  // The choice of language failed, so this one sentence is said in both languages whatever the environment.
  "cli.lang.unknown": "Nieznany język '{{lang}}' w --lang: użyj jednego z {{allowed}}. / Unknown language '{{lang}}' in --lang: use one of {{allowed}}.",
  "cli.lang.unknown.hint": "Pomiń --lang, by język wynikał z LC_ALL, LC_MESSAGES lub LANG. / Leave --lang out to follow LC_ALL, LC_MESSAGES or LANG.",
  "cli.password.onArgv": "nieznana opcja '{{option}}': haseł nigdy nie podaje się w wierszu polecenia (zapamiętałaby je historia powłoki i lista procesów).",
  "cli.password.onArgv.hint": "Pomiń tę opcję, by program zapytał o hasło w terminalu, albo użyj --password-file PLIK lub --password-stdin.",
} as const satisfies PolishSection<typeof en>;
