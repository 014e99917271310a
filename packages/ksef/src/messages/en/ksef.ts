/** English catalogue, section for the pure KSeF package: crypto, XML, XAdES, the KSeF API client, KOD I/II and QR, the hand-off protocol, the adapter contract. Parameters are written `{{name}}`. */
export const ksef = {
  // Policies: the summary of a refused input (each broken rule is listed as its own violation).
  "policy.certificateName.invalid": "The certificate name is not accepted",
  "policy.password.invalid": "The password does not meet the rules",
  "policy.nip.invalid": "Invalid NIP",
  "policy.pesel.invalid": "Invalid PESEL",
  "policy.internalId.invalid": "Invalid InternalId",
} as const;
