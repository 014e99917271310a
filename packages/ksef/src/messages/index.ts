/**
 * The message catalogue of ksef-certs: every sentence a person reads (errors, hints, rule violations, CLI output,
 * the web app, the signer agent) has a stable id here, with its text in Polish and English.
 *
 * - One catalogue per locale: `messages/en/*.ts` and `messages/pl/*.ts`, one section per area, composed below into
 *   {@link CATALOGUES}. English is the source of ids; each Polish section is typed against its English twin, so a
 *   missing or extra id does not compile, and a test checks both locales use the same parameters.
 * - Parameters are written `{{name}}` (i18next interpolation, no HTML escaping: every edge escapes for its own
 *   medium). Plural forms follow i18next's suffixes (`_one`, `_few`, `_many`, `_other`) chosen by `{{count}}`
 *   through `Intl.PluralRules`, so Polish gets its three forms.
 * - Code never builds a sentence: it names an id and its parameters ({@link msg}); each edge renders in its
 *   locale ({@link translate}) — the web app in Polish by default, the CLI and the signer agent from `--lang`,
 *   `LC_ALL`, `LC_MESSAGES` or `LANG` ({@link resolveLocale}).
 *
 * Source of the library: i18next (https://www.i18next.com/), also used by the web app through react-i18next.
 */
import i18next, { type i18n } from "i18next";
import { en } from "./en/index.js";
import { pl } from "./pl/index.js";

/** The locales ksef-certs speaks, Polish first (the web app's default). */
export const LOCALES = ["pl", "en"] as const;

/** One of {@link LOCALES}. */
export type Locale = (typeof LOCALES)[number];

/** Plural suffixes i18next appends to a key for `Intl.PluralRules` categories. */
const PLURAL_SUFFIXES = ["zero", "one", "two", "few", "many", "other"] as const;

type PluralSuffix = (typeof PLURAL_SUFFIXES)[number];
type BaseKey<K> = K extends `${infer B}_${PluralSuffix}` ? B : K;

/** Every key in the English catalogue, plural variants included (`id_one`, `id_other`). */
export type CatalogueKey = keyof typeof en;

/** A message id: a catalogue key without its plural suffix. */
export type MessageId = BaseKey<CatalogueKey>;

type KeysOf<I extends MessageId> = Extract<CatalogueKey, I | `${I}_${PluralSuffix}`>;
type ParamNamesIn<S> = S extends `${string}{{${infer P}}}${infer Rest}` ? P | ParamNamesIn<Rest> : never;

/** The parameter names message `I` uses (from its English text, all plural forms). */
export type ParamNames<I extends MessageId> = ParamNamesIn<(typeof en)[KeysOf<I>]>;

/** Values a message is built from: strings and numbers only (dates are formatted by the caller, ISO 8601). */
export type MessageParams = Readonly<Record<string, string | number>>;

/**
 * A sentence by reference: its id and the parameters it is built from. Errors carry these, so each edge can
 * say the same thing in its reader's language. Parameters never hold secrets (they reach logs).
 */
export interface MessageRef {
  readonly id: MessageId;
  readonly params?: MessageParams;
}

/**
 * Names a message. Parameters are typed from the English text: `msg("pkcs8.wrongPassword")` takes none,
 * `msg("upload.size", { maxFiles: 10, maxBytes: 100 })` must give both.
 * @param id catalogue id
 * @param params values for the `{{name}}` placeholders
 * @returns a {@link MessageRef}
 */
export function msg<I extends MessageId>(
  id: I,
  ...params: [ParamNames<I>] extends [never] ? [] : [Readonly<Record<ParamNames<I>, string | number>>]
): MessageRef {
  const p = params[0];
  return p === undefined ? { id } : { id, params: p };
}

/** The catalogues by locale, for the web app's i18next instance and the completeness tests. */
export const CATALOGUES: Readonly<Record<Locale, Readonly<Record<string, string>>>> = { en, pl };

const instances = new Map<Locale, i18n>();

/**
 * A ready i18next instance for one locale with both catalogues loaded (English is the fallback), created
 * synchronously once per locale and cached. Keys are flat (dots are part of ids, not paths).
 * @param locale the language to render in
 */
export function i18nFor(locale: Locale): i18n {
  let instance = instances.get(locale);
  if (instance === undefined) {
    instance = i18next.createInstance();
    void instance.init({
      lng: locale,
      fallbackLng: "en",
      supportedLngs: [...LOCALES],
      resources: { en: { translation: en }, pl: { translation: pl } },
      keySeparator: false,
      nsSeparator: false,
      interpolation: { escapeValue: false },
      returnNull: false,
      initAsync: false,
    });
    instances.set(locale, instance);
  }
  return instance;
}

/**
 * Renders a message in a locale. An id missing from the catalogue renders as the id itself (never throws: a
 * missing sentence must not hide the error it describes); tests guarantee there are none.
 * @param locale the reader's language
 * @param ref the message
 * @returns the sentence
 */
export function translate(locale: Locale, ref: MessageRef): string {
  return i18nFor(locale).t(ref.id, { ...ref.params, lng: locale });
}

/**
 * Whether a string names a message in the catalogue (plural base ids included); for ids that arrive as data
 * (a violation's rule, an error body from the server).
 * @param id candidate id
 */
export function isMessageId(id: string): id is MessageId {
  return Object.hasOwn(en, id) || PLURAL_SUFFIXES.some((s) => Object.hasOwn(en, `${id}_${s}`));
}

/**
 * The locale a command-line program speaks: the explicit choice (`--lang`) wins, then the POSIX variables in
 * their order of precedence (`LC_ALL`, `LC_MESSAGES`, `LANG`; `pl_PL.UTF-8` → `pl`); English otherwise. An
 * unknown explicit choice is refused by the caller, not here (see {@link parseLocale}).
 * @param explicit the `--lang` value, when given
 * @param env the process environment
 */
export function resolveLocale(explicit: string | undefined, env: Readonly<Record<string, string | undefined>>): Locale {
  if (explicit !== undefined) {
    const chosen = parseLocale(explicit);
    if (chosen !== undefined) return chosen;
  }
  for (const name of ["LC_ALL", "LC_MESSAGES", "LANG"]) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    // The first variable that is set decides, as in POSIX; "C"/"POSIX" mean no language, i.e. English.
    return parseLocale(value) ?? "en";
  }
  return "en";
}

/**
 * Reads a locale name: `pl`, `pl_PL`, `pl-PL`, `pl_PL.UTF-8`, `en_GB@euro` → `pl` / `en`; anything else → `undefined`.
 * @param value a language tag or POSIX locale name
 */
export function parseLocale(value: string): Locale | undefined {
  const language = /^([a-zA-Z]{2,3})(?:[-_.@]|$)/.exec(value.trim())?.[1]?.toLowerCase();
  return LOCALES.find((l) => l === language);
}

export { en as EN_MESSAGES, pl as PL_MESSAGES };
