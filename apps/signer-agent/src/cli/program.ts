/**
 * The `ksef-signer` program (commander): pair, status, run, unpair, auto-sign enable|disable|list, install --print.
 * Every command has `--help` with examples and `--json` (exactly one JSON object on stdout, errors included);
 * human text otherwise. Errors become exit codes once, here (cli/exit-codes.ts).
 *
 * Every sentence it prints (help, results, prompts, errors) comes from the message catalogue, in the language of
 * `--lang pl|en`, else of `LC_ALL`/`LC_MESSAGES`/`LANG`, else on Windows of the system (see cli/locale.ts). Errors are
 * rendered with core `localizeError`; with `--json` they keep their catalogue ids (`messageId`, `params`, `hintId`).
 * Commander's own usage errors ("unknown option …") stay in English.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Help, Option } from "commander";
import { KsefCertsError, localizeError, violation } from "@ksef-certs/ksef/errors";
import { msg, parseLocale, translate, type Locale, type MessageRef } from "@ksef-certs/ksef/messages";
import { Agent, GOV_SIGNING_PAGE_URL } from "../agent.js";
import { AgentApiClient, isTokenRevoked, normalizeServerUrl, type SigningRequest } from "../api.js";
import { forgetKeyPassword, keyringAvailable, prepareAutoSigners, storeKeyPassword, unlockSigner, type PasswordPrompt } from "../autosign.js";
import {
  foldersOf,
  loadConfig,
  loadToken,
  removePairing,
  requireConfig,
  resolveConfigDir,
  saveConfig,
  saveToken,
  type AgentConfig,
  type AutoSignSetting,
  type PasswordSource,
} from "../config.js";
import { Journal } from "../journal.js";
import { createLogger } from "../logger.js";
import { createLocalApi, serveLocalApi } from "../local-api.js";
import { systemdUserUnit } from "../systemd.js";
import { EXIT_CODES, EXIT_OK, EXIT_TOKEN_REVOKED, EXIT_USAGE } from "./exit-codes.js";
import { defaultLocale, langArgument } from "./locale.js";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** The process surface a run uses (real streams in main.ts, buffers in tests). */
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdinIsTTY: boolean;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: NodeJS.WritableStream;
  /** Environment: `XDG_CONFIG_HOME`, `HOME`, `KSEF_SIGNER_CONFIG_DIR`; never passwords. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Password/code prompt without echo (stderr). */
  readonly prompt: PasswordPrompt;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM), for `run`. */
  readonly stopSignal?: Promise<void>;
  /** `process.platform` (default); the system language decides the default locale on `win32` only. */
  readonly platform?: string;
  /** The system's locale (default `Intl.DateTimeFormat().resolvedOptions().locale`), e.g. `pl-PL`. */
  readonly systemLocale?: string;
}

interface Common {
  json?: boolean;
  configDir?: string;
}

/** Commander's help headings, by the text it passes to `styleTitle`. */
const HELP_TITLES: Readonly<Record<string, MessageRef>> = {
  "Usage:": msg("agent.help.title.usage"),
  "Arguments:": msg("agent.help.title.arguments"),
  "Options:": msg("agent.help.title.options"),
  "Commands:": msg("agent.help.title.commands"),
  "Global Options:": msg("agent.help.title.globalOptions"),
};

class Out {
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
  ) {}
  result(data: unknown, human: readonly string[]): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else this.io.stdout.write(human.map((l) => `${l}\n`).join(""));
  }
  note(line: string): void {
    if (!this.json) this.io.stderr.write(`${line}\n`);
  }
}

function configDirOf(io: CliIo, opts: Common): string {
  return resolveConfigDir(opts.configDir ?? io.env["KSEF_SIGNER_CONFIG_DIR"], io.env, io.cwd);
}

function abs(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd, path);
}

/**
 * Builds the program for one run (commander never exits the process).
 * @param io the run's surface
 * @param state receives the exit code and output mode
 * @param locale the language of help, results, prompts and errors
 */
export function buildProgram(io: CliIo, state: { json: boolean; exitCode: number }, locale: Locale = "en"): Command {
  const t = (ref: MessageRef): string => translate(locale, ref);
  const examples = (lines: readonly string[]): string => `\n${t(msg("agent.help.examples"))}\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
  const withCommon = (cmd: Command): Command => cmd.option("--json", t(msg("agent.help.json"))).option("--config-dir <dir>", t(msg("agent.help.configDir")));
  const program = new Command("ksef-signer")
    .description(t(msg("agent.help.program")))
    .version(VERSION, "-V, --version", t(msg("agent.help.versionOption")))
    .helpOption("-h, --help", t(msg("agent.help.helpOption")))
    .helpCommand("help [command]", t(msg("agent.help.helpOption")))
    .configureHelp({
      styleTitle: (title) => (Object.hasOwn(HELP_TITLES, title) ? t(HELP_TITLES[title] as MessageRef) : title),
      // Commander appends "(choices: …, default: …)" in English; only those two words are ours to translate.
      optionDescription(this: Help, option: Option): string {
        return Help.prototype.optionDescription
          .call(this, option)
          .replace(
            /(\(|, )(choices|default): /g,
            (_m, before: string, word: string) => `${before}${t(word === "choices" ? msg("agent.help.choices") : msg("agent.help.default"))}: `,
          );
      },
    })
    // Parsed before the program is built (help texts need the language); declared so commander accepts it anywhere.
    .option("--lang <lang>", t(msg("agent.help.lang")))
    .exitOverride()
    .showHelpAfterError(t(msg("agent.cli.seeHelp")))
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => {
        if (!state.json) write(s);
      },
      getOutHelpWidth: () => 110,
      getErrHelpWidth: () => 110,
    })
    .addHelpText(
      "after",
      `${examples([
        "ksef-signer pair --server https://ksef-certs.example.pl --code 7KQ2-M9XD",
        "ksef-signer status",
        "ksef-signer run --open-signing-page",
        "ksef-signer auto-sign enable --cert jan.crt --key jan.key --context Nip:5265877635",
        "ksef-signer install --print > ~/.config/systemd/user/ksef-signer.service",
      ])}
${t(msg("agent.help.exitCodes"))}
`,
    );
  program.hook("preAction", (_root, action) => {
    state.json = action.opts<{ json?: boolean }>().json === true;
  });

  withCommon(program.command("pair"))
    .description(t(msg("agent.help.pair")))
    .requiredOption("--server <url>", t(msg("agent.help.pair.server")))
    .option("--code <code>", t(msg("agent.help.pair.code")))
    .option("--label <text>", t(msg("agent.help.pair.label")))
    .option("--outbox <dir>", t(msg("agent.help.pair.outbox")))
    .option("--inbox <dir>", t(msg("agent.help.pair.inbox")))
    .addHelpText(
      "after",
      examples([
        "ksef-signer pair --server http://127.0.0.1:8080 --code 7KQ2-M9XD",
        "ksef-signer pair --server https://admin.example.pl --outbox ~/do-podpisu --inbox ~/podpisane",
      ]),
    )
    .action(async (opts: Common & { server: string; code?: string; label?: string; outbox?: string; inbox?: string }) => {
      const out = new Out(io, opts.json === true);
      const configDir = configDirOf(io, opts);
      const server = normalizeServerUrl(opts.server);
      let code = opts.code;
      if (code === undefined) {
        if (!io.stdinIsTTY)
          throw new KsefCertsError("VALIDATION", msg("agent.pair.noCode"), {
            hint: msg("agent.pair.noCode.hint"),
            violations: [violation("code", "pair.code.required")],
          });
        code = await io.prompt(t(msg("agent.pair.codePrompt")));
      }
      const existing = await loadConfig(configDir);
      const result = await new AgentApiClient(server).pair(code.trim(), opts.label ?? `${hostname()} ksef-signer ${VERSION}`);
      await saveToken(configDir, result.token);
      const config: AgentConfig = {
        version: 1,
        server,
        workstation: result.workstation,
        pairedAt: new Date().toISOString(),
        ...(opts.outbox === undefined ? {} : { outboxDir: abs(io, opts.outbox) }),
        ...(opts.inbox === undefined ? {} : { inboxDir: abs(io, opts.inbox) }),
        autoSign: existing?.autoSign ?? [],
      };
      await saveConfig(configDir, config);
      const folders = safeFolders(config);
      const company = result.workstation.companyName;
      const notSet = t(msg("agent.cli.notSet"));
      out.result({ paired: true, server, workstation: result.workstation, configDir, ...folders }, [
        company == null
          ? t(msg("agent.pair.done", { server, workstation: result.workstation.name }))
          : t(msg("agent.pair.doneWithCompany", { server, workstation: result.workstation.name, company })),
        t(msg("agent.pair.outbox", { dir: folders.outboxDir ?? notSet })),
        t(msg("agent.pair.inbox", { dir: folders.inboxDir ?? notSet })),
        t(msg("agent.pair.config", { dir: configDir })),
        t(msg("agent.pair.next")),
      ]);
    });

  withCommon(program.command("status"))
    .description(t(msg("agent.help.status")))
    .option("--offline", t(msg("agent.help.status.offline")))
    .addHelpText("after", examples(["ksef-signer status", "ksef-signer status --json | jq .pending"]))
    .action(async (opts: Common & { offline?: boolean }) => {
      const out = new Out(io, opts.json === true);
      const configDir = configDirOf(io, opts);
      const config = await requireConfig(configDir);
      const journal = await Journal.peek(configDir);
      let server: { reachable: boolean; tokenAccepted?: boolean; message?: string } | undefined;
      let serverPending: SigningRequest[] | undefined;
      if (opts.offline !== true) {
        try {
          const client = new AgentApiClient(config.server, await loadToken(configDir));
          await client.workstation();
          server = { reachable: true, tokenAccepted: true };
          // The server's own list (waitMs 0: answer now), which the agent's journal may not have caught up with.
          serverPending = (await client.requests(0, undefined)).requests.filter((r) => r.status === "pending" && Date.parse(r.expiresAt) > Date.now());
        } catch (error) {
          server = isTokenRevoked(error)
            ? { reachable: true, tokenAccepted: false, message: t(msg("agent.api.tokenRevoked")) }
            : {
                reachable: false,
                message: error instanceof KsefCertsError ? localizeError(error, locale).message : error instanceof Error ? error.message : String(error),
              };
        }
      }
      const requests = Object.values(journal?.requests ?? {});
      const pending =
        serverPending?.map((r) => ({
          id: r.id,
          fileName: r.fileName,
          contextIdentifier: r.contextIdentifier,
          expiresAt: r.expiresAt,
          inOutbox: journal?.requests[r.id]?.outboxPath !== undefined,
        })) ??
        requests
          .filter((r) => r.status === "pending" && Date.parse(r.expiresAt) > Date.now())
          .map((r) => ({
            id: r.id,
            fileName: r.fileName,
            contextIdentifier: r.contextIdentifier,
            expiresAt: r.expiresAt,
            inOutbox: r.outboxPath !== undefined,
          }));
      const inflight = Object.entries(journal?.inflight ?? {}).map(([sha256, v]) => ({ sha256, ...v }));
      const folders = safeFolders(config);
      out.result(
        {
          server: config.server,
          serverStatus: server,
          workstation: config.workstation,
          ...folders,
          configDir,
          pending,
          journal: { requests: requests.length, uploads: Object.keys(journal?.uploads ?? {}).length, inflight, cursor: journal?.cursor },
          autoSign: config.autoSign.map((s) => ({
            fingerprint: s.fingerprint,
            subject: s.subject,
            contexts: s.contexts,
            passwordSource: s.passwordSource,
            validTo: s.validTo,
          })),
        },
        [
          t(
            server === undefined
              ? msg("agent.status.server", { server: config.server })
              : server.reachable
                ? server.tokenAccepted === true
                  ? msg("agent.status.server.accepted", { server: config.server })
                  : msg("agent.status.server.revoked", { server: config.server })
                : msg("agent.status.server.unreachable", { server: config.server, message: server.message ?? "" }),
          ),
          t(
            msg("agent.status.workstation", {
              workstation: `${config.workstation.name}${config.workstation.companyName == null ? "" : ` — ${config.workstation.companyName}`}${config.workstation.branchCode == null ? "" : ` / ${config.workstation.branchCode}`}`,
            }),
          ),
          t(msg("agent.status.outbox", { dir: folders.outboxDir ?? t(msg("agent.cli.notSet")) })),
          t(msg("agent.status.inbox", { dir: folders.inboxDir ?? t(msg("agent.cli.notSet")) })),
          t(msg(serverPending === undefined ? "agent.status.pending.journal" : "agent.status.pending.server", { pending: pending.length })),
          ...pending.map((r) =>
            t(
              msg("agent.status.pendingItem", {
                file: r.fileName,
                contextType: r.contextIdentifier.type,
                contextValue: r.contextIdentifier.value,
                expiresAt: r.expiresAt,
              }),
            ),
          ),
          t(msg("agent.status.journal", { requests: requests.length, uploads: Object.keys(journal?.uploads ?? {}).length, inflight: inflight.length })),
          config.autoSign.length === 0
            ? t(msg("agent.status.autoSign.off"))
            : t(
                msg("agent.status.autoSign.on", {
                  certificates: config.autoSign.map((s) => `${s.subject} (${s.contexts.map((c) => c.value).join(", ")})`).join("; "),
                }),
              ),
        ],
      );
    });

  withCommon(program.command("run"))
    .description(t(msg("agent.help.run")))
    .option("--verbose", t(msg("agent.help.run.verbose")))
    .option("--open-signing-page", t(msg("agent.help.run.openSigningPage")))
    .option("--signing-page-url <url>", t(msg("agent.help.run.signingPageUrl")), GOV_SIGNING_PAGE_URL)
    .option("--local-api-port <port>", t(msg("agent.help.run.localApiPort")))
    .option("--use-polling", t(msg("agent.help.run.usePolling")))
    .addOption(new Option("--poll-wait-ms <ms>", t(msg("agent.help.run.pollWaitMs"))).default("25000").hideHelp())
    .addOption(new Option("--rescan-interval-ms <ms>", t(msg("agent.help.run.rescanIntervalMs"))).default("30000").hideHelp())
    .addOption(new Option("--stability-ms <ms>", t(msg("agent.help.run.stabilityMs"))).default("400").hideHelp())
    .addHelpText("after", examples(["ksef-signer run", "ksef-signer run --verbose --open-signing-page", "ksef-signer run --local-api-port 8787"]))
    .action(
      async (
        opts: Common & {
          verbose?: boolean;
          openSigningPage?: boolean;
          signingPageUrl: string;
          localApiPort?: string;
          usePolling?: boolean;
          pollWaitMs: string;
          rescanIntervalMs: string;
          stabilityMs: string;
        },
      ) => {
        const configDir = configDirOf(io, opts);
        const config = await requireConfig(configDir);
        const token = await loadToken(configDir);
        const logger = createLogger({ verbose: opts.verbose === true, destination: io.stderr });
        const autoSigners = await prepareAutoSigners(configDir, config.autoSign, io.stdinIsTTY ? io.prompt : undefined, logger, locale);
        const crash = io.env["KSEF_SIGNER_CRASH_AT"];
        const agent = new Agent({
          configDir,
          config,
          token,
          logger,
          autoSigners,
          pollWaitMs: positiveInt(opts.pollWaitMs, "--poll-wait-ms"),
          rescanIntervalMs: positiveInt(opts.rescanIntervalMs, "--rescan-interval-ms"),
          stabilityMs: positiveInt(opts.stabilityMs, "--stability-ms"),
          ...(opts.openSigningPage === true ? { openSigningPage: opts.signingPageUrl } : {}),
          ...(opts.usePolling === true ? { usePolling: true } : {}),
          ...(crash === "before-upload" || crash === "after-upload" || crash === "after-journal" ? { crashAt: crash } : {}),
        });
        await agent.start();
        let local: { port: number; close: () => Promise<void> } | undefined;
        if (opts.localApiPort !== undefined) {
          local = await serveLocalApi(createLocalApi(agent, token), Number.parseInt(opts.localApiPort, 10));
          logger.info({ port: local.port }, `local API on http://127.0.0.1:${local.port}/local/v1`);
        }
        await Promise.race([agent.done.catch(() => undefined), io.stopSignal ?? new Promise(() => undefined)]);
        await agent.stop();
        await local?.close();
        try {
          await agent.done;
        } catch (error) {
          if (isTokenRevoked(error)) {
            state.exitCode = EXIT_TOKEN_REVOKED;
            io.stderr.write(
              `${t(msg("agent.cli.error", { message: t(msg("agent.api.tokenRevoked")) }))}\n${t(msg("agent.cli.hint", { hint: t(msg("agent.cli.revoked.hint")) }))}\n`,
            );
            return;
          }
          throw error;
        }
      },
    );

  withCommon(program.command("give-up"))
    .description(t(msg("agent.help.giveUp")))
    .argument("<request-id>", t(msg("agent.help.giveUp.requestId")))
    .requiredOption("--reason <text>", t(msg("agent.help.giveUp.reason")))
    .addHelpText("after", examples(["ksef-signer give-up 7d9c0e4a-… --reason 'Jan is on leave; sign at kasa-2'"]))
    .action(async (requestId: string, opts: Common & { reason: string }) => {
      const out = new Out(io, opts.json === true);
      const configDir = configDirOf(io, opts);
      const config = await requireConfig(configDir);
      await new AgentApiClient(config.server, await loadToken(configDir)).reportFailed(requestId, opts.reason);
      out.result({ requestId, status: "failed" }, [t(msg("agent.giveUp.done", { id: requestId }))]);
    });

  withCommon(program.command("unpair"))
    .description(t(msg("agent.help.unpair")))
    .addHelpText("after", examples(["ksef-signer unpair"]))
    .action(async (opts: Common) => {
      const out = new Out(io, opts.json === true);
      const configDir = configDirOf(io, opts);
      const config = await loadConfig(configDir);
      for (const s of config?.autoSign ?? []) await forgetKeyPassword(configDir, s);
      await removePairing(configDir);
      out.result({ unpaired: true, configDir, wasPaired: config !== undefined }, [
        t(config === undefined ? msg("agent.unpair.wasNotPaired") : msg("agent.unpair.done", { server: config.server })),
      ]);
    });

  const autoSign = program.command("auto-sign").description(t(msg("agent.help.autoSign")));
  withCommon(autoSign.command("enable"))
    .description(t(msg("agent.help.autoSign.enable")))
    .requiredOption("--cert <file>", t(msg("agent.help.autoSign.enable.cert")))
    .requiredOption("--key <file>", t(msg("agent.help.autoSign.enable.key")))
    .option("--context <type:value...>", t(msg("agent.help.autoSign.enable.context")))
    .addOption(
      new Option("--password-source <source>", t(msg("agent.help.autoSign.enable.passwordSource"))).choices(["sealed", "keyring", "prompt"]).default("sealed"),
    )
    .option("--password-file <file>", t(msg("agent.help.autoSign.enable.passwordFile")))
    .option("--password-stdin", t(msg("agent.help.autoSign.enable.passwordStdin")))
    .addHelpText(
      "after",
      examples([
        "ksef-signer auto-sign enable --cert jan.crt --key jan.key",
        "ksef-signer auto-sign enable --cert jan.crt --key jan.key --context Nip:5265877635 --password-source keyring",
      ]),
    )
    .action(
      async (
        opts: Common & { cert: string; key: string; context?: string[]; passwordSource: PasswordSource; passwordFile?: string; passwordStdin?: boolean },
      ) => {
        const out = new Out(io, opts.json === true);
        const configDir = configDirOf(io, opts);
        const config = await requireConfig(configDir);
        if (opts.passwordSource === "keyring" && !(await keyringAvailable())) {
          throw new KsefCertsError("UNSUPPORTED", msg("agent.keyring.notInstalled"), { hint: msg("agent.keyring.otherSource.hint") });
        }
        const password = await readPassword(io, opts, t(msg("agent.cli.passwordPrompt", { file: opts.key })));
        const certPath = abs(io, opts.cert);
        const keyPath = abs(io, opts.key);
        const { certificate } = await unlockSigner(certPath, keyPath, password);
        const contexts = parseContexts(opts.context, config);
        await storeKeyPassword(configDir, certificate.fingerprintSha256, opts.passwordSource, password);
        const setting: AutoSignSetting = {
          fingerprint: certificate.fingerprintSha256,
          certPath,
          keyPath,
          contexts,
          passwordSource: opts.passwordSource,
          subject: certificate.subjectText,
          validTo: certificate.validTo,
          enabledAt: new Date().toISOString(),
        };
        await saveConfig(configDir, { ...config, autoSign: [...config.autoSign.filter((s) => s.fingerprint !== setting.fingerprint), setting] });
        out.result({ enabled: setting }, [
          t(
            msg("agent.autoSign.enabled", {
              subject: setting.subject,
              contexts: contexts.map((c) => `${c.type} ${c.value}`).join(", "),
              source: setting.passwordSource,
            }),
          ),
          t(msg("agent.autoSign.restart")),
        ]);
      },
    );
  withCommon(autoSign.command("disable"))
    .description(t(msg("agent.help.autoSign.disable")))
    .argument("<fingerprint>", t(msg("agent.help.autoSign.disable.fingerprint")))
    .addHelpText("after", examples(["ksef-signer auto-sign disable 0B8E41C2D3A4F5E6"]))
    .action(async (fingerprint: string, opts: Common) => {
      const out = new Out(io, opts.json === true);
      const configDir = configDirOf(io, opts);
      const config = await requireConfig(configDir);
      const wanted = fingerprint.toUpperCase();
      const matches = config.autoSign.filter((s) => s.fingerprint.startsWith(wanted) && wanted.length >= 16);
      if (matches.length !== 1)
        throw new KsefCertsError("NOT_FOUND", msg("agent.autoSign.noSingleMatch", { fingerprint: fingerprint.slice(0, 64) }), {
          hint: msg("agent.autoSign.noSingleMatch.hint"),
        });
      for (const s of matches) await forgetKeyPassword(configDir, s);
      await saveConfig(configDir, { ...config, autoSign: config.autoSign.filter((s) => !matches.includes(s)) });
      out.result({ disabled: matches.map((s) => s.fingerprint) }, [t(msg("agent.autoSign.disabled", { subject: matches[0]?.subject ?? "" }))]);
    });
  withCommon(autoSign.command("list"))
    .description(t(msg("agent.help.autoSign.list")))
    .addHelpText("after", examples(["ksef-signer auto-sign list --json"]))
    .action(async (opts: Common) => {
      const out = new Out(io, opts.json === true);
      const config = await requireConfig(configDirOf(io, opts));
      out.result(
        { autoSign: config.autoSign },
        config.autoSign.length === 0
          ? [t(msg("agent.autoSign.isOff"))]
          : config.autoSign.map((s) =>
              t(
                msg("agent.autoSign.listItem", {
                  fingerprint: s.fingerprint.slice(0, 16),
                  subject: s.subject,
                  contexts: s.contexts.map((c) => `${c.type}:${c.value}`).join(","),
                  source: s.passwordSource,
                  validTo: s.validTo,
                }),
              ),
            ),
      );
    });

  withCommon(program.command("install"))
    .description(t(msg("agent.help.install")))
    .requiredOption("--print", t(msg("agent.help.install.print")))
    .option("--run-args <args>", t(msg("agent.help.install.runArgs")))
    .addHelpText("after", examples(["ksef-signer install --print > ~/.config/systemd/user/ksef-signer.service && systemctl --user enable --now ksef-signer"]))
    .action((opts: Common & { print: boolean; runArgs?: string }) => {
      const out = new Out(io, opts.json === true);
      const configDir = opts.configDir === undefined ? undefined : configDirOf(io, opts);
      const unit = systemdUserUnit({
        node: process.execPath,
        main: fileURLToPath(new URL("./main.js", import.meta.url)),
        ...(configDir === undefined ? {} : { configDir }),
        runArgs: (opts.runArgs ?? "").split(/\s+/).filter((a) => a !== ""),
      });
      if (out.json) out.result({ unit, path: "~/.config/systemd/user/ksef-signer.service" }, []);
      else io.stdout.write(unit);
    });
  return program;
}

function safeFolders(config: AgentConfig): { outboxDir?: string; inboxDir?: string } {
  try {
    return foldersOf(config);
  } catch {
    const o = config.outboxDir ?? config.workstation.outboxDir ?? undefined;
    const i = config.inboxDir ?? config.workstation.inboxDir ?? undefined;
    return { ...(o == null ? {} : { outboxDir: o }), ...(i == null ? {} : { inboxDir: i }) };
  }
}

function positiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new KsefCertsError("VALIDATION", msg("agent.cli.notPositive", { option }), {
      violations: [violation(option, "positiveInteger", { field: option })],
    });
  return n;
}

function parseContexts(given: readonly string[] | undefined, config: AgentConfig): AutoSignSetting["contexts"] {
  const list = given ?? (config.workstation.companyNip == null ? [] : [`Nip:${config.workstation.companyNip}`]);
  if (list.length === 0)
    throw new KsefCertsError("VALIDATION", msg("agent.autoSign.noContext"), {
      hint: msg("agent.autoSign.noContext.hint"),
      violations: [violation("context", "autoSign.context.required")],
    });
  return list.map((text) => {
    const m = /^(Nip|InternalId|NipVatUe|PeppolId):(\S{1,64})$/.exec(text);
    if (m === null)
      throw new KsefCertsError("VALIDATION", msg("agent.autoSign.badContext", { text: text.slice(0, 80) }), {
        violations: [violation("context", "autoSign.context.format")],
      });
    return { type: m[1] as "Nip", value: m[2] ?? "" };
  });
}

async function readPassword(io: CliIo, opts: { passwordFile?: string; passwordStdin?: boolean }, message: string): Promise<string> {
  if (opts.passwordFile !== undefined) return firstLine(await readFile(abs(io, opts.passwordFile), "utf8"));
  if (opts.passwordStdin === true) {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return firstLine(Buffer.concat(chunks).toString("utf8"));
  }
  if (!io.stdinIsTTY) throw new KsefCertsError("PASSWORD_REQUIRED", msg("agent.cli.passwordRequired"), { hint: msg("agent.cli.passwordRequired.hint") });
  return io.prompt(message);
}

const firstLine = (text: string): string => text.split(/\r?\n/)[0] ?? "";

/**
 * Runs `ksef-signer` with `argv` (the arguments after the program name).
 * @param argv arguments
 * @param io the process surface
 * @returns the exit code
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const state = { json: argv.includes("--json"), exitCode: EXIT_OK };
  const fallback = defaultLocale(io.env, io.platform ?? process.platform, io.systemLocale ?? Intl.DateTimeFormat().resolvedOptions().locale);
  const lang = langArgument(argv);
  const chosen = lang === undefined ? undefined : parseLocale(lang);
  const locale = chosen ?? fallback;
  if (argv.some((a) => /^--?(password|passwd|pass|pw)(=|$)/i.test(a))) {
    return report(io, state.json, new KsefCertsError("VALIDATION", msg("agent.cli.passwordOnArgv"), { hint: msg("agent.cli.passwordOnArgv.hint") }), locale);
  }
  // A language we do not speak is refused in the one the environment asks for, before anything runs.
  if (lang !== undefined && chosen === undefined) {
    return report(io, state.json, new KsefCertsError("VALIDATION", msg("agent.cli.unknownLanguage", { lang: lang.slice(0, 40) })), locale);
  }
  const program = buildProgram(io, state, locale);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return EXIT_OK;
      if (state.json) io.stdout.write(`${JSON.stringify({ error: { code: "VALIDATION", message: error.message } })}\n`);
      return EXIT_USAGE;
    }
    return report(io, state.json, error, locale);
  }
}

/**
 * Prints an error in the reader's language (stderr, or one JSON object on stdout with the catalogue ids) and
 * returns its exit code.
 */
function report(io: CliIo, json: boolean, error: unknown, locale: Locale): number {
  const e = error instanceof KsefCertsError ? error : new KsefCertsError("INTERNAL", msg("agent.unexpected"), { cause: error });
  const l = localizeError(e, locale);
  if (json) {
    // The shape of before (code, message, hint, violations) plus the ids a script can branch on; no details.
    const body = {
      code: l.code,
      message: l.message,
      ...(l.messageId === undefined ? {} : { messageId: l.messageId }),
      ...(l.params === undefined ? {} : { params: l.params }),
      ...(l.hint === undefined ? {} : { hint: l.hint }),
      ...(l.hintId === undefined ? {} : { hintId: l.hintId }),
      ...(l.hintParams === undefined ? {} : { hintParams: l.hintParams }),
      ...(l.violations === undefined ? {} : { violations: l.violations }),
    };
    io.stdout.write(`${JSON.stringify({ error: body })}\n`);
  } else {
    io.stderr.write(`${translate(locale, msg("agent.cli.error", { message: l.message }))}\n`);
    if (l.hint !== undefined) io.stderr.write(`${translate(locale, msg("agent.cli.hint", { hint: l.hint }))}\n`);
    for (const v of l.violations ?? []) io.stderr.write(`  - ${v.field}: ${v.message}\n`);
    if (e.code === "INTERNAL" && io.env["KSEF_SIGNER_DEBUG"] !== undefined) io.stderr.write(`${String(e.cause)}\n`);
  }
  return isTokenRevoked(e) ? EXIT_TOKEN_REVOKED : EXIT_CODES[e.code];
}
