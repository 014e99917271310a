import type { adapters as en } from "../en/adapters.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the ERP adapters and the KSeF simulator (same ids and parameters as the English one). */
export const adapters = {} as const satisfies PolishSection<typeof en>;
