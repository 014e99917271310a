/**
 * `ksef-certs auth sign` and `ksef-certs auth verify`: the AuthTokenRequest (`auth.xml`) a person signs.
 *
 * `verify` is what an operator runs before handing a signed file over: who signed it (NIP/PESEL/fingerprint),
 * for which challenge and context, and whether KSeF would accept the signature — or the reason and KSeF error
 * code it would answer with. `sign` signs an auth.xml with a certificate and key held as files (for KSeF TEST,
 * which accepts self-signed certificates, or a qualified certificate exported as PEM): it is what Profil
 * Zaufany does on gov.pl, for trying the hand-off without it.
 */
import type { Command } from "commander";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { signXml, verifySignedAuthTokenRequest, xadesRejectionOf } from "@ksef-certs/ksef/xades";
import { checkOutputs, readInput, writeOutputs } from "../files.js";
import { readKeyFile } from "../inputs.js";
import {
  addForceOption,
  addJsonOption,
  addPasswordOptions,
  type CommandEnv,
  type CommonOptions,
  examples,
  type InputPasswordOptions,
  helpText,
} from "../options.js";
import { Output } from "../output.js";
import { Passwords } from "../password.js";

/** Largest auth.xml read, bytes (a signed AuthTokenRequest is a few KiB; Profil Zaufany's own limit is 10 MB). */
const MAX_AUTH_XML_BYTES = 1_048_576;

/** Options of `auth sign`. */
export interface AuthSignOptions extends CommonOptions, InputPasswordOptions {
  readonly cert: string;
  readonly key: string;
  readonly out: string;
  readonly force?: boolean;
}

/** Options of `auth verify`. */
export interface AuthVerifyOptions extends CommonOptions {
  readonly challenge?: string;
  readonly nip?: string;
}

/**
 * Registers `auth sign` and `auth verify`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerAuth(program: Command, env: CommandEnv): void {
  const auth = program.command("auth").summary(helpText(env.io, msg("cli.help.auth")));
  const sign = auth
    .command("sign")
    .summary(helpText(env.io, msg("cli.help.auth.sign")))
    .description(
      "Sign an AuthTokenRequest with XAdES-BES (enveloped, exclusive C14N, SHA-256, SigningCertificate), as Profil Zaufany\n" +
        "or a qualified signature would. KSeF TEST accepts self-signed certificates (see `ksef-certs test-certificate`);\n" +
        "DEMO and production need a qualified certificate, Profil Zaufany or a KSeF Authentication certificate.",
    )
    .argument("<file>", "the auth.xml to sign")
    .requiredOption("--cert <file>", "the signer's certificate (PEM or DER)")
    .requiredOption("--key <file>", "the signer's private key (encrypted PKCS#8 or any format `inspect` reads)")
    .requiredOption("--out <file>", "where to write the signed file (send these bytes unchanged)");
  addPasswordOptions(sign, "the key");
  addForceOption(sign);
  addJsonOption(sign);
  sign.addHelpText("after", examples(["ksef-certs auth sign auth.xml --cert jan.crt --key jan.key --out auth.signed.xml"]));
  sign.action(async (file: string, opts: AuthSignOptions) => {
    await authSign(env, file, opts);
  });

  const verify = auth
    .command("verify")
    .summary(helpText(env.io, msg("cli.help.auth.verify")))
    .argument("<file>", "the signed file (.xml, .xades, any name)")
    .option("--challenge <challenge>", "the challenge it must carry")
    .option("--nip <nip>", "the NIP context it must name");
  addJsonOption(verify);
  verify.addHelpText(
    "after",
    examples(["ksef-certs auth verify podpisany.xml", "ksef-certs auth verify podpisany.xml --challenge 20250625-CR-20F5EE4000-DA48AE4124-46 --json"]),
  );
  verify.action(async (file: string, opts: AuthVerifyOptions) => {
    await authVerify(env, file, opts);
  });
}

/**
 * Runs `auth sign`.
 * @param env the run's surface and state
 * @param file the AuthTokenRequest to sign
 * @param opts parsed options
 * @throws {KsefCertsError} what the signer throws (`KEY_MISMATCH`, `UNSUPPORTED`, `VALIDATION` for an Offline certificate,
 *   `MALFORMED` for a file that is not XML), password and file-system codes, `CONFLICT` when `--out` exists
 */
export async function authSign(env: CommandEnv, file: string, opts: AuthSignOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  await checkOutputs(io, [opts.out], opts.force === true);
  const xml = await readInput(io, file, MAX_AUTH_XML_BYTES, "AuthTokenRequest");
  const certificate = await readInput(io, opts.cert, MAX_AUTH_XML_BYTES, "certificate file");
  const passwords = new Passwords(io, { input: { file: opts.passwordFile, stdin: opts.passwordStdin } });
  const key = await readKeyFile(io, passwords, opts.key);
  const signed = await signXml(xml, { privateKey: key.key, certificate });
  await writeOutputs(io, [{ path: opts.out, data: signed, mode: 0o644 }], opts.force === true);
  out.result({ file: opts.out, bytes: signed.byteLength }, [out.t(msg("cli.auth.wroteSigned", { file: opts.out, bytes: signed.byteLength }))]);
}

/**
 * Runs `auth verify`.
 * @param env the run's surface and state
 * @param file the signed file
 * @param opts expected challenge and NIP
 * @throws {KsefCertsError} the verifier's rejection (its `details.reason` and `details.ksefExceptionCode` say why and what KSeF
 *   would answer; XML nested or spread beyond the parser's limits is `too-complex`, MALFORMED, with its `xml.*` violation),
 *   file-system codes
 */
export async function authVerify(env: CommandEnv, file: string, opts: AuthVerifyOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const bytes = await readInput(io, file, MAX_AUTH_XML_BYTES, "signed AuthTokenRequest");
  const expected = {
    ...(opts.challenge === undefined ? {} : { challenge: opts.challenge }),
    ...(opts.nip === undefined ? {} : { contextIdentifier: { type: "Nip" as const, value: opts.nip } }),
  };
  try {
    const v = await verifySignedAuthTokenRequest(bytes, expected, { now: io.now?.() ?? new Date() });
    out.result(
      {
        valid: true,
        packaging: v.packaging,
        challenge: v.challenge,
        contextIdentifier: v.contextIdentifier,
        subjectIdentifierType: v.subjectIdentifierType,
        identity: v.identity,
        signer: v.certificate.info.subjectText,
        fingerprint: v.fingerprint,
        signatureAlgorithm: v.signatureAlgorithm,
        ...(v.signingTime === undefined ? {} : { signingTime: v.signingTime }),
      },
      [
        `${file}: signature valid (${v.packaging})`,
        `  signer      ${v.certificate.info.subjectText}`,
        `  identity    ${v.identity.type} ${v.identity.value}`,
        `  challenge   ${v.challenge}`,
        `  context     ${v.contextIdentifier.type} ${v.contextIdentifier.value}`,
        ...(v.signingTime === undefined ? [] : [`  signed at   ${v.signingTime}`]),
      ],
    );
  } catch (error) {
    const rejection = xadesRejectionOf(error);
    if (rejection === undefined || !(error instanceof KsefCertsError)) throw error;
    throw new KsefCertsError(error.code, msg("cli.auth.wouldAnswer", { message: error.message, code: rejection.ksefExceptionCode }), {
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      violations: error.violations,
      details: { ...error.details, file },
      cause: error,
    });
  }
}
