/**
 * The web app's languages through react-i18next: one i18next instance loaded with the shared message catalogue
 * of `@ksef-certs/ksef/messages` (both locales; the app's sentences are its `web.*` ids, rule violations its
 * `rule.*` ids, errors the ids the server sends). Polish is the default; the choice is kept in `localStorage`
 * and, once signed in, on the account. Components read sentences with `useTranslation()` and the locale (for
 * dates) with {@link useLocale}.
 *
 * Source: react-i18next (https://react.i18next.com/), i18next (https://www.i18next.com/).
 */
import i18next, { type TFunction } from "i18next";
import { initReactI18next, useTranslation } from "react-i18next";
import { CATALOGUES, EN_MESSAGES, isMessageId, LOCALES, parseLocale, type Locale, type MessageId } from "@ksef-certs/ksef/messages";

declare module "i18next" {
  /** Keys (and their `{{name}}` parameters) are checked against the English catalogue; ids are flat, dots included. */
  interface CustomTypeOptions {
    defaultNS: "translation";
    resources: { translation: typeof EN_MESSAGES };
    keySeparator: false;
    nsSeparator: false;
    returnNull: false;
  }
}

export type { Locale };

/** A translator bound to the current language (what `useTranslation()` returns as `t`). */
export type T = TFunction;

/** Where the chosen language is kept between visits (before sign-in and for other accounts on this browser). */
export const LOCALE_KEY = "ksef-certs.locale";

/**
 * The language chosen on this browser last time, Polish when none (or an unknown one) was.
 */
export function storedLocale(): Locale {
  const saved = typeof localStorage === "undefined" ? null : localStorage.getItem(LOCALE_KEY);
  return (saved === null ? undefined : parseLocale(saved)) ?? "pl";
}

/**
 * The app's i18next instance, ready synchronously (the catalogue is bundled: no loading, no Suspense).
 * English is the fallback for an id only one locale has (tests keep both complete).
 */
export const webI18n = i18next.createInstance();
void webI18n.use(initReactI18next).init({
  lng: storedLocale(),
  fallbackLng: "en",
  supportedLngs: [...LOCALES],
  resources: { en: { translation: CATALOGUES.en }, pl: { translation: CATALOGUES.pl } },
  keySeparator: false,
  nsSeparator: false,
  // React escapes what it renders; i18next must not escape a second time.
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
  react: { useSuspense: false },
});

/**
 * The locale of an i18next instance (`pl` for anything it does not know).
 * @param instance the instance (its `language`)
 */
export function localeOf(instance: { readonly language: string | undefined }): Locale {
  return parseLocale(instance.language ?? "") ?? "pl";
}

/** The current UI language; components re-render when it changes. */
export function useLocale(): Locale {
  const { i18n } = useTranslation();
  return localeOf(i18n);
}

/**
 * Renders a message id that arrives as data (from the server, or built from a code) with its parameters.
 * @param t the bound translator
 * @param id a catalogue id (checked by the caller with `isMessageId`)
 * @param params its parameters
 */
export function tId(t: T, id: MessageId, params?: Readonly<Record<string, string | number>>): string {
  // The id is data, so its parameters cannot be checked at compile time; the catalogue tests keep them in step.
  return (t as unknown as (key: string, options?: Readonly<Record<string, string | number>>) => string)(id, params ?? {});
}

/** A policy violation as the server or a core `check…` reports it. */
export interface ViolationLike {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
  readonly params?: Readonly<Record<string, string | number>> | undefined;
}

/**
 * A violation in the UI language: the catalogue's `rule.<rule>` with its parameters; a rule the catalogue does not
 * know (a newer server) shows the message as reported.
 * @param t the bound translator
 * @param locale the UI language
 * @param violation what a policy check or the server reported
 */
export function violationText(t: T, locale: Locale, violation: ViolationLike): string {
  const id = `rule.${violation.rule}`;
  if (isMessageId(id)) return tId(t, id, violation.params);
  return violation.message;
}

/** Intl locale tags for dates. */
const DATE_LOCALES: Readonly<Record<Locale, string>> = { pl: "pl-PL", en: "en-GB" };

/**
 * A date (ISO 8601 string or Date) as the locale writes it: `30.11.2026` (pl-PL) or `30/11/2026` (en-GB).
 * @param locale the UI language
 * @param value an ISO 8601 date-time or a Date; empty for null/undefined
 * @param withTime adds hours and minutes
 */
export function formatDate(locale: Locale, value: string | Date | null | undefined, withTime = false): string {
  if (value === null || value === undefined || value === "") return "";
  const date = typeof value === "string" ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(DATE_LOCALES[locale], {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    ...(withTime ? { hour: "2-digit", minute: "2-digit" } : {}),
  }).format(date);
}

/**
 * The colour band of a days-to-expiry figure: `red` at 14 days or fewer, `amber` at 60 or fewer, else `ok`.
 * @param days whole days until validTo (negative when expired)
 */
export function expiryBand(days: number): "red" | "amber" | "ok" {
  if (days <= 14) return "red";
  if (days <= 60) return "amber";
  return "ok";
}

/**
 * The catalogue sentence `${prefix}${code}` in the UI language, or `code` itself when the catalogue has none
 * (a new server value shows as it comes instead of a raw id).
 * @param t the bound translator
 * @param prefix id prefix, e.g. `web.action.`
 * @param code the server's code, e.g. `certificate.revoke`
 */
export function codeText(t: T, prefix: `web.${string}.`, code: string): string {
  const id = `${prefix}${code}`;
  return isMessageId(id) ? tId(t, id) : code;
}
