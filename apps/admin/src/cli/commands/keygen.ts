/**
 * `ksef-certs keygen`: a new key pair, the private key written encrypted exactly as the KSeF web app writes it.
 */
import type { Command } from "commander";
import { describeKey, encryptPrivateKeyPem, generateKeyPair, KSEF_KEY_ENCRYPTION } from "@ksef-certs/ksef/crypto";
import { msg } from "@ksef-certs/ksef/messages";
import { checkOutputs, writeOutputs, type OutputFile } from "../files.js";
import {
  addAlgorithmOption,
  addForceOption,
  addJsonOption,
  addNewPasswordOptions,
  addPasswordOptions,
  type CommandEnv,
  type CommonOptions,
  examples,
  type InputPasswordOptions,
  keyAlgorithm,
  helpText,
} from "../options.js";
import { encryptionText, keyText, Output } from "../output.js";
import { type NewPasswordProfile, Passwords } from "../password.js";

/** Options of `keygen`. */
export interface KeygenOptions extends CommonOptions, InputPasswordOptions {
  readonly algorithm: string;
  readonly out: string;
  readonly publicOut?: string;
  readonly passwordProfile: NewPasswordProfile;
  readonly force?: boolean;
}

/**
 * Registers `keygen` on the program.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerKeygen(program: Command, env: CommandEnv): void {
  const cmd = program
    .command("keygen")
    .summary(helpText(env.io, msg("cli.help.keygen")))
    .description(helpText(env.io, msg("cli.help.keygen.description")))
    .requiredOption("--out <file>", "where to write the encrypted private key (mode 0600)")
    .option("--public-out <file>", "also write the public key (SPKI PEM)");
  addAlgorithmOption(cmd);
  addPasswordOptions(cmd, "the new key");
  addNewPasswordOptions(cmd, "the new key", false);
  addForceOption(cmd);
  addJsonOption(cmd);
  cmd.addHelpText(
    "after",
    examples([
      "ksef-certs keygen --out new.key",
      "ksef-certs keygen --algorithm rsa-2048 --out new.key --public-out new.pub",
      "ksef-certs keygen --out new.key --password-file pass.txt --json",
    ]),
  );
  cmd.action(async (opts: KeygenOptions) => {
    await keygen(env, opts);
  });
}

/**
 * Runs `keygen`.
 * @param env the run's surface and state
 * @param opts parsed options
 * @throws {KsefCertsError} `CONFLICT` when an output exists (without `--force`), `VALIDATION` for a weak or
 *   mistyped password, `PASSWORD_REQUIRED` without a password source, file-system codes
 */
export async function keygen(env: CommandEnv, opts: KeygenOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const algorithm = keyAlgorithm(opts.algorithm);
  const paths = [opts.out, ...(opts.publicOut === undefined ? [] : [opts.publicOut])];
  await checkOutputs(io, paths, opts.force === true);
  const passwords = new Passwords(io, {
    output: { file: opts.passwordFile, stdin: opts.passwordStdin, names: { file: "--password-file", stdin: "--password-stdin" } },
    profile: opts.passwordProfile,
  });
  const password = await passwords.fresh(opts.out);
  const { privateKey, publicKey } = await generateKeyPair(algorithm);
  const files: OutputFile[] = [{ path: opts.out, data: await encryptPrivateKeyPem(privateKey, password), mode: 0o600 }];
  if (opts.publicOut !== undefined) files.push({ path: opts.publicOut, data: publicKey.export({ type: "spki", format: "pem" }), mode: 0o644 });
  await writeOutputs(io, files, opts.force === true);
  const description = describeKey(privateKey);
  out.result(
    {
      privateKey: { file: opts.out, format: "pkcs8-encrypted", container: "pem", key: description, encryption: KSEF_KEY_ENCRYPTION },
      ...(opts.publicOut === undefined ? {} : { publicKey: { file: opts.publicOut, format: "spki", container: "pem" } }),
    },
    [
      out.t(
        msg("cli.keygen.wrotePrivate", {
          file: opts.out,
          key: keyText(description, io.locale),
          encryption: encryptionText(KSEF_KEY_ENCRYPTION, io.locale),
        }),
      ),
      ...(opts.publicOut === undefined ? [] : [out.t(msg("cli.keygen.wrotePublic", { file: opts.publicOut }))]),
    ],
  );
}
