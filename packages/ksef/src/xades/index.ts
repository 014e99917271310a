/** `@ksef-certs/ksef/xades`. */
export {};
export { signAuthTokenRequest, signXml, type XadesEngine, type XadesSignOptions } from "./sign.js";
export {
  DIGEST_SHA256,
  ENVELOPED_SIGNATURE,
  EXC_C14N,
  SIGNATURE_ECDSA_SHA256,
  SIGNATURE_ID,
  SIGNATURE_RSA_SHA256,
  SIGNED_PROPERTIES_ID,
  SIGNED_PROPERTIES_TYPE,
  XADES_NS,
  XMLDSIG_NS,
  XML_DECLARATION,
  canonicalAuthTokenRequest,
  formatSigningTime,
  issuerNameRfc4514,
  prepareXadesSigner,
  signCanonicalDocument,
  type PreparedXadesSigner,
  type XadesSigner,
} from "./template.js";
export {
  AUTH_TOKEN_REQUEST_NAMESPACES,
  MAX_SIGNED_AUTH_TOKEN_REQUEST_BYTES,
  XADES_REJECTION_KSEF_CODES,
  verifySignedAuthTokenRequest,
  xadesRejectionOf,
  type AllowedIps,
  type ContextIdentifierType,
  type ExpectedAuthTokenRequest,
  type VerifiedAuthTokenRequest,
  type VerifyAuthTokenRequestOptions,
  type XadesRejectionReason,
} from "./verify.js";
export {
  OSOBA_NAMESPACE,
  PPZP_NAMESPACE,
  deriveKsefIdentity,
  findTrustedProfileBlocks,
  readTrustedProfile,
  type DerivedIdentity,
  type IdentitySource,
  type KsefIdentity,
  type TrustedProfileData,
} from "./identity.js";
export { UnlockedKeyCache, type UnlockedKeyCacheOptions } from "./signing-key.js";
