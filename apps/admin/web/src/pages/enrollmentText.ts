/**
 * Enrollment progress in the UI language. The server's watch events carry, beside the core's English
 * sentence, a machine-readable event (`event.kind` from core `ENROLLMENT_EVENTS` and its params); each kind
 * maps here to a dictionary sentence (Polish and English in `i18n.ts`) with its file paths, reference numbers,
 * serials and times filled in. The table is typed by kind, so a kind the core adds fails to compile until it is
 * given a sentence. An event without `event` (an older server) shows the state with the server's words as a detail.
 */
import type { EnrollmentEventKind, EnrollmentEventParams, EnrollmentProgressEvent } from "@ksef-certs/domain/enrollment";
import { ENVIRONMENTS } from "@ksef-certs/ksef/vocabulary";
import { formatDate, type I18n, type MessageKey } from "../i18n";

/** A progress line: the sentence to show and, where the server gave one, its own English words as a detail. */
export interface EventText {
  readonly text: string;
  readonly detail?: string;
}

type Fmt = Pick<I18n, "t" | "locale">;

/** How one kind is said: the dictionary sentence, its placeholders from the params, and an English detail (error text) if any. */
interface Rule<K extends EnrollmentEventKind> {
  readonly key: MessageKey;
  readonly params?: (p: EnrollmentEventParams[K], i18n: Fmt) => Readonly<Record<string, string | number>>;
  readonly detail?: (p: EnrollmentEventParams[K]) => string;
}

const STATES: readonly string[] = [
  "requested",
  "key_generated",
  "authenticating",
  "awaiting_signature",
  "authenticated",
  "submitting",
  "submitted",
  "completed",
  "failed",
];

/**
 * The label of an enrollment state in the UI language (unknown states as they come).
 * @param t the bound translator
 * @param state the enrollment state from the server
 */
export function stateLabel(t: I18n["t"], state: string): string {
  return STATES.includes(state) ? t(`enroll.state.${state}` as MessageKey) : state;
}

/** A known enum value in the UI language, else as it comes. */
function label(i18n: Fmt, prefix: "type" | "env" | "mode", value: string, known: readonly string[]): string {
  return known.includes(value) ? i18n.t(`${prefix}.${value}` as MessageKey) : value;
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
    key: "ev.requested",
    params: (p, i18n) => ({
      name: p.name,
      type: label(i18n, "type", p.certificateType, ["Authentication", "Offline"]),
      environment: label(i18n, "env", p.environment, ENVIRONMENTS),
    }),
  },
  "enrollment.state": { key: "ev.state", params: (p, i18n) => ({ state: stateLabel(i18n.t, p.state) }) },
  "enrollment.failed": { key: "ev.failed", detail: reason },
  "run.retrying": { key: "ev.retry", detail: reason },
  "password.needed": { key: "ev.passwordNeeded" },
  "password.wrong": { key: "ev.passwordWrong" },
  "key.generated": { key: "ev.keyGenerated" },
  "key.discarded": { key: "ev.keyDiscarded" },
  "ksef.signingInWithCertificate": { key: "ev.signingInWithCertificate" },
  "handoff.writing": { key: "ev.writingAuthXml" },
  "handoff.renewing": { key: "ev.previousExpired" },
  "handoff.reauthenticating": { key: "ev.sessionGone" },
  "handoff.published": { key: "ev.authXmlAt", params: at },
  "handoff.stillWaiting": { key: "ev.stillWaiting", params: at },
  "handoff.challengeInvalid": { key: "ev.challengeInvalid" },
  "handoff.challengeRefused": { key: "ev.challengeRefused" },
  "handoff.abandoned": { key: "ev.handoffAbandoned", params: (p) => ({ challenges: p.challenges }) },
  "ksef.authenticating": { key: "ev.checkingSignature", params: ref },
  "ksef.authenticated": { key: "ev.signedIn" },
  "ksef.sessionResumed": { key: "ev.sessionContinues" },
  "ksef.sessionMissing": { key: "ev.signInAgain" },
  "ksef.signInFailed": { key: "ev.signInFailed", detail: reason },
  "ksef.submitting": { key: "ev.sending" },
  "ksef.enrollmentAccepted": { key: "ev.accepted", params: ref },
  "ksef.awaitingCertificate": { key: "ev.waitingIssue", params: ref },
  "ksef.enrollmentCancelled": { key: "ev.cancelled", params: ref },
  "certificate.found": { key: "ev.adopting", params: serial },
  "certificate.notFoundYet": { key: "ev.notYet" },
  "certificate.issued": { key: "ev.issued", params: serial },
  "certificate.stored": { key: "ev.stored", params: (p, i18n) => ({ serial: p.serialNumber, mode: label(i18n, "mode", p.mode, ["current", "queued"]) }) },
  "certificate.storeBlocked": { key: "ev.storeBlocked", params: serial, detail: reason },
};

/** One event through its kind's rule; the generic ties `params` to the rule of the same kind. */
function said<K extends EnrollmentEventKind>(i18n: Fmt, kind: K, params: EnrollmentEventParams[K]): EventText {
  const rule: Rule<K> = RULES[kind];
  const text = i18n.t(rule.key, rule.params?.(params, i18n));
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
  const text = i18n.t("ev.state", { state: stateLabel(i18n.t, e.state) });
  return e.message === `State ${e.state}.` || e.message === "" ? { text } : { text, detail: e.message };
}
