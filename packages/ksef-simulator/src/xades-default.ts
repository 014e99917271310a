/**
 * The default verifier: `verifySignedAuthTokenRequest` from `@ksef-certs/core/xades`.
 * Loaded on first use so the simulator starts (and its other operations work) even in a build of
 * core that lacks it; a sign-in then fails with 500 and a message naming the missing piece.
 */
import { KsefCertsError } from "@ksef-certs/core/errors";
import type { AuthTokenRequestVerifier, VerifiedAuthTokenRequest } from "./xades-verifier.js";

let loaded: Promise<AuthTokenRequestVerifier> | undefined;

async function load(): Promise<AuthTokenRequestVerifier> {
  const mod = (await import("@ksef-certs/core/xades")) as Record<string, unknown>;
  const fn = mod["verifySignedAuthTokenRequest"];
  if (typeof fn !== "function") {
    throw new KsefCertsError("UNSUPPORTED", "This build of @ksef-certs/core has no verifySignedAuthTokenRequest; the simulator cannot check XAdES signatures.", {
      hint: "Rebuild packages/core (pnpm exec tsc -p tsconfig.build.json) or pass a verifier in the simulator options.",
    });
  }
  return fn as AuthTokenRequestVerifier;
}

/**
 * Verifies with core's `verifySignedAuthTokenRequest`.
 * @throws {KsefCertsError} as the core verifier (with `details.ksefExceptionCode`); `UNSUPPORTED` when core lacks it
 */
export const defaultVerifier: AuthTokenRequestVerifier = async (bytes, expected, options): Promise<VerifiedAuthTokenRequest> => {
  loaded ??= load();
  const verify = await loaded.catch((err: unknown) => {
    loaded = undefined;
    throw err;
  });
  return verify(bytes, expected, options);
};
