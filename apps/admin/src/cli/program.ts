/**
 * The `ksef-certs` program: commander setup, one command per file in ./commands, and the one place
 * where failures become output and an exit code.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { LOCALES, msg, parseLocale, resolveLocale } from "@ksef-certs/ksef/messages";
import { registerAdapterCommands } from "./commands/adapters.js";
import { registerAudit } from "./commands/audit.js";
import { registerAuth } from "./commands/auth.js";
import { registerCert } from "./commands/cert.js";
import { registerConvert } from "./commands/convert.js";
import { registerCsr } from "./commands/csr.js";
import { registerEnrollment } from "./commands/enrollment.js";
import { registerInspect } from "./commands/inspect.js";
import { registerKeygen } from "./commands/keygen.js";
import { registerBranch, registerCompany, registerOperator, registerWorkstation } from "./commands/organisation.js";
import { registerPairCheck } from "./commands/pair-check.js";
import { registerRenew } from "./commands/renew.js";
import { registerServe } from "./commands/serve.js";
import { registerUsers } from "./commands/users.js";
import { registerTestCertificate } from "./commands/test-certificate.js";
import type { CliIo } from "./context.js";
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from "./exit-codes.js";
import { examples, helpText, type RunState } from "./options.js";
import { asKsefCertsError, Output } from "./output.js";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Options that look like a password on the command line; refused before commander sees them. */
const PASSWORD_ON_ARGV = /^--?(new-)?(password|passwd|pass|pw)(=|$)/i;

/**
 * Hides option values in commander's messages (`unknown option '--pasword=…'`): a mistyped option
 * may carry a secret.
 * @param text a commander error line
 */
function redactOptionValues(text: string): string {
  return text.replace(/(--?[A-Za-z][\w-]*)=[^'\s]*/g, "$1=…");
}

/**
 * Builds the program for one run. Output goes to `io`, commander never exits the process
 * (`exitOverride`), and `state` collects what {@link runCli} needs after parsing.
 * @param io the run's surface (real process streams in main.ts, buffers in tests)
 * @param state shared with the commands; a fresh one by default
 * @returns the root command, ready for `parseAsync(argv, { from: "user" })`
 */
export function buildProgram(io: CliIo, state: RunState = { json: false, exitCode: EXIT_OK }): Command {
  // Descriptions are written in lines of up to ~120 characters; a narrower default wrapped each of them a second time.
  const width = Number(io.env["COLUMNS"]) > 40 ? Number(io.env["COLUMNS"]) : 120;
  const program = new Command("ksef-certs")
    .description(helpText(io, msg("cli.help.program")))
    .version(VERSION, "-V, --version")
    .option("--lang <pl|en>", helpText(io, msg("cli.help.lang")))
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // In JSON mode runCli prints the error as JSON instead.
      outputError: (s, write) => {
        if (!state.json) write(redactOptionValues(s));
      },
      getOutHelpWidth: () => width,
      getErrHelpWidth: () => width,
    })
    .addHelpText(
      "after",
      `${examples([
        "ksef-certs inspect cert.crt cert.key",
        "ksef-certs pair-check --cert cert.crt --key cert.key",
        "ksef-certs convert --to p12 --cert cert.crt --key cert.key --out cert.p12",
        "ksef-certs keygen --out new.key",
        "ksef-certs csr --enrollment-data data.json --key new.key --out new.csr",
        "ksef-certs company add --nip 5265877635 --name 'Firma Sp. z o.o.'",
        "ksef-certs cert import --company 5265877635 --environment test --cert jan.crt --key jan.key",
        "ksef-certs cert enroll --company 5265877635 --operator-pesel 44051401458 --environment test --type Authentication --name 'Jan Kowalski' --workstation kasa-1",
        "ksef-certs cert enroll --company 5265877635 --operator-pesel 44051401458 --environment test --type Offline --name 'Jan offline' --with-certificate 0b8e…",
        "ksef-certs enrollment resume",
        "ksef-certs cert revoke 0b8e… --reason Superseded --with-certificate 7c1d…",
        "ksef-certs cert list --expiring-within 60d",
        "ksef-certs cert resolve --company 5265877635 --branch 001 --environment test --type Authentication",
        "ksef-certs renew --plan",
        "ksef-certs audit verify",
      ])}
Passwords are asked on the terminal, or read with --password-file FILE / --password-stdin; never from
the command line. Exit codes: 0 ok, 1 internal error, 2 usage or validation, 3 unreadable input,
4 password needed or wrong, 5 unsupported, 6 key does not match, 7 not found, not accessible or I/O,
8 output exists or a registry rule forbids the change.
Registry commands use --data-dir DIR, else $KSEF_CERTS_DATA_DIR, else the user data folder; DATABASE_URL (from the
environment only) selects PostgreSQL; KSEF_CERTS_MASTER_KEY / KSEF_CERTS_MASTER_KEY_FILE hold the master key.
Commands that talk to KSeF (cert enroll, enrollment resume, cert revoke) use --ksef-url URL, else $KSEF_CERTS_KSEF_URL,
else the official URL of the environment, and print which one first.
`,
    );
  program.hook("preAction", (_root, action) => {
    // With globals: `renew policy show … --json` hands `--json` to `renew`, which declares it too.
    state.json = action.optsWithGlobals<{ json?: boolean }>().json === true;
  });
  const env = { io, state };
  registerInspect(program, env);
  registerPairCheck(program, env);
  registerConvert(program, env);
  registerKeygen(program, env);
  registerCsr(program, env);
  registerCompany(program, env);
  registerBranch(program, env);
  registerOperator(program, env);
  registerWorkstation(program, env);
  registerCert(program, env);
  registerEnrollment(program, env);
  registerRenew(program, env);
  registerAudit(program, env);
  registerAuth(program, env);
  registerTestCertificate(program, env);
  registerAdapterCommands(program, env);
  registerServe(program, env);
  registerUsers(program, env);
  return program;
}

/**
 * Runs `ksef-certs` with `argv` (the arguments after the program name) and returns the exit code.
 * Never throws and never exits the process: every failure is shown (JSON or human) and mapped by
 * exit-codes.ts.
 * @param argv user arguments, e.g. `["inspect", "cert.crt", "--json"]`
 * @param io the run's surface
 * @returns the process exit code
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const end = argv.indexOf("--");
  const options = end === -1 ? argv : argv.slice(0, end);
  const state: RunState = { json: options.includes("--json"), exitCode: EXIT_OK };
  // The language is settled before anything is parsed, so that even a usage error speaks it.
  const langArg = languageOption(options);
  const runIo: CliIo = { ...io, locale: resolveLocale(langArg, io.env) };
  const fail = (err: KsefCertsError): number => {
    new Output(runIo, state.json).error(err);
    return exitCodeFor(err);
  };
  if (langArg !== undefined && parseLocale(langArg) === undefined) {
    return fail(
      new KsefCertsError("VALIDATION", msg("cli.lang.unknown", { lang: langArg, allowed: LOCALES.join(", ") }), { hint: msg("cli.lang.unknown.hint") }),
    );
  }
  const passwordArg = options.find((a) => PASSWORD_ON_ARGV.test(a));
  if (passwordArg !== undefined) {
    const name = passwordArg.split("=")[0] ?? "--password";
    return fail(
      new KsefCertsError("VALIDATION", msg("cli.password.onArgv", { option: name }), {
        hint: msg("cli.password.onArgv.hint"),
        details: { option: "password" },
      }),
    );
  }
  try {
    await buildProgram(runIo, state).parseAsync([...argv], { from: "user" });
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT_OK;
      if (state.json) {
        // Commander's own sentence, English: it is not in the catalogue.
        return fail(
          new KsefCertsError("VALIDATION", msg("cli.usage.commander", { text: redactOptionValues(err.message.replace(/^error: /, "")) }), {
            details: { commanderCode: err.code },
          }),
        );
      }
      return EXIT_USAGE;
    }
    return fail(asKsefCertsError(err, io.env));
  }
}

/**
 * The value of `--lang X` / `--lang=X` among the options (before any `--`), if given.
 * @param options the arguments before `--`
 */
function languageOption(options: readonly string[]): string | undefined {
  for (let i = 0; i < options.length; i++) {
    const a = options[i] ?? "";
    if (a === "--lang") return options[i + 1] ?? "";
    if (a.startsWith("--lang=")) return a.slice("--lang=".length);
  }
  return undefined;
}
