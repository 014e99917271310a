/**
 * A KSeF session opened automatically with a held Authentication certificate (XAdES over an
 * AuthTokenRequest; ksef-docs `uwierzytelnianie.md`), for operations outside an enrollment such as
 * revoking a certificate (`POST /certificates/{serial}/revoke`, ksef-docs `certyfikaty-KSeF.md`: the session must
 * be the certificate's own identity, and KSeF-token sessions cannot revoke).
 *
 * The sequence is the automatic branch of `authenticate` in service.ts (challenge → sign →
 * `submitXadesSignature` → `waitForAuthentication` → redeem), copied in its minimum form because that
 * one is bound to an enrollment row (states, audit, sealed session) and an outside caller has none.
 */
import type { KsefClient, KsefSession } from "./client/index.js";
import { signAuthTokenRequest } from "../xades/sign.js";
import type { PreparedXadesSigner, XadesSigner } from "../xades/template.js";

/** The KSeF client operations {@link openKsefSession} uses; a real `KsefClient` fits. */
export type KsefSessionClient = Pick<KsefClient, "challenge" | "submitXadesSignature" | "waitForAuthentication" | "openSession">;

/** Input of {@link openKsefSession}. */
export interface OpenKsefSessionInput {
  /** The client of the environment the certificate belongs to. */
  readonly client: KsefSessionClient;
  /** The held Authentication certificate and its unlocked key. */
  readonly signer: XadesSigner | PreparedXadesSigner;
  /** The context to sign in to: the company's NIP (the subject must hold a permission there, ksef-docs `uwierzytelnianie.md`). */
  readonly contextIdentifier: { readonly type: "Nip"; readonly value: string };
  /** Cancels every KSeF call. */
  readonly signal?: AbortSignal;
  /** The signing time written into the XAdES `SigningTime`; default now. */
  readonly now?: () => Date;
  /** Status poll tuning (ms) for `waitForAuthentication`; the client's defaults otherwise (1 s interval, 120 s timeout). */
  readonly pollOptions?: { readonly intervalMs?: number; readonly timeoutMs?: number };
}

/**
 * Signs in to KSeF with a held Authentication certificate and returns a self-refreshing session.
 * Nothing is stored: the caller uses the session and drops it.
 * @param input client, signer, context NIP, cancellation, clock, poll options
 * @returns the session (access token refreshed by itself while the refresh token lives)
 * @throws {KsefCertsError} VALIDATION / UNSUPPORTED / KEY_MISMATCH when the signer cannot sign (e.g. an Offline certificate),
 *   as `signAuthTokenRequest`
 * @throws {KsefApiError} when KSeF refuses a call (e.g. 21111 challenge, 21115 certificate), with KSeF's codes
 * @throws {KsefStatusError} when the authentication ends in a failure status (415, 450, 460, 480, 550 …)
 * @throws {KsefCertsError} IO when cancelled or when the status poll times out (retryable)
 */
export async function openKsefSession(input: OpenKsefSessionInput): Promise<KsefSession> {
  const { client } = input;
  const signal = input.signal === undefined ? {} : { signal: input.signal };
  const challenge = await client.challenge(signal);
  const request = { challenge: challenge.challenge, contextIdentifier: input.contextIdentifier, subjectIdentifierType: "certificateSubject" as const };
  const signed = await signAuthTokenRequest(request, input.signer, { signingTime: input.now?.() ?? new Date() });
  const init = await client.submitXadesSignature(signed, signal);
  await client.waitForAuthentication(init.referenceNumber, init.authenticationToken.token, { ...signal, ...(input.pollOptions ?? {}) });
  return client.openSession(init.authenticationToken.token, signal);
}
