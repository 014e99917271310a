import type { ksef as en } from "../en/ksef.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the pure KSeF package: crypto, XML, XAdES, the KSeF API client, KOD I/II and QR, the hand-off protocol, the adapter contract (same ids and parameters as the English one). */
export const ksef = {} as const satisfies PolishSection<typeof en>;
