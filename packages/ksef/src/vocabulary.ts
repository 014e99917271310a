/**
 * `@ksef-certs/ksef/vocabulary`: the words of the field, defined once for every package: KSeF's environments and
 * certificate types (spec/open-api.json `KsefCertificateType`; docs/GLOSSARY.md).
 */

/** The three KSeF environments: TEST (self-signed signatures accepted), DEMO (pre-production), PRODUCTION. */
export const ENVIRONMENTS = ["test", "demo", "production"] as const;
/** A KSeF environment. */
export type KsefEnvironment = (typeof ENVIRONMENTS)[number];
/** The same as {@link KsefEnvironment}: the name the registry's code reads best with. */
export type Environment = KsefEnvironment;

/**
 * The two KSeF certificate types (spec/open-api.json `KsefCertificateType`): type 1 Authentication (logging in to
 * the API), type 2 Offline (signing the KOD II link printed on an invoice issued offline).
 */
export const CERTIFICATE_TYPES = ["Authentication", "Offline"] as const;
/** A KSeF certificate type. */
export type KsefCertificateType = (typeof CERTIFICATE_TYPES)[number];
/** The same as {@link KsefCertificateType}: the name the registry's code reads best with. */
export type CertificateTypeName = KsefCertificateType;

/** What a KSeF session's context is identified by (the XSD `TContextIdentifier` choice of an AuthTokenRequest). */
export const CONTEXT_IDENTIFIER_TYPES = ["Nip", "InternalId", "NipVatUe", "PeppolId"] as const;
/** One of {@link CONTEXT_IDENTIFIER_TYPES}. */
export type ContextIdentifierType = (typeof CONTEXT_IDENTIFIER_TYPES)[number];

/** Milliseconds in one day. */
export const MS_PER_DAY = 86_400_000;

/**
 * Every state of an enrollment of ours (a certificate requested from KSeF as a resumable state machine), in the
 * order a successful one passes through them; `failed` can follow any. What each state promises about the stored
 * row is in the domain's enrollment module (`states.ts`).
 */
export const ENROLLMENT_STATES = [
  "requested",
  "key_generated",
  "authenticating",
  "awaiting_signature",
  "authenticated",
  "submitting",
  "submitted",
  "completed",
  "failed",
] as const;

/** One enrollment state, see {@link ENROLLMENT_STATES}. */
export type EnrollmentState = (typeof ENROLLMENT_STATES)[number];
