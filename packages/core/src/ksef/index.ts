/** `@ksef-certs/core/ksef` (being built for issue 3). */
export {};
export {
  AUTH_CHALLENGE_PATTERN,
  AUTH_TOKEN_REQUEST_NAMESPACE_2_0,
  AUTH_TOKEN_REQUEST_NAMESPACE_2_1,
  MAX_ALLOWED_IPS_PER_KIND,
  assertAuthTokenRequestInput,
  authTokenRequestNamespace,
  buildAuthTokenRequest,
  checkAuthTokenRequestInput,
  type AuthContextIdentifierType,
  type AuthTokenRequestInput,
} from "./auth-token-request.js";
