#!/usr/bin/env node
// Entry point behind the README's commands (`npm start`, `npm test`) and the other root scripts.
// It must work on a machine with only Node 20 and npm: it brings the pinned pnpm through npx when
// none is installed, installs the workspace from the lockfile, then hands over to turbo.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

process.env.TURBO_TELEMETRY_DISABLED ??= "1";
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { packageManager } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const pnpmVersion = packageManager.replace(/^pnpm@/, "");

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function pnpm() {
  const probe = spawnSync("pnpm", ["--version"], { cwd: root, encoding: "utf8" });
  if (probe.status === 0 && probe.stdout.trim() === pnpmVersion) return ["pnpm", []];
  return ["npx", ["--yes", `pnpm@${pnpmVersion}`]];
}

const [bin, pre] = pnpm();
const p = (...args) => run(bin, [...pre, ...args]);

function ensureInstalled() {
  const marker = join(root, "node_modules", ".modules.yaml");
  const lock = join(root, "pnpm-lock.yaml");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  const status = p("install", "--frozen-lockfile");
  if (status !== 0) process.exit(status);
}

const task = process.argv[2] ?? "test";
const rest = process.argv.slice(3);
ensureInstalled();
switch (task) {
  case "start": {
    let status = p("exec", "turbo", "run", "build", "--filter=@ksef-certs/admin...", "--output-logs=errors-only");
    if (status !== 0) process.exit(status);
    // No command (or only options such as --with-simulator, --port): the admin web app (`ksef-certs serve`) on the
    // embedded database; `npm start -- inspect my.crt` still runs any CLI command.
    const args = rest.length === 0 || (rest[0].startsWith("--") && !["--help", "-h", "--version", "-V"].includes(rest[0])) ? ["serve", ...rest] : rest;
    // npm runs scripts at the root; INIT_CWD is where the user typed the command, so their relative paths work.
    status = run(process.execPath, [join(root, "apps/admin/dist/cli/main.js"), ...args], { cwd: process.env.INIT_CWD ?? root });
    process.exit(status);
    break;
  }
  case "simulator": {
    // The local KSeF API for trying everything offline (packages/ksef-simulator); Ctrl+C stops it.
    const status = p("exec", "turbo", "run", "build", "--filter=@ksef-certs/ksef-simulator...", "--output-logs=errors-only");
    if (status !== 0) process.exit(status);
    process.exit(run(process.execPath, [join(root, "packages/ksef-simulator/dist/cli.js"), ...rest], { cwd: process.env.INIT_CWD ?? root }));
    break;
  }
  case "signer": {
    // The workstation's signer agent (`ksef-signer`, apps/signer-agent): pair, status, run, auto-sign, install.
    const status = p("exec", "turbo", "run", "build", "--filter=@ksef-certs/signer-agent...", "--output-logs=errors-only");
    if (status !== 0) process.exit(status);
    process.exit(run(process.execPath, [join(root, "apps/signer-agent/dist/cli/main.js"), ...rest], { cwd: process.env.INIT_CWD ?? root }));
    break;
  }
  case "test":
  case "bench":
  case "build":
  case "typecheck":
  case "lint":
    // One package at a time: the suites and benchmarks each want both cores (PBKDF2, RSA keygen, openssl).
    process.exit(p("exec", "turbo", "run", task, "--concurrency=1", ...rest));
    break;
  case "format":
  case "format:check":
    // Prettier over the whole repository (.prettierrc.json, .prettierignore); CI checks, people write.
    process.exit(p("exec", "prettier", task === "format" ? "--write" : "--check", ".", ...rest));
    break;
  case "depcruise":
    // The import boundaries of .dependency-cruiser.cjs over every workspace folder; no build needed.
    process.exit(p("exec", "depcruise", "packages", "apps", "test", "tooling", ...rest));
    break;
  case "graph":
    // Which package imports which (production code; tests, fixtures and benchmarks left out; test/ is all tests and
    // shown whole), as mermaid for docs/ARCHITECTURE.md; `npm run graph -- -T text` for one line per edge.
    process.exit(
      p(
        "exec",
        "depcruise",
        "packages",
        "apps",
        "test",
        "--include-only",
        "^(packages|apps)/[^/]+/(src|web)/|^test/",
        "--exclude",
        "^(packages|apps)/.*(\\.test\\.ts$|/__fixtures__/|/bench/)|/\\.cache/|/\\.turbo/",
        "--collapse",
        "^(packages|apps)/[^/]+|^test",
        "-T",
        "mermaid",
        ...rest,
      ),
    );
    break;
  case "knip":
    // Unused files, dependencies and exports of every workspace (knip.json).
    process.exit(p("exec", "knip", ...rest));
    break;
  default:
    console.error(`unknown task ${task}: use start, simulator, signer, test, bench, build, typecheck, lint, format, format:check, depcruise, graph or knip`);
    process.exit(2);
}
