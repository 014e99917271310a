import { describe, expect, it } from "vitest";
import { EN_SECTIONS } from "./en/index.js";
import { CATALOGUES, i18nFor, isMessageId, LOCALES, parseLocale, resolveLocale, translate, type MessageId } from "./index.js";
import { PL_SECTIONS } from "./pl/index.js";

const PLURAL = /_(zero|one|two|few|many|other)$/;
const params = (text: string): string[] => [...new Set([...text.matchAll(/\{\{\s*([^},\s]+)[^}]*\}\}/g)].map((m) => m[1] ?? ""))].sort();
const base = (key: string): string => key.replace(PLURAL, "");

describe("the catalogues", () => {
  it("have the same message ids in every locale", () => {
    const ids = (locale: "pl" | "en"): string[] => [...new Set(Object.keys(CATALOGUES[locale]).map(base))].sort();
    expect(ids("pl")).toEqual(ids("en"));
    expect(Object.keys(CATALOGUES.en).length).toBeGreaterThan(0);
  });

  it("use the same parameters for an id in every locale (all plural forms together)", () => {
    const byId = (locale: "pl" | "en"): Map<string, string> => {
      const out = new Map<string, Set<string>>();
      for (const [key, text] of Object.entries(CATALOGUES[locale])) {
        const set = out.get(base(key)) ?? new Set<string>();
        for (const p of params(text)) set.add(p);
        out.set(base(key), set);
      }
      return new Map([...out].map(([k, v]) => [k, [...v].sort().join(",")]));
    };
    const en = byId("en");
    const pl = byId("pl");
    const differing = [...en].filter(([id, p]) => pl.get(id) !== p).map(([id, p]) => `${id}: en {${p}} pl {${pl.get(id) ?? "missing"}}`);
    expect(differing).toEqual([]);
  });

  it("give every plural id the forms its language needs (en: one, other; pl: one, few, many, other)", () => {
    const pluralIds = new Set(
      Object.keys(CATALOGUES.en)
        .filter((k) => PLURAL.test(k))
        .map(base),
    );
    const missing: string[] = [];
    for (const id of pluralIds) {
      for (const form of ["one", "other"]) if (!Object.hasOwn(CATALOGUES.en, `${id}_${form}`)) missing.push(`en ${id}_${form}`);
      for (const form of ["one", "few", "many", "other"]) if (!Object.hasOwn(CATALOGUES.pl, `${id}_${form}`)) missing.push(`pl ${id}_${form}`);
    }
    expect(missing).toEqual([]);
  });

  it("never define one id in two sections (a later section would silently win)", () => {
    for (const sections of [EN_SECTIONS, PL_SECTIONS]) {
      const seen = new Map<string, string>();
      const repeated: string[] = [];
      for (const [name, section] of Object.entries(sections as Readonly<Record<string, Readonly<Record<string, string>>>>)) {
        for (const key of Object.keys(section)) {
          const before = seen.get(key);
          if (before !== undefined) repeated.push(`${key} in ${before} and ${name}`);
          seen.set(key, name);
        }
      }
      expect(repeated).toEqual([]);
    }
  });

  it("have no empty sentence and no untranslated Polish copy of a long English sentence", () => {
    const empty = LOCALES.flatMap((l) =>
      Object.entries(CATALOGUES[l])
        .filter(([, t]) => t.trim() === "")
        .map(([k]) => `${l} ${k}`),
    );
    expect(empty).toEqual([]);
    // Identical text is fine for names, codes and short labels ("NIP", "PESEL", "{{text}}"), not for sentences.
    const copied = Object.entries(CATALOGUES.en)
      .filter(([k, t]) => CATALOGUES.pl[k] === t && t.split(/\s+/).length >= 4)
      .map(([k]) => k);
    expect(copied).toEqual([]);
  });
});

describe("translate", () => {
  it("fills parameters without HTML escaping and falls back to the id for an unknown one", () => {
    expect(translate("pl", { id: "input.characters", params: { field: "<name>" } })).toBe("Pole <name> zawiera znak NUL lub niesparowany surogat.");
    expect(translate("en", { id: "input.characters", params: { field: "<name>" } })).toBe("<name> contains a NUL character or an unpaired surrogate.");
    expect(translate("en", { id: "no.such.id" as MessageId })).toBe("no.such.id");
    expect(isMessageId("input.characters")).toBe(true);
    expect(isMessageId("no.such.id")).toBe(false);
  });

  it("chooses Polish plural forms by count (1 → one, 2–4 → few, 5 and 12–14 → many)", () => {
    const t = i18nFor("pl");
    t.addResources("pl", "translation", {
      "test.files_one": "{{count}} plik",
      "test.files_few": "{{count}} pliki",
      "test.files_many": "{{count}} plików",
      "test.files_other": "{{count}} pliku",
    });
    const says = (count: number): string => t.t("test.files", { count });
    expect([1, 2, 4, 5, 12, 22, 25].map(says)).toEqual(["1 plik", "2 pliki", "4 pliki", "5 plików", "12 plików", "22 pliki", "25 plików"]);
  });
});

describe("resolveLocale", () => {
  it("prefers --lang, then LC_ALL, LC_MESSAGES, LANG, defaulting to English", () => {
    expect(resolveLocale("pl", { LANG: "en_US.UTF-8" })).toBe("pl");
    expect(resolveLocale(undefined, { LC_ALL: "pl_PL.UTF-8", LANG: "en_US.UTF-8" })).toBe("pl");
    expect(resolveLocale(undefined, { LC_ALL: "", LC_MESSAGES: "en_GB", LANG: "pl_PL" })).toBe("en");
    expect(resolveLocale(undefined, { LANG: "pl_PL.UTF-8" })).toBe("pl");
    expect(resolveLocale(undefined, { LANG: "C" })).toBe("en");
    expect(resolveLocale(undefined, {})).toBe("en");
    expect(resolveLocale("xx", { LANG: "pl_PL" })).toBe("pl");
  });

  it("reads language tags and POSIX names", () => {
    expect(["pl", "PL", "pl-PL", "pl_PL.UTF-8", "en_GB@euro", "de_DE", "", "plx"].map(parseLocale)).toEqual([
      "pl",
      "pl",
      "pl",
      "pl",
      "en",
      undefined,
      undefined,
      undefined,
    ]);
  });
});
