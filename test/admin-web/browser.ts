/**
 * What the admin web suite needs around the browser: Debian's chromium through playwright-core (never a
 * downloaded browser), the real admin server on a free port with a fresh data folder and a simulator, and screenshots into `artifacts/screenshots/` at the repository root.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { createUser } from "@ksef-certs/core/access";
import { openStore } from "@ksef-certs/core/store";
import { startSimulator } from "@ksef-certs/ksef-simulator";
import { createServer } from "../../apps/admin/src/server/app.js";

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

/** A running admin server with its KSeF simulator and first admin. */
export interface AdminServer {
  readonly url: string;
  readonly adminLogin: string;
  readonly adminPassword: string;
  readonly stop: () => Promise<void>;
}

/**
 * Starts the real admin server (H2's `createServer`: /trpc, the built web app from `apps/admin/dist/web`)
 * on a free port with a fresh embedded database in `dataDir`, a KSeF simulator beside it for every
 * environment, and a first super-admin with a random password (what `serve` prints once).
 * @param dataDir the data folder (fresh)
 */
export async function startAdminServer(dataDir: string): Promise<AdminServer> {
  const webRoot = join(REPO, "apps/admin/dist/web");
  if (!existsSync(join(webRoot, "index.html"))) throw new Error("apps/admin/dist/web is missing: run `pnpm --filter @ksef-certs/admin build` first");
  const store = await openStore({ dataDir });
  const sim = await startSimulator({ enrollmentDelayMs: 150 });
  const adminLogin = "admin";
  const adminPassword = `Admin-${randomBytes(9).toString("base64url")}-2026`;
  await createUser(store.db, { login: adminLogin, displayName: "Administrator", password: adminPassword, role: { role: "super_admin" } }, { actor: "test:admin-web" });
  const server = createServer({ store, port: 0, webRoot, ksefUrlFor: () => sim.url, masterKey: randomBytes(32), pollOptions: { intervalMs: 100 } });
  const { url } = await server.listen();
  return {
    url,
    adminLogin,
    adminPassword,
    stop: async () => {
      await server.close();
      await sim.close();
      await store.close();
    },
  };
}
