/**
 * `ksef-certs convert`: PEM pair → PKCS#12, PKCS#12 → PEM pair, any key → the KSeF web app's `.key` format.
 */
import { type Command, Option } from "commander";
import {
  assertKeyMatchesCertificate,
  describeKey,
  encodePem,
  encryptPrivateKeyPem,
  exportPkcs12,
  KSEF_KEY_ENCRYPTION,
  parseCertificate,
} from "@ksef-certs/ksef/crypto";
import { KsefCertsError, type Violation, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { checkOutputs, type OutputFile, writeOutputs } from "../files.js";
import { readCertificateFile, readKeyFile, readPkcs12File } from "../inputs.js";
import {
  addForceOption,
  addJsonOption,
  addNewPasswordOptions,
  addPasswordOptions,
  type CommandEnv,
  type CommonOptions,
  examples,
  type InputPasswordOptions,
  type NewPasswordOptions,
  helpText,
} from "../options.js";
import { encryptionText, keyText, Output } from "../output.js";
import { Passwords } from "../password.js";
import { certificateSummary } from "../summaries.js";

/** Conversion targets. */
export type ConvertTarget = "p12" | "pem" | "ksef-key";

/** Options of `convert`. */
export interface ConvertOptions extends CommonOptions, InputPasswordOptions, NewPasswordOptions {
  readonly to: ConvertTarget;
  readonly cert?: string;
  readonly key?: string;
  readonly p12?: string;
  readonly out?: string;
  readonly outCert?: string;
  readonly outKey?: string;
  readonly outChain?: string;
  readonly friendlyName?: string;
  readonly samePassword?: boolean;
  readonly force?: boolean;
}

type PathOption = "cert" | "key" | "p12" | "out" | "outCert" | "outKey" | "outChain" | "friendlyName";

const FLAGS: Readonly<Record<PathOption, string>> = {
  cert: "--cert",
  key: "--key",
  p12: "--p12",
  out: "--out",
  outCert: "--out-cert",
  outKey: "--out-key",
  outChain: "--out-chain",
  friendlyName: "--friendly-name",
};

const MODES: Readonly<Record<ConvertTarget, { readonly required: readonly PathOption[]; readonly optional: readonly PathOption[] }>> = {
  p12: { required: ["cert", "key", "out"], optional: ["friendlyName"] },
  pem: { required: ["p12", "outCert", "outKey"], optional: ["outChain"] },
  "ksef-key": { required: ["key", "out"], optional: [] },
};

/**
 * Checks that `opts` has exactly the options its `--to` uses.
 * @param opts parsed options
 * @throws {KsefCertsError} `VALIDATION` listing every missing and every inapplicable option
 */
function checkMode(opts: ConvertOptions): void {
  const mode = MODES[opts.to];
  const violations: Violation[] = [];
  for (const name of mode.required) {
    if (opts[name] === undefined) violations.push(violation(FLAGS[name], "convert.required", { to: opts.to, option: FLAGS[name] }));
  }
  for (const name of Object.keys(FLAGS) as PathOption[]) {
    if (opts[name] !== undefined && !mode.required.includes(name) && !mode.optional.includes(name)) {
      violations.push(violation(FLAGS[name], "convert.notApplicable", { to: opts.to, option: FLAGS[name] }));
    }
  }
  if (violations.length > 0) {
    throw new KsefCertsError("VALIDATION", msg("cli.convert.optionsMismatch", { to: opts.to }), {
      hint: msg("cli.convert.optionsMismatch.hint"),
      violations,
    });
  }
}

/**
 * Registers `convert` on the program.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerConvert(program: Command, env: CommandEnv): void {
  const cmd = program
    .command("convert")
    .summary(helpText(env.io, msg("cli.help.convert")))
    .description(
      "Convert between the files KSeF and programs use. Outputs are written atomically, key-bearing files with\n" +
        "mode 0600; existing files are kept unless --force. Keys are only ever written encrypted.\n" +
        "  --to p12       --cert FILE --key FILE --out FILE.p12   (key password, then a new PKCS#12 password)\n" +
        "  --to pem       --p12 FILE --out-cert FILE.crt --out-key FILE.key [--out-chain FILE]\n" +
        "                 (PKCS#12 password, then a new key password; the key is written in the KSeF web app's format)\n" +
        "  --to ksef-key  --key FILE --out FILE.key   (any supported key, re-encrypted in the KSeF web app's format)\n" +
        "The input's password comes from the prompt, --password-file or --password-stdin; the new one from the\n" +
        "prompt (asked twice), --new-password-file, --new-password-stdin, or --same-password.",
    )
    .addOption(new Option("--to <target>", "what to produce").choices(["p12", "pem", "ksef-key"]).makeOptionMandatory())
    .option("--cert <file>", "certificate to pack (--to p12)")
    .option("--key <file>", "private key to pack or re-encrypt (--to p12, --to ksef-key)")
    .option("--p12 <file>", "PKCS#12 file to unpack (--to pem)")
    .option("--out <file>", "output file (--to p12, --to ksef-key)")
    .option("--out-cert <file>", "where to write the certificate, PEM (--to pem)")
    .option("--out-key <file>", "where to write the encrypted private key (--to pem)")
    .option("--out-chain <file>", "where to write the other certificates of the PKCS#12 file, PEM (--to pem)")
    .option("--friendly-name <name>", "name shown for the entry by Windows and openssl (--to p12)")
    .option("--same-password", "protect the output with the input's password instead of asking for a new one");
  addPasswordOptions(cmd, "the input key or PKCS#12 file");
  addNewPasswordOptions(cmd, "the output", true);
  addForceOption(cmd);
  addJsonOption(cmd);
  cmd.addHelpText(
    "after",
    examples([
      "ksef-certs convert --to p12 --cert cert.crt --key cert.key --out cert.p12",
      "ksef-certs convert --to p12 --cert cert.crt --key cert.key --out cert.p12 --same-password",
      "ksef-certs convert --to pem --p12 cert.p12 --out-cert cert.crt --out-key cert.key",
      "ksef-certs convert --to ksef-key --key plain.pem --out cert.key",
      'printf \'%s\\n%s\\n\' "$OLD" "$NEW" | ksef-certs convert --to ksef-key --key old.key --out new.key --password-stdin --new-password-stdin',
    ]),
  );
  cmd.action(async (opts: ConvertOptions) => {
    await convert(env, opts);
  });
}

function passwordsFor(env: CommandEnv, opts: ConvertOptions): Passwords {
  return new Passwords(env.io, {
    input: { file: opts.passwordFile, stdin: opts.passwordStdin },
    output: { file: opts.newPasswordFile, stdin: opts.newPasswordStdin },
    sameAsInput: opts.samePassword === true,
    profile: opts.passwordProfile,
  });
}

function noPasswordToReuse(path: string): KsefCertsError {
  return new KsefCertsError("VALIDATION", msg("cli.convert.notEncrypted", { path }), {
    hint: msg("cli.convert.notEncrypted.hint"),
  });
}

/**
 * Runs `convert`.
 * @param env the run's surface and state
 * @param opts parsed options
 * @throws {KsefCertsError} `VALIDATION` for options that do not fit `--to` or a rejected new password; `CONFLICT`
 *   when an output exists (without `--force`); `KEY_MISMATCH`, `WRONG_PASSWORD`, `PASSWORD_REQUIRED`, `MALFORMED`,
 *   `UNSUPPORTED` from reading the inputs; file-system codes
 */
export async function convert(env: CommandEnv, opts: ConvertOptions): Promise<void> {
  checkMode(opts);
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const force = opts.force === true;
  const passwords = passwordsFor(env, opts);
  const now = io.now?.() ?? new Date();

  if (opts.to === "p12") {
    const [certPath, keyPath, outPath] = [opts.cert ?? "", opts.key ?? "", opts.out ?? ""];
    await checkOutputs(io, [outPath], force);
    const certificate = await readCertificateFile(io, certPath);
    const key = await readKeyFile(io, passwords, keyPath);
    assertKeyMatchesCertificate(key.key, certificate);
    if (opts.samePassword === true && !key.usedPassword) throw noPasswordToReuse(keyPath);
    const password = await passwords.fresh(outPath);
    const pfx = await exportPkcs12({
      certificate: certificate.der,
      privateKey: key.key,
      password,
      ...(opts.friendlyName === undefined ? {} : { friendlyName: opts.friendlyName }),
    });
    await writeOutputs(io, [{ path: outPath, data: pfx, mode: 0o600 }], force);
    out.result({ to: "p12", outputs: [{ file: outPath, kind: "pkcs12" }], certificate: certificateSummary(certificate, now), key: key.description }, [
      out.t(
        msg("cli.convert.wroteP12", {
          file: outPath,
          subject: certificate.subjectText,
          serial: certificate.serialNumber,
          key: keyText(key.description, io.locale),
        }),
      ),
    ]);
    return;
  }

  if (opts.to === "pem") {
    const [p12Path, certOut, keyOut] = [opts.p12 ?? "", opts.outCert ?? "", opts.outKey ?? ""];
    await checkOutputs(io, [certOut, keyOut, ...(opts.outChain === undefined ? [] : [opts.outChain])], force);
    const p12 = await readPkcs12File(io, passwords, p12Path);
    const certificate = parseCertificate(p12.certificate);
    const password = await passwords.fresh(keyOut);
    const files: OutputFile[] = [
      { path: certOut, data: encodePem("CERTIFICATE", certificate.der), mode: 0o644 },
      { path: keyOut, data: await encryptPrivateKeyPem(p12.privateKey, password), mode: 0o600 },
    ];
    if (opts.outChain !== undefined) files.push({ path: opts.outChain, data: p12.chain.map((der) => encodePem("CERTIFICATE", der)).join(""), mode: 0o644 });
    await writeOutputs(io, files, force);
    if (p12.chain.length > 0 && opts.outChain === undefined) out.note(msg("cli.convert.chainNote", { file: p12Path, count: p12.chain.length }));
    const description = describeKey(p12.privateKey);
    out.result(
      {
        to: "pem",
        outputs: [
          { file: certOut, kind: "certificate" },
          { file: keyOut, kind: "encrypted-private-key", encryption: KSEF_KEY_ENCRYPTION },
          ...(opts.outChain === undefined ? [] : [{ file: opts.outChain, kind: "certificates", count: p12.chain.length }]),
        ],
        certificate: certificateSummary(certificate, now),
        key: description,
      },
      [
        out.t(msg("cli.convert.wroteCertificate", { file: certOut, subject: certificate.subjectText, serial: certificate.serialNumber })),
        out.t(
          msg("cli.keygen.wrotePrivate", { file: keyOut, key: keyText(description, io.locale), encryption: encryptionText(KSEF_KEY_ENCRYPTION, io.locale) }),
        ),
        ...(opts.outChain === undefined ? [] : [out.t(msg("cli.convert.wroteChain", { file: opts.outChain, count: p12.chain.length }))]),
      ],
    );
    return;
  }

  const [keyPath, outPath] = [opts.key ?? "", opts.out ?? ""];
  await checkOutputs(io, [outPath], force);
  const key = await readKeyFile(io, passwords, keyPath);
  if (opts.samePassword === true && !key.usedPassword) throw noPasswordToReuse(keyPath);
  const password = await passwords.fresh(outPath);
  await writeOutputs(io, [{ path: outPath, data: await encryptPrivateKeyPem(key.key, password), mode: 0o600 }], force);
  out.result(
    {
      to: "ksef-key",
      outputs: [{ file: outPath, kind: "encrypted-private-key", encryption: KSEF_KEY_ENCRYPTION }],
      from: { format: key.format, container: key.container },
      key: key.description,
    },
    [
      out.t(
        msg("cli.convert.wroteKey", {
          file: outPath,
          key: keyText(key.description, io.locale),
          format: key.format,
          container: key.container.toUpperCase(),
          encryption: encryptionText(KSEF_KEY_ENCRYPTION, io.locale),
        }),
      ),
    ],
  );
}
