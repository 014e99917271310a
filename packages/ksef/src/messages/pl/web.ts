import type { web as en } from "../en/web.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the admin web app's screens (same ids and parameters as the English one). */
export const web = {} as const satisfies PolishSection<typeof en>;
