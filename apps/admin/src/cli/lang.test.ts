// The CLI speaks the reader's language: --lang, else LC_ALL / LC_MESSAGES / LANG, else English.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "./__fixtures__/harness.js";

const cwd = mkdtempSync(join(tmpdir(), "ksef-certs-lang-"));
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
});

describe("ksef-certs in Polish and English", () => {
  it("speaks Polish with --lang pl, whatever LANG says", async () => {
    const r = await run(["--lang", "pl", "inspect", "x.crt", "--password=secret"], { cwd, env: { LANG: "en_US.UTF-8" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("błąd: nieznana opcja '--password': haseł nigdy nie podaje się w wierszu polecenia");
    expect(r.stderr).toContain("wskazówka: Pomiń tę opcję");
    expect(r.stderr).not.toContain("secret");
  });

  it("follows LC_ALL over LANG, and LANG alone", async () => {
    const viaLcAll = await run(["inspect", "--password=x"], { cwd, env: { LC_ALL: "pl_PL.UTF-8", LANG: "en_GB.UTF-8" } });
    expect(viaLcAll.stderr).toMatch(/^błąd: /);
    const viaLang = await run(["inspect", "--password=x"], { cwd, env: { LANG: "pl_PL.UTF-8" } });
    expect(viaLang.stderr).toMatch(/^błąd: /);
    const english = await run(["--lang=en", "inspect", "--password=x"], { cwd, env: { LANG: "pl_PL.UTF-8" } });
    expect(english.stderr).toMatch(/^error: unknown option '--password': passwords are never taken from the command line/);
    const unset = await run(["inspect", "--password=x"], { cwd });
    expect(unset.stderr).toMatch(/^error: /);
  });

  it("gives --json readers the sentence in their language with its id and parameters", async () => {
    const r = await run(["--lang", "pl", "inspect", "--json", "--password=x"], { cwd });
    const { error } = r.json<{ error: { code: string; message: string; messageId: string; params: Record<string, string>; hintId: string } }>();
    expect(error).toMatchObject({ code: "VALIDATION", messageId: "cli.password.onArgv", params: { option: "--password" }, hintId: "cli.password.onArgv.hint" });
    expect(error.message).toMatch(/^nieznana opcja/);
  });

  it("refuses an unknown --lang in both languages (exit 2)", async () => {
    for (const argv of [
      ["--lang", "de", "inspect", "x.crt"],
      ["--lang=xx", "--help"],
    ]) {
      const r = await run(argv, { cwd, env: { LANG: "pl_PL.UTF-8" } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("Nieznany język");
      expect(r.stderr).toContain("Unknown language");
    }
  });
});
