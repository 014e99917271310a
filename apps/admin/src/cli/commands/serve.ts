/**
 * `ksef-certs serve`: the admin web app and its API on 127.0.0.1. Opens the store (embedded
 * PGlite by default, DATABASE_URL → PostgreSQL), creates the first super-admin on the first start and
 * prints its login and a random password once (stdout only; never logged), optionally starts the KSeF
 * simulator beside it and points the test and demo environments at it, and stops cleanly on SIGINT/SIGTERM
 * (running enrollments stop in a resumable state and resume on the next start).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { countUsers, createUser } from "@ksef-certs/domain/access";
import { checkExportRoot } from "@ksef-certs/domain/adapters";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { KsefEnvironment } from "@ksef-certs/ksef/api";
import { bindAuditKey, createMasterKeyFile, masterKeyFilePath, openStore, resolveStoreTarget, startAuditCheckpoints } from "@ksef-certs/domain/store";
import { createServer, DEFAULT_PORT } from "../../server/app.js";
import { createServerLogger } from "../../server/logger.js";
import { resolvePath } from "../context.js";
import { KSEF_URL_ENV } from "../ksef.js";
import { type CommandEnv, examples, helpText } from "../options.js";
import { Output } from "../output.js";
import { readPasswordFile } from "../password.js";
import { addStoreOptions, auditCheckpointOf, auditCheckpointWarning, cliActor, dataDirOf, masterKeyOf, nowOf, type StoreOptions } from "../store.js";

/** Options of `serve`. */
export interface ServeOptions extends StoreOptions {
  readonly host?: string;
  readonly port?: string;
  readonly withSimulator?: boolean;
  readonly simulatorPort?: string;
  readonly open?: boolean;
  readonly adminPasswordFile?: string;
  readonly publicOrigin?: string;
  readonly exportRoot?: string;
  readonly renewalInterval?: string;
}

/** Login of the first super-admin created on the first start. */
export const FIRST_ADMIN_LOGIN = "admin";

/** The built web app next to the compiled CLI (`dist/web`). */
function defaultWebRoot(): string {
  return fileURLToPath(new URL("../../web", import.meta.url));
}

function portOf(text: string | undefined, fallback: number, option: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65_535) {
    throw new KsefCertsError("VALIDATION", msg("cli.serve.port", { option }), {
      violations: [violation(option, "port.range")],
    });
  }
  return n;
}

function intervalOf(text: string): number {
  const n = Number(text);
  if (!/^\d{1,9}$/.test(text) || !Number.isSafeInteger(n)) {
    throw new KsefCertsError("VALIDATION", msg("cli.serve.renewalInterval"), { violations: [violation("--renewal-interval", "interval.ms")] });
  }
  return n;
}

/**
 * Registers `serve`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerServe(program: Command, env: CommandEnv): void {
  const cmd = program
    .command("serve")
    .summary(helpText(env.io, msg("cli.help.serve")))
    .description(
      "Start the admin web app and its API (tRPC at /trpc, the signer agent API at /agent/v1) on 127.0.0.1.\n" +
        "On the first start an account `admin` is created and its password is printed ONCE on stdout (or taken from\n" +
        "--admin-password-file). --with-simulator starts a local KSeF simulator and points the test and demo\n" +
        "environments at it (production always goes to MF's KSeF unless $" +
        KSEF_URL_ENV +
        " says otherwise). Ctrl+C stops it; enrollments in progress resume on the next start.",
    )
    .option("--host <host>", "interface to listen on (default 127.0.0.1; anything else exposes the app to the network)")
    .option("--port <port>", `port (default ${DEFAULT_PORT}; 0 picks a free one)`)
    .option("--with-simulator", "start the KSeF simulator beside the app, for the test and demo environments")
    .option("--simulator-port <port>", "port of the simulator (default: a free one)")
    .option("--open", "open the app in the default browser")
    .option(
      "--export-root <folder>",
      "a folder outside the data folder below which super-admins configure export destinations (default $KSEF_CERTS_EXPORT_ROOT; none: exports are downloads only)",
    )
    .option(
      "--public-origin <url>",
      "the address people use through a reverse proxy, e.g. https://ksef.example.pl (the server answers only to its own host names; default $KSEF_CERTS_PUBLIC_ORIGIN)",
    )
    .option("--admin-password-file <file>", "on the first start, the first admin's password (first line of the file) instead of a random one")
    .option(
      "--renewal-interval <ms>",
      "how often the renewal scheduler looks for due renewals and takeovers, in milliseconds (default 60000; 0 turns automatic renewal off)",
    );
  addStoreOptions(cmd).addHelpText(
    "after",
    examples([
      "ksef-certs serve",
      "ksef-certs serve --with-simulator --open",
      "ksef-certs serve --port 9000 --data-dir ./data",
      "DATABASE_URL=postgres://ksef@db/ksef ksef-certs serve",
    ]),
  );
  cmd.action(async (opts: ServeOptions) => {
    await runServe(env, opts);
  });
}

/**
 * Runs the server until SIGINT/SIGTERM (or `stop` resolves, in tests).
 * @param env the run's surface and state
 * @param opts command options
 * @param stop resolves when the server should stop (default: the first SIGINT or SIGTERM)
 */
export async function runServe(env: CommandEnv, opts: ServeOptions, stop?: Promise<void>): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const port = portOf(opts.port, DEFAULT_PORT, "--port");
  const simulatorPort = portOf(opts.simulatorPort, 0, "--simulator-port");
  const logger = createServerLogger({ level: io.env["KSEF_CERTS_LOG_LEVEL"] ?? "info" });
  const dataDir = dataDirOf(io, opts);
  const storeEnv: NodeJS.ProcessEnv = { ...io.env };
  const store = await openStore({
    ...(dataDir === undefined ? {} : { dataDir }),
    env: storeEnv,
    onProgress: (m) => {
      out.note(m);
    },
  });
  const cleanups: (() => Promise<void>)[] = [() => store.close()];
  try {
    let masterKey = await masterKeyOf(io, opts);
    const target = resolveStoreTarget({ ...(dataDir === undefined ? {} : { dataDir }), env: storeEnv });
    if (masterKey === undefined && target.kind === "pglite" && target.dataDir !== ":memory:") {
      // The embedded store's own key: sealing (unattended use, resumable enrollments) works out of the box.
      const path = masterKeyFilePath(target.dataDir);
      if (!existsSync(path)) masterKey = await createMasterKeyFile(path);
    }
    // Keyed audit entries from the first change on; the head checkpoint follows every few seconds and on stop.
    const auditCheckpoint = masterKey === undefined ? undefined : auditCheckpointOf(io, opts);
    if (masterKey !== undefined) {
      bindAuditKey(store.db, masterKey);
      if (auditCheckpoint !== undefined) {
        const checkpoints = startAuditCheckpoints(store.db, {
          masterKey,
          path: auditCheckpoint,
          now: () => nowOf(io),
          onResult: (r) => {
            const warning = auditCheckpointWarning(r);
            if (warning !== undefined) logger.warn({ path: r.path, head: r.head.seq, checkpoint: r.previous?.seq }, warning);
          },
          onError: (err) => {
            logger.error({ err }, "audit checkpoint not written");
          },
        });
        cleanups.unshift(() => checkpoints.stop());
      }
    }

    // Read before listening (a bad file is refused before anything starts); the account itself is created only once the
    // server listens, so a start that fails (port taken) never leaves an admin whose password nobody saw.
    const givenAdminPassword = opts.adminPasswordFile === undefined ? undefined : await readPasswordFile(io, opts.adminPasswordFile);

    let simulatorUrl: string | undefined;
    if (opts.withSimulator === true) {
      const { startSimulator } = await import("@ksef-certs/ksef-simulator");
      const sim = await startSimulator({ host: "127.0.0.1", port: simulatorPort, logger: logger.child({ component: "ksef-simulator" }) });
      simulatorUrl = sim.url;
      cleanups.unshift(() => sim.close());
    }
    const fromEnv = io.env[KSEF_URL_ENV];
    const ksefUrlFor = (environment: KsefEnvironment): string | undefined =>
      simulatorUrl !== undefined && environment !== "production" ? simulatorUrl : fromEnv !== undefined && fromEnv.trim() !== "" ? fromEnv.trim() : undefined;

    const rootOption = opts.exportRoot ?? io.env["KSEF_CERTS_EXPORT_ROOT"];
    const exportRoot =
      rootOption === undefined || rootOption.trim() === ""
        ? undefined
        : await checkExportRoot(resolvePath(io, rootOption.trim()), target.kind === "pglite" ? target.dataDir : undefined);

    const server = createServer({
      store,
      host: opts.host ?? "127.0.0.1",
      port,
      webRoot: io.env["KSEF_CERTS_WEB_ROOT"] === undefined ? defaultWebRoot() : resolvePath(io, io.env["KSEF_CERTS_WEB_ROOT"]),
      ksefUrlFor,
      logger,
      ...publicOriginOf(opts.publicOrigin ?? io.env["KSEF_CERTS_PUBLIC_ORIGIN"]),
      ...(exportRoot === undefined ? {} : { exportRoot }),
      ...(masterKey === undefined ? {} : { masterKey }),
      ...(auditCheckpoint === undefined ? {} : { auditCheckpoint }),
      ...(opts.renewalInterval === undefined ? {} : { renewals: { intervalMs: intervalOf(opts.renewalInterval) } }),
    });
    const { url } = await server.listen();
    cleanups.unshift(() => server.close());
    let firstAdmin: { login: string; password: string; generated: boolean } | undefined;
    if ((await countUsers(store.db)) === 0) {
      const password = givenAdminPassword ?? randomBytes(18).toString("base64url");
      await createUser(store.db, { login: FIRST_ADMIN_LOGIN, displayName: "Administrator", password, role: { role: "super_admin" } }, { actor: cliActor(io) });
      firstAdmin = { login: FIRST_ADMIN_LOGIN, password, generated: givenAdminPassword === undefined };
    }
    const lines = [`ksef-certs admin: ${url}  (database: ${store.location})`];
    if (simulatorUrl !== undefined) lines.push(`KSeF simulator: ${simulatorUrl} (test and demo environments)`);
    if (firstAdmin !== undefined) {
      lines.push(
        firstAdmin.generated
          ? `First start: sign in as "${firstAdmin.login}" with password ${firstAdmin.password}  (shown only now; change it after signing in; lost it? ksef-certs users reset-password --login ${firstAdmin.login})`
          : `First start: sign in as "${firstAdmin.login}" with the password from --admin-password-file.`,
      );
    }
    lines.push("Ctrl+C stops the server.");
    out.result(
      {
        url,
        database: store.location,
        ...(simulatorUrl === undefined ? {} : { simulatorUrl }),
        ...(firstAdmin === undefined ? {} : { firstAdmin: { login: firstAdmin.login, ...(firstAdmin.generated ? { password: firstAdmin.password } : {}) } }),
      },
      lines,
    );
    if (opts.open === true) openBrowser(url);
    await (stop ?? untilSignal());
    out.note("stopping…");
  } finally {
    for (const c of cleanups) {
      await c().catch((err: unknown) => {
        logger.error({ err }, "shutdown step failed");
      });
    }
  }
}

function publicOriginOf(value: string | undefined): { publicOrigin?: string } {
  return value === undefined || value.trim() === "" ? {} : { publicOrigin: value.trim() };
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}

function openBrowser(url: string): void {
  const [cmd, args] = process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  try {
    spawn(cmd, args, { stdio: "ignore", detached: true })
      .on("error", () => {
        // No browser: the URL is printed anyway.
      })
      .unref();
  } catch {
    // No browser opener: the URL is printed anyway.
  }
}
