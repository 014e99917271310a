// The built executable, spawned for real: shebang, exit codes, stdin passwords, help.
// `pnpm test` builds first (turbo: test dependsOn build); run `pnpm build` before `vitest run` by hand.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fixtures, makeFixtures, publicKeyOf } from "./__fixtures__/harness.js";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
let fx: Fixtures;
const seen: string[] = [];

function cli(args: readonly string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: fx.dir,
    encoding: "utf8",
    input: input ?? "",
    timeout: 30_000,
    env: { PATH: process.env["PATH"] ?? "" },
  });
  seen.push(r.stdout, r.stderr);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`pnpm --filter @ksef-certs/admin build\` first`);
  fx = makeFixtures();
});
afterAll(() => {
  expect(seen.join("\n")).not.toContain(fx.password);
  fx.cleanup();
});

describe("ksef-certs (spawned)", () => {
  it("is an executable script with a node shebang", () => {
    expect(readFileSync(MAIN, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });
  it("--help and --version exit 0", () => {
    const help = cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: ksef-certs");
    const version = cli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
  it("ends quietly with its own exit code when the reader closes the pipe early (| head)", () => {
    // `head -c 1` closes stdout after one byte while help is still being written: without the EPIPE handler node
    // dies with an unhandled 'error' event and a stack trace on stderr.
    const r = spawnSync("sh", ["-c", `"${process.execPath}" "${MAIN}" export --help | head -c 1 >/dev/null`], { encoding: "utf8", timeout: 30_000 });
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
  });
  it("reads the key password from stdin and exits 0 on a matching pair", () => {
    const r = cli(["pair-check", "--cert", "cert.crt", "--key", "enc.key", "--password-stdin"], `${fx.password}\n`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^matches/);
  });
  it("exits 6 on a mismatched pair and 4 on a wrong password, 2 on --password", () => {
    expect(cli(["pair-check", "--cert", "cert.crt", "--key", "other.pem"]).code).toBe(6);
    const wrong = cli(["pair-check", "--cert", "cert.crt", "--key", "enc.key", "--password-stdin", "--json"], "wrong\n");
    expect(wrong.code).toBe(4);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ error: { code: "WRONG_PASSWORD" } });
    const argv = cli(["pair-check", "--cert", "cert.crt", "--key", "enc.key", "--password", fx.password]);
    expect(argv.code).toBe(2);
  });
  it("keygen with a piped password writes a key openssl opens", () => {
    const r = cli(["keygen", "--out", "spawned.key", "--password-stdin", "--json"], "Spawned-Pass-123!x\n");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ privateKey: { file: "spawned.key" } });
    expect(statSync(`${fx.dir}/spawned.key`).mode & 0o777).toBe(0o600);
    fx.write("spawned.pass", "Spawned-Pass-123!x\n");
    expect(publicKeyOf(fx.dir, "spawned.key", "key", "spawned.pass")).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });
  it("without a terminal and without a source, a password is required (exit 4), not waited for", () => {
    const r = cli(["inspect", "bundle.p12"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("A password is needed for the PKCS#12 file bundle.p12.");
  });
});
