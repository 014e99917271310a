/**
 * What a `ksef-certs` run may touch, injected so that tests run the whole program in-process.
 */
import { isAbsolute, resolve } from "node:path";
import type { Locale } from "@ksef-certs/ksef/messages";

/** Somewhere text goes (process.stdout/stderr, or a buffer in tests). */
export interface TextSink {
  write(text: string): unknown;
}

/**
 * Asks for a password without echoing it (on the terminal: @inquirer/password on stderr).
 * @param message the question, e.g. `Password for cert.key:`
 * @returns what was typed, without the newline
 */
export type PasswordPrompt = (message: string) => Promise<string>;

/** The process surface a run uses. */
export interface CliIo {
  /** Where `--password-stdin` reads from. */
  readonly stdin: NodeJS.ReadableStream;
  /** Whether stdin is a terminal: only then are passwords prompted for. */
  readonly stdinIsTTY: boolean;
  /** Results: human text, or exactly one JSON object with `--json`. */
  readonly stdout: TextSink;
  /** Human errors, hints and progress notes. Prompts also go here, so stdout stays parseable. */
  readonly stderr: TextSink;
  /**
   * Environment. Read for `COLUMNS` (help width), `KSEF_CERTS_DEBUG` (show the text of unexpected
   * errors), and by the registry commands (store.ts) for `DATABASE_URL` (PostgreSQL; only from here,
   * never argv, since a URL may hold a password), `KSEF_CERTS_DATA_DIR` (the embedded database's folder
   * when `--data-dir` is not given) and `KSEF_CERTS_MASTER_KEY` / `KSEF_CERTS_MASTER_KEY_FILE` (the master
   * key sealing stored passwords). Never for passwords.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** The terminal password prompt. */
  readonly prompt: PasswordPrompt;
  /** The clock (for "days to expiry"); defaults to the system clock. */
  readonly now?: () => Date;
  /**
   * The language people read (errors, hints, notes, results); `runCli` sets it from `--lang`, else `LC_ALL`,
   * `LC_MESSAGES`, `LANG` (see `resolveLocale`). English when absent.
   */
  readonly locale?: Locale;
}

/**
 * `path` resolved against the run's working directory.
 * @param io the run's surface
 * @param path as given on the command line
 */
export function resolvePath(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd, path);
}
