/**
 * The language `ksef-signer` speaks: `--lang pl|en` wins; else the POSIX variables (`LC_ALL`, `LC_MESSAGES`, `LANG`,
 * through core `resolveLocale`); else, on Windows — where operators' desktops are mostly Polish and none of those
 * variables is usually set — the system's language as `Intl.DateTimeFormat().resolvedOptions().locale` reports it
 * (Polish when it starts with `pl`); English otherwise.
 */
import { resolveLocale, type Locale } from "@ksef-certs/ksef/messages";

/** The POSIX variables that name a language, in their order of precedence. */
const POSIX_VARIABLES = ["LC_ALL", "LC_MESSAGES", "LANG"] as const;

/**
 * The language when `--lang` is not given.
 * @param env the process environment (`LC_ALL`, `LC_MESSAGES`, `LANG`)
 * @param platform `process.platform` (the system language counts on `win32` only)
 * @param systemLocale the system's BCP 47 locale, e.g. `pl-PL` (`Intl.DateTimeFormat().resolvedOptions().locale`)
 * @returns `pl` or `en`
 */
export function defaultLocale(env: Readonly<Record<string, string | undefined>>, platform: string, systemLocale: string): Locale {
  const posixSet = POSIX_VARIABLES.some((name) => (env[name] ?? "") !== "");
  if (posixSet || platform !== "win32") return resolveLocale(undefined, env);
  return systemLocale.toLowerCase().startsWith("pl") ? "pl" : "en";
}

/**
 * The value given to `--lang` (`--lang pl` or `--lang=pl`), if any; the last one wins, as with commander. Arguments
 * after `--` are operands, not options.
 * @param argv the arguments after the program name
 */
export function langArgument(argv: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a === "--") break;
    if (a === "--lang") found = argv[++i] ?? "";
    else if (a.startsWith("--lang=")) found = a.slice("--lang=".length);
  }
  return found;
}
