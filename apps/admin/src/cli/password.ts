/**
 * Where the CLI gets passwords from, and the policy new passwords must meet.
 *
 * Sources, in order of precedence:
 * 1. `--password-file FILE`: the file's first line (trailing CR/LF stripped); files over 4 KiB are refused.
 * 2. `--password-stdin`: the first line of stdin (with `--new-password-stdin` too: line 1 is the input's
 *    password, line 2 the new one). Refused when stdin is a terminal, where it would echo.
 * 3. The terminal prompt (@inquirer/password, no echo), when stdin is a TTY; new passwords are asked twice.
 *
 * Never from argv (no `--password VALUE`: shell history and `ps` would keep it) and not from an
 * environment variable. A password is never printed, logged or put in an error.
 */
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, translate, type MessageRef } from "@ksef-certs/ksef/messages";
import { checkPassword, type PasswordProfile } from "@ksef-certs/ksef/policies";
import type { CliIo } from "./context.js";
import { readInput } from "./files.js";

/** Largest password file accepted, in bytes. */
export const MAX_PASSWORD_FILE_BYTES = 4096;
/** Most bytes read from stdin for passwords. */
export const MAX_PASSWORD_STDIN_BYTES = 8192;

/** Rule set for a new password: a core {@link PasswordProfile}, or `none` (only "not empty"). */
export type NewPasswordProfile = PasswordProfile | "none";

/** The profiles `--password-profile` accepts, default first. */
export const NEW_PASSWORD_PROFILES: readonly NewPasswordProfile[] = ["ksef-app", "f2000", "none"];

/** Where one password comes from, as given on the command line. */
export interface PasswordSourceSpec {
  /** `--password-file` / `--new-password-file`. */
  readonly file?: string | undefined;
  /** `--password-stdin` / `--new-password-stdin`. */
  readonly stdin?: boolean | undefined;
  /** The option names as the command spells them, for messages (default `--password-file`/`--password-stdin` for inputs, `--new-password-…` for outputs). */
  readonly names?: { readonly file: string; readonly stdin: string };
}

const INPUT_NAMES = { file: "--password-file", stdin: "--password-stdin" } as const;
const OUTPUT_NAMES = { file: "--new-password-file", stdin: "--new-password-stdin" } as const;

/** Options of {@link Passwords}. */
export interface PasswordsOptions {
  /** Source of the password of something being read (a key, a PKCS#12 file). */
  readonly input?: PasswordSourceSpec;
  /** Source of the password of something being written. */
  readonly output?: PasswordSourceSpec;
  /** Use the input's password for the output too (`--same-password`). */
  readonly sameAsInput?: boolean;
  /** Policy for new passwords (default `ksef-app`). */
  readonly profile?: NewPasswordProfile;
}

function usage(message: MessageRef, hint?: MessageRef): KsefCertsError {
  return new KsefCertsError("VALIDATION", message, hint === undefined ? {} : { hint });
}

function firstLine(text: string): string {
  const end = text.indexOf("\n");
  const line = end === -1 ? text : text.slice(0, end);
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw usage(msg("cli.password.notUtf8", { where }), msg("cli.password.notUtf8.hint"));
  }
}

/** Reads lines from stdin on demand, at most {@link MAX_PASSWORD_STDIN_BYTES} in total. */
export class StdinLines {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private failure: Error | undefined;
  private listening = false;
  private wake: (() => void) | undefined;

  /** @param stream the run's stdin */
  constructor(private readonly stream: NodeJS.ReadableStream) {}

  /**
   * The line at `index` (0-based), without its CR/LF. Reading stops (stdin is paused) as soon as the
   * line is complete, so a pipe that stays open does not keep the process alive.
   * @param index which line
   * @throws {KsefCertsError} `PASSWORD_REQUIRED` when stdin ends first; `TOO_LARGE` past the byte limit; `IO` on a read error
   */
  async line(index: number): Promise<string> {
    for (;;) {
      const bounds = this.bounds(index);
      if ((bounds?.end ?? this.buffer.byteLength) > MAX_PASSWORD_STDIN_BYTES) {
        this.stream.pause();
        throw new KsefCertsError("TOO_LARGE", msg("cli.password.stdinTooLarge", { limit: MAX_PASSWORD_STDIN_BYTES }), {
          hint: msg("cli.password.stdinTooLarge.hint"),
          details: { limitBytes: MAX_PASSWORD_STDIN_BYTES },
        });
      }
      if (bounds !== undefined) {
        this.stream.pause();
        return firstLine(decodeUtf8(this.buffer.subarray(bounds.start, bounds.end), "stdin"));
      }
      if (this.failure !== undefined) throw new KsefCertsError("IO", msg("cli.password.stdinUnreadable"), { cause: this.failure });
      if (this.ended) {
        throw new KsefCertsError("PASSWORD_REQUIRED", index === 0 ? msg("cli.password.stdinEmpty") : msg("cli.password.stdinNoLine", { line: index + 1 }), {
          hint: msg("cli.password.stdinPipe.hint"),
        });
      }
      await this.next();
    }
  }

  /** Byte range of line `index` once it is complete (newline seen, or the last line at end of input). */
  private bounds(index: number): { start: number; end: number } | undefined {
    let start = 0;
    for (let i = 0; i < index; i++) {
      const nl = this.buffer.indexOf(0x0a, start);
      if (nl === -1) return undefined;
      start = nl + 1;
    }
    const nl = this.buffer.indexOf(0x0a, start);
    if (nl !== -1) return { start, end: nl };
    return this.ended && start < this.buffer.byteLength ? { start, end: this.buffer.byteLength } : undefined;
  }

  /** Waits for the next chunk, the end or an error; listeners stay attached so no event is lost. */
  private next(): Promise<void> {
    if (!this.listening) {
      this.listening = true;
      this.stream.on("data", (chunk: Buffer | string) => {
        this.buffer = Buffer.concat([this.buffer, typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk]);
        this.notify();
      });
      this.stream.on("end", () => {
        this.ended = true;
        this.notify();
      });
      this.stream.on("error", (err: Error) => {
        this.failure = err;
        this.notify();
      });
    }
    return new Promise<void>((resolveWait) => {
      this.wake = resolveWait;
      this.stream.resume();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * Reads a password file: its first line, trailing CR/LF stripped.
 * @param io the run's surface
 * @param path as given on the command line
 * @throws {KsefCertsError} `TOO_LARGE` over {@link MAX_PASSWORD_FILE_BYTES}; `NOT_FOUND`/`FORBIDDEN`/`IO` from the file system;
 *   `VALIDATION` when it is not UTF-8
 */
export async function readPasswordFile(io: CliIo, path: string): Promise<string> {
  const bytes = await readInput(io, path, MAX_PASSWORD_FILE_BYTES, "password file");
  return firstLine(decodeUtf8(bytes, path));
}

/**
 * Checks a new password against `profile`.
 * @param password the new password
 * @param profile the rule set; `none` only forbids an empty password
 * @throws {KsefCertsError} `VALIDATION` with every violation (the password itself is never in it)
 */
export function assertNewPassword(password: string, profile: NewPasswordProfile): void {
  if (password.length === 0) throw usage(msg("cli.password.newEmpty"), msg("cli.password.newEmpty.hint"));
  if (profile === "none") return;
  const violations = checkPassword(password, profile);
  if (violations.length === 0) return;
  throw new KsefCertsError("VALIDATION", msg("cli.password.weak", { profile }), {
    hint: profile === "ksef-app" ? msg("cli.password.weak.ksefApp.hint") : msg("cli.password.weak.hint"),
    violations,
  });
}

/** The passwords one command needs, fetched lazily from the sources the user chose. */
export class Passwords {
  private readonly stdin: StdinLines;
  private inputCache: string | undefined;

  /**
   * @param io the run's surface
   * @param options sources and policy
   * @throws {KsefCertsError} `VALIDATION` for conflicting sources or `--password-stdin` on a terminal
   */
  constructor(
    private readonly io: CliIo,
    private readonly options: PasswordsOptions,
  ) {
    const { input = {}, output = {} } = options;
    const inNames = input.names ?? INPUT_NAMES;
    const outNames = output.names ?? OUTPUT_NAMES;
    if (input.file !== undefined && input.stdin === true) throw usage(msg("cli.password.twoSources", { file: inNames.file, stdin: inNames.stdin }));
    if (output.file !== undefined && output.stdin === true) throw usage(msg("cli.password.twoSources", { file: outNames.file, stdin: outNames.stdin }));
    if (options.sameAsInput === true && (output.file !== undefined || output.stdin === true)) {
      throw usage(msg("cli.password.sameAndNew", { file: outNames.file, stdin: outNames.stdin }));
    }
    if ((input.stdin === true || output.stdin === true) && io.stdinIsTTY) {
      throw usage(
        msg("cli.password.stdinIsTerminal", { option: input.stdin === true ? inNames.stdin : outNames.stdin }),
        msg("cli.password.stdinIsTerminal.hint"),
      );
    }
    this.stdin = new StdinLines(io.stdin);
  }

  /**
   * The password of an existing input. From a file or stdin it is read once and reused for every
   * input; on a terminal each call asks (naming `what`).
   * @param what what it unlocks, e.g. `the key cert.key`
   * @throws {KsefCertsError} `PASSWORD_REQUIRED` when there is no source (not a terminal, no option)
   */
  async existing(what: string): Promise<string> {
    const { input = {} } = this.options;
    if (input.file !== undefined) return (this.inputCache ??= await readPasswordFile(this.io, input.file));
    if (input.stdin === true) return (this.inputCache ??= await this.stdin.line(0));
    if (this.io.stdinIsTTY) return this.io.prompt(translate(this.io.locale ?? "en", msg("cli.prompt.password", { what })));
    const names = input.names ?? INPUT_NAMES;
    throw new KsefCertsError("PASSWORD_REQUIRED", msg("cli.password.required", { what }), {
      hint: msg("cli.password.required.hint", { file: names.file, stdin: names.stdin }),
    });
  }

  /**
   * A new password for an output, checked against the profile; asked twice on a terminal.
   * @param what what it will protect, e.g. `new.key`
   * @throws {KsefCertsError} `VALIDATION` when it breaks the policy or the two entries differ;
   *   `PASSWORD_REQUIRED` when there is no source
   */
  async fresh(what: string): Promise<string> {
    const { output = {}, input = {}, profile = "ksef-app" } = this.options;
    let password: string;
    if (this.options.sameAsInput === true) {
      password = await this.existing(what);
    } else if (output.file !== undefined) {
      password = await readPasswordFile(this.io, output.file);
    } else if (output.stdin === true) {
      password = await this.stdin.line(input.stdin === true ? 1 : 0);
    } else if (this.io.stdinIsTTY) {
      password = await this.io.prompt(translate(this.io.locale ?? "en", msg("cli.prompt.newPassword", { what })));
      assertNewPassword(password, profile);
      const again = await this.io.prompt(translate(this.io.locale ?? "en", msg("cli.prompt.repeatNewPassword", { what })));
      if (again !== password) throw usage(msg("cli.password.differ"), msg("cli.password.differ.hint"));
      return password;
    } else {
      const names = output.names ?? OUTPUT_NAMES;
      throw new KsefCertsError("PASSWORD_REQUIRED", msg("cli.password.newRequired", { what }), {
        hint: msg("cli.password.newRequired.hint", { file: names.file, stdin: names.stdin }),
      });
    }
    assertNewPassword(password, profile);
    return password;
  }
}
