// The Polish DOM pass's judge on its own (no browser): English catalogue sentences and runs of common English words
// are found, Polish sentences and data (names, NIPs, paths, dates) pass.
import { describe, expect, it } from "vitest";
import { EN_MESSAGES, PL_MESSAGES } from "@ksef-certs/ksef/messages";
import { englishIn, englishSentences } from "./polish.js";

describe("the Polish DOM pass's judge", () => {
  const sentences = englishSentences();

  it("finds an English catalogue sentence, its parameters filled with anything", () => {
    expect(englishIn(EN_MESSAGES["web.certs.empty"], sentences)).toContain("web.certs.empty");
    expect(englishIn("Signed in as Anna Nowak", sentences)).toContain("web.top.signedInAs");
    expect(englishIn("  Certificate   expiry timeline ", sentences)).toContain("web.timeline.heading");
  });

  it("finds an English sentence the catalogue does not hold by its common words", () => {
    expect(englishIn("Error: The login or the password is wrong.", sentences)).toBeDefined();
    expect(englishIn("The request body exceeds 102400 bytes, so it was not read.", sentences)).toBeDefined();
  });

  it("lets Polish sentences, words both languages share and data pass", () => {
    for (const id of [
      "web.certs.empty",
      "web.top.signedInAs",
      "web.error.credentials",
      "web.ev.keyDiscarded",
      "web.cert.revokeText",
      "web.timeline.legend",
    ] as const) {
      expect(englishIn(PL_MESSAGES[id], sentences), id).toBeUndefined();
    }
    for (const data of [
      "Import",
      "Offline",
      "NIP",
      "Hurtownia Testowa (5265877635)",
      "/tmp/ksef-admin-web-x/do-podpisu/auth.xml",
      "07.12.2026 16:20",
      "KRK – Oddział Kraków",
      "PL",
      "EN",
      "bc18159e-bd80-4bf3-a1a4-93a296f1f8cd",
      "9096d8a2-ed81-4a11-88bc-00a4617598b1",
    ]) {
      expect(englishIn(data, sentences), data).toBeUndefined();
    }
  });

  it("leaves out short English words that read the same as a Polish one, not an untranslated sentence", () => {
    const found = englishSentences({ a: "Import", b: "Import the file now" }, { a: "Import", b: "Importuj plik teraz" }).map((s) => s.id);
    expect(found).toEqual(["b"]);
    // A long sentence left in English in the Polish catalogue still gives English away.
    expect(englishSentences({ a: "Legend: solid bar, current" }, { a: "Legend: solid bar, current" }).map((s) => s.id)).toEqual(["a"]);
  });
});
