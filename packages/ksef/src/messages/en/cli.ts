/** English catalogue, section for the `ksef-certs` command line. Parameters are written `{{name}}`. */
export const cli = {
  "cli.error.label": "error:",
  "cli.hint.label": "hint:",
  "cli.lang.unknown": "Unknown language '{{lang}}' in --lang: use one of {{allowed}}. / Nieznany język '{{lang}}' w --lang: użyj jednego z {{allowed}}.",
  "cli.lang.unknown.hint": "Leave --lang out to follow LC_ALL, LC_MESSAGES or LANG. / Pomiń --lang, by język wynikał z LC_ALL, LC_MESSAGES lub LANG.",
  "cli.password.onArgv": "unknown option '{{option}}': passwords are never taken from the command line (shell history and the process list would keep them).",
  "cli.password.onArgv.hint": "Leave the option out to be asked on the terminal, or use --password-file FILE or --password-stdin.",
} as const;
