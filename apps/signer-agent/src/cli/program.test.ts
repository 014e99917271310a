import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encryptPrivateKeyPem } from "@ksef-certs/ksef/crypto";
import { msg, translate } from "@ksef-certs/ksef/messages";
import { makePerson, startFakeAgentServer, type FakeAgentServer } from "../__fixtures__/fake-server.js";
import { runCli, type CliIo } from "./program.js";

let dir: string;
let server: FakeAgentServer;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ksef-signer-cli-"));
  await mkdir(join(dir, "out"));
  await mkdir(join(dir, "in"));
  server = await startFakeAgentServer({ outboxDir: join(dir, "out"), inboxDir: join(dir, "in") });
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], stdin = "", surface: Partial<CliIo> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const stderr = new PassThrough();
  stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
  const input = new PassThrough();
  input.end(stdin);
  const io: CliIo = {
    stdin: input,
    stdinIsTTY: false,
    stdout: { write: (t: string) => (out += t) },
    stderr,
    env: { HOME: dir },
    cwd: dir,
    prompt: () => Promise.reject(new Error("no prompt in tests")),
    ...surface,
  };
  const code = await runCli(args, io);
  return { code, out, err };
}

describe("ksef-signer CLI", () => {
  it("every command has --help with examples", async () => {
    for (const cmd of [["pair"], ["status"], ["run"], ["give-up"], ["unpair"], ["auto-sign", "enable"], ["auto-sign", "list"], ["install"]]) {
      const r = await cli([...cmd, "--help"]);
      expect(r.code, cmd.join(" ")).toBe(0);
      expect(r.out, cmd.join(" ")).toContain("Examples:");
      expect(r.out, cmd.join(" ")).toContain("--json");
    }
  });

  it("pair → status → unpair, with --json; the token file is 0600 and the code is accepted in any case without dash", async () => {
    const cfg = join(dir, "cfg");
    const paired = await cli(["pair", "--server", server.url, "--code", "abcdef12", "--config-dir", cfg, "--json"]);
    expect(paired.code, paired.err + paired.out).toBe(0);
    expect(JSON.parse(paired.out)).toMatchObject({ paired: true, outboxDir: join(dir, "out"), inboxDir: join(dir, "in") });
    expect((await stat(join(cfg, "token"))).mode & 0o777).toBe(0o600);
    const r = server.addRequest();
    const gaveUp = await cli(["give-up", r.id, "--reason", "operator on leave", "--config-dir", cfg, "--json"]);
    expect(gaveUp.code, gaveUp.out).toBe(0);
    expect(server.requests.get(r.id)?.failedReason).toBe("operator on leave");
    const waiting = server.addRequest();
    const status = await cli(["status", "--config-dir", cfg, "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({
      serverStatus: { reachable: true, tokenAccepted: true },
      pending: [{ id: waiting.id, fileName: waiting.fileName, inOutbox: false }],
      journal: { requests: 0 },
    });
    const again = await cli(["pair", "--server", server.url, "--code", "ABCD-EF12", "--config-dir", cfg, "--json"]);
    expect(again.code).toBe(7); // used code: 404 → NOT_FOUND
    expect(JSON.parse(again.out)).toMatchObject({ error: { code: "NOT_FOUND" } });
    server.revokeTokens();
    const revoked = await cli(["status", "--config-dir", cfg]);
    expect(revoked.out).toContain("token revoked: pair again");
    const unpaired = await cli(["unpair", "--config-dir", cfg, "--json"]);
    expect(JSON.parse(unpaired.out)).toMatchObject({ unpaired: true, wasPaired: true });
    await expect(readFile(join(cfg, "token"))).rejects.toThrow();
    const notPaired = await cli(["status", "--config-dir", cfg]);
    expect(notPaired.code).toBe(7);
    expect(notPaired.err).toContain("ksef-signer pair");
  });

  it("refuses passwords on the command line and keeps auto-sign passwords sealed", async () => {
    const refused = await cli(["auto-sign", "enable", "--password=secret", "--json"]);
    expect(refused.code).toBe(2);
    expect(refused.out).not.toContain("secret");
    const cfg = join(dir, "cfg");
    expect((await cli(["pair", "--server", server.url, "--code", "ABCD-EF12", "--config-dir", cfg])).code).toBe(0);
    const person = await makePerson();
    await writeFile(join(dir, "a.crt"), Buffer.from(person.certificate));
    await writeFile(join(dir, "a.key"), await encryptPrivateKeyPem(person.keys.privateKey, "Haslo-Testowe-1!"));
    await writeFile(join(dir, "pw.txt"), "zle-haslo\n");
    const wrong = await cli(["auto-sign", "enable", "--cert", "a.crt", "--key", "a.key", "--password-file", "pw.txt", "--config-dir", cfg]);
    expect(wrong.code).toBe(4);
    const ok = await cli(["auto-sign", "enable", "--cert", "a.crt", "--key", "a.key", "--password-stdin", "--config-dir", cfg, "--json"], "Haslo-Testowe-1!\n");
    expect(ok.code, ok.err + ok.out).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ enabled: { contexts: [{ type: "Nip", value: "5265877635" }], passwordSource: "sealed" } });
    const config = await readFile(join(cfg, "config.json"), "utf8");
    expect(config).not.toContain("Haslo-Testowe-1!");
    const list = await cli(["auto-sign", "list", "--config-dir", cfg]);
    expect(list.out).toMatch(/password: sealed/);
    const fp = (JSON.parse(ok.out) as { enabled: { fingerprint: string } }).enabled.fingerprint;
    expect((await cli(["auto-sign", "disable", fp.slice(0, 16), "--config-dir", cfg])).code).toBe(0);
    await expect(stat(join(cfg, "auto-sign", `${fp}.sealed`))).rejects.toThrow();
  });

  it("install --print writes a systemd user unit running this CLI", async () => {
    const r = await cli(["install", "--print", "--run-args", "--open-signing-page"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ExecStart=.*main\.js run --open-signing-page$/m);
  });

  describe("speaks the operator's language", () => {
    const pl = (ref: Parameters<typeof translate>[1]): string => translate("pl", ref);
    const en = (ref: Parameters<typeof translate>[1]): string => translate("en", ref);

    it("in Polish with --lang pl: results, errors with their hint, and --help", async () => {
      const cfg = join(dir, "cfg");
      const unpaired = await cli(["unpair", "--config-dir", cfg, "--lang", "pl"]);
      expect(unpaired.out).toBe(`${pl(msg("agent.unpair.wasNotPaired"))}\n`);
      const notPaired = await cli(["status", "--config-dir", cfg, "--lang=pl"]);
      expect(notPaired.code).toBe(7);
      expect(notPaired.err).toContain(`błąd: ${pl(msg("agent.config.notPaired", { file: "config.json", dir: cfg }))}`);
      expect(notPaired.err).toContain(`wskazówka: ${pl(msg("agent.config.notPaired.hint"))}`);
      expect(notPaired.err).not.toContain("is not paired");
      const help = await cli(["--lang", "pl", "pair", "--help"]);
      expect(help.out).toContain("Przykłady:");
      expect(help.out).toContain("Opcje:");
      expect(help.out).toContain(pl(msg("agent.help.pair.server")));
      expect(help.out).not.toContain("Examples:");
    });

    it("in Polish with LANG=pl_PL.UTF-8, in English with --lang en over it", async () => {
      const cfg = join(dir, "cfg");
      const polish = await cli(["unpair", "--config-dir", cfg], "", { env: { HOME: dir, LANG: "pl_PL.UTF-8" } });
      expect(polish.out).toBe(`${pl(msg("agent.unpair.wasNotPaired"))}\n`);
      const english = await cli(["unpair", "--config-dir", cfg, "--lang", "en"], "", { env: { HOME: dir, LANG: "pl_PL.UTF-8" } });
      expect(english.out).toBe("was not paired\n");
      const refused = await cli(["status", "--config-dir", cfg, "--lang", "en"], "", { env: { HOME: dir, LANG: "pl_PL.UTF-8" } });
      expect(refused.err).toContain("error: This agent is not paired");
      expect(refused.err).toContain("hint: Run: ksef-signer pair");
    });

    it("on Windows without LANG, in the system's language (Polish for pl-*), elsewhere only from the environment", async () => {
      const cfg = join(dir, "cfg");
      const run = (surface: Partial<CliIo>): Promise<{ out: string }> => cli(["unpair", "--config-dir", cfg], "", surface);
      expect((await run({ platform: "win32", systemLocale: "pl-PL" })).out).toBe(`${pl(msg("agent.unpair.wasNotPaired"))}\n`);
      expect((await run({ platform: "win32", systemLocale: "en-US" })).out).toBe("was not paired\n");
      expect((await run({ platform: "win32", systemLocale: "pl-PL", env: { HOME: dir, LANG: "en_US.UTF-8" } })).out).toBe("was not paired\n");
      expect((await run({ platform: "linux", systemLocale: "pl-PL" })).out).toBe("was not paired\n");
    });

    it("keeps the JSON error shape and adds the catalogue ids, the message in the chosen language", async () => {
      const cfg = join(dir, "cfg");
      const r = await cli(["status", "--config-dir", cfg, "--json", "--lang", "pl"]);
      expect(r.code).toBe(7);
      expect(JSON.parse(r.out)).toEqual({
        error: {
          code: "NOT_FOUND",
          message: pl(msg("agent.config.notPaired", { file: "config.json", dir: cfg })),
          messageId: "agent.config.notPaired",
          params: { file: "config.json", dir: cfg },
          hint: pl(msg("agent.config.notPaired.hint")),
          hintId: "agent.config.notPaired.hint",
        },
      });
    });

    it("refuses an unknown --lang with a clear error in the environment's language (Polish or English)", async () => {
      const polish = await cli(["status", "--lang", "de"], "", { env: { HOME: dir, LANG: "pl_PL.UTF-8" } });
      expect(polish.code).toBe(2);
      expect(polish.err).toBe(`błąd: ${pl(msg("agent.cli.unknownLanguage", { lang: "de" }))}\n`);
      expect(polish.err).toContain("„de”");
      const english = await cli(["status", "--lang=xx"]);
      expect(english.code).toBe(2);
      expect(english.err).toBe(`error: ${en(msg("agent.cli.unknownLanguage", { lang: "xx" }))}\n`);
      expect(english.err).toContain("--lang pl or --lang en");
      const json = await cli(["status", "--lang", "xx", "--json"]);
      expect(JSON.parse(json.out)).toMatchObject({ error: { code: "VALIDATION", messageId: "agent.cli.unknownLanguage", params: { lang: "xx" } } });
    });

    it("renders violations through their rule in the chosen language, as text and in JSON", async () => {
      const polish = await cli(["pair", "--server", "ftp://example.pl", "--code", "ABCD-EF12", "--lang", "pl"]);
      expect(polish.code).toBe(2);
      expect(polish.err).toContain(`błąd: ${pl(msg("agent.api.invalidUrl", { server: "ftp://example.pl" }))}`);
      expect(polish.err).toContain(`  - server: ${pl(msg("rule.server.url"))}`);
      expect(polish.err).not.toContain("http:// or https://");
      const json = await cli(["pair", "--server", "ftp://example.pl", "--code", "ABCD-EF12", "--json"]);
      expect(JSON.parse(json.out)).toMatchObject({
        error: {
          messageId: "agent.api.invalidUrl",
          violations: [{ field: "server", rule: "server.url", message: "The server must be an http:// or https:// URL." }],
        },
      });
      const cfg = join(dir, "cfg");
      expect((await cli(["pair", "--server", server.url, "--code", "ABCD-EF12", "--config-dir", cfg])).code).toBe(0);
      const zero = await cli(["run", "--stability-ms", "0", "--config-dir", cfg, "--lang", "pl"]);
      expect(zero.code).toBe(2);
      expect(zero.err).toContain(`  - --stability-ms: ${pl(msg("rule.positiveInteger", { field: "--stability-ms" }))}`);
    });
  });
});
