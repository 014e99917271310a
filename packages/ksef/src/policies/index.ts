/**
 * `@ksef-certs/ksef/policies`: input rules for forms and the CLI.
 *
 * Every `check…` returns ALL violations at once as `Violation[]` (empty = valid); every `assert…`
 * throws one `KsefCertsError("VALIDATION")` carrying them; `isValid…` is the boolean shortcut.
 *
 * Translation: each violation has a stable `rule` id (`certificateName.length`, `password.upper`,
 * `nip.checksum`, …), an English `message`, and the `params` its wording needs (limits, allowed
 * characters, and a `context` naming the sentence's variant). Its sentence in every locale is the
 * catalogue message `rule.<rule>` (`@ksef-certs/ksef/messages`), rendered with the violation's params;
 * `violationMessagePl` and `MESSAGES_PL` are deprecated views of it. Rule ids never change meaning; a
 * new rule gets a new id and its `rule.<id>` sentences (a test enforces the latter).
 */
export * from "./certificate-name.js";
export * from "./identifiers.js";
export * from "./messages-pl.js";
export * from "./password.js";
