import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, KsefCertsError } from "@ksef-certs/ksef/errors";
import { EXIT_CODES, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, exitCodeFor } from "./exit-codes.js";

describe("exit codes", () => {
  it("map every core error code, and the groups the README promises share a code", () => {
    for (const code of ERROR_CODES) expect(EXIT_CODES[code], code).toBeGreaterThan(EXIT_OK);
    expect(EXIT_CODES.VALIDATION).toBe(EXIT_USAGE);
    expect(EXIT_CODES.INTERNAL).toBe(EXIT_INTERNAL);
    expect(EXIT_CODES.MALFORMED).toBe(EXIT_CODES.TOO_LARGE);
    expect(EXIT_CODES.PASSWORD_REQUIRED).toBe(EXIT_CODES.WRONG_PASSWORD);
    expect(EXIT_CODES.NOT_FOUND).toBe(EXIT_CODES.IO);
    const distinct = [
      EXIT_USAGE,
      EXIT_INTERNAL,
      EXIT_CODES.MALFORMED,
      EXIT_CODES.WRONG_PASSWORD,
      EXIT_CODES.UNSUPPORTED,
      EXIT_CODES.KEY_MISMATCH,
      EXIT_CODES.IO,
      EXIT_CODES.CONFLICT,
    ];
    expect(new Set(distinct).size).toBe(distinct.length);
  });
  it("take an error or its code", () => {
    expect(exitCodeFor(new KsefCertsError("KEY_MISMATCH", "x"))).toBe(EXIT_CODES.KEY_MISMATCH);
    expect(exitCodeFor("WRONG_PASSWORD")).toBe(EXIT_CODES.WRONG_PASSWORD);
  });
  it("agree with the table in apps/admin/README.md", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Exit codes"));
    const documented = new Map<string, number>();
    for (const m of section.matchAll(/^\| (\d+) \| [^|]+\|([^|]*)\|/gm)) {
      for (const code of (m[2] ?? "").matchAll(/`([A-Z_]+)`/g)) documented.set(code[1] ?? "", Number(m[1]));
    }
    for (const code of ERROR_CODES) expect(documented.get(code), code).toBe(EXIT_CODES[code]);
  });
});
