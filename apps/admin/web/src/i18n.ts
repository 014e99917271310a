/**
 * The web app's two languages: Polish (default) and English. `pl` is the source of keys; `en` must have
 * exactly the same keys (TypeScript refuses a missing one), so a screen never shows a raw key.
 * Placeholders are `{name}`, filled by {@link translate}.
 */
import { createContext, useContext } from "react";
import { MESSAGES_PL } from "@ksef-certs/core/policies";

const pl = {
  "app.title": "Certyfikaty KSeF",
  "app.skip": "Przejdź do treści",
  "nav.main": "Nawigacja główna",
  "nav.organisation": "Organizacja",
  "nav.certificates": "Certyfikaty",
  "nav.timeline": "Oś ważności",
  "nav.enroll": "Nowy certyfikat",
  "nav.import": "Import",
  "nav.export": "Eksport",
  "nav.audit": "Dziennik zdarzeń",
  "nav.users": "Użytkownicy",
  "top.language": "Język",
  "top.logout": "Wyloguj",
  "top.signedInAs": "Zalogowano jako {name}",
  "login.heading": "Logowanie",
  "login.login": "Login",
  "login.password": "Hasło",
  "login.submit": "Zaloguj",
  "login.failed": "Nie udało się zalogować: {message}",
  "common.loading": "Wczytywanie…",
  "common.save": "Zapisz",
  "common.add": "Dodaj",
  "common.cancel": "Anuluj",
  "common.confirm": "Potwierdź",
  "common.none": "brak",
  "common.all": "wszystkie",
  "common.error": "Błąd: {message}",
  "common.saved": "Zapisano.",
  "common.next": "Następna strona",
  "common.previous": "Poprzednia strona",
  "common.yes": "tak",
  "common.no": "nie",
  "common.total": "Razem: {count}",
  "common.notFound": "Nie znaleziono.",
  "field.company": "Firma",
  "field.branch": "Oddział",
  "field.operator": "Operator",
  "field.environment": "Środowisko",
  "field.certificateType": "Typ certyfikatu",
  "field.mode": "Tryb",
  "field.state": "Stan",
  "field.name": "Nazwa",
  "field.nip": "NIP",
  "field.pesel": "PESEL",
  "field.code": "Kod",
  "field.internalId": "Identyfikator wewnętrzny",
  "field.outboxDir": "Folder do podpisu",
  "field.inboxDir": "Folder podpisanych",
  "field.search": "Szukaj",
  "field.expiringWithin": "Wygasa w ciągu (dni)",
  "field.validFrom": "Ważny od",
  "field.validTo": "Ważny do",
  "field.serial": "Numer seryjny",
  "field.subject": "Podmiot",
  "field.daysToExpiry": "Dni do wygaśnięcia",
  "field.holder": "Posiadacz",
  "field.fingerprint": "Odcisk SHA-256",
  "field.source": "Pochodzenie",
  "field.password": "Hasło",
  "field.displayName": "Imię i nazwisko",
  "field.role": "Rola",
  "field.reason": "Powód",
  "field.adapter": "Program (adapter)",
  "field.target": "Folder lub plik docelowy",
  "env.test": "testowe",
  "env.demo": "przedprodukcyjne (demo)",
  "env.production": "produkcyjne",
  "type.Authentication": "Uwierzytelnianie",
  "type.Offline": "Offline",
  "mode.current": "bieżący",
  "mode.queued": "następca (w kolejce)",
  "scope.company": "firma",
  "scope.legend": "Dla kogo (firma, oddział lub operator)",
  "scope.branch": "oddział",
  "scope.operator": "operator",
  "scope.none": "— cała firma —",
  "scope.noOperator": "— bez operatora —",
  "scope.choose": "— wybierz —",
  "days.left": "{days} dni",
  "days.one": "1 dzień",
  "days.expired": "wygasł",
  "org.heading": "Organizacja",
  "org.branches": "Oddziały",
  "org.operators": "Operatorzy",
  "org.workstations": "Stanowiska",
  "org.paired": "agent sparowany",
  "org.notPaired": "bez agenta",
  "org.addCompany": "Dodaj firmę",
  "org.addBranch": "Dodaj oddział",
  "org.addOperator": "Dodaj operatora",
  "org.addWorkstation": "Dodaj stanowisko",
  "org.empty": "Brak firm. Dodaj pierwszą poniżej.",
  "org.operatorBranches": "Oddziały operatora",
  "certs.heading": "Certyfikaty",
  "certs.filters": "Filtry",
  "certs.apply": "Filtruj",
  "certs.table": "Lista certyfikatów",
  "certs.empty": "Brak certyfikatów spełniających filtry.",
  "certs.state.active": "aktywny",
  "certs.state.revoked": "unieważniony",
  "certs.state.expired": "wygasły",
  "certs.state.notYetValid": "jeszcze nieważny",
  "timeline.heading": "Oś ważności certyfikatów",
  "timeline.from": "Od",
  "timeline.to": "Do",
  "timeline.today": "dziś",
  "timeline.gap": "Luka: {from} – {to}",
  "timeline.gaps": "Luki (okresy bez ważnego certyfikatu)",
  "timeline.noGaps": "Brak luk w wybranym okresie.",
  "timeline.empty": "Brak certyfikatów w tym środowisku.",
  "timeline.legend": "Legenda: pełny pasek – bieżący, jaśniejszy – następca, czerwony – luka.",
  "cert.heading": "Certyfikat {name}",
  "cert.exports": "Eksporty do programów",
  "cert.noExports": "Certyfikat nie był eksportowany.",
  "cert.audit": "Zdarzenia",
  "cert.assign": "Przypisz",
  "cert.assignHeading": "Przypisz do oddziału lub operatora",
  "cert.revoke": "Unieważnij",
  "cert.revokeHeading": "Unieważnić certyfikat?",
  "cert.revokeText": "Certyfikat przestanie być używany. Tej operacji nie można cofnąć.",
  "cert.revokedAt": "Unieważniony {at}: {reason}",
  "cert.export": "Eksportuj",
  "cert.at": "Kiedy",
  "cert.actor": "Kto",
  "cert.action": "Zdarzenie",
  "enroll.heading": "Nowy certyfikat w KSeF",
  "enroll.authMethod": "Sposób uwierzytelnienia w KSeF",
  "enroll.auth.certificate": "posiadanym certyfikatem uwierzytelniającym",
  "enroll.auth.handoff": "podpis osoby na stanowisku (plik auth.xml)",
  "enroll.signingCertificate": "Certyfikat do uwierzytelnienia",
  "enroll.workstation": "Stanowisko",
  "enroll.keyPassword": "Hasło klucza prywatnego",
  "enroll.keyPasswordRepeat": "Powtórz hasło",
  "enroll.passwordRepeat": "Hasła nie są takie same.",
  "enroll.seal": "Zapamiętaj hasło (zaszyfrowane kluczem głównym) do automatycznego odnawiania",
  "enroll.submit": "Złóż wniosek",
  "enroll.validFromHint": "puste = od razu",
  "enroll.status": "Przebieg wniosku",
  "enroll.waiting": "Czeka na podpis na stanowisku {workstation}",
  "enroll.countdown": "Wyzwanie wygasa za {time}",
  "enroll.expired": "Wyzwanie wygasło",
  "enroll.download": "Pobierz auth.xml",
  "enroll.upload": "Wgraj podpisany plik",
  "enroll.uploaded": "Podpisany plik przekazany.",
  "enroll.done": "Wydano certyfikat.",
  "enroll.open": "Otwórz certyfikat",
  "enroll.failed": "Wniosek nieudany: {message}",
  "enroll.state.requested": "złożony",
  "enroll.state.key_generated": "klucz wygenerowany",
  "enroll.state.authenticating": "logowanie do KSeF",
  "enroll.state.awaiting_signature": "czeka na podpis",
  "enroll.state.authenticated": "podpisany, zalogowano do KSeF",
  "enroll.state.submitting": "wysyłanie wniosku do KSeF",
  "enroll.state.submitted": "wniosek przesłany do KSeF",
  "enroll.state.completed": "certyfikat wydany",
  "enroll.state.failed": "nieudany",
  "import.heading": "Import certyfikatu",
  "import.kind": "Rodzaj plików",
  "import.pair": "para .crt + .key",
  "import.p12": "plik .p12 / .pfx",
  "import.crt": "Certyfikat (.crt)",
  "import.key": "Klucz prywatny (.key)",
  "import.p12file": "Plik PKCS#12 (.p12)",
  "import.submit": "Importuj",
  "import.done": "Zaimportowano certyfikat.",
  "import.tooLarge": "Plik jest za duży (najwyżej {max} KiB).",
  "export.heading": "Eksport do programu",
  "export.certificates": "Certyfikaty do eksportu",
  "export.noneSelected": "Wybierz certyfikaty w tabeli albo na stronie certyfikatu.",
  "export.submit": "Eksportuj",
  "export.done": "Wyeksportowano: {summary}",
  "export.passwordNeeded": "Ten program przechowuje hasło – podaj hasło do klucza.",
  "audit.heading": "Dziennik zdarzeń",
  "audit.verify": "Sprawdź integralność",
  "audit.ok": "Dziennik nienaruszony ({entries} wpisów).",
  "audit.bad": "Dziennik NARUSZONY od wpisu {seq}.",
  "audit.entity": "Obiekt",
  "users.heading": "Użytkownicy",
  "users.add": "Dodaj użytkownika",
  "users.login": "Login",
  "users.roles": "Role",
  "role.super_admin": "superadministrator",
  "role.company_admin": "administrator firmy",
  "role.branch_admin": "administrator oddziału",
  "role.auditor": "audytor",
  "ws.heading": "Stanowisko {name}",
  "ws.pair": "Sparuj agenta podpisu",
  "ws.code": "Jednorazowy kod parowania",
  "ws.codeExpires": "Ważny do {at}",
  "ws.tokens": "Tokeny agentów",
  "ws.noTokens": "Brak tokenów.",
  "ws.revoke": "Unieważnij token",
  "ws.created": "Utworzony",
  "ws.lastUsed": "Ostatnio użyty",
  "ws.revoked": "unieważniony",
  "ws.requests": "Wnioski o podpis",
  "form.fix": "Popraw zaznaczone pola.",
  "rule.required": "To pole jest wymagane.",
} as const;

/** Every translation key (the Polish dictionary's keys). */
export type MessageKey = keyof typeof pl;

/** A complete dictionary: every key of {@link MessageKey} mapped to its text. */
export type Dictionary = Readonly<Record<MessageKey, string>>;

const en: Dictionary = {
  "app.title": "KSeF certificates",
  "app.skip": "Skip to content",
  "nav.main": "Main navigation",
  "nav.organisation": "Organisation",
  "nav.certificates": "Certificates",
  "nav.timeline": "Expiry timeline",
  "nav.enroll": "New certificate",
  "nav.import": "Import",
  "nav.export": "Export",
  "nav.audit": "Audit log",
  "nav.users": "Users",
  "top.language": "Language",
  "top.logout": "Sign out",
  "top.signedInAs": "Signed in as {name}",
  "login.heading": "Sign in",
  "login.login": "Login",
  "login.password": "Password",
  "login.submit": "Sign in",
  "login.failed": "Sign-in failed: {message}",
  "common.loading": "Loading…",
  "common.save": "Save",
  "common.add": "Add",
  "common.cancel": "Cancel",
  "common.confirm": "Confirm",
  "common.none": "none",
  "common.all": "all",
  "common.error": "Error: {message}",
  "common.saved": "Saved.",
  "common.next": "Next page",
  "common.previous": "Previous page",
  "common.yes": "yes",
  "common.no": "no",
  "common.total": "Total: {count}",
  "common.notFound": "Not found.",
  "field.company": "Company",
  "field.branch": "Branch",
  "field.operator": "Operator",
  "field.environment": "Environment",
  "field.certificateType": "Certificate type",
  "field.mode": "Mode",
  "field.state": "State",
  "field.name": "Name",
  "field.nip": "NIP",
  "field.pesel": "PESEL",
  "field.code": "Code",
  "field.internalId": "InternalId",
  "field.outboxDir": "Outbox folder (to sign)",
  "field.inboxDir": "Inbox folder (signed)",
  "field.search": "Search",
  "field.expiringWithin": "Expiring within (days)",
  "field.validFrom": "Valid from",
  "field.validTo": "Valid to",
  "field.serial": "Serial number",
  "field.subject": "Subject",
  "field.daysToExpiry": "Days to expiry",
  "field.holder": "Holder",
  "field.fingerprint": "SHA-256 fingerprint",
  "field.source": "Source",
  "field.password": "Password",
  "field.displayName": "Full name",
  "field.role": "Role",
  "field.reason": "Reason",
  "field.adapter": "Program (adapter)",
  "field.target": "Target folder or file",
  "env.test": "test",
  "env.demo": "demo",
  "env.production": "production",
  "type.Authentication": "Authentication",
  "type.Offline": "Offline",
  "mode.current": "current",
  "mode.queued": "queued successor",
  "scope.company": "company",
  "scope.legend": "Held for (company, branch or operator)",
  "scope.branch": "branch",
  "scope.operator": "operator",
  "scope.none": "— whole company —",
  "scope.noOperator": "— no operator —",
  "scope.choose": "— choose —",
  "days.left": "{days} days",
  "days.one": "1 day",
  "days.expired": "expired",
  "org.heading": "Organisation",
  "org.branches": "Branches",
  "org.operators": "Operators",
  "org.workstations": "Workstations",
  "org.paired": "agent paired",
  "org.notPaired": "no agent",
  "org.addCompany": "Add company",
  "org.addBranch": "Add branch",
  "org.addOperator": "Add operator",
  "org.addWorkstation": "Add workstation",
  "org.empty": "No companies yet. Add the first one below.",
  "org.operatorBranches": "Operator's branches",
  "certs.heading": "Certificates",
  "certs.filters": "Filters",
  "certs.apply": "Filter",
  "certs.table": "Certificate list",
  "certs.empty": "No certificates match the filters.",
  "certs.state.active": "active",
  "certs.state.revoked": "revoked",
  "certs.state.expired": "expired",
  "certs.state.notYetValid": "not yet valid",
  "timeline.heading": "Certificate expiry timeline",
  "timeline.from": "From",
  "timeline.to": "To",
  "timeline.today": "today",
  "timeline.gap": "Gap: {from} – {to}",
  "timeline.gaps": "Gaps (periods without a valid certificate)",
  "timeline.noGaps": "No gaps in this period.",
  "timeline.empty": "No certificates in this environment.",
  "timeline.legend": "Legend: solid bar – current, lighter – queued successor, red – gap.",
  "cert.heading": "Certificate {name}",
  "cert.exports": "Exports to programs",
  "cert.noExports": "Never exported.",
  "cert.audit": "Events",
  "cert.assign": "Assign",
  "cert.assignHeading": "Assign to a branch or operator",
  "cert.revoke": "Revoke",
  "cert.revokeHeading": "Revoke the certificate?",
  "cert.revokeText": "The certificate will no longer be used. This cannot be undone.",
  "cert.revokedAt": "Revoked {at}: {reason}",
  "cert.export": "Export",
  "cert.at": "When",
  "cert.actor": "Who",
  "cert.action": "Event",
  "enroll.heading": "New KSeF certificate",
  "enroll.authMethod": "How to sign in to KSeF",
  "enroll.auth.certificate": "with a held Authentication certificate",
  "enroll.auth.handoff": "a person signs at a workstation (auth.xml)",
  "enroll.signingCertificate": "Certificate to sign in with",
  "enroll.workstation": "Workstation",
  "enroll.keyPassword": "Private key password",
  "enroll.keyPasswordRepeat": "Repeat the password",
  "enroll.passwordRepeat": "The passwords differ.",
  "enroll.seal": "Keep the password (sealed under the master key) for automatic renewal",
  "enroll.submit": "Submit the request",
  "enroll.validFromHint": "empty = now",
  "enroll.status": "Request progress",
  "enroll.waiting": "Waiting for a signature on workstation {workstation}",
  "enroll.countdown": "The challenge expires in {time}",
  "enroll.expired": "The challenge has expired",
  "enroll.download": "Download auth.xml",
  "enroll.upload": "Upload the signed file",
  "enroll.uploaded": "Signed file handed over.",
  "enroll.done": "Certificate issued.",
  "enroll.open": "Open the certificate",
  "enroll.failed": "Request failed: {message}",
  "enroll.state.requested": "requested",
  "enroll.state.key_generated": "key generated",
  "enroll.state.authenticating": "signing in to KSeF",
  "enroll.state.awaiting_signature": "waiting for signature",
  "enroll.state.authenticated": "signed, signed in to KSeF",
  "enroll.state.submitting": "submitting the request to KSeF",
  "enroll.state.submitted": "request submitted to KSeF",
  "enroll.state.completed": "certificate issued",
  "enroll.state.failed": "failed",
  "import.heading": "Import a certificate",
  "import.kind": "Files",
  "import.pair": ".crt + .key pair",
  "import.p12": ".p12 / .pfx file",
  "import.crt": "Certificate (.crt)",
  "import.key": "Private key (.key)",
  "import.p12file": "PKCS#12 file (.p12)",
  "import.submit": "Import",
  "import.done": "Certificate imported.",
  "import.tooLarge": "The file is too large (at most {max} KiB).",
  "export.heading": "Export to a program",
  "export.certificates": "Certificates to export",
  "export.noneSelected": "Pick certificates in the table or on a certificate's page.",
  "export.submit": "Export",
  "export.done": "Exported: {summary}",
  "export.passwordNeeded": "This program keeps the password – enter the key password.",
  "audit.heading": "Audit log",
  "audit.verify": "Verify integrity",
  "audit.ok": "The log is intact ({entries} entries).",
  "audit.bad": "The log is BROKEN from entry {seq}.",
  "audit.entity": "Entity",
  "users.heading": "Users",
  "users.add": "Add a user",
  "users.login": "Login",
  "users.roles": "Roles",
  "role.super_admin": "super-admin",
  "role.company_admin": "company admin",
  "role.branch_admin": "branch admin",
  "role.auditor": "auditor",
  "ws.heading": "Workstation {name}",
  "ws.pair": "Pair a signer agent",
  "ws.code": "One-time pairing code",
  "ws.codeExpires": "Valid until {at}",
  "ws.tokens": "Agent tokens",
  "ws.noTokens": "No tokens.",
  "ws.revoke": "Revoke token",
  "ws.created": "Created",
  "ws.lastUsed": "Last used",
  "ws.revoked": "revoked",
  "ws.requests": "Signing requests",
  "form.fix": "Correct the marked fields.",
  "rule.required": "This field is required.",
};

/** The languages of the UI. */
export type Locale = "pl" | "en";

/** Both dictionaries by locale. */
export const DICTIONARIES: Readonly<Record<Locale, Dictionary>> = { pl, en };

/**
 * The text of `key` in `locale` with `{name}` placeholders replaced from `params`.
 * @param locale the UI language
 * @param key a dictionary key
 * @param params placeholder values
 */
export function translate(locale: Locale, key: MessageKey, params: Readonly<Record<string, string | number>> = {}): string {
  return DICTIONARIES[locale][key].replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

/** What components read from {@link I18nContext}. */
export interface I18n {
  readonly locale: Locale;
  /** {@link translate} bound to the current locale. */
  readonly t: (key: MessageKey, params?: Readonly<Record<string, string | number>>) => string;
  /** Switches the language (and remembers it for the signed-in user). */
  readonly setLocale: (locale: Locale) => void;
}

/** The current language; Polish until the user picks another. */
export const I18nContext = createContext<I18n>({
  locale: "pl",
  t: (key, params) => translate("pl", key, params),
  setLocale: () => undefined,
});

/** The current {@link I18n}. */
export function useI18n(): I18n {
  return useContext(I18nContext);
}

/** A policy violation as the server or a core `check…` reports it. */
export interface ViolationLike {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
  readonly params?: Readonly<Record<string, string | number>> | undefined;
}

/**
 * A violation in the UI language: Polish through core `MESSAGES_PL` by `rule`, else the English message.
 * @param locale the UI language
 * @param violation what a policy check or the server reported
 */
export function violationText(locale: Locale, violation: ViolationLike): string {
  if (locale === "pl") {
    const build = MESSAGES_PL[violation.rule];
    if (build) return build(violation.params ?? {});
  }
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
