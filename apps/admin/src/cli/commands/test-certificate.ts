/**
 * `ksef-certs test-certificate`: a self-signed certificate for a person or a company, for KSeF TEST only.
 *
 * KSeF TEST accepts self-signed certificates for XAdES authentication (ksef-docs `srodowiska.md`), so integrators
 * try the whole flow without Profil Zaufany: the identity comes from the subject (serialNumber
 * `PNOPL-<PESEL>` / `TINPL-<NIP>` for a person, organizationIdentifier `VATPL-<NIP>` for a company seal).
 * DEMO and production refuse such certificates.
 */
import type { Command } from "commander";
import { encryptPrivateKeyPem, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { checkNip, checkPesel } from "@ksef-certs/ksef/policies";
import { selfSignedCertificate } from "@ksef-certs/ksef/testing";
import { type NameAttributeInput } from "@ksef-certs/ksef/testing";
import { checkOutputs, writeOutputs } from "../files.js";
import {
  addForceOption,
  addJsonOption,
  addNewPasswordOptions,
  addPasswordOptions,
  type CommandEnv,
  type CommonOptions,
  examples,
  type InputPasswordOptions,
  helpText,
} from "../options.js";
import { Output } from "../output.js";
import { type NewPasswordProfile, Passwords } from "../password.js";

/** Options of `test-certificate`. */
export interface TestCertificateOptions extends CommonOptions, InputPasswordOptions {
  readonly givenName?: string;
  readonly surname?: string;
  readonly pesel?: string;
  readonly nip?: string;
  readonly organization?: string;
  readonly outCert: string;
  readonly outKey: string;
  readonly days: string;
  readonly passwordProfile: NewPasswordProfile;
  readonly force?: boolean;
}

/**
 * Registers `test-certificate`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerTestCertificate(program: Command, env: CommandEnv): void {
  const cmd = program
    .command("test-certificate")
    .summary(helpText(env.io, msg("cli.help.testCertificate")))
    .description(
      "Make a self-signed EC P-256 certificate for signing AuthTokenRequests on KSeF TEST (and the local simulator),\n" +
        "which accept self-signed certificates. A person: --given-name, --surname and --pesel or --nip. A company seal:\n" +
        "--organization and --nip. The key is written encrypted like the KSeF web app's .key.",
    )
    .option("--given-name <name>", "a person's given name")
    .option("--surname <name>", "a person's surname")
    .option("--pesel <pesel>", "a person's PESEL (identity PNOPL-<PESEL>)")
    .option("--nip <nip>", "a person's NIP (TINPL-<NIP>) or, with --organization, the company's (VATPL-<NIP>)")
    .option("--organization <name>", "a company name: makes a company seal")
    .requiredOption("--out-cert <file>", "where to write the certificate (PEM)")
    .requiredOption("--out-key <file>", "where to write the encrypted private key (mode 0600)")
    .option("--days <n>", "validity in days", "365");
  addPasswordOptions(cmd, "the new key");
  addNewPasswordOptions(cmd, "the new key", false);
  addForceOption(cmd);
  addJsonOption(cmd);
  cmd.addHelpText(
    "after",
    examples([
      "ksef-certs test-certificate --given-name Jan --surname Kowalski --pesel 44051401458 --out-cert jan.crt --out-key jan.key",
      "ksef-certs test-certificate --organization 'Hurtownia Testowa' --nip 5265877635 --out-cert firma.crt --out-key firma.key",
    ]),
  );
  cmd.action(async (opts: TestCertificateOptions) => {
    await testCertificate(env, opts);
  });
}

function subjectOf(opts: TestCertificateOptions): NameAttributeInput[] {
  const violations = [];
  const utf8 = (oid: string, value: string): NameAttributeInput => ({ oid, value, stringType: "UTF8String" });
  const printable = (oid: string, value: string): NameAttributeInput => ({ oid, value, stringType: "PrintableString" });
  if (opts.organization !== undefined) {
    if (opts.nip === undefined) violations.push({ field: "nip", rule: "required", message: "A company seal needs --nip." });
    else violations.push(...checkNip(opts.nip));
    if (violations.length > 0) throw new KsefCertsError("VALIDATION", msg("cli.testCert.sealData"), { violations });
    return [utf8("2.5.4.3", opts.organization), utf8("2.5.4.10", opts.organization), utf8("2.5.4.97", `VATPL-${opts.nip ?? ""}`), printable("2.5.4.6", "PL")];
  }
  if (opts.givenName === undefined) violations.push({ field: "givenName", rule: "required", message: "A person needs --given-name." });
  if (opts.surname === undefined) violations.push({ field: "surname", rule: "required", message: "A person needs --surname." });
  if (opts.pesel === undefined && opts.nip === undefined) violations.push({ field: "pesel", rule: "required", message: "A person needs --pesel or --nip." });
  if (opts.pesel !== undefined) violations.push(...checkPesel(opts.pesel));
  if (opts.nip !== undefined) violations.push(...checkNip(opts.nip));
  if (violations.length > 0) throw new KsefCertsError("VALIDATION", msg("cli.testCert.personData"), { violations });
  const serial = opts.pesel === undefined ? `TINPL-${opts.nip ?? ""}` : `PNOPL-${opts.pesel}`;
  const given = opts.givenName ?? "";
  const surname = opts.surname ?? "";
  return [utf8("2.5.4.3", `${given} ${surname}`), utf8("2.5.4.42", given), utf8("2.5.4.4", surname), printable("2.5.4.5", serial), printable("2.5.4.6", "PL")];
}

/**
 * Runs `test-certificate`.
 * @param env the run's surface and state
 * @param opts parsed options
 * @throws {KsefCertsError} `VALIDATION` for incomplete or wrong identity data or password, `CONFLICT` when an output exists
 */
export async function testCertificate(env: CommandEnv, opts: TestCertificateOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const days = Number(opts.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new KsefCertsError("VALIDATION", msg("cli.testCert.days"), {
      violations: [{ field: "days", rule: "range", message: "1 to 3650 days." }],
    });
  }
  const subject = subjectOf(opts);
  await checkOutputs(io, [opts.outCert, opts.outKey], opts.force === true);
  const passwords = new Passwords(io, {
    output: { file: opts.passwordFile, stdin: opts.passwordStdin, names: { file: "--password-file", stdin: "--password-stdin" } },
    profile: opts.passwordProfile,
  });
  const password = await passwords.fresh(opts.outKey);
  const keys = await generateKeyPair("EC-P256");
  const cert = await selfSignedCertificate(keys, subject, { validityDays: days });
  await writeOutputs(
    io,
    [
      { path: opts.outCert, data: cert.certificate, mode: 0o644 },
      { path: opts.outKey, data: await encryptPrivateKeyPem(keys.privateKey, password), mode: 0o600 },
    ],
    opts.force === true,
  );
  out.result({ certificate: opts.outCert, key: opts.outKey, subject: subject.map((a) => a.value).join(", ") }, [
    out.t(msg("cli.testCert.wroteCertificate", { file: opts.outCert, subject: subject[0]?.value ?? "" })),
    out.t(msg("cli.testCert.wroteKey", { file: opts.outKey })),
  ]);
}
