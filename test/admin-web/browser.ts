/**
 * What the admin web suite needs around the browser: Debian's chromium through playwright-core (never a
 * downloaded browser), the real `ksef-certs serve --with-simulator` on a free port with a fresh data
 * folder, and screenshots into `artifacts/screenshots/` at the repository root.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
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

/** A running `ksef-certs serve`. */
export interface AdminServer {
  readonly url: string;
  readonly adminLogin: string;
  readonly adminPassword: string;
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

/**
 * Starts the built CLI `ksef-certs serve --with-simulator` on a free port with a fresh data folder and
 * waits for the line with its address and the first admin's login and password (printed once).
 * @param dataDir the data folder (fresh)
 * @param env extra environment (master key)
 * @throws Error when it does not come up within 60 s (with its output)
 */
export async function startAdminServer(dataDir: string, env: Record<string, string>): Promise<AdminServer> {
  const cli = join(REPO, "apps/admin/dist/cli/main.js");
  const child: ChildProcess = spawn(process.execPath, [cli, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--with-simulator"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
  child.stdout?.on("data", (d: Buffer) => { out += d.toString("utf8"); });
  child.stderr?.on("data", (d: Buffer) => { out += d.toString("utf8"); });
  const until = Date.now() + 60_000;
  for (;;) {
    const url = /(http:\/\/127\.0\.0\.1:\d+)(?!\d|\/v2)/.exec(out)?.[1];
    const login = /(?:login|użytkownik)\W+([\w.@-]+)/i.exec(out)?.[1];
    const password = /(?:password|hasło)\W+(\S+)/i.exec(out)?.[1];
    if (url !== undefined && login !== undefined && password !== undefined) {
      return {
        url,
        adminLogin: login,
        adminPassword: password,
        output: () => out,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          await exited;
        },
      };
    }
    if (child.exitCode !== null || Date.now() > until) throw new Error(`ksef-certs serve did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
