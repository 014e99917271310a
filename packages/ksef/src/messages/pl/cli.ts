import type { cli as en } from "../en/cli.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the `ksef-certs` command line (same ids and parameters as the English one). */
export const cli = {} as const satisfies PolishSection<typeof en>;
