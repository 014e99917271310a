/**
 * The `ksef-signer` program (commander): pair, status, run, unpair, auto-sign enable|disable|list, install --print.
 * Every command has `--help` with examples and `--json` (exactly one JSON object on stdout, errors included);
 * human text otherwise. Errors become exit codes once, here (cli/exit-codes.ts).
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
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
}

interface Common {
  json?: boolean;
  configDir?: string;
}

const examples = (lines: readonly string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;

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

function withCommon(cmd: Command): Command {
  return cmd
    .option("--json", "print one JSON object on stdout (results and errors)")
    .option("--config-dir <dir>", "configuration folder (default $XDG_CONFIG_HOME/ksef-signer, or $KSEF_SIGNER_CONFIG_DIR)");
}

/**
 * Builds the program for one run (commander never exits the process).
 * @param io the run's surface
 * @param state receives the exit code and output mode
 */
export function buildProgram(io: CliIo, state: { json: boolean; exitCode: number }): Command {
  const program = new Command("ksef-signer")
    .description(
      "The KSeF signer agent: pairs this workstation with the ksef-certs admin server, writes each auth.xml to sign into the\noutbox folder, picks up the signed file from the inbox (any name) and uploads it unchanged.",
    )
    .version(VERSION, "-V, --version")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
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
Exit codes: 0 ok, 1 internal, 2 usage or validation, 3 damaged input, 4 password needed or wrong, 5 unsupported,
6 key does not match, 7 not found or I/O, 8 conflict, 9 token revoked (pair again).
`,
    );
  program.hook("preAction", (_root, action) => {
    state.json = action.opts<{ json?: boolean }>().json === true;
  });

  withCommon(program.command("pair"))
    .description("pair this workstation with the admin server using the one-time code shown in the admin app")
    .requiredOption("--server <url>", "the admin server's URL")
    .option("--code <code>", "the pairing code (XXXX-XXXX); asked for when omitted")
    .option("--label <text>", "how this agent is shown in the admin app (default: host name and agent version)")
    .option("--outbox <dir>", "local path of the outbox folder (default: the server's setting)")
    .option("--inbox <dir>", "local path of the inbox folder (default: the server's setting)")
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
          throw new KsefCertsError("VALIDATION", "No pairing code.", {
            hint: "Pass --code CODE (shown in the admin app for this workstation).",
            violations: [{ field: "code", rule: "pair.code.required", message: "The pairing code is required." }],
          });
        code = await io.prompt("Pairing code (shown in the admin app):");
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
      out.result({ paired: true, server, workstation: result.workstation, configDir, ...folders }, [
        `paired with ${server} as workstation "${result.workstation.name}"${result.workstation.companyName == null ? "" : ` (${result.workstation.companyName})`}`,
        `  outbox: ${folders.outboxDir ?? "(not set)"}`,
        `  inbox:  ${folders.inboxDir ?? "(not set)"}`,
        `  config: ${configDir} (token stored with mode 0600)`,
        "next: ksef-signer run",
      ]);
    });

  withCommon(program.command("status"))
    .description("show the server, the workstation, the folders, pending requests and the journal")
    .option("--offline", "do not ask the server (show only what is stored here)")
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
            ? { reachable: true, tokenAccepted: false, message: "token revoked: pair again" }
            : { reachable: false, message: error instanceof Error ? error.message : String(error) };
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
          `server:      ${config.server}${server === undefined ? "" : server.reachable ? (server.tokenAccepted === true ? " (reachable, token accepted)" : " (token revoked: pair again)") : ` (unreachable: ${server.message ?? ""})`}`,
          `workstation: ${config.workstation.name}${config.workstation.companyName == null ? "" : ` — ${config.workstation.companyName}`}${config.workstation.branchCode == null ? "" : ` / ${config.workstation.branchCode}`}`,
          `outbox:      ${folders.outboxDir ?? "(not set)"}`,
          `inbox:       ${folders.inboxDir ?? "(not set)"}`,
          `pending:     ${pending.length}${serverPending === undefined ? " (as last seen by the agent)" : " (on the server)"}`,
          ...pending.map((r) => `  - ${r.fileName} (${r.contextIdentifier.type} ${r.contextIdentifier.value}, expires ${r.expiresAt})`),
          `journal:     ${requests.length} requests, ${Object.keys(journal?.uploads ?? {}).length} uploaded files, ${inflight.length} uploads in flight`,
          `auto-sign:   ${config.autoSign.length === 0 ? "off" : config.autoSign.map((s) => `${s.subject} (${s.contexts.map((c) => c.value).join(", ")})`).join("; ")}`,
        ],
      );
    });

  withCommon(program.command("run"))
    .description("run the agent: poll the server, write auth.xml files, watch the inbox and upload signed files (Ctrl+C stops)")
    .option("--verbose", "debug log lines")
    .option("--open-signing-page", "open the gov.pl signing page in the browser when a new auth.xml is written")
    .option("--signing-page-url <url>", "the page --open-signing-page opens", GOV_SIGNING_PAGE_URL)
    .option("--local-api-port <port>", "serve the local API for programs on this computer on 127.0.0.1:PORT")
    .option("--use-polling", "poll the folders instead of OS events (network shares)")
    .addOption(new Option("--poll-wait-ms <ms>", "long-poll wait").default("25000").hideHelp())
    .addOption(new Option("--rescan-interval-ms <ms>", "full folder rescan period").default("30000").hideHelp())
    .addOption(new Option("--stability-ms <ms>", "how long a file must be unchanged before it is read").default("400").hideHelp())
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
        const autoSigners = await prepareAutoSigners(configDir, config.autoSign, io.stdinIsTTY ? io.prompt : undefined, logger);
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
            io.stderr.write("error: token revoked: pair again\nhint: ksef-signer unpair, then ksef-signer pair --server URL --code CODE\n");
            return;
          }
          throw error;
        }
      },
    );

  withCommon(program.command("give-up"))
    .description("tell the server a pending request will not be signed here (recorded for the admin; the request becomes failed)")
    .argument("<request-id>", "the request's id (see ksef-signer status --json)")
    .requiredOption("--reason <text>", "why, for the admin (no secrets), at most 1000 characters")
    .addHelpText("after", examples(["ksef-signer give-up 7d9c0e4a-… --reason 'Jan is on leave; sign at kasa-2'"]))
    .action(async (requestId: string, opts: Common & { reason: string }) => {
      const out = new Out(io, opts.json === true);
      const configDir = configDirOf(io, opts);
      const config = await requireConfig(configDir);
      await new AgentApiClient(config.server, await loadToken(configDir)).reportFailed(requestId, opts.reason);
      out.result({ requestId, status: "failed" }, [`request ${requestId} marked failed on the server`]);
    });

  withCommon(program.command("unpair"))
    .description("forget the pairing here (token, config, journal); the admin app can also revoke the token")
    .addHelpText("after", examples(["ksef-signer unpair"]))
    .action(async (opts: Common) => {
      const out = new Out(io, opts.json === true);
      const configDir = configDirOf(io, opts);
      const config = await loadConfig(configDir);
      for (const s of config?.autoSign ?? []) await forgetKeyPassword(configDir, s);
      await removePairing(configDir);
      out.result({ unpaired: true, configDir, wasPaired: config !== undefined }, [config === undefined ? "was not paired" : `unpaired from ${config.server}`]);
    });

  const autoSign = program
    .command("auto-sign")
    .description("let the agent sign login requests itself with your KSeF Authentication certificate (per certificate)");
  withCommon(autoSign.command("enable"))
    .description("allow automatic signing with a certificate for the given contexts")
    .requiredOption("--cert <file>", "the certificate (.crt)")
    .requiredOption("--key <file>", "its encrypted private key (.key)")
    .option(
      "--context <type:value...>",
      "contexts it may sign into, e.g. Nip:5265877635 or InternalId:5265877635-00001 (default: the workstation's company NIP)",
    )
    .addOption(new Option("--password-source <source>", "where the key password is kept").choices(["sealed", "keyring", "prompt"]).default("sealed"))
    .option("--password-file <file>", "read the key password from this file (first line)")
    .option("--password-stdin", "read the key password from stdin (first line)")
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
          throw new KsefCertsError("UNSUPPORTED", "secret-tool (libsecret) is not installed, so the OS keyring cannot be used.", {
            hint: "Use --password-source sealed or prompt.",
          });
        }
        const password = await readPassword(io, opts, `Password of ${opts.key}:`);
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
          `automatic signing enabled with ${setting.subject} for ${contexts.map((c) => `${c.type} ${c.value}`).join(", ")} (password: ${setting.passwordSource})`,
          "restart the agent (ksef-signer run) to use it",
        ]);
      },
    );
  withCommon(autoSign.command("disable"))
    .description("stop automatic signing with a certificate and forget its stored password")
    .argument("<fingerprint>", "the certificate's fingerprint (or its first 16 hex digits), see auto-sign list")
    .addHelpText("after", examples(["ksef-signer auto-sign disable 0B8E41C2D3A4F5E6"]))
    .action(async (fingerprint: string, opts: Common) => {
      const out = new Out(io, opts.json === true);
      const configDir = configDirOf(io, opts);
      const config = await requireConfig(configDir);
      const wanted = fingerprint.toUpperCase();
      const matches = config.autoSign.filter((s) => s.fingerprint.startsWith(wanted) && wanted.length >= 16);
      if (matches.length !== 1)
        throw new KsefCertsError("NOT_FOUND", `No single auto-sign certificate with fingerprint ${fingerprint.slice(0, 64)}.`, {
          hint: "See ksef-signer auto-sign list.",
        });
      for (const s of matches) await forgetKeyPassword(configDir, s);
      await saveConfig(configDir, { ...config, autoSign: config.autoSign.filter((s) => !matches.includes(s)) });
      out.result({ disabled: matches.map((s) => s.fingerprint) }, [`automatic signing disabled for ${matches[0]?.subject ?? ""}`]);
    });
  withCommon(autoSign.command("list"))
    .description("list the certificates allowed for automatic signing")
    .addHelpText("after", examples(["ksef-signer auto-sign list --json"]))
    .action(async (opts: Common) => {
      const out = new Out(io, opts.json === true);
      const config = await requireConfig(configDirOf(io, opts));
      out.result(
        { autoSign: config.autoSign },
        config.autoSign.length === 0
          ? ["automatic signing is off"]
          : config.autoSign.map(
              (s) =>
                `${s.fingerprint.slice(0, 16)}  ${s.subject}  ${s.contexts.map((c) => `${c.type}:${c.value}`).join(",")}  password: ${s.passwordSource}  valid to ${s.validTo}`,
            ),
      );
    });

  withCommon(program.command("install"))
    .description("print a systemd user unit that runs the agent as a user service")
    .requiredOption("--print", "print the unit to stdout (the only mode: save it yourself)")
    .option("--run-args <args>", 'extra arguments for run, e.g. "--open-signing-page --local-api-port 8787"')
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
    throw new KsefCertsError("VALIDATION", `${option} must be a positive whole number of milliseconds.`, {
      violations: [{ field: option, rule: "positiveInteger", message: `${option} must be a positive integer.` }],
    });
  return n;
}

function parseContexts(given: readonly string[] | undefined, config: AgentConfig): AutoSignSetting["contexts"] {
  const list = given ?? (config.workstation.companyNip == null ? [] : [`Nip:${config.workstation.companyNip}`]);
  if (list.length === 0)
    throw new KsefCertsError("VALIDATION", "No context to sign into.", {
      hint: "Pass --context Nip:NIP (or InternalId:NIP-NNNNN).",
      violations: [{ field: "context", rule: "autoSign.context.required", message: "At least one context is required." }],
    });
  return list.map((text) => {
    const m = /^(Nip|InternalId|NipVatUe|PeppolId):(\S{1,64})$/.exec(text);
    if (m === null)
      throw new KsefCertsError("VALIDATION", `"${text.slice(0, 80)}" is not TYPE:VALUE (Nip, InternalId, NipVatUe, PeppolId).`, {
        violations: [{ field: "context", rule: "autoSign.context.format", message: "Use TYPE:VALUE, e.g. Nip:5265877635." }],
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
  if (!io.stdinIsTTY)
    throw new KsefCertsError("PASSWORD_REQUIRED", "The key password is needed.", {
      hint: "Use --password-file FILE or --password-stdin, or run on a terminal.",
    });
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
  if (argv.some((a) => /^--?(password|passwd|pass|pw)(=|$)/i.test(a))) {
    return report(
      io,
      state.json,
      new KsefCertsError("VALIDATION", "Passwords are never taken from the command line.", {
        hint: "Use --password-file FILE, --password-stdin or the prompt.",
      }),
    );
  }
  const program = buildProgram(io, state);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return EXIT_OK;
      if (state.json) io.stdout.write(`${JSON.stringify({ error: { code: "VALIDATION", message: error.message } })}\n`);
      return EXIT_USAGE;
    }
    return report(io, state.json, error);
  }
}

function report(io: CliIo, json: boolean, error: unknown): number {
  const e = error instanceof KsefCertsError ? error : new KsefCertsError("INTERNAL", "Unexpected failure.", { cause: error });
  if (json)
    io.stdout.write(
      `${JSON.stringify({ error: { code: e.code, message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }), ...(e.violations.length === 0 ? {} : { violations: e.violations }) } })}\n`,
    );
  else {
    io.stderr.write(`error: ${e.message}\n`);
    if (e.hint !== undefined) io.stderr.write(`hint: ${e.hint}\n`);
    for (const v of e.violations) io.stderr.write(`  - ${v.field}: ${v.message}\n`);
    if (e.code === "INTERNAL" && io.env["KSEF_SIGNER_DEBUG"] !== undefined) io.stderr.write(`${String(e.cause)}\n`);
  }
  return isTokenRevoked(e) ? EXIT_TOKEN_REVOKED : EXIT_CODES[e.code];
}
