// The CLI speaks the reader's language: --lang, else LC_ALL / LC_MESSAGES / LANG, else English.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "./__fixtures__/harness.js";

const cwd = mkdtempSync(join(tmpdir(), "ksef-certs-lang-"));
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
});
// Meets the ksef-app profile (15–32 characters, upper and lower case, a digit and a special character).
writeFileSync(join(cwd, "new.pass"), "Lang-Test-Passw0rd!\n");

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

  it("writes results and errors of the commands in Polish (keygen, a registry command) and in English with --lang en", async () => {
    const pl = await run(["--lang", "pl", "keygen", "--out", "pl.key", "--password-file", "new.pass"], { cwd });
    expect(pl.code).toBe(0);
    expect(pl.stdout).toMatch(/^zapisano pl\.key: klucz prywatny EC P-256, zaszyfrowany \(PBES2, .*iteracji, sól 16 B/);
    const en = await run(["--lang", "en", "keygen", "--out", "en.key", "--password-file", "new.pass"], { cwd, env: { LANG: "pl_PL.UTF-8" } });
    expect(en.stdout).toMatch(/^wrote en\.key: EC P-256 private key, encrypted \(PBES2, .*iterations, 16-byte salt/);

    const asked = await run(["--lang", "pl", "keygen", "--out", "prompted.key"], { cwd, prompts: ["Lang-Test-Passw0rd!", "Lang-Test-Passw0rd!"] });
    expect(asked.code).toBe(0);
    expect(asked.asked).toEqual(["Nowe hasło (prompted.key):", "Powtórz nowe hasło (prompted.key):"]);

    const taken = await run(["keygen", "--out", "pl.key", "--password-file", "new.pass"], { cwd, env: { LANG: "pl_PL.UTF-8" } });
    expect(taken.code).toBe(8);
    expect(taken.stderr).toContain("błąd: Nie nadpisano pl.key: plik już istnieje.");
    expect(taken.stderr).toContain("wskazówka: Wybierz inną nazwę albo dodaj --force");

    const dataDir = join(cwd, "registry");
    const enroll = ["cert", "enroll", "--company", "5265877635", "--environment", "test", "--type", "Authentication", "--name", "Jan Kowalski"];
    const enrollPl = await run(["--lang", "pl", ...enroll, "--data-dir", dataDir], { cwd });
    expect(enrollPl.code).toBe(2);
    expect(enrollPl.stderr).toContain("błąd: Wskaż, jak osoba uwierzytelni się w KSeF");
    const enrollEn = await run(["--lang", "en", ...enroll, "--data-dir", dataDir, "--json"], { cwd, env: { LANG: "pl_PL.UTF-8" } });
    const { error } = enrollEn.json<{ error: { messageId: string; message: string } }>();
    expect(error.messageId).toBe("cli.enroll.authMethod");
    expect(error.message).toMatch(/^Say how the person signs in to KSeF/);
  });

  it("shows --help in the chosen language", async () => {
    const pl = await run(["--lang", "pl", "--help"], { cwd });
    expect(pl.code).toBe(0);
    expect(pl.stdout).toContain("Analizuj, sprawdzaj, konwertuj i twórz pliki certyfikatów KSeF");
    expect(pl.stdout).toContain("wygeneruj parę kluczy");
    expect(pl.stdout).toContain("język komunikatów: pl lub en");
    const viaLang = await run(["keygen", "--help"], { cwd, env: { LANG: "pl_PL.UTF-8" } });
    expect(viaLang.code).toBe(0);
    expect(viaLang.stdout).toContain("Wygeneruj nową parę kluczy dla certyfikatu KSeF");
    const en = await run(["--lang", "en", "--help"], { cwd, env: { LANG: "pl_PL.UTF-8" } });
    expect(en.stdout).toContain("Inspect, check, convert and create KSeF certificate files");
    expect(en.stdout).toContain("generate a key pair");
    expect(en.stdout).not.toContain("wygeneruj");
  });
});
