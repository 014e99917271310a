/**
 * Enrollment progress in the UI language. The server's watch events carry a state and an English sentence
 * written by the core enrollment service (packages/core/src/enrollment/service.ts); each known sentence is
 * recognised here and rewritten from the dictionary with its file paths, reference numbers, serials and
 * times carried over. A sentence this table does not know stays visible as a secondary detail, so nothing
 * the server said is lost.
 */
import { formatDate, type I18n, type MessageKey } from "../i18n";

/** A progress line: the sentence to show and, when it could not be rewritten, the server's own words. */
export interface EventText {
  readonly text: string;
  readonly detail?: string;
}

type Params = Readonly<Record<string, string>>;

/** Server sentence → dictionary key; named groups become the key's parameters (`at` is a date-time). */
const PATTERNS: readonly (readonly [RegExp, MessageKey])[] = [
  [/^Enrollment of "(?<name>.*)" \((?<type>\w+), (?<environment>\w+)\) requested\.$/, "ev.requested"],
  [/^New EC P-256 key generated and stored encrypted\.$/, "ev.keyGenerated"],
  [/^Signing in to KSeF with the held Authentication certificate\.$/, "ev.signingInWithCertificate"],
  [/^The previous auth\.xml expired unsigned/, "ev.previousExpired"],
  [/^The KSeF session of this enrollment is gone;/, "ev.sessionGone"],
  [/^Writing auth\.xml for signing with Profil Zaufany\.$/, "ev.writingAuthXml"],
  [/^auth\.xml is in (?<file>.+): sign it on the gov\.pl page \(Profil Zaufany\) and put the signed file in the inbox folder before (?<at>\S+)\.$/, "ev.authXmlAt"],
  [/^Still waiting for the signed (?<file>.+) \(until (?<at>\S+)\)\.$/, "ev.stillWaiting"],
  [/^KSeF says the challenge of the signed file is no longer valid;/, "ev.challengeInvalid"],
  [/^Challenge refused by KSeF \(21111\)\.$/, "ev.challengeRefused"],
  [/^KSeF is checking the signature \(authentication (?<ref>[^)]+)\)\.$/, "ev.checkingSignature"],
  [/^Signed in to KSeF\.$/, "ev.signedIn"],
  [/^Continuing with the stored KSeF session\.$/, "ev.sessionContinues"],
  [/^No usable KSeF session for this enrollment; signing in again\.$/, "ev.signInAgain"],
  [/^Sending the certificate request to KSeF\.$/, "ev.sending"],
  [/^KSeF accepted the certificate request \((?<ref>[^)]+)\)\.$/, "ev.accepted"],
  [/^KSeF already issued certificate (?<serial>\S+) for this key; adopting it\.$/, "ev.adopting"],
  [/^KSeF shows no certificate for this key yet;/, "ev.notYet"],
  [/^Waiting for KSeF to issue the certificate \((?<ref>[^)]+)\)\.$/, "ev.waitingIssue"],
  [/^KSeF cancelled enrollment (?<ref>\S+) \(550\);/, "ev.cancelled"],
  [/^KSeF issued certificate (?<serial>\S+)\.$/, "ev.issued"],
  [/^Certificate (?<serial>\S+) stored as (?<mode>current|queued)\.$/, "ev.stored"],
];

const STATES: readonly string[] = ["requested", "key_generated", "authenticating", "awaiting_signature", "authenticated", "submitting", "submitted", "completed", "failed"];

/**
 * The label of an enrollment state in the UI language (unknown states as they come).
 * @param t the bound translator
 * @param state the enrollment state from the server
 */
export function stateLabel(t: I18n["t"], state: string): string {
  return STATES.includes(state) ? t(`enroll.state.${state}` as MessageKey) : state;
}

function localise(i18n: Pick<I18n, "t" | "locale">, groups: Params): Params {
  const out: Record<string, string> = { ...groups };
  if (groups["at"] !== undefined) out["at"] = formatDate(i18n.locale, groups["at"], true);
  if (groups["type"] === "Authentication" || groups["type"] === "Offline") out["type"] = i18n.t(`type.${groups["type"]}`);
  if (groups["environment"] === "test" || groups["environment"] === "demo" || groups["environment"] === "production") out["environment"] = i18n.t(`env.${groups["environment"]}`);
  if (groups["mode"] === "current" || groups["mode"] === "queued") out["mode"] = i18n.t(`mode.${groups["mode"]}`);
  return out;
}

/**
 * One progress event's sentence in the UI language. English shows the server's sentence as it is (it is
 * English); Polish rewrites every known sentence and, for an unknown one, says the state in Polish with the
 * server's sentence as the detail.
 * @param i18n the current language and translator
 * @param state the event's enrollment state
 * @param message the server's sentence
 */
export function eventText(i18n: Pick<I18n, "t" | "locale">, state: string, message: string): EventText {
  if (/^State \w+\.$/.test(message)) return { text: i18n.t("ev.state", { state: stateLabel(i18n.t, state) }) };
  if (i18n.locale === "en") return { text: message };
  const retry = /^Stopped by a passing fault, to be retried: (?<detail>.+)$/.exec(message);
  if (retry?.groups?.["detail"] !== undefined) return { text: i18n.t("ev.retry"), detail: retry.groups["detail"] };
  for (const [pattern, key] of PATTERNS) {
    const m = pattern.exec(message);
    if (m) return { text: i18n.t(key, localise(i18n, m.groups ?? {})) };
  }
  return { text: i18n.t("ev.state", { state: stateLabel(i18n.t, state) }), detail: message };
}
