/**
 * Polish wording of every policy violation, keyed by its stable `rule` id: a thin view of the message catalogue
 * (`rule.<rule>` in `@ksef-certs/ksef/messages`), kept for code that has not moved to the catalogue yet.
 * New code renders `rule.<rule>` with `translate(locale, …)` or `localizeError` instead.
 */
import type { Violation } from "../errors.js";
import { EN_MESSAGES, isMessageId, translate, type MessageId } from "../messages/index.js";

type Params = Readonly<Record<string, string | number>>;

/** Base message ids of the rules (`rule.x.y`), without their `context` variants (`rule.x.y_variant`). */
function ruleIds(): string[] {
  const keys = Object.keys(EN_MESSAGES).filter((k) => k.startsWith("rule."));
  const all = new Set(keys);
  return keys.filter((k) => {
    const cut = k.lastIndexOf("_");
    return cut === -1 || !all.has(k.slice(0, cut));
  });
}

/**
 * Polish message builders by rule id, rendered from the catalogue (`rule.<rule>` with the violation's params).
 * Transitional: new code renders `rule.<rule>` through `translate("pl", …)` or `localizeError`; this map goes once no code reads it.
 */
export const MESSAGES_PL: Readonly<Record<string, (p: Params) => string>> = Object.fromEntries(
  ruleIds().map((id) => [id.slice("rule.".length), (p: Params) => translate("pl", { id: id as MessageId, params: p })]),
);

/**
 * The Polish message of a violation (the catalogue's `rule.<rule>`); falls back to its English message for a rule without one.
 * Transitional, like {@link MESSAGES_PL}: new code uses `translate("pl", …)` on `rule.<rule>` or `localizeError`.
 * @param violation a violation from any policy check
 */
export function violationMessagePl(violation: Violation): string {
  const id = `rule.${violation.rule}`;
  if (!isMessageId(id)) return violation.message;
  return translate("pl", violation.params === undefined ? { id } : { id, params: violation.params });
}
