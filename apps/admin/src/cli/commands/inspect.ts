/**
 * `ksef-certs inspect <file...>`: what each file is (by content, not by name) and what is in it.
 */
import type { Command } from "commander";
import {
  describeKey,
  detectFileKind,
  type FileKindDetection,
  importPkcs12,
  inspectPrivateKey,
  MAX_PKCS12_BYTES,
  parseCertificate,
  parseCsr,
} from "@ksef-certs/ksef/crypto";
import { KsefCertsError, localizeError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { CliIo } from "../context.js";
import { exitCodeFor } from "../exit-codes.js";
import { readInput } from "../files.js";
import { addJsonOption, addPasswordOptions, type CommandEnv, type CommonOptions, examples, type InputPasswordOptions, helpText } from "../options.js";
import { asKsefCertsError, humanError, Output } from "../output.js";
import { Passwords } from "../password.js";
import { certificateLines, certificateSummary, csrLines, csrSummary, keyFileLines, keyFileSummary, pkcs12Lines, pkcs12Summary } from "../summaries.js";

/** Options of `inspect`. */
export type InspectOptions = CommonOptions & InputPasswordOptions;

/** What `inspect` reports about one file (`ok: false` with `error` when it could not be read). */
export interface InspectedFile {
  readonly file: string;
  readonly ok: boolean;
  /** `certificate`, `private-key`, `encrypted-private-key`, `csr`, `pkcs12` or `unknown`. */
  readonly kind?: string;
  readonly container?: "pem" | "der";
  readonly certificate?: unknown;
  readonly privateKey?: unknown;
  readonly csr?: unknown;
  readonly pkcs12?: unknown;
  readonly error?: ReturnType<KsefCertsError["toJSON"]>;
}

/**
 * Registers `inspect` on the program.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerInspect(program: Command, env: CommandEnv): void {
  const cmd = program
    .command("inspect")
    .summary(helpText(env.io, msg("cli.help.inspect")))
    .description(
      "Tell what each file is from its content (a DER file named .pem is fine) and show what is in it:\n" +
        "  certificate: serial, subject, issuer, validity and days to expiry, KSeF type (keyUsage vs CN suffix),\n" +
        "               subject identifier (NIP/PESEL/fingerprint), key algorithm, SHA-256 fingerprint\n" +
        "  private key: format, PEM/DER, encryption parameters (no password needed), algorithm of a plain key\n" +
        "  CSR:         subject with string types, key algorithm, whether its signature verifies\n" +
        "  PKCS#12:     asks for the password, then the certificate and the key algorithm\n" +
        "Every file is reported; the exit code is non-zero if any of them failed (the first failure's code).",
    )
    .argument("<file...>", "files to inspect");
  addPasswordOptions(cmd, "PKCS#12 files (the same password for each)");
  addJsonOption(cmd);
  cmd.addHelpText(
    "after",
    examples(["ksef-certs inspect cert.crt cert.key", "ksef-certs inspect --json request.csr", "ksef-certs inspect bundle.p12 --password-file p12.pass"]),
  );
  cmd.action(async (files: string[], opts: InspectOptions) => {
    await inspect(env, files, opts);
  });
}

async function inspectOne(io: CliIo, passwords: Passwords, file: string, now: Date): Promise<{ entry: InspectedFile; human: string[] }> {
  const bytes = await readInput(io, file, MAX_PKCS12_BYTES, "file");
  const detected: FileKindDetection = detectFileKind(bytes);
  const head = { file, ok: true, kind: detected.kind, container: detected.container };
  const title = (what: string): string => `${file}: ${what} (${detected.container.toUpperCase()})`;
  switch (detected.kind) {
    case "certificate": {
      const summary = certificateSummary(parseCertificate(bytes), now);
      return { entry: { ...head, certificate: summary }, human: [title("certificate"), ...certificateLines(summary)] };
    }
    case "private-key":
    case "encrypted-private-key": {
      const summary = keyFileSummary(inspectPrivateKey(bytes));
      return { entry: { ...head, privateKey: summary }, human: [title(summary.encrypted ? "encrypted private key" : "private key"), ...keyFileLines(summary)] };
    }
    case "csr": {
      const summary = csrSummary(parseCsr(bytes));
      return { entry: { ...head, csr: summary }, human: [title("certificate signing request"), ...csrLines(summary)] };
    }
    case "pkcs12": {
      const p12 = await importPkcs12(bytes, await passwords.existing(`the PKCS#12 file ${file}`));
      const summary = pkcs12Summary(p12, parseCertificate(p12.certificate), describeKey(p12.privateKey), now);
      return { entry: { ...head, pkcs12: summary }, human: [title("PKCS#12"), ...pkcs12Lines(summary)] };
    }
    case "unknown":
      throw new KsefCertsError("MALFORMED", msg("cli.inspect.unknownFile", { file }), {
        hint: msg("cli.inspect.unknownFile.hint"),
        details: { file, detected: "unknown", container: detected.container, ...(detected.pemLabel === undefined ? {} : { pemLabel: detected.pemLabel }) },
      });
  }
}

/**
 * Runs `inspect`: reports every file, failed ones with their error, and sets a non-zero exit code
 * (the first failure's) when any failed.
 * @param env the run's surface and state
 * @param files the paths as given
 * @param opts parsed options
 * @throws {KsefCertsError} `VALIDATION` for conflicting password options (per-file failures are reported, not thrown)
 */
export async function inspect(env: CommandEnv, files: readonly string[], opts: InspectOptions): Promise<void> {
  const { io, state } = env;
  const out = new Output(io, opts.json === true);
  const passwords = new Passwords(io, { input: { file: opts.passwordFile, stdin: opts.passwordStdin } });
  const now = io.now?.() ?? new Date();
  const entries: InspectedFile[] = [];
  const human: string[] = [];
  let firstFailure: number | undefined;
  for (const file of files) {
    try {
      const { entry, human: lines } = await inspectOne(io, passwords, file, now);
      entries.push(entry);
      if (human.length > 0) human.push("");
      human.push(...lines);
    } catch (err) {
      const e = asKsefCertsError(err, io.env);
      firstFailure ??= exitCodeFor(e);
      entries.push({ file, ok: false, error: localizeError(e, io.locale ?? "en") });
      if (human.length > 0) human.push("");
      human.push(`${file}: failed (${e.code})`);
      if (!out.json)
        io.stderr.write(
          humanError(e, io.locale)
            .map((l) => `${file}: ${l}\n`)
            .join(""),
        );
    }
  }
  out.result({ files: entries }, human);
  if (firstFailure !== undefined) state.exitCode = firstFailure;
}
