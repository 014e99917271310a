/**
 * Who KSeF takes the signer of an AuthTokenRequest for (ksef-docs `uwierzytelnianie.md`): the NIP or PESEL in
 * the signing certificate's subject, the certificate's SHA-256 fingerprint, or — for Profil Zaufany
 * signatures — the PESEL the ministry's signing service wrote into the signed XAdES properties.
 *
 * Profil Zaufany: the signature is made with the ministry's "pieczęć podpisu
 * zaufanego" certificate, so the certificate names the ministry, not the person; the person's data sits
 * in `SignedProperties/SignedSignatureProperties/SignerRole/ClaimedRoles/ClaimedRole/ppZP:PodpisZP`
 * (`ppZP:DaneZP/ppZP:DaneZPOsobyFizycznej` with `os:Imie`, `os:Nazwisko`, `os:PESEL`, and
 * `ppZP:DanePodpisu/ppZP:IdKontaUzytkownikaEpuap`).
 */
import type { CertificateInfo } from "../crypto/index.js";
import { elementsInDocumentOrder } from "../xml/walk.js";

/** Namespace of the Profil Zaufany signature data (`ppZP:`). */
export const PPZP_NAMESPACE = "http://crd.gov.pl/xml/schematy/ppzp/";
/** Namespace of the person data inside it (`os:`), CRD schema of 2009-11-16. */
export const OSOBA_NAMESPACE = "http://crd.gov.pl/xml/schematy/osoba/2009/11/16/";

const XADES_NAMESPACES = new Set(["http://uri.etsi.org/01903/v1.3.2#", "http://uri.etsi.org/01903/v1.4.1#"]);

/** The person data of a Profil Zaufany signature (ppZP:PodpisZP), each field as written (trimmed). */
export interface TrustedProfileData {
  /** `os:Imie`. */
  readonly givenName?: string;
  /** `os:Nazwisko`. */
  readonly surname?: string;
  /** `os:PESEL` (11 digits when well-formed; not checked here). */
  readonly pesel?: string;
  /** `ppZP:DanePodpisu/ppZP:IdKontaUzytkownikaEpuap`, the ePUAP account. */
  readonly epuapAccountId?: string;
}

/** The identity KSeF derives from a signed AuthTokenRequest (same shape as `SubjectIdentifier` of the crypto toolkit). */
export interface KsefIdentity {
  /** NIP (10 digits), PESEL (11 digits) or Fingerprint (64 uppercase hex). */
  readonly type: "Nip" | "Pesel" | "Fingerprint";
  readonly value: string;
}

/** Where a {@link KsefIdentity} came from: the certificate subject, its fingerprint, or Profil Zaufany's signed data. */
export type IdentitySource = "certificateSubject" | "certificateFingerprint" | "trustedProfile";

/** The result of {@link deriveKsefIdentity}. */
export interface DerivedIdentity {
  readonly identity: KsefIdentity;
  readonly source: IdentitySource;
}

/** Text of an element as XML canonicalisation sees it: its Text and CDATA descendants, comments and PIs left out. */
function textOf(element: Element): string {
  let out = "";
  for (let n = element.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 3 || n.nodeType === 4) out += n.nodeValue ?? "";
    else if (n.nodeType === 1) out += textOf(n as Element);
  }
  return out;
}

function childrenNamed(parent: Element, namespace: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === namespace && (n as Element).localName === localName) out.push(n as Element);
  }
  return out;
}

function descendantsNamed(root: Element, namespace: string, localName: string): Element[] {
  return elementsInDocumentOrder(root).filter((e) => e !== root && e.namespaceURI === namespace && e.localName === localName);
}

/**
 * Finds the `ppZP:PodpisZP` blocks that sit in a XAdES `ClaimedRole` (1.3.2 `SignerRole` or EN 319 132
 * `SignerRoleV2`) under the given `SignedProperties`. Only the signed properties are searched, so the
 * caller must pass the element the verified reference covers.
 * @param signedProperties the `xades:SignedProperties` element covered by the signature
 * @returns every PodpisZP element found, in document order (normally zero or one)
 */
export function findTrustedProfileBlocks(signedProperties: Element): Element[] {
  return descendantsNamed(signedProperties, PPZP_NAMESPACE, "PodpisZP").filter((e) => {
    const role = e.parentNode as Element | null;
    return role?.localName === "ClaimedRole" && XADES_NAMESPACES.has(role.namespaceURI ?? "");
  });
}

/**
 * Reads the person data of one `ppZP:PodpisZP` element (as the ministry's signing service writes it). Missing fields are left out.
 * @param podpisZp the `ppZP:PodpisZP` element
 * @returns the fields found (possibly none)
 */
export function readTrustedProfile(podpisZp: Element): TrustedProfileData {
  const first = (parent: Element | undefined, ns: string, name: string): Element | undefined =>
    parent === undefined ? undefined : childrenNamed(parent, ns, name)[0];
  const dane = first(podpisZp, PPZP_NAMESPACE, "DaneZP");
  const person = first(dane, PPZP_NAMESPACE, "DaneZPOsobyFizycznej");
  const account = first(first(podpisZp, PPZP_NAMESPACE, "DanePodpisu"), PPZP_NAMESPACE, "IdKontaUzytkownikaEpuap");
  const value = (e: Element | undefined): string | undefined => {
    const t = e === undefined ? "" : textOf(e).trim();
    return t === "" ? undefined : t;
  };
  const givenName = value(first(person, OSOBA_NAMESPACE, "Imie"));
  const surname = value(first(person, OSOBA_NAMESPACE, "Nazwisko"));
  const pesel = value(first(person, OSOBA_NAMESPACE, "PESEL"));
  const epuapAccountId = value(account);
  return {
    ...(givenName === undefined ? {} : { givenName }),
    ...(surname === undefined ? {} : { surname }),
    ...(pesel === undefined ? {} : { pesel }),
    ...(epuapAccountId === undefined ? {} : { epuapAccountId }),
  };
}

/**
 * The identity KSeF derives from a signed AuthTokenRequest (ksef-docs `uwierzytelnianie.md`):
 * - `certificateFingerprint` → the certificate's SHA-256 fingerprint (64 uppercase hex);
 * - `certificateSubject` with Profil Zaufany data carrying a PESEL → that PESEL;
 * - `certificateSubject` otherwise → the NIP/PESEL of the subject (serialNumber `(PNOPL|PESEL).*?(\d{11})`,
 *   `(TINPL|NIP).*?(\d{10})`, organizationIdentifier `(VATPL).*?(\d{10})`: `CertificateInfo.subjectIdentifier`).
 *
 * Trust is not judged here: Profil Zaufany data is only as good as the certificate that signed it, and
 * anyone can write a PodpisZP block into a self-signed signature. Whoever relies on a `trustedProfile`
 * identity must check that the certificate is the ministry's Profil Zaufany seal (chain, OCSP/CRL).
 * @param subjectIdentifierType the request's `SubjectIdentifierType`
 * @param certificate the signing certificate
 * @param trustedProfile Profil Zaufany data from the signed properties, if any
 * @returns the identity and its source, or `undefined` under `certificateSubject` when neither the
 *   subject nor Profil Zaufany data gives a NIP or PESEL (KSeF answers 21117)
 */
export function deriveKsefIdentity(
  subjectIdentifierType: "certificateSubject" | "certificateFingerprint",
  certificate: CertificateInfo,
  trustedProfile?: TrustedProfileData,
): DerivedIdentity | undefined {
  if (subjectIdentifierType === "certificateFingerprint") {
    return { identity: { type: "Fingerprint", value: certificate.fingerprintSha256 }, source: "certificateFingerprint" };
  }
  if (trustedProfile !== undefined) {
    const pesel = trustedProfile.pesel;
    return pesel !== undefined && /^\d{11}$/.test(pesel) ? { identity: { type: "Pesel", value: pesel }, source: "trustedProfile" } : undefined;
  }
  const subject = certificate.subjectIdentifier;
  if (subject.type === "Fingerprint") return undefined;
  return { identity: { type: subject.type, value: subject.value }, source: "certificateSubject" };
}
