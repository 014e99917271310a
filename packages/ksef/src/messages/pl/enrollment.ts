import type { enrollment as en } from "../en/enrollment.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for enrollment runs, their steps and the vault (sealing, unsealing, opening held keys) (same ids and parameters as the English one). */
export const enrollment = {} as const satisfies PolishSection<typeof en>;
