/** English catalogue, section for the pure KSeF package: crypto, XML, XAdES, the KSeF API client, KOD I/II and QR, the hand-off protocol, the adapter contract. Parameters are written `{{name}}`. */
export const ksef = {} as const;
