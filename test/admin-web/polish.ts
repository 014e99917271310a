/**
 * The Polish DOM pass: what a person reads on a page (visible text, the options of selects, SVG tooltips, and the
 * attributes title, aria-label, placeholder and alt) must hold no English sentence while the app speaks Polish.
 * A text is English when it is an English catalogue sentence no Polish sentence reads the same (parameters match
 * anything), or when it holds a run of words most of which are common English words. Data (company names, NIPs,
 * file names, dates) passes: it is neither.
 */
import type { Page } from "playwright-core";
import { EN_MESSAGES, PL_MESSAGES } from "@ksef-certs/ksef/messages";

/** One thing a person reads, and where it is (for the failure message). */
export interface ReadText {
  readonly text: string;
  readonly where: string;
}

/** Common English words; a run of 4 or 5 words of which most are these is an English sentence. */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  "the",
  "and",
  "is",
  "are",
  "not",
  "with",
  "this",
  "that",
  "for",
  "you",
  "your",
  "of",
  "to",
  "in",
  "a",
  "an",
  "be",
  "was",
  "can",
  "must",
  "has",
  "have",
  "from",
  "by",
  "or",
  "it",
  "will",
  "at",
]);

/** A catalogue sentence as a whole-text pattern: its `{{name}}` parameters match any text. */
interface Sentence {
  readonly id: string;
  readonly pattern: RegExp;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The English sentences of the catalogue that give English away: those that differ from every Polish sentence
 * (`Import`, `Offline`, `NIP` read the same in both), and any of four words or more even when a Polish sentence
 * reads the same (an untranslated copy, which the catalogue's own tests refuse); each with at least four letters
 * besides its parameters.
 * @param en the English catalogue
 * @param pl the Polish catalogue
 */
export function englishSentences(en: Readonly<Record<string, string>> = EN_MESSAGES, pl: Readonly<Record<string, string>> = PL_MESSAGES): readonly Sentence[] {
  const polish = new Set(Object.values(pl).map((s) => s.trim()));
  return Object.entries(en)
    .filter(
      ([, text]) =>
        (!polish.has(text.trim()) || text.trim().split(/\s+/).length >= 4) && text.replace(/\{\{\w+\}\}/g, "").replace(/[^\p{L}]/gu, "").length >= 4,
    )
    .map(([id, text]) => ({
      id,
      pattern: new RegExp(
        `^${text
          .trim()
          .split(/\{\{\w+\}\}/)
          .map(escape)
          .join("[\\s\\S]+?")}$`,
        "u",
      ),
    }));
}

/**
 * Why `text` reads as English, or undefined when it does not.
 * @param text one text node or attribute value
 * @param sentences from {@link englishSentences}
 */
export function englishIn(text: string, sentences: readonly Sentence[] = englishSentences()): string | undefined {
  const trimmed = text.replace(/\s+/g, " ").trim();
  if (trimmed === "") return undefined;
  const sentence = sentences.find((s) => s.pattern.test(trimmed));
  if (sentence !== undefined) return `the English sentence ${sentence.id}`;
  // Words are the whitespace-separated tokens less their punctuation; a token with digits (a UUID, a serial, a
  // date) is a word that is no English word, so the hex letters of an identifier never read as "a", "be" or "bc".
  const words = trimmed
    .toLowerCase()
    .split(/\s+/)
    .map((token) => token.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ""))
    .filter((token) => token !== "")
    .map((token) => (/^[\p{L}']+$/u.test(token) ? token : "#"));
  for (const size of [4, 5]) {
    for (let i = 0; i + size <= words.length; i++) {
      const run = words.slice(i, i + size);
      if (run.filter((w) => ENGLISH_STOP_WORDS.has(w)).length * 2 > size) return `English words "${run.join(" ")}"`;
    }
  }
  return undefined;
}

/** The few DOM shapes the collector uses (this package compiles for Node, without the DOM library). */
interface DomElement {
  readonly id: string;
  readonly className: unknown;
  readonly tagName: string;
  closest(selector: string): DomElement | null;
  getAttribute(name: string): string | null;
  getClientRects(): { readonly length: number };
}
interface DomBrowser {
  readonly document: {
    readonly title: string;
    readonly body: DomElement & { querySelectorAll(selector: string): Iterable<DomElement> };
    createTreeWalker(
      root: unknown,
      whatToShow: number,
    ): { nextNode(): { readonly parentElement: DomElement | null; readonly textContent: string | null } | null };
  };
  readonly getComputedStyle: (el: DomElement) => { readonly visibility: string; readonly display: string };
}

/**
 * What a person reads on the page now: visible text nodes, options of selects, SVG `<title>` tooltips, and the
 * attributes title, aria-label, placeholder and alt of visible elements.
 * @param page the page
 */
export async function readableTexts(page: Page): Promise<readonly ReadText[]> {
  return page.evaluate(() => {
    const { document, getComputedStyle } = globalThis as unknown as DomBrowser;
    // NodeFilter.SHOW_TEXT
    const SHOW_TEXT = 4;
    const out: { text: string; where: string }[] = [];
    const describe = (el: DomElement): string => {
      const id = el.id === "" ? "" : `#${el.id}`;
      const cls = typeof el.className === "string" && el.className !== "" ? `.${el.className.split(/\s+/).join(".")}` : "";
      return `${el.tagName.toLowerCase()}${id}${cls}`;
    };
    const visible = (el: DomElement): boolean => {
      if (el.closest("option, title") !== null) return true;
      if (el.closest("dialog:not([open])") !== null) return false;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.display === "none") return false;
      // Screen-reader-only text (clipped to 1px) is read too.
      return el.getClientRects().length > 0;
    };
    const walker = document.createTreeWalker(document.body, SHOW_TEXT);
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      const parent = node.parentElement;
      const text = node.textContent ?? "";
      if (parent === null || text.trim() === "" || parent.closest("script, style") !== null || !visible(parent)) continue;
      out.push({ text, where: describe(parent) });
    }
    for (const el of Array.from(document.body.querySelectorAll("[title], [aria-label], [placeholder], [alt]"))) {
      if (!visible(el)) continue;
      for (const name of ["title", "aria-label", "placeholder", "alt"]) {
        const value = el.getAttribute(name);
        if (value !== null && value.trim() !== "") out.push({ text: value, where: `${describe(el)}[${name}]` });
      }
    }
    out.push({ text: document.title, where: "document.title" });
    return out;
  });
}

/**
 * The English texts a person reads on the page now, each with why and where (empty when the page is Polish).
 * @param page the page
 */
export async function englishOnPage(page: Page): Promise<readonly string[]> {
  const sentences = englishSentences();
  const found: string[] = [];
  for (const { text, where } of await readableTexts(page)) {
    const why = englishIn(text, sentences);
    if (why !== undefined) found.push(`${where}: "${text.trim()}" (${why})`);
  }
  return found;
}
