import type { rules as en } from "../en/rules.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for rule violations (a Violation's rule id `x.y` is the message id `rule.x.y`) (same ids and parameters as the English one). */
export const rules = {} as const satisfies PolishSection<typeof en>;
