import type { server as en } from "../en/server.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the admin server (HTTP, tRPC, the agent API) (same ids and parameters as the English one). */
export const server = {} as const satisfies PolishSection<typeof en>;
