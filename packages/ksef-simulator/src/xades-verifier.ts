/**
 * The XAdES verification the simulator relies on for `POST /auth/xades-signature`: the contract of
 * `verifySignedAuthTokenRequest` from `@ksef-certs/ksef/xades` (signature, references, signing
 * certificate, AuthTokenRequest schema). On rejection it throws a `KsefCertsError` whose
 * `details.ksefExceptionCode` is the KSeF code to answer with (9105, 21401, …).
 */
import type { CertificateInfo } from "@ksef-certs/ksef/crypto";

/** What a verified AuthTokenRequest yields (the fields the simulator reads). */
export interface VerifiedAuthTokenRequest {
  /** The challenge inside the document (not yet checked against issued challenges). */
  readonly challenge: string;
  readonly contextIdentifier: { readonly type: string; readonly value: string };
  /** `certificateSubject` or `certificateFingerprint`. */
  readonly subjectIdentifierType: string;
  /** The signing certificate. */
  readonly certificate: { readonly der: Uint8Array; readonly info: CertificateInfo };
  /** Who signed, per the subject identifier type. */
  readonly identity: { readonly type: "Nip" | "Pesel" | "Fingerprint"; readonly value: string };
  /** SHA-256 of the signing certificate, 64 uppercase hex. */
  readonly fingerprint: string;
}

/**
 * A verifier of signed AuthTokenRequest documents.
 * @param bytes the request body exactly as received
 * @param expected unused by the simulator (it checks the challenge against its own store)
 * @param options `now`: the simulator clock, for certificate validity
 * @throws {KsefCertsError} with `details.ksefExceptionCode` when the document is refused
 */
export type AuthTokenRequestVerifier = (
  bytes: Uint8Array,
  expected: undefined,
  options: { readonly now?: Date },
) => Promise<VerifiedAuthTokenRequest> | VerifiedAuthTokenRequest;
