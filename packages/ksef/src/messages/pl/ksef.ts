import type { ksef as en } from "../en/ksef.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the pure KSeF package: crypto, XML, XAdES, the KSeF API client, KOD I/II and QR, the hand-off protocol, the adapter contract (same ids and parameters as the English one). */
export const ksef = {
  // Policies: the summary of a refused input (each broken rule is listed as its own violation).
  "policy.certificateName.invalid": "Nazwa certyfikatu nie jest akceptowana",
  "policy.password.invalid": "Hasło nie spełnia wymagań",
  "policy.nip.invalid": "Nieprawidłowy NIP",
  "policy.pesel.invalid": "Nieprawidłowy numer PESEL",
  "policy.internalId.invalid": "Nieprawidłowy identyfikator wewnętrzny",
} as const satisfies PolishSection<typeof en>;
