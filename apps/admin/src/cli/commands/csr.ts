/**
 * `ksef-certs csr`: the PKCS#10 request KSeF expects, built from the enrollment data KSeF returned.
 */
import { type Command, Option } from "commander";
import {
  createCsr,
  describeKey,
  encodePem,
  encryptPrivateKeyPem,
  type EnrollmentData,
  generateKeyPair,
  type KeyPair,
  keyPairOf,
  KSEF_KEY_ENCRYPTION,
  MAX_OBJECT_BYTES,
  parseCsr,
} from "@ksef-certs/ksef/crypto";
import { KsefCertsError, type Violation, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { CliIo } from "../context.js";
import { checkOutputs, type OutputFile, readInput, writeOutputs } from "../files.js";
import { readKeyFile } from "../inputs.js";
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
import { csrLines, csrSummary } from "../summaries.js";

/** CSR output encodings: PEM text, raw DER, or one line of base64 DER (the API's `csr` field). */
export type CsrFormat = "pem" | "der" | "base64";

/** Options of `csr`. */
export interface CsrOptions extends CommonOptions, InputPasswordOptions {
  readonly enrollmentData: string;
  readonly key?: string;
  readonly keyOut?: string;
  readonly algorithm: string;
  readonly out: string;
  readonly format: CsrFormat;
  readonly passwordProfile: NewPasswordProfile;
  readonly force?: boolean;
}

const REQUIRED_FIELDS = ["commonName", "countryName"] as const;
const OPTIONAL_FIELDS = ["givenName", "surname", "serialNumber", "uniqueIdentifier", "organizationName", "organizationIdentifier"] as const;
const KNOWN_FIELDS: readonly string[] = [...REQUIRED_FIELDS, ...OPTIONAL_FIELDS];

/**
 * Checks the shape of the enrollment data JSON (SPEC `CertificateEnrollmentDataResponse`): an object,
 * `commonName` and `countryName` strings, the other six string or null, nothing else (a field we do not
 * know would be missing from the CSR, and KSeF rejects a CSR whose subject differs from the data).
 * The values themselves are checked by the core's `createCsr`.
 * @param json the parsed file
 * @param file the path, for messages
 * @returns the enrollment data
 * @throws {KsefCertsError} `VALIDATION` naming every wrong field
 */
export function enrollmentDataFromJson(json: unknown, file: string): EnrollmentData {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new KsefCertsError("VALIDATION", msg("cli.csr.notObject", { file }), {
      hint: msg("cli.csr.notObject.hint"),
      violations: [violation("enrollmentData", "enrollmentData.object")],
    });
  }
  const record = json as Record<string, unknown>;
  const violations: Violation[] = [];
  for (const field of REQUIRED_FIELDS) {
    const value = record[field];
    if (typeof value !== "string") {
      violations.push({
        field,
        rule: value === undefined || value === null ? "enrollmentData.required" : "enrollmentData.type",
        message: `${field} is required and must be a string`,
      });
    }
  }
  for (const field of OPTIONAL_FIELDS) {
    const value = record[field];
    if (value !== undefined && value !== null && typeof value !== "string")
      violations.push({ field, rule: "enrollmentData.type", message: `${field} must be a string or null` });
  }
  for (const field of Object.keys(record)) {
    if (!KNOWN_FIELDS.includes(field)) violations.push(violation(field, "enrollmentData.unknownField", { field }));
  }
  if (violations.length > 0) {
    throw new KsefCertsError("VALIDATION", msg("cli.csr.badData", { file }), {
      hint: msg("cli.csr.badData.hint"),
      violations,
    });
  }
  return record as unknown as EnrollmentData;
}

async function readEnrollmentData(io: CliIo, file: string): Promise<EnrollmentData> {
  const bytes = await readInput(io, file, MAX_OBJECT_BYTES, "enrollment data file");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, ""));
  } catch (cause) {
    throw new KsefCertsError("MALFORMED", msg("cli.csr.notJson", { file }), {
      hint: msg("cli.csr.notJson.hint"),
      details: { file },
      cause,
    });
  }
  return enrollmentDataFromJson(json, file);
}

/**
 * Registers `csr` on the program.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerCsr(program: Command, env: CommandEnv): void {
  const cmd = program
    .command("csr")
    .summary(helpText(env.io, msg("cli.help.csr")))
    .description(
      "Build the PKCS#10 certificate request for POST /certificates/enrollments from the JSON of\n" +
        "GET /certificates/enrollments/data (subject values byte for byte, UTF8String; C and serialNumber PrintableString).\n" +
        "With --key the CSR is signed with that key (its password is asked if encrypted); without it a new key\n" +
        "(--algorithm) is generated and written encrypted, in the KSeF web app's format, to --key-out.",
    )
    .requiredOption("--enrollment-data <file>", "the enrollment data JSON")
    .option("--key <file>", "private key to certify (EC P-256 or RSA-2048)")
    .option("--key-out <file>", "where to write a newly generated key (when --key is not given; mode 0600)")
    .requiredOption("--out <file>", "where to write the CSR")
    .addOption(
      new Option("--format <format>", "CSR encoding: pem, der, or base64 (one line, for the API's csr field)").choices(["pem", "der", "base64"]).default("pem"),
    );
  addAlgorithmOption(cmd);
  addPasswordOptions(cmd, "the key (given with --key, or new with --key-out)");
  addNewPasswordOptions(cmd, "a new key", false);
  addForceOption(cmd);
  addJsonOption(cmd);
  cmd.addHelpText(
    "after",
    examples([
      "ksef-certs csr --enrollment-data data.json --key new.key --out new.csr",
      "ksef-certs csr --enrollment-data data.json --key-out new.key --out new.csr --format base64",
      "ksef-certs csr --enrollment-data data.json --key-out new.key --algorithm rsa-2048 --out new.csr --password-file pass.txt --json",
    ]),
  );
  cmd.action(async (opts: CsrOptions) => {
    await csr(env, opts);
  });
}

function encodeCsr(der: Uint8Array, format: CsrFormat): string | Uint8Array {
  if (format === "der") return der;
  if (format === "base64") return `${Buffer.from(der).toString("base64")}\n`;
  return encodePem("CERTIFICATE REQUEST", der);
}

/**
 * Runs `csr`.
 * @param env the run's surface and state
 * @param opts parsed options
 * @throws {KsefCertsError} `VALIDATION` for a wrong option set or enrollment data (naming the field);
 *   `MALFORMED` for a file that is not JSON; `UNSUPPORTED` for a key KSeF does not certify; password and
 *   file-system codes
 */
export async function csr(env: CommandEnv, opts: CsrOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const force = opts.force === true;
  if ((opts.key === undefined) === (opts.keyOut === undefined)) {
    throw new KsefCertsError("VALIDATION", opts.key === undefined ? msg("cli.csr.keyMissing") : msg("cli.csr.keyBoth"), {
      hint: msg("cli.csr.keySource.hint"),
      violations: [violation("--key", "csr.keySource")],
    });
  }
  const algorithm = keyAlgorithm(opts.algorithm);
  await checkOutputs(io, [opts.out, ...(opts.keyOut === undefined ? [] : [opts.keyOut])], force);
  const data = await readEnrollmentData(io, opts.enrollmentData);
  const passwordSource = { file: opts.passwordFile, stdin: opts.passwordStdin, names: { file: "--password-file", stdin: "--password-stdin" } };
  // One password at most: the given key's, or the new key's.
  const passwords = new Passwords(io, opts.key !== undefined ? { input: passwordSource } : { output: passwordSource, profile: opts.passwordProfile });

  let keys: KeyPair;
  const files: OutputFile[] = [];
  if (opts.key !== undefined) {
    const key = await readKeyFile(io, passwords, opts.key);
    keys = keyPairOf(key.key);
  } else {
    const keyOut = opts.keyOut ?? "";
    const password = await passwords.fresh(keyOut);
    keys = await generateKeyPair(algorithm);
    files.push({ path: keyOut, data: await encryptPrivateKeyPem(keys.privateKey, password), mode: 0o600 });
  }
  const der = await createCsr(data, keys);
  const summary = csrSummary(parseCsr(der));
  files.unshift({ path: opts.out, data: encodeCsr(der, opts.format), mode: 0o644 });
  await writeOutputs(io, files, force);
  const description = describeKey(keys.privateKey);
  out.result(
    {
      csr: { file: opts.out, format: opts.format, ...summary },
      ...(opts.keyOut === undefined
        ? {}
        : { privateKey: { file: opts.keyOut, format: "pkcs8-encrypted", container: "pem", key: description, encryption: KSEF_KEY_ENCRYPTION } }),
    },
    [
      out.t(msg("cli.csr.wrote", { file: opts.out, format: opts.format, subject: summary.subject })),
      ...csrLines(summary),
      ...(opts.keyOut === undefined
        ? []
        : [
            out.t(
              msg("cli.keygen.wrotePrivate", {
                file: opts.keyOut,
                key: keyText(description, io.locale),
                encryption: encryptionText(KSEF_KEY_ENCRYPTION, io.locale),
              }),
            ),
          ]),
    ],
  );
}
