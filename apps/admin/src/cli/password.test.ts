import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import type { CliIo } from "./context.js";
import { assertNewPassword, MAX_PASSWORD_FILE_BYTES, Passwords, readPasswordFile, StdinLines } from "./password.js";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import { outcomeCode } from "./__fixtures__/harness.js";

const dir = mkdtempSync(join(tmpdir(), "ksef-certs-pw-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function io(options: { stdin?: string; prompts?: string[] } = {}): CliIo & { asked: string[] } {
  const asked: string[] = [];
  const answers = [...(options.prompts ?? [])];
  const tty = options.prompts !== undefined;
  return {
    asked,
    stdin: tty ? new PassThrough() : Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdinIsTTY: tty,
    stdout: { write: () => undefined },
    stderr: { write: () => undefined },
    env: {},
    cwd: dir,
    prompt: (m) => {
      asked.push(m);
      return Promise.resolve(answers.shift() ?? "");
    },
  };
}

const GOOD = "Abcdefghijk-1234";

describe("password files", () => {
  it("take the first line, without CR/LF", async () => {
    writeFileSync(join(dir, "crlf.txt"), "Pass word 1!\r\nsecond line\r\n");
    writeFileSync(join(dir, "lf.txt"), "Pass word 2!\n");
    writeFileSync(join(dir, "bare.txt"), "Pass word 3!");
    expect(await readPasswordFile(io(), "crlf.txt")).toBe("Pass word 1!");
    expect(await readPasswordFile(io(), "lf.txt")).toBe("Pass word 2!");
    expect(await readPasswordFile(io(), join(dir, "bare.txt"))).toBe("Pass word 3!");
  });
  it("keep inner and leading spaces and Polish letters", async () => {
    writeFileSync(join(dir, "pl.txt"), "  Zażółć gęślą jaźń \n");
    expect(await readPasswordFile(io(), "pl.txt")).toBe("  Zażółć gęślą jaźń ");
  });
  it("are refused above 4 KiB and when missing", async () => {
    writeFileSync(join(dir, "big.txt"), "x".repeat(MAX_PASSWORD_FILE_BYTES + 1));
    writeFileSync(join(dir, "limit.txt"), "y".repeat(MAX_PASSWORD_FILE_BYTES));
    expect(await outcomeCode(readPasswordFile(io(), "big.txt"))).toBe("TOO_LARGE");
    expect(await readPasswordFile(io(), "limit.txt")).toHaveLength(MAX_PASSWORD_FILE_BYTES);
    expect(await outcomeCode(readPasswordFile(io(), "nope.txt"))).toBe("NOT_FOUND");
  });
  it("must be UTF-8", async () => {
    writeFileSync(join(dir, "latin2.txt"), Buffer.from([0x5a, 0xb3, 0x0a]));
    expect(await outcomeCode(readPasswordFile(io(), "latin2.txt"))).toBe("VALIDATION");
  });
});

describe("stdin lines", () => {
  it("gives line 1 and line 2, across chunk boundaries", async () => {
    const lines = new StdinLines(Readable.from([Buffer.from("first-pa"), Buffer.from("ss\r\nsecond"), Buffer.from("-pass\n")]));
    expect(await lines.line(0)).toBe("first-pass");
    expect(await lines.line(1)).toBe("second-pass");
  });
  it("accepts a last line without newline, and reports a missing one", async () => {
    const lines = new StdinLines(Readable.from([Buffer.from("only")]));
    expect(await lines.line(0)).toBe("only");
    expect(await outcomeCode(lines.line(1))).toBe("PASSWORD_REQUIRED");
    expect(await outcomeCode(new StdinLines(Readable.from([])).line(0))).toBe("PASSWORD_REQUIRED");
  });
  it("stops at the byte limit when no newline comes", async () => {
    expect(await outcomeCode(new StdinLines(Readable.from([Buffer.alloc(20_000, 0x61)])).line(0))).toBe("TOO_LARGE");
  });
});

describe("Passwords", () => {
  it("existing: file first, then stdin, then the TTY prompt, else PASSWORD_REQUIRED", async () => {
    writeFileSync(join(dir, "in.txt"), "from-file\n");
    expect(await new Passwords(io({ stdin: "from-stdin\n" }), { input: { file: "in.txt" } }).existing("k")).toBe("from-file");
    expect(await new Passwords(io({ stdin: "from-stdin\n" }), { input: { stdin: true } }).existing("k")).toBe("from-stdin");
    const tty = io({ prompts: ["typed"] });
    expect(await new Passwords(tty, {}).existing("the key a.key")).toBe("typed");
    expect(tty.asked).toEqual(["Password for the key a.key:"]);
    expect(await outcomeCode(new Passwords(io(), {}).existing("k"))).toBe("PASSWORD_REQUIRED");
  });
  it("existing from a file or stdin is read once and reused", async () => {
    const p = new Passwords(io({ stdin: "one\ntwo\n" }), { input: { stdin: true } });
    expect(await p.existing("a")).toBe("one");
    expect(await p.existing("b")).toBe("one");
  });
  it("fresh on a terminal asks twice and checks the profile", async () => {
    const ok = io({ prompts: [GOOD, GOOD] });
    expect(await new Passwords(ok, {}).fresh("new.key")).toBe(GOOD);
    expect(ok.asked).toEqual(["New password for new.key:", "Repeat the new password for new.key:"]);
    expect(await outcomeCode(new Passwords(io({ prompts: [GOOD, `${GOOD}x`] }), {}).fresh("k"))).toBe("VALIDATION");
    expect(await outcomeCode(new Passwords(io({ prompts: ["weak", "weak"] }), {}).fresh("k"))).toBe("VALIDATION");
    expect(await new Passwords(io({ prompts: ["weak", "weak"] }), { profile: "none" }).fresh("k")).toBe("weak");
  });
  it("fresh reads line 2 of stdin when the input password is piped too", async () => {
    const p = new Passwords(io({ stdin: `old\n${GOOD}\n` }), { input: { stdin: true }, output: { stdin: true } });
    expect(await p.existing("k")).toBe("old");
    expect(await p.fresh("k2")).toBe(GOOD);
  });
  it("--same-password reuses the input password, still under the policy", async () => {
    writeFileSync(join(dir, "same.txt"), `${GOOD}\n`);
    expect(await new Passwords(io(), { input: { file: "same.txt" }, sameAsInput: true }).fresh("x")).toBe(GOOD);
    writeFileSync(join(dir, "weak.txt"), "weak\n");
    expect(await outcomeCode(new Passwords(io(), { input: { file: "weak.txt" }, sameAsInput: true }).fresh("x"))).toBe("VALIDATION");
  });
  it("refuses conflicting sources and --password-stdin on a terminal", () => {
    expect(() => new Passwords(io(), { input: { file: "a", stdin: true } })).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => new Passwords(io(), { output: { file: "a", stdin: true } })).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => new Passwords(io(), { sameAsInput: true, output: { file: "a" } })).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => new Passwords(io({ prompts: [] }), { input: { stdin: true } })).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });
});

describe("new password policy", () => {
  it("reports every violation and never the password", () => {
    try {
      assertNewPassword("zażółć", "ksef-app");
      expect.unreachable();
    } catch (e) {
      if (!isKsefCertsError(e)) throw e;
      expect(e.violations.map((v) => v.rule)).toEqual(["password.length", "password.upper", "password.digit", "password.special", "password.characters"]);
      expect(JSON.stringify(e.toJSON())).not.toContain("zażółć");
    }
    expect(() => {
      assertNewPassword("", "none");
    }).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => {
      assertNewPassword("Abcdefghij1!", "f2000");
    }).not.toThrow();
  });
});
