/**
 * The default verifier: `verifySignedAuthTokenRequest` from `@ksef-certs/ksef/xades` (signature,
 * references, XSW defences, signing certificate, AuthTokenRequest rules; typed rejections carrying
 * the KSeF exception code).
 */
import { verifySignedAuthTokenRequest } from "@ksef-certs/ksef/xades";
import type { AuthTokenRequestVerifier } from "./xades-verifier.js";

/**
 * Verifies with core's `verifySignedAuthTokenRequest` (no expectations: the simulator checks the
 * challenge against the ones it issued).
 * @throws {KsefCertsError} as the core verifier, with `details.reason` and `details.ksefExceptionCode`
 */
export const defaultVerifier: AuthTokenRequestVerifier = (bytes, _expected, options) =>
  verifySignedAuthTokenRequest(bytes, {}, options.now === undefined ? {} : { now: options.now });
