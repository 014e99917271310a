import type { domain as en } from "../en/domain.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the domain: store, registry, enrollment, signing requests, access, adapter use cases (same ids and parameters as the English one). */
export const domain = {} as const satisfies PolishSection<typeof en>;
