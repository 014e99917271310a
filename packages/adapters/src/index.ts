/**
 * `@ksef-certs/adapters`: the built-in ERP adapters. Each is a plain
 * `CertificateAdapter` (contract in `@ksef-certs/ksef/adapters`) and passes the conformance suite
 * (`@ksef-certs/adapters/conformance`).
 */
export { pemPairAdapter } from "./pem-pair.js";
export { pkcs12Adapter } from "./pkcs12.js";
export { f2000Adapter, F2000_FORMAT, F2000_MANIFEST, F2000_VERSION, parseManifest, type F2000Entry, type F2000Manifest } from "./f2000.js";
export { bundleAdapter, createBundleAdapter, type BundleOptions } from "./bundle.js";
export { fileBase } from "./names.js";
