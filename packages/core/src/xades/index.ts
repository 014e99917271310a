/** `@ksef-certs/core/xades` (being built for issue 3). */
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
