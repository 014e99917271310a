/**
 * `@ksef-certs/ksef/policies`: input rules for forms and the CLI.
 *
 * Every `check…` returns ALL violations at once as `Violation[]` (empty = valid); every `assert…`
 * throws one `KsefCertsError("VALIDATION")` carrying them; `isValid…` is the boolean shortcut.
 *
 * Translation: each violation has a stable `rule` id (`certificateName.length`, `password.upper`,
 * `nip.checksum`, …), an English `message`, and the `params` its wording needs (limits, allowed
 * characters). A UI shows Polish with `violationMessagePl(v)` (built from {@link MESSAGES_PL} by
 * `rule` and `params`) and falls back to `message` for a rule it does not know. Rule ids never change
 * meaning; a new rule gets a new id and a Polish entry (a test enforces the latter).
 */
export * from "./certificate-name.js";
export * from "./identifiers.js";
export * from "./messages-pl.js";
export * from "./password.js";
