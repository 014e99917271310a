import type { agent as en } from "../en/agent.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the signer agent (`ksef-signer`) on operators' workstations (same ids and parameters as the English one). */
export const agent = {} as const satisfies PolishSection<typeof en>;
