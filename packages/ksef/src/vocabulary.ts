/**
 * `@ksef-certs/ksef/vocabulary`: the words of the field, defined once for every package: KSeF's environments and
 * certificate types (spec/open-api.json `KsefCertificateType`; docs/GLOSSARY.md).
 */

/** The three KSeF environments: TEST (self-signed signatures accepted), DEMO (pre-production), PRODUCTION. */
export const ENVIRONMENTS = ["test", "demo", "production"] as const;
/** A KSeF environment. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** The two KSeF certificate types (spec/open-api.json `KsefCertificateType`): logging in to the API, and signing KOD II links. */
export const CERTIFICATE_TYPES = ["Authentication", "Offline"] as const;
/** A KSeF certificate type. */
export type CertificateTypeName = (typeof CERTIFICATE_TYPES)[number];

/** Milliseconds in one day. */
export const MS_PER_DAY = 86_400_000;
