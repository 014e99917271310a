/**
 * Which KSeF environment a certificate belongs to, decided by who issued it. This is the one place in
 * the code that knows KSeF's issuer names; docs/ksef-issuers.md explains the facts and their sources.
 *
 * - Production certificates are issued by the CA named `CCK KSeF` (under the root `CCK MF ROOT`), whose
 *   certificates MF publishes on https://ksef.podatki.gov.pl/ksef-na-okres-obligatoryjny/certyfikaty-ksef/.
 * - The test environment's CA is `TEST CCK KSeF`; an older test CA was `TI CCK KSeF`. Certificates issued
 *   on DEMO (pre-production) carry the same issuer name `TEST CCK KSeF`
 *   (https://github.com/CIRFMF/ksef-api/issues/437), although TEST and DEMO refuse each other's
 *   certificates (https://github.com/CIRFMF/ksef-api/issues/371). The name therefore separates
 *   production from the rest, never TEST from DEMO.
 *
 * Only the issuer's commonName is compared: this guards against a person picking the wrong environment,
 * it does not authenticate the certificate (anyone can make a CA with any name; KSeF itself checks the
 * chain when the certificate is used).
 */
import { violation, type Violation } from "../errors.js";
import type { KsefEnvironment } from "./environments.js";

/** The commonName of the CA that issues production KSeF certificates. */
export const KSEF_PRODUCTION_ISSUER = "CCK KSeF";

/**
 * Every KSeF CA name ends in "CCK KSeF"; test CAs put a prefix before it ("TEST CCK KSeF", "TI CCK KSeF").
 * A prefix we have not seen yet is taken for a test CA too: production has exactly one name.
 */
const KSEF_ISSUER_NAME = /^(?:(.*\S)\s+)?CCK KSeF$/;

/** A KSeF CA recognised by its name, and the environments whose certificates it issues. */
export interface KsefIssuer {
  /** The issuer's commonName as found in the certificate, e.g. `TEST CCK KSeF`. */
  readonly commonName: string;
  /** `["production"]` for `CCK KSeF`; `["test", "demo"]` for the test CAs (DEMO certificates carry the TEST CA's name). */
  readonly environments: readonly KsefEnvironment[];
  /** How a message names the environment it belongs to: `production` or `test` (KSeF's TEST CA, which also signs DEMO certificates). */
  readonly belongsTo: "production" | "test";
}

/** The fields of a parsed certificate the issuer rules read (a `CertificateInfo` fits). */
export interface IssuedCertificate {
  /** Issuer attributes in certificate order; the commonName has OID 2.5.4.3. */
  readonly issuer: readonly { readonly oid: string; readonly value: string }[];
  /** One-line issuer, for messages about an unknown issuer. */
  readonly issuerText: string;
}

const COMMON_NAME_OID = "2.5.4.3";

/**
 * The issuer's commonName (the last one when a name has several, as the most specific RDN comes last).
 * @param certificate a parsed certificate
 * @returns the commonName, or undefined when the issuer has none
 */
export function issuerCommonName(certificate: IssuedCertificate): string | undefined {
  return certificate.issuer.filter((a) => a.oid === COMMON_NAME_OID).at(-1)?.value;
}

/**
 * Which KSeF CA issued the certificate, by the issuer's commonName (see the module comment).
 * @param certificate a parsed certificate
 * @returns the issuer and its environments, or undefined when the issuer is not a KSeF CA
 */
export function ksefIssuerOf(certificate: IssuedCertificate): KsefIssuer | undefined {
  const commonName = issuerCommonName(certificate)?.trim();
  if (commonName === undefined) return undefined;
  const match = KSEF_ISSUER_NAME.exec(commonName);
  if (match === null) return undefined;
  return match[1] === undefined
    ? { commonName, environments: ["production"], belongsTo: "production" }
    : { commonName, environments: ["test", "demo"], belongsTo: "test" };
}

/** Options of {@link issuerEnvironmentViolation}. */
export interface IssuerRuleOptions {
  /**
   * Accept a certificate from a CA that is not KSeF's for production (default false). Test and demo
   * always accept one: TEST accepts self-signed certificates, and tests issue their own.
   */
  readonly allowUnknownIssuer?: boolean;
}

/**
 * Whether a certificate may be registered for `environment`, judged by its issuer:
 * - a KSeF test CA's certificate (`TEST CCK KSeF`) only for test or demo (rule `certificate.environment`);
 * - the production CA's certificate (`CCK KSeF`) only for production (rule `certificate.environment`);
 * - another issuer's certificate for test and demo, and for production only with `allowUnknownIssuer`
 *   (rule `certificate.issuer`): production KSeF accepts only certificates its own CA issued.
 * @param certificate a parsed certificate
 * @param environment the environment it is being registered for
 * @param options see {@link IssuerRuleOptions}
 * @returns the violation (field `environment`, params `issuer` and for `certificate.environment` `belongsTo`), or undefined when it fits
 */
export function issuerEnvironmentViolation(
  certificate: IssuedCertificate,
  environment: KsefEnvironment,
  options: IssuerRuleOptions = {},
): Violation | undefined {
  const known = ksefIssuerOf(certificate);
  if (known === undefined) {
    if (environment !== "production" || options.allowUnknownIssuer === true) return undefined;
    const issuer = issuerCommonName(certificate) ?? certificate.issuerText;
    return violation("environment", "certificate.issuer", { issuer, expected: KSEF_PRODUCTION_ISSUER });
  }
  if (known.environments.includes(environment)) return undefined;
  // `context` picks the production variant of the sentence (`rule.certificate.environment_production`).
  return violation("environment", "certificate.environment", { issuer: known.commonName, belongsTo: known.belongsTo, context: known.belongsTo });
}
