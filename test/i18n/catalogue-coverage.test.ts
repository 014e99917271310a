// Every sentence a person reads comes from the message catalogue: the source code of every package names message
// ids, never writes an error sentence itself, and every rule id a violation names has its sentence in both locales.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { CATALOGUES, isMessageId } from "@ksef-certs/ksef/messages";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SOURCE_ROOTS = [
  "packages/ksef/src",
  "packages/domain/src",
  "packages/adapters/src",
  "packages/ksef-simulator/src",
  "apps/admin/src",
  "apps/admin/web/src",
  "apps/signer-agent/src",
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "__fixtures__" || e.name === "messages" ? [] : sources(path);
    return /\.tsx?$/.test(e.name) && !/\.(test|bench)\.tsx?$/.test(e.name) ? [path] : [];
  });
}

const files = SOURCE_ROOTS.flatMap((r) => sources(join(ROOT, r))).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, "utf8") }));

describe("the message catalogue covers the code", () => {
  it("finds the sources it scans", () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it("no error is constructed from a literal sentence (only from msg(...) ids)", () => {
    const literal = /new KsefCertsError\(\s*"[A-Z_]+",\s*[`"']/g;
    // A hint written as a sentence (two words or more in quotes); `hint:` in a comment is not code and does not count.
    const hintLiteral = /^(?!\s*(?:\*|\/\/)).*\bhint:\s*([`"'])[^`"'\n]*\s[^`"'\n]*\1/gm;
    const found = files.flatMap(({ path, text }) => [...text.matchAll(literal), ...text.matchAll(hintLiteral)].map((m) => `${path}: ${m[0]}`));
    expect(found).toEqual([]);
  });

  it("every rule a violation names has its sentence (rule.<id>) in both locales", () => {
    const rules = new Set(
      files.flatMap(({ text }) =>
        [...text.matchAll(/\{\s*field:[^{}]*?\brule: "([A-Za-z0-9_.]+)"/g), ...text.matchAll(/\bviolation\(\s*[^,]+,\s*"([A-Za-z0-9_.]+)"/g)].map(
          (m) => m[1] ?? "",
        ),
      ),
    );
    expect(rules.size).toBeGreaterThan(20);
    const missing = [...rules].filter(
      (r) => !isMessageId(`rule.${r}`) || !Object.keys(CATALOGUES.pl).some((k) => k === `rule.${r}` || k.startsWith(`rule.${r}_`)),
    );
    expect(missing).toEqual([]);
  });

  it("every message id named in the code exists", () => {
    const ids = files.flatMap(({ path, text }) => [...text.matchAll(/\bmsg\(\s*"([^"]+)"/g)].map((m) => ({ path, id: m[1] ?? "" })));
    expect(ids.length).toBeGreaterThan(300);
    expect(ids.filter(({ id }) => !isMessageId(id)).map(({ path, id }) => `${path}: ${id}`)).toEqual([]);
  });
});
