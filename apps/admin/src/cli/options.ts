/**
 * Options several commands share, declared once so that their spelling and help text agree.
 */
import { type Command, Option } from "commander";
import type { KeyAlgorithm } from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, translate, type MessageRef } from "@ksef-certs/ksef/messages";
import type { CliIo } from "./context.js";
import { NEW_PASSWORD_PROFILES, type NewPasswordProfile } from "./password.js";

/** Mutable state of one run, shared by the program and its commands. */
export interface RunState {
  /** Whether output is JSON (set from `--json` before parsing, confirmed by the command's options). */
  json: boolean;
  /** Exit code a command chose without throwing (e.g. `inspect` with some files failing). */
  exitCode: number;
}

/** What each command's registration gets. */
export interface CommandEnv {
  readonly io: CliIo;
  readonly state: RunState;
}

/**
 * A help text (a command's summary or description) in the run's language; commander keeps plain strings, so the
 * program is built for one locale.
 * @param io the run's surface (`io.locale`, English when absent)
 * @param ref the catalogue message
 */
export function helpText(io: CliIo, ref: MessageRef): string {
  return translate(io.locale ?? "en", ref);
}

/** Options every command has. */
export interface CommonOptions {
  readonly json?: boolean;
}

/** Options of commands that read a password-protected input. */
export interface InputPasswordOptions {
  readonly passwordFile?: string;
  readonly passwordStdin?: boolean;
}

/** Options of commands that write a password-protected output besides reading one (convert). */
export interface NewPasswordOptions {
  readonly newPasswordFile?: string;
  readonly newPasswordStdin?: boolean;
  readonly passwordProfile: NewPasswordProfile;
}

/**
 * Adds `--json`.
 * @param cmd the command
 */
export function addJsonOption(cmd: Command): Command {
  return cmd.option("--json", 'print one JSON object on stdout (errors too: {"error": {...}})');
}

/**
 * Adds `--password-file` and `--password-stdin`.
 * @param cmd the command
 * @param what what the password unlocks or protects, for the help text
 */
export function addPasswordOptions(cmd: Command, what: string): Command {
  return cmd
    .option("--password-file <file>", `read the password of ${what} from the first line of FILE (at most 4 KiB)`)
    .option("--password-stdin", `read the password of ${what} from the first line of stdin`);
}

/**
 * Adds `--new-password-file`, `--new-password-stdin` (when `withSources`) and `--password-profile`.
 * @param cmd the command
 * @param what what the new password protects, for the help text
 * @param withSources whether to add the `--new-password-*` sources (convert); keygen/csr use `--password-*`
 */
export function addNewPasswordOptions(cmd: Command, what: string, withSources: boolean): Command {
  if (withSources) {
    cmd
      .option("--new-password-file <file>", `read the new password of ${what} from the first line of FILE`)
      .option("--new-password-stdin", `read the new password of ${what} from stdin (the line after the input password, if that is piped too)`);
  }
  return cmd.addOption(
    new Option(
      "--password-profile <profile>",
      "rules the new password must meet: ksef-app (15-32 chars, A-Z a-z 0-9 and one of !@#$%^&*()-_+=), f2000 (12+ mixed), none",
    )
      .choices(NEW_PASSWORD_PROFILES)
      .default("ksef-app"),
  );
}

/** `--algorithm` values and the core name of each. */
export const ALGORITHMS: Readonly<Record<string, KeyAlgorithm>> = { "ec-p256": "EC-P256", "rsa-2048": "RSA-2048" };

/**
 * Adds `--algorithm ec-p256|rsa-2048` (default ec-p256).
 * @param cmd the command
 */
export function addAlgorithmOption(cmd: Command): Command {
  return cmd.addOption(
    new Option("--algorithm <algorithm>", "key algorithm of a new key (EC P-256 is what the KSeF web app uses)")
      .choices(Object.keys(ALGORITHMS))
      .default("ec-p256"),
  );
}

/**
 * The core algorithm name of an `--algorithm` value.
 * @param value the option value (already restricted by commander's choices)
 * @throws {KsefCertsError} `VALIDATION` for an unknown value (only reachable by direct calls)
 */
export function keyAlgorithm(value: string): KeyAlgorithm {
  const algorithm = ALGORITHMS[value];
  if (algorithm === undefined)
    throw new KsefCertsError("VALIDATION", msg("cli.algorithm.unknown", { value }), {
      hint: msg("cli.algorithm.unknown.hint", { allowed: Object.keys(ALGORITHMS).join(", ") }),
    });
  return algorithm;
}

/**
 * Adds `--force`.
 * @param cmd the command
 */
export function addForceOption(cmd: Command): Command {
  return cmd.option("--force", "replace output files that already exist");
}

/**
 * Help text listing examples, appended after the options.
 * @param lines example command lines (without the `$ ` prompt)
 */
export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}
