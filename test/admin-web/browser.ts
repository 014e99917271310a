/**
 * What the admin web suite needs around the browser: Debian's chromium through playwright-core (never a
 * downloaded browser), the product started as the README starts it (the built `ksef-certs serve --with-simulator`
 * on a free port with a fresh data folder), and screenshots into `artifacts/screenshots/` at the repository root.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer as createNetServer } from "node:net";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Debian's chromium (installed by `.ci/run` with apt when missing). */
export const CHROMIUM = "/usr/bin/chromium";
/** The repository root. */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** Where screenshots go (CI keeps them as artifacts; git ignores `artifacts/`). */
export const SCREENSHOTS = join(REPO, "artifacts", "screenshots");

/**
 * Whether the suite runs: chromium present, or CI (where a missing chromium must fail, not skip).
 */
export function browserAvailable(): boolean {
  return existsSync(CHROMIUM) || process.env.CI !== undefined;
}

/**
 * Launches chromium headless with a fresh profile, no network side-traffic, Polish UI language.
 * @returns the browser context (close it to end the browser)
 */
export async function launchBrowser(): Promise<BrowserContext> {
  const profile = await mkdtemp(join(tmpdir(), "ksef-chromium-"));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    locale: "pl-PL",
    acceptDownloads: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Saves a full-page screenshot `artifacts/screenshots/<name>.png`.
 * @param page the page
 * @param name file name without extension
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** A running `ksef-certs serve --with-simulator` with the first admin it printed. */
export interface AdminServer {
  readonly url: string;
  readonly adminLogin: string;
  readonly adminPassword: string;
  /** Everything the server printed on stderr so far (logs), for failure messages. */
  readonly stderr: () => string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s); safe to call twice. */
  readonly stop: () => Promise<void>;
}

/** The built CLI the README's `npm start` runs. */
export const CLI = join(REPO, "apps/admin/dist/cli/main.js");

/** A port nobody listens on right now (the kernel's pick for port 0, released at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

const URL_LINE = /^ksef-certs admin: (http:\/\/\S+)/m;
const ADMIN_LINE = /^First start: sign in as "([^"]+)" with password (\S+)/m;
const STARTUP_MS = 60_000;

/** A running `ksef-certs serve` child process. */
export interface ServeProcess<T> {
  readonly url: string;
  /** The child's process id. */
  readonly pid: number;
  /** What `ready` read from stdout once the server listened. */
  readonly printed: T;
  /** Everything the server printed on stderr so far (logs), for failure messages. */
  readonly stderr: () => string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s); safe to call twice. */
  readonly stop: () => Promise<void>;
  /** Kills the server with SIGKILL at once (a crash: nothing of its shutdown runs); resolves once it is gone. */
  readonly kill: () => Promise<void>;
}

/**
 * Spawns the built CLI `serve` on a free port with `dataDir` and waits until it printed its URL and `ready`
 * found what it needs in stdout. The embedded database in `dataDir` is used whatever the developer's shell points
 * at; without `dataDir`, the store is the one `options.env` names (`DATABASE_URL`). Whatever happens (startup timeout, early exit) the child is killed before this throws; a process `exit`
 * hook kills it too if the test worker dies without running `afterAll`.
 * @param dataDir the data folder (`--data-dir`, which wins over `DATABASE_URL`), or undefined
 * @param options more `serve` arguments, more environment, and what to read from stdout (default nothing)
 * @throws Error when the CLI or the web app is not built, the server exits, or is not ready within 60 s
 */
export async function startServe<T = undefined>(
  dataDir: string | undefined,
  options: { readonly args?: readonly string[]; readonly env?: Readonly<Record<string, string>>; readonly ready?: (stdout: string) => T | undefined } = {},
): Promise<ServeProcess<T>> {
  if (!existsSync(CLI) || !existsSync(join(REPO, "apps/admin/dist/web/index.html"))) {
    throw new Error("apps/admin/dist is missing: run `pnpm --filter @ksef-certs/admin build` first");
  }
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, KSEF_CERTS_LOG_LEVEL: "warn" };
  delete env["DATABASE_URL"];
  delete env["KSEF_CERTS_MASTER_KEY"];
  delete env["KSEF_CERTS_WEB_ROOT"];
  Object.assign(env, options.env);
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, "serve", ...(options.args ?? []), "--port", String(port), ...(dataDir === undefined ? [] : ["--data-dir", dataDir])],
    {
      cwd: REPO,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  const end = async (signal: "SIGTERM" | "SIGKILL"): Promise<void> => {
    process.off("exit", killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const hard = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(hard);
  };
  const stop = (): Promise<void> => end("SIGTERM");
  try {
    const started = await new Promise<{ url: string; printed: T }>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`serve was not ready within ${String(STARTUP_MS)} ms:\n${stdout}\n${stderr}`));
      }, STARTUP_MS);
      const check = (): void => {
        const url = URL_LINE.exec(stdout)?.[1];
        const printed = options.ready === undefined ? (undefined as T) : options.ready(stdout);
        if (url !== undefined && (options.ready === undefined || printed !== undefined)) {
          clearTimeout(timer);
          resolve({ url, printed: printed as T });
        }
      };
      child.stdout?.on("data", check);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`serve exited (${String(code ?? signal)}) before it was ready:\n${stdout}\n${stderr}`));
      });
      check();
    });
    if (started.url !== `http://127.0.0.1:${String(port)}`) throw new Error(`serve listens on ${started.url}, not on --port ${String(port)}`);
    return { ...started, pid: child.pid ?? 0, stderr: () => stderr, stop, kill: () => end("SIGKILL") };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Starts the product the way the README does: the built CLI `serve --with-simulator` on a free port with a
 * fresh data folder, and reads the URL and the first admin's login and password it prints once on stdout.
 * @param dataDir the data folder (fresh)
 * @throws Error as {@link startServe}, or when no first admin is printed
 */
export async function startAdminServer(dataDir: string): Promise<AdminServer> {
  const server = await startServe(dataDir, {
    args: ["--with-simulator"],
    ready: (stdout) => {
      const admin = ADMIN_LINE.exec(stdout);
      return admin?.[1] !== undefined && admin[2] !== undefined ? { login: admin[1], password: admin[2] } : undefined;
    },
  });
  return { url: server.url, adminLogin: server.printed.login, adminPassword: server.printed.password, stderr: server.stderr, stop: server.stop };
}
