import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { AUDIT_CHECKPOINT_FILE, loadMasterKey, openStore, verifyAuditLog } from "@ksef-certs/domain/store";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CliIo } from "../context.js";
import { runCli } from "../program.js";
import { runServe } from "./serve.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ksef-serve-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts `serve` in-process; resolves once its result is printed, with a function that stops it. */
async function start(args: Parameters<typeof runServe>[1]): Promise<{ out: () => string; err: () => string; stop: () => Promise<void> }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdin: Readable.from([]),
    stdinIsTTY: false,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { KSEF_CERTS_WEB_ROOT: dir, KSEF_CERTS_LOG_LEVEL: "warn" },
    cwd: dir,
    prompt: () => Promise.reject(new Error("no prompt in this test")),
  };
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const running = runServe({ io, state: { json: args.json === true, exitCode: 0 } }, args, stopped);
  for (let i = 0; i < 600 && !stdout.includes("url") && !stdout.includes("http://"); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    out: () => stdout,
    err: () => stderr,
    stop: async () => {
      stop();
      await running;
    },
  };
}

it("serve: creates the first admin once (password printed only on stdout), serves the app and the API, restarts on the same data", async () => {
  await writeFile(join(dir, "index.html"), "<!doctype html><title>app</title>");
  const dataDir = join(dir, "data");
  const first = await start({ dataDir, port: "0", json: true });
  const shown = JSON.parse(first.out()) as { url: string; firstAdmin: { login: string; password: string } };
  expect(shown.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(shown.firstAdmin.login).toBe("admin");
  expect(shown.firstAdmin.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
  expect((await fetch(`${shown.url}/`)).status).toBe(200);
  const login = await fetch(`${shown.url}/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ login: "admin", password: shown.firstAdmin.password }),
  });
  expect(login.status).toBe(200);
  await first.stop();
  expect(first.err()).not.toContain(shown.firstAdmin.password);
  // Stopped: the port is closed.
  await expect(fetch(`${shown.url}/healthz`)).rejects.toThrow();

  const second = await start({ dataDir, port: "0", json: true });
  const again = JSON.parse(second.out()) as { url: string; firstAdmin?: unknown };
  expect(again.firstAdmin).toBeUndefined();
  await second.stop();
});

it("serve --with-simulator points test and demo at a local KSeF", async () => {
  const s = await start({ dataDir: join(dir, "sim"), port: "0", withSimulator: true, json: true });
  const shown = JSON.parse(s.out()) as { simulatorUrl: string };
  expect(shown.simulatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2$/);
  await s.stop();
});

it("a first start that cannot listen (port taken) creates no admin; the next start does, and a lost password is reset from the CLI", async () => {
  const dataDir = join(dir, "taken");
  const blocker = createNetServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const port = (blocker.address() as AddressInfo).port;
  const io = ioFor();
  const failed = await runServe({ io: io.io, state: { json: true, exitCode: 0 } }, { dataDir, port: String(port), json: true }, Promise.resolve()).catch(
    (e: unknown) => e,
  );
  blocker.close();
  expect((failed as { code?: string }).code).toBe("IO");
  expect(io.out()).not.toContain("password");

  const started = await start({ dataDir, port: "0", json: true });
  const shown = JSON.parse(started.out()) as { url: string; firstAdmin: { login: string; password: string } };
  expect(shown.firstAdmin.login).toBe("admin");
  const login = (password: string) =>
    fetch(`${shown.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ login: "admin", password }),
    });
  const session = (await login(shown.firstAdmin.password)).headers.get("set-cookie")?.split(";")[0] ?? "";
  await started.stop();

  // The password is lost: whoever holds the data folder sets a new one (read from a file, never from argv).
  await writeFile(join(dir, "nowe-haslo.txt"), "Nowe-Haslo-Admina-2026\n");
  const reset = ioFor();
  const code = await runCli(["users", "reset-password", "--login", "ADMIN", "--password-file", "nowe-haslo.txt", "--data-dir", dataDir, "--json"], reset.io);
  expect(code, reset.err()).toBe(0);
  expect(JSON.parse(reset.out())).toMatchObject({ login: "admin" });
  expect(reset.out()).not.toContain("Nowe-Haslo");
  const weak = ioFor();
  await writeFile(join(dir, "slabe.txt"), "krotkie\n");
  expect(await runCli(["users", "reset-password", "--login", "admin", "--password-file", "slabe.txt", "--data-dir", dataDir], weak.io)).not.toBe(0);

  const again = await start({ dataDir, port: "0", json: true });
  const url = (JSON.parse(again.out()) as { url: string }).url;
  const relogin = (password: string) =>
    fetch(`${url}/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: "admin", password }) });
  expect((await relogin(shown.firstAdmin.password)).status).toBe(401);
  expect((await relogin("Nowe-Haslo-Admina-2026")).status).toBe(200);
  // The session from before the reset is gone.
  const me = (await (await fetch(`${url}/trpc/auth.me`, { headers: { cookie: session } })).json()) as { result: { data: unknown } };
  expect(me.result.data).toBeNull();
  await again.stop();
});

/** An in-memory CLI surface rooted at the test folder. */
function ioFor(): { io: CliIo; out: () => string; err: () => string } {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdin: Readable.from([]),
    stdinIsTTY: false,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { KSEF_CERTS_WEB_ROOT: dir, KSEF_CERTS_LOG_LEVEL: "warn" },
    cwd: dir,
    prompt: () => Promise.reject(new Error("no prompt in this test")),
  };
  return { io, out: () => stdout, err: () => stderr };
}

it("serve keys the audit log with the master key it created and checkpoints the head while running and on stop", async () => {
  const dataDir = join(dir, "audit");
  const path = join(dataDir, AUDIT_CHECKPOINT_FILE);
  const s = await start({ dataDir, port: "0", json: true });
  // Creating the first admin wrote the first (keyed) entries; the timer checkpoints them within about 5 s.
  for (let i = 0; i < 600 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
  expect(existsSync(path), s.err()).toBe(true);
  await s.stop();
  const masterKey = await loadMasterKey({ dataDir, env: {} });
  expect(masterKey).toBeDefined();
  const store = await openStore({ dataDir, env: {} });
  try {
    const v = await verifyAuditLog(store.db, { masterKey: masterKey!, checkpoint: path });
    expect(v).toMatchObject({ ok: true, unkeyed: 0, checkpoint: { status: "valid", checkpoint: { seq: v.entries } } });
    expect(v.entries).toBeGreaterThan(0);
  } finally {
    await store.close();
  }
}, 120_000);
