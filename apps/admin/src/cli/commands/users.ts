/**
 * `ksef-certs users reset-password --login L`: the way back in when an account's password is lost (the first
 * admin's included), for whoever holds the installation (its data folder or `DATABASE_URL`). The new password
 * comes from `--password-file`, `--password-stdin`, the terminal (asked twice) or `--generate` (printed once);
 * never from the command line. Every session of the account ends; the reset is audited.
 */
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { checkAccountPassword, resetPassword } from "@ksef-certs/domain/access";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, translate } from "@ksef-certs/ksef/messages";
import { addPasswordOptions, type CommandEnv, examples, type InputPasswordOptions, helpText } from "../options.js";
import { Output } from "../output.js";
import { Passwords } from "../password.js";
import { addStoreOptions, cliActor, nowOf, type StoreOptions, withStore } from "../store.js";

/** Options of `users reset-password`. */
export interface ResetPasswordOptions extends StoreOptions, InputPasswordOptions {
  readonly login: string;
  readonly generate?: boolean;
}

/**
 * Registers `users reset-password`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerUsers(program: Command, env: CommandEnv): void {
  const group = program
    .command("users")
    .summary(helpText(env.io, msg("cli.help.users")))
    .description(helpText(env.io, msg("cli.help.users.description")));
  const reset = group
    .command("reset-password")
    .summary(helpText(env.io, msg("cli.help.users.resetPassword")))
    .description(
      "Set a new password for an account of the admin web app without the old one, for whoever holds this installation (its data\n" +
        "folder or DATABASE_URL). Every session of the account ends and its sign-in throttle is cleared; the reset is audited.\n" +
        "The password is read from --password-file, --password-stdin or the terminal (asked twice), or generated with --generate\n" +
        "and printed once. Account passwords have at least 12 characters.",
    )
    .requiredOption("--login <login>", "the account's login (the first admin is `admin`)")
    .option("--generate", "generate a random password and print it once");
  addPasswordOptions(reset, "the account");
  addStoreOptions(reset).addHelpText(
    "after",
    examples([
      "ksef-certs users reset-password --login admin",
      "ksef-certs users reset-password --login admin --generate --data-dir ./ksef-data",
      "ksef-certs users reset-password --login ewa --password-file nowe.txt --json",
    ]),
  );
  reset.action(async (opts: ResetPasswordOptions) => {
    const out = new Output(env.io, opts.json === true);
    const password = await newAccountPassword(env, opts);
    const { userId } = await withStore(env, opts, (s) => resetPassword(s.db, { login: opts.login, password }, { actor: cliActor(env.io), at: nowOf(env.io) }));
    out.result({ userId, login: opts.login.trim().toLowerCase(), ...(opts.generate === true ? { password } : {}) }, [
      `new password set for ${opts.login.trim().toLowerCase()}; every session of the account ended`,
      ...(opts.generate === true ? [`password: ${password}  (shown only now)`] : []),
    ]);
  });
}

async function newAccountPassword(env: CommandEnv, opts: ResetPasswordOptions): Promise<string> {
  const sources = [opts.generate === true, opts.passwordFile !== undefined, opts.passwordStdin === true].filter(Boolean).length;
  if (sources > 1)
    throw new KsefCertsError("VALIDATION", msg("cli.users.passwordSources"), {
      hint: msg("cli.users.passwordSources.hint"),
    });
  if (opts.generate === true) return randomBytes(18).toString("base64url");
  const passwords = new Passwords(env.io, { input: { file: opts.passwordFile, stdin: opts.passwordStdin } });
  const password = await passwords.existing("the account");
  const v = checkAccountPassword(password, "password");
  if (v.length > 0) throw new KsefCertsError("VALIDATION", msg("cli.users.passwordRules", { text: v.map((x) => x.message).join(" ") }), { violations: v });
  if (
    opts.passwordFile === undefined &&
    opts.passwordStdin !== true &&
    env.io.stdinIsTTY &&
    (await env.io.prompt(translate(env.io.locale ?? "en", msg("cli.prompt.repeatPassword")))) !== password
  ) {
    throw new KsefCertsError("VALIDATION", msg("cli.password.differ"), {
      violations: [{ field: "password", rule: "password.repeat", message: "The two passwords differ." }],
    });
  }
  return password;
}
