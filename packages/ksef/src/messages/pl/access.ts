import type { access as en } from "../en/access.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for access rules, reports and the use cases behind the admin server's procedures (same ids and parameters as the English one). */
export const access = {} as const satisfies PolishSection<typeof en>;
