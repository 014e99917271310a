/**
 * Enrollment progress in the UI language. The server's watch events carry, beside the core's English
 * sentence, a machine-readable event (`event.kind` from core `ENROLLMENT_EVENTS` and its params); each kind
 * maps here to a catalogue sentence (`web.ev.*` in `@ksef-certs/ksef/messages`) with its file paths, reference numbers,
 * serials and times filled in. The table is typed by kind, so a kind the core adds fails to compile until it is
 * given a sentence. An event without `event` (an older server) shows the state with the server's words as a detail.
 */
import type { EnrollmentEventKind, EnrollmentEventParams, EnrollmentProgressEvent } from "@ksef-certs/domain/enrollment";
import { ENROLLMENT_STATES, ENVIRONMENTS } from "@ksef-certs/ksef/vocabulary";
import { isMessageId, type MessageId } from "@ksef-certs/ksef/messages";
import { formatDate, tId, type Locale, type T } from "../i18n";

/** A progress line: the sentence to show and, where the server gave one, its own English words as a detail. */
export interface EventText {
  readonly text: string;
  readonly detail?: string;
}

/** The translator and the locale (for dates) an event is said with. */
interface Fmt {
  readonly t: T;
  readonly locale: Locale;
}

/** How one kind is said: the catalogue sentence, its placeholders from the params, and an English detail (error text) if any. */
interface Rule<K extends EnrollmentEventKind> {
  readonly key: Extract<MessageId, `web.ev.${string}`>;
  readonly params?: (p: EnrollmentEventParams[K], i18n: Fmt) => Readonly<Record<string, string | number>>;
  readonly detail?: (p: EnrollmentEventParams[K]) => string;
}

/**
 * The label of an enrollment state in the UI language (unknown states as they come).
 * @param t the bound translator
 * @param state the enrollment state from the server
 */
export function stateLabel(t: T, state: string): string {
  const known = ENROLLMENT_STATES.find((s) => s === state);
  return known === undefined ? state : t(`web.enroll.state.${known}`);
}

/** A known enum value in the UI language, else as it comes. */
function label(i18n: Fmt, prefix: "type" | "env" | "mode", value: string, known: readonly string[]): string {
  const id = `web.${prefix}.${value}`;
  return known.includes(value) && isMessageId(id) ? tId(i18n.t, id) : value;
}

const at = (p: { readonly file: string; readonly expiresAt: string }, i18n: Fmt): Readonly<Record<string, string>> => ({
  file: p.file,
  at: formatDate(i18n.locale, p.expiresAt, true),
});
const ref = (p: { readonly referenceNumber: string }): Readonly<Record<string, string>> => ({ ref: p.referenceNumber });
const serial = (p: { readonly serialNumber: string }): Readonly<Record<string, string>> => ({ serial: p.serialNumber });
const reason = (p: { readonly reason: string }): string => p.reason;

/** Every event kind's sentence. */
const RULES: { readonly [K in EnrollmentEventKind]: Rule<K> } = {
  "enrollment.requested": {
    key: "web.ev.requested",
    params: (p, i18n) => ({
      name: p.name,
      type: label(i18n, "type", p.certificateType, ["Authentication", "Offline"]),
      environment: label(i18n, "env", p.environment, ENVIRONMENTS),
    }),
  },
  "enrollment.state": { key: "web.ev.state", params: (p, i18n) => ({ state: stateLabel(i18n.t, p.state) }) },
  "enrollment.failed": { key: "web.ev.failed", detail: reason },
  "run.retrying": { key: "web.ev.retry", detail: reason },
  "password.needed": { key: "web.ev.passwordNeeded" },
  "password.wrong": { key: "web.ev.passwordWrong" },
  "key.generated": { key: "web.ev.keyGenerated" },
  "key.discarded": { key: "web.ev.keyDiscarded" },
  "ksef.signingInWithCertificate": { key: "web.ev.signingInWithCertificate" },
  "handoff.writing": { key: "web.ev.writingAuthXml" },
  "handoff.renewing": { key: "web.ev.previousExpired" },
  "handoff.reauthenticating": { key: "web.ev.sessionGone" },
  "handoff.published": { key: "web.ev.authXmlAt", params: at },
  "handoff.stillWaiting": { key: "web.ev.stillWaiting", params: at },
  "handoff.challengeInvalid": { key: "web.ev.challengeInvalid" },
  "handoff.challengeRefused": { key: "web.ev.challengeRefused" },
  "handoff.abandoned": { key: "web.ev.handoffAbandoned", params: (p) => ({ challenges: p.challenges }) },
  "ksef.authenticating": { key: "web.ev.checkingSignature", params: ref },
  "ksef.authenticated": { key: "web.ev.signedIn" },
  "ksef.sessionResumed": { key: "web.ev.sessionContinues" },
  "ksef.sessionMissing": { key: "web.ev.signInAgain" },
  "ksef.signInFailed": { key: "web.ev.signInFailed", detail: reason },
  "ksef.submitting": { key: "web.ev.sending" },
  "ksef.enrollmentAccepted": { key: "web.ev.accepted", params: ref },
  "ksef.awaitingCertificate": { key: "web.ev.waitingIssue", params: ref },
  "ksef.enrollmentCancelled": { key: "web.ev.cancelled", params: ref },
  "certificate.found": { key: "web.ev.adopting", params: serial },
  "certificate.notFoundYet": { key: "web.ev.notYet" },
  "certificate.issued": { key: "web.ev.issued", params: serial },
  "certificate.stored": { key: "web.ev.stored", params: (p, i18n) => ({ serial: p.serialNumber, mode: label(i18n, "mode", p.mode, ["current", "queued"]) }) },
  "certificate.storeBlocked": { key: "web.ev.storeBlocked", params: serial, detail: reason },
};

/** One event through its kind's rule; the generic ties `params` to the rule of the same kind. */
function said<K extends EnrollmentEventKind>(i18n: Fmt, kind: K, params: EnrollmentEventParams[K]): EventText {
  const rule: Rule<K> = RULES[kind];
  const text = tId(i18n.t, rule.key, rule.params?.(params, i18n));
  const detail = rule.detail?.(params);
  return detail === undefined || detail === "" ? { text } : { text, detail };
}

/**
 * One progress event's sentence in the UI language, from its `event`; without one (an older server, or a kind
 * this build does not know) the state in the UI language, with the server's sentence as the detail.
 * @param i18n the current language and translator
 * @param e the watch event: its state, the server's English sentence and the machine-readable event
 */
export function eventText(i18n: Fmt, e: { readonly state: string; readonly message: string; readonly event?: EnrollmentProgressEvent | undefined }): EventText {
  const event = e.event;
  if (event !== undefined && Object.hasOwn(RULES, event.kind) && typeof event.params === "object") {
    return said(i18n, event.kind, event.params);
  }
  const text = i18n.t("web.ev.state", { state: stateLabel(i18n.t, e.state) });
  return e.message === `State ${e.state}.` || e.message === "" ? { text } : { text, detail: e.message };
}
