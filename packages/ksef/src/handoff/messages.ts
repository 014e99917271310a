/**
 * The sentences a person reads about a file they dropped into the hand-off inbox (in `<name>.reason.txt`
 * beside a failed file, in the signer agent's notifications, in the CLI): catalogue messages (`handoff.*`),
 * rendered in one locale ({@link problemMessageIn}) or in both, Polish first ({@link problemMessage}).
 */
import type { KsefCertsError } from "../errors.js";
import { isMessageId, msg, translate, type Locale, type MessageId, type MessageRef } from "../messages/index.js";
import type { KsefIdentity } from "../xades/identity.js";
import type { XadesRejectionReason } from "../xades/verify.js";
import type { ClassifiedFile, ExpectedSigner } from "./classify.js";

/** What happened to an inbox file that was not a successful hand-off (see `InboxProblem`). */
export type InboxProblemKind =
  | Exclude<ClassifiedFile["kind"], "signed">
  | "duplicate"
  | "too-large"
  | "too-complex"
  | "check-failed"
  | "unreadable"
  | "submit-failed"
  | "move-failed"
  | "watch-error";

/** A message in both languages (both renderings of one catalogue message). */
export interface BilingualMessage {
  /** Polish sentence(s). */
  readonly pl: string;
  /** English sentence(s). */
  readonly en: string;
}

/**
 * A message rendered in both locales.
 * @param render the sentence in one locale
 */
function bilingual(render: (locale: Locale) => string): BilingualMessage {
  return { pl: render("pl"), en: render("en") };
}

/** The catalogue id explaining a verifier rejection (`handoff.rejection.<reason in lowerCamel>`, e.g. `handoff.rejection.tooLarge`). */
function rejectionId(reason: XadesRejectionReason): MessageId {
  return `handoff.rejection.${reason.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())}` as MessageId;
}

/**
 * Polish explanation of each verifier rejection (the catalogue's `handoff.rejection.<reason>`), keyed by every
 * {@link XadesRejectionReason}. Transitional: new code renders `handoff.rejection.<reason>` with `translate`.
 */
export const REJECTION_REASONS_PL: Readonly<Record<XadesRejectionReason, string>> = Object.fromEntries(
  (
    [
      "too-large",
      "too-complex",
      "not-xml",
      "dtd-or-entity",
      "not-utf8",
      "not-auth-token-request",
      "xsd-violation",
      "no-signature",
      "multiple-signatures",
      "detached",
      "reference-not-covering-root",
      "signature-wrapping",
      "digest-mismatch",
      "signature-invalid",
      "unsupported-algorithm",
      "certificate-missing",
      "certificate-invalid",
      "signing-certificate-mismatch",
      "subject-identifier-invalid",
      "challenge-mismatch",
      "context-mismatch",
    ] satisfies XadesRejectionReason[]
  ).map((reason) => [reason, translate("pl", { id: rejectionId(reason) })]),
) as Record<XadesRejectionReason, string>;

/**
 * Why a valid signature by the wrong person is refused (classification `wrong-signer`), as a catalogue message,
 * e.g. "The file was signed by PESEL 02070803628, but this request is for Jan Kowalski (PESEL 44051401458)…". A
 * fingerprint identity (a seal or a certificate naming no person) gets its own sentence.
 * @param signer the identity KSeF would derive from the signature (`VerifiedAuthTokenRequest.identity`)
 * @param expected the operator on record
 * @returns the message (identifiers and the operator's name only)
 */
export function wrongSignerMessageRef(signer: KsefIdentity, expected: ExpectedSigner): MessageRef {
  const ids = [
    expected.pesel === undefined || expected.pesel === "" ? undefined : `PESEL ${expected.pesel}`,
    expected.nip === undefined || expected.nip === "" ? undefined : `NIP ${expected.nip}`,
  ];
  const who = `${expected.name} (${ids.filter((i) => i !== undefined).join(", ")})`;
  if (signer.type === "Fingerprint") return msg("handoff.wrongSigner.fingerprint", { who, name: expected.name });
  return msg("handoff.wrongSigner", { signer: `${signer.type === "Pesel" ? "PESEL" : "NIP"} ${signer.value}`, who, name: expected.name });
}

/**
 * {@link wrongSignerMessageRef} in both languages.
 * @param signer the identity KSeF would derive from the signature
 * @param expected the operator on record
 * @returns Polish and English text
 */
export function wrongSignerMessage(signer: KsefIdentity, expected: ExpectedSigner): BilingualMessage {
  const ref = wrongSignerMessageRef(signer, expected);
  return bilingual((locale) => translate(locale, ref));
}

/** Parameters some messages name. */
export interface ProblemMessageParams {
  /** The file's name as the person saw it. */
  readonly fileName?: string;
  /** For `duplicate`: the name of the file handled first. */
  readonly firstFile?: string;
  /** For `too-large`: the file's size and the limit, bytes. */
  readonly size?: number;
  readonly limitBytes?: number;
  /** For `rejected` and `wrong-signer`: the verdict. */
  readonly classification?: ClassifiedFile;
  /** For `too-complex`: the parser's refusal (its violation names the limit, `xml.depth`, `xml.elements` or `xml.attributes`). */
  readonly error?: KsefCertsError;
}

/** The sentences that need no more than the problem's kind. */
const PLAIN_PROBLEMS: Readonly<Partial<Record<InboxProblemKind, MessageId>>> = {
  unsigned: "handoff.problem.unsigned",
  expired: "handoff.problem.expired",
  "unknown-challenge": "handoff.problem.unknownChallenge",
  "not-auth-request": "handoff.problem.notAuthRequest",
  "check-failed": "handoff.problem.checkFailed",
  unreadable: "handoff.problem.unreadable",
  "submit-failed": "handoff.problem.submitFailed",
  "move-failed": "handoff.problem.moveFailed",
  "watch-error": "handoff.problem.watchError",
};

/**
 * The person-facing sentence for an inbox problem in one locale.
 * @param locale the reader's language
 * @param kind what happened
 * @param params the names, sizes and verdict the sentence mentions
 * @returns the sentence (no secrets: file names, sizes and KSeF codes only)
 */
export function problemMessageIn(locale: Locale, kind: InboxProblemKind, params: ProblemMessageParams = {}): string {
  const plain = PLAIN_PROBLEMS[kind];
  if (plain !== undefined) return translate(locale, { id: plain });
  switch (kind) {
    case "duplicate":
      return translate(
        locale,
        params.firstFile === undefined ? msg("handoff.problem.duplicate") : msg("handoff.problem.duplicateOf", { firstFile: params.firstFile }),
      );
    case "rejected": {
      const c = params.classification;
      if (c?.kind !== "rejected") return translate(locale, msg("handoff.problem.rejectedPlain"));
      // English repeats the verifier's own words; Polish explains the reason (the verifier's words are technical).
      const detail = locale === "en" ? c.message : translate(locale, { id: rejectionId(c.reason) });
      return translate(locale, msg("handoff.problem.rejected", { detail, code: c.ksefExceptionCode }));
    }
    case "wrong-signer": {
      const c = params.classification;
      return translate(locale, c?.kind === "wrong-signer" ? wrongSignerMessageRef(c.verified.identity, c.expected) : msg("handoff.problem.wrongSignerPlain"));
    }
    case "too-large":
      return translate(locale, msg("handoff.problem.tooLarge", { size: params.size ?? "?", limitBytes: params.limitBytes ?? "?" }));
    case "too-complex": {
      const violation = params.error?.violations[0];
      const rule = violation === undefined ? undefined : `rule.${violation.rule}`;
      // English keeps the parser's own sentence; other languages use the violated rule's.
      const detail =
        locale === "en" && params.error !== undefined
          ? params.error.message
          : rule !== undefined && isMessageId(rule)
            ? translate(locale, violation?.params === undefined ? { id: rule } : { id: rule, params: violation.params })
            : translate(locale, msg("handoff.problem.tooComplexDefault"));
      return translate(locale, msg("handoff.problem.tooComplex", { detail }));
    }
    default:
      return translate(locale, { id: PLAIN_PROBLEMS[kind] ?? "handoff.problem.checkFailed" });
  }
}

/**
 * The person-facing sentences for an inbox problem, in every locale.
 * @param kind what happened
 * @param params the names, sizes and verdict the sentence mentions
 * @returns Polish and English text (no secrets: file names, sizes and KSeF codes only)
 */
export function problemMessage(kind: InboxProblemKind, params: ProblemMessageParams = {}): BilingualMessage {
  return bilingual((locale) => problemMessageIn(locale, kind, params));
}
