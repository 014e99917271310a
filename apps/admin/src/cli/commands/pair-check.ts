/**
 * `ksef-certs pair-check`: does this private key belong to this certificate?
 */
import type { Command } from "commander";
import { assertKeyMatchesCertificate } from "@ksef-certs/ksef/crypto";
import { msg } from "@ksef-certs/ksef/messages";
import { readCertificateFile, readKeyFile } from "../inputs.js";
import { addJsonOption, addPasswordOptions, type CommandEnv, type CommonOptions, examples, type InputPasswordOptions, helpText } from "../options.js";
import { formatFields, keyText, Output } from "../output.js";
import { Passwords } from "../password.js";

/** Options of `pair-check`. */
export interface PairCheckOptions extends CommonOptions, InputPasswordOptions {
  readonly cert: string;
  readonly key: string;
}

/**
 * Registers `pair-check` on the program.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerPairCheck(program: Command, env: CommandEnv): void {
  const cmd = program
    .command("pair-check")
    .summary(helpText(env.io, msg("cli.help.pairCheck")))
    .description(
      'Check that the private key belongs to the certificate (same public key). Prints "matches" and exits 0,\n' +
        "or fails with KEY_MISMATCH (exit code 6). An encrypted key needs its password.",
    )
    .requiredOption("--cert <file>", "the certificate (.crt, PEM or DER)")
    .requiredOption("--key <file>", "the private key (.key: encrypted or plain PKCS#8, PKCS#1, SEC1; PEM or DER)");
  addPasswordOptions(cmd, "the key");
  addJsonOption(cmd);
  cmd.addHelpText(
    "after",
    examples([
      "ksef-certs pair-check --cert cert.crt --key cert.key",
      "ksef-certs pair-check --cert cert.crt --key cert.key --password-stdin --json < pass.txt",
    ]),
  );
  cmd.action(async (opts: PairCheckOptions) => {
    await pairCheck(env, opts);
  });
}

/**
 * Runs `pair-check`.
 * @param env the run's surface and state
 * @param opts parsed options
 * @throws {KsefCertsError} `KEY_MISMATCH` when the key is not the certificate's; `WRONG_PASSWORD`/`PASSWORD_REQUIRED`
 *   for an encrypted key; `MALFORMED` for files of the wrong kind; file-system codes
 */
export async function pairCheck(env: CommandEnv, opts: PairCheckOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const certificate = await readCertificateFile(io, opts.cert);
  const passwords = new Passwords(io, { input: { file: opts.passwordFile, stdin: opts.passwordStdin } });
  const key = await readKeyFile(io, passwords, opts.key);
  assertKeyMatchesCertificate(key.key, certificate);
  out.result(
    {
      matches: true,
      certificate: {
        file: opts.cert,
        serialNumber: certificate.serialNumber,
        subject: certificate.subjectText,
        fingerprintSha256: certificate.fingerprintSha256,
      },
      privateKey: { file: opts.key, format: key.format, container: key.container, key: key.description },
    },
    [
      `matches: ${opts.key} is the private key of ${opts.cert}`,
      ...formatFields([
        ["certificate", `${certificate.subjectText} (serial ${certificate.serialNumber})`],
        ["key", keyText(key.description)],
      ]),
    ],
  );
}
