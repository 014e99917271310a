/**
 * `ksef-certs import --adapter ID --from PATH` and `ksef-certs export --adapter ID --to PATH`: moving
 * certificate pairs between the registry and ERP formats with the app's adapters
 * (src/adapters.ts) and the core use cases `importWithAdapter` / `exportWithAdapter`.
 *
 * Passwords come from one source for the whole run (prompt, `--password-file`, `--password-stdin`),
 * asked once and reused for every key, PKCS#12 file or bundle of the batch; a bundle's new password is
 * asked twice on a terminal. A progress bar (cli-progress) goes to stderr only on a terminal and never with --json.
 */
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import cliProgress from "cli-progress";
import { exportWithAdapter, importWithAdapter, type BatchProgress } from "@ksef-certs/domain/adapters";
import { type AdapterSource, type PasswordRequest } from "@ksef-certs/ksef/adapters";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { CertificateTypeName, Environment } from "@ksef-certs/domain/registry";
import { ADAPTER_IDS, adapterById } from "../../adapters.js";
import { resolvePath, type CliIo } from "../context.js";
import { addForceOption, addPasswordOptions, type CommandEnv, examples, type InputPasswordOptions, helpText } from "../options.js";
import { Output } from "../output.js";
import { Passwords } from "../password.js";
import { addStoreOptions, cliActor, nowOf, vaultOf, type StoreOptions, withStore } from "../store.js";
import {
  addEnvironmentOption,
  addOperatorReferenceOptions,
  addTypeOption,
  branchByCode,
  companyByNip,
  operatorByReference,
  scopeFromOptions,
  type OperatorReference,
} from "./registry-common.js";

/** Options of `import`. */
export interface AdapterImportOptions extends StoreOptions, InputPasswordOptions, OperatorReference {
  readonly adapter: string;
  readonly from: string;
  readonly company?: string;
  readonly branch?: string;
  readonly environment?: Environment;
  readonly mode?: "current" | "queued";
  readonly perPair?: boolean;
}

/** Options of `export`. */
export interface AdapterExportOptions extends StoreOptions, InputPasswordOptions, OperatorReference {
  readonly adapter: string;
  readonly to: string;
  readonly company?: string;
  readonly branch?: string;
  readonly environment?: Environment;
  readonly type?: CertificateTypeName;
  readonly force?: boolean;
  readonly id?: string[];
}

/** One password per purpose for the whole run, read once from the run's source. */
function passwordSource(io: CliIo, opts: InputPasswordOptions): (request: PasswordRequest) => Promise<string> {
  const cache = new Map<string, Promise<string>>();
  return (request) => {
    const kind = request.purpose === "new" ? "new" : "existing";
    let answer = cache.get(kind);
    if (answer === undefined) {
      answer =
        kind === "new"
          ? new Passwords(io, {
              output: { file: opts.passwordFile, stdin: opts.passwordStdin, names: { file: "--password-file", stdin: "--password-stdin" } },
              profile: "none",
            }).fresh(`the new ${request.ref}`)
          : new Passwords(io, { input: { file: opts.passwordFile, stdin: opts.passwordStdin } }).existing("the keys / files of this batch");
      cache.set(kind, answer);
    }
    return answer;
  };
}

/** A progress bar on stderr for people at a terminal; nothing otherwise. */
function progressBar(io: CliIo, json: boolean): { update: (p: BatchProgress) => void; stop: () => void } {
  const tty = io.stderr === process.stderr && process.stderr.isTTY;
  if (json || !tty) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: "{phase} [{bar}] {value}/{total}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let phase = "";
  return {
    update: (p) => {
      if (p.phase !== phase) {
        if (phase !== "") bar.stop();
        phase = p.phase;
        bar.start(p.total, p.done, { phase: p.phase.padEnd(6) });
      } else bar.update(p.done);
    },
    stop: () => {
      if (phase !== "") bar.stop();
    },
  };
}

function sourceOf(io: CliIo, path: string, kinds: readonly AdapterSource["kind"][]): { kind: "folder" | "file"; path: string } {
  return { kind: kinds.includes("folder") ? "folder" : "file", path: resolvePath(io, path) };
}

/**
 * Registers `import` and `export`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerAdapterCommands(program: Command, env: CommandEnv): void {
  const imp = program
    .command("import")
    .summary(helpText(env.io, msg("cli.help.import")))
    .description(
      `Read pairs with an adapter (${ADAPTER_IDS.join(", ")}) and record them. Every key is decrypted with its password and\n` +
        "must match its certificate before anything is written. By default all pairs or none are recorded; --per-pair records\n" +
        "each pair on its own and reports the ones that failed. pem-pair and pkcs12 carry no scope or environment: give\n" +
        "--company (with --branch or an operator) and --environment; f2000 and bundle carry them (the options override the scope).",
    )
    .addOption(new Option("--adapter <id>", "the format").choices(ADAPTER_IDS).makeOptionMandatory(true))
    .requiredOption("--from <path>", "the folder (pem-pair, pkcs12, f2000) or file (bundle, one .p12)")
    .option("--company <nip>", "hold the pairs for this company")
    .option("--branch <code>", "… for this branch of the company");
  addOperatorReferenceOptions(imp);
  addEnvironmentOption(imp, false);
  imp
    .addOption(new Option("--mode <mode>", "mode when the source does not say").choices(["current", "queued"]))
    .option("--per-pair", "record each pair on its own and report failures (default: all or nothing)");
  addPasswordOptions(imp, "the keys, .p12 files or bundle");
  addStoreOptions(imp).addHelpText(
    "after",
    examples([
      "ksef-certs import --adapter pem-pair --from ./z-aplikacji --company 5265877635 --environment production",
      "ksef-certs import --adapter f2000 --from ./f2000-export --per-pair --json",
      "ksef-certs import --adapter bundle --from biuro.p7m --password-file bundle.pass",
    ]),
  );
  imp.action(async (opts: AdapterImportOptions) => {
    const out = new Output(env.io, opts.json === true);
    const adapter = adapterById(opts.adapter);
    const bar = progressBar(env.io, opts.json === true);
    const password = passwordSource(env.io, opts);
    const report = await withStore(env, opts, async (s) => {
      const scope = opts.company === undefined ? undefined : await scopeFromOptions(s.db, { ...opts, company: opts.company });
      try {
        return await importWithAdapter({
          db: s.db,
          adapter,
          source: sourceOf(env.io, opts.from, adapter.sourceKinds),
          ctx: { password },
          atomic: opts.perPair === true ? "per-pair" : true,
          actor: cliActor(env.io),
          at: nowOf(env.io),
          ...(scope === undefined ? {} : { scope }),
          ...(opts.environment === undefined ? {} : { environment: opts.environment }),
          ...(opts.mode === undefined ? {} : { mode: opts.mode }),
          onProgress: bar.update,
        });
      } finally {
        bar.stop();
      }
    });
    if (report.failed.length > 0) env.state.exitCode = 8;
    out.result({ adapter: report.adapterId, imported: report.imported, failed: report.failed.map((f) => ({ ref: f.ref, error: f.error.toJSON() })) }, [
      `imported ${report.imported.length} pair(s) with ${report.adapterId}${report.failed.length > 0 ? `, ${report.failed.length} failed` : ""}`,
      ...report.imported.map((i) => `  ${i.ref}: ${i.certificateType} ${i.environment} ${i.serialNumber} → ${i.certificateId}`),
      ...report.failed.map((f) => `  FAILED ${f.ref}: ${f.error.code} ${f.error.message}`),
    ]);
  });

  const exp = program
    .command("export")
    .summary(helpText(env.io, msg("cli.help.export")))
    .description(
      `Write certificates with an adapter (${ADAPTER_IDS.join(", ")}) into --to (a folder; for bundle a file), each file written\n` +
        "to a temp name and renamed, never over a file with other content unless --force (each replacement audited); an export\n" +
        "that fails midway removes what it wrote. Every export is recorded (certificate_exports) and audited. Choose certificates by --id\n" +
        "(repeatable), or by --company with --branch / an operator, --environment and --type (active ones). pkcs12 needs the\n" +
        "key's password (the sealed one when a master key is configured); bundle asks a new password for the archive.",
    )
    .addOption(new Option("--adapter <id>", "the format").choices(ADAPTER_IDS).makeOptionMandatory(true))
    .requiredOption("--to <path>", "the folder (pem-pair, pkcs12, f2000) or file (bundle)")
    .option("--id <id>", "a certificate id (repeatable)", (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option("--company <nip>", "the company's active certificates")
    .option("--branch <code>", "… of this branch");
  addOperatorReferenceOptions(exp);
  addEnvironmentOption(exp, false);
  addTypeOption(exp, false);
  addForceOption(exp);
  addPasswordOptions(exp, "the keys (pkcs12) or the new bundle");
  addStoreOptions(exp).addHelpText(
    "after",
    examples([
      "ksef-certs export --adapter pem-pair --to ./dla-erp --company 5265877635 --environment production --type Authentication",
      "ksef-certs export --adapter bundle --to biuro.p7m --company 5265877635 --password-file bundle.pass",
      "ksef-certs export --adapter pkcs12 --to ./windows --id 0b8e… --json",
    ]),
  );
  exp.action(async (opts: AdapterExportOptions) => {
    const out = new Output(env.io, opts.json === true);
    const adapter = adapterById(opts.adapter);
    if ((opts.id === undefined) === (opts.company === undefined)) {
      throw new KsefCertsError("VALIDATION", msg("cli.export.selection"), {
        hint: msg("cli.export.selection.hint"),
      });
    }
    const vault = await vaultOf(env.io, opts);
    const bar = progressBar(env.io, opts.json === true);
    const target = { kind: adapter.targetKinds.includes("folder") ? ("folder" as const) : ("file" as const), path: resolve(resolvePath(env.io, opts.to)) };
    const report = await withStore(env, opts, async (s) => {
      let filter: Parameters<typeof exportWithAdapter>[0]["filter"];
      if (opts.company !== undefined) {
        const company = await companyByNip(s.db, opts.company);
        const branch = opts.branch === undefined ? undefined : await branchByCode(s.db, company, opts.branch);
        const operator = await operatorByReference(s.db, company, opts);
        filter = {
          companyId: company.id,
          status: "active",
          ...(branch === undefined ? {} : { branchId: branch.id }),
          ...(operator === undefined ? {} : { operatorId: operator.id }),
          ...(opts.environment === undefined ? {} : { environment: opts.environment }),
          ...(opts.type === undefined ? {} : { certificateType: opts.type }),
        };
      }
      try {
        return await exportWithAdapter({
          db: s.db,
          adapter,
          target,
          ctx: { password: passwordSource(env.io, opts) },
          ...(opts.id === undefined ? (filter === undefined ? {} : { filter }) : { certificateIds: opts.id }),
          actor: cliActor(env.io),
          at: nowOf(env.io),
          vault,
          onProgress: bar.update,
          replace: opts.force === true,
        });
      } finally {
        bar.stop();
      }
    });
    out.result(report, [
      `exported ${report.exported.length} certificate(s) with ${report.adapterId}`,
      ...report.exported.map((e) => `  ${e.serialNumber} → ${e.ref}`),
      ...report.replaced.map((f) => `  replaced ${f}`),
    ]);
  });
}
