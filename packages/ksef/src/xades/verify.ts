/**
 * Verifying a signed AuthTokenRequest the way KSeF's `POST /auth/xades-signature` does, locally: what
 * the signer agent runs on a file a person signed (Profil Zaufany, a qualified signature, a KSeF
 * certificate, our own signer) before sending it, and what the KSeF simulator runs on what it receives.
 *
 * Design (XML Signature Wrapping defence; McIntosh & Austel 2005, Somorovsky et al. 2011/2012): the
 * signature check alone proves that *some* bytes were signed, not that the element we read is those
 * bytes. So we resolve every Reference ourselves on the one parsed DOM (URI "" → the document element;
 * `#id` → the single element carrying that Id, duplicate Ids refused), require exactly one ds:Signature
 * anywhere, exactly one AuthTokenRequest anywhere, and the signature and the request exactly where the
 * packaging says (enveloped: the request is the root and the signature its child; enveloping: the
 * signature is the root and the request the only element of one of its ds:Object children). The
 * request we return is read from the node the verified reference covers — the same node object — and
 * the XAdES properties (signing time, Profil Zaufany data, SigningCertificate) from the SignedProperties
 * the verified SignedProperties reference covers. Digests and the signature value are computed by
 * xadesjs/xmldsigjs on that same DOM, parsed once from the original bytes (never re-serialised).
 *
 * Trust is not checked: a self-signed certificate verifies (KSeF TEST accepts self-signed certificates
 * unless `verifyCertificateChain=true`; ksef-docs `srodowiska.md`, `auth/podpis-xades.md`). The certificate is returned so the
 * caller can check its chain, revocation and whether it is the Profil Zaufany seal.
 */
import { AUTH_TOKEN_REQUEST_NAMESPACES } from "../api/auth-token-request.js";
import { KsefCertsError, type ErrorCode } from "../errors.js";
import type { ContextIdentifierType } from "../vocabulary.js";
import { parseCertificate, type CertificateInfo } from "../crypto/index.js";
import { xades } from "../xml/dom.js";
import { parseXmlSafely, xmlLimitOf } from "../xml/safe-parse.js";
import { elementsInDocumentOrder } from "../xml/walk.js";
import { createHash } from "node:crypto";
import {
  deriveKsefIdentity,
  findTrustedProfileBlocks,
  readTrustedProfile,
  type IdentitySource,
  type KsefIdentity,
  type TrustedProfileData,
} from "./identity.js";

/** XML Signature namespace (XMLDSig 1.0 §4). */
const DSIG = "http://www.w3.org/2000/09/xmldsig#";
/** XAdES namespaces: 1.3.2 (ETSI TS 101 903, EN 319 132) and 1.4.1 (timestamps, archive properties). */
const XADES_NAMESPACES = new Set(["http://uri.etsi.org/01903/v1.3.2#", "http://uri.etsi.org/01903/v1.4.1#"]);
/** The Reference Type XAdES gives the SignedProperties reference (ETSI EN 319 132-1 §6.3). */
const SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties";

export { AUTH_TOKEN_REQUEST_NAMESPACES };

/** Default size limit of {@link verifySignedAuthTokenRequest}: 256 KiB. A signed request is 3–12 KiB; a chain in KeyInfo adds a few more. */
export const MAX_SIGNED_AUTH_TOKEN_REQUEST_BYTES = 262_144;

export type { ContextIdentifierType };

/** What the caller expects the signed request to say (the challenge it was issued, the context it asked for). */
export interface ExpectedAuthTokenRequest {
  /** The challenge from `POST /auth/challenge` (36 characters). */
  readonly challenge?: string;
  /** The context the person meant to log into. */
  readonly contextIdentifier?: { readonly type: ContextIdentifierType; readonly value: string };
}

/** Options of {@link verifySignedAuthTokenRequest}. */
export interface VerifyAuthTokenRequestOptions {
  /** Largest accepted input, bytes; default {@link MAX_SIGNED_AUTH_TOKEN_REQUEST_BYTES}. */
  readonly maxBytes?: number;
  /** The moment certificate validity is judged at; default now. */
  readonly now?: Date;
}

/** IP restrictions of the resulting access token (XSD `AuthorizationPolicy/AllowedIps`), values as written. */
export interface AllowedIps {
  /** `Ip4Address`, e.g. `192.168.0.10`. */
  readonly ip4Addresses: string[];
  /** `Ip4Range`, e.g. `10.0.0.1-10.0.0.20`. */
  readonly ip4Ranges: string[];
  /** `Ip4Mask` (CIDR), e.g. `10.0.0.0/8`. */
  readonly ip4Masks: string[];
}

/** A signed AuthTokenRequest that passed {@link verifySignedAuthTokenRequest}: the content the signature covers and who signed it. */
export interface VerifiedAuthTokenRequest {
  /** `enveloped` (the request is the root, the signature its child) or `enveloping` (the signature is the root, the request in a ds:Object). */
  readonly packaging: "enveloped" | "enveloping";
  /** The request's namespace: `http://ksef.mf.gov.pl/auth/token/2.0` or `…/2.1`. */
  readonly namespace: string;
  /** `Challenge`, whitespace-collapsed as the XSD `token` type defines. */
  readonly challenge: string;
  /** `ContextIdentifier`. */
  readonly contextIdentifier: { readonly type: ContextIdentifierType; readonly value: string };
  /** `SubjectIdentifierType`. */
  readonly subjectIdentifierType: "certificateSubject" | "certificateFingerprint";
  /** `AuthorizationPolicy`, when present. */
  readonly authorizationPolicy?: { readonly allowedIps: AllowedIps };
  /** The SignatureMethod URI of SignedInfo, e.g. `http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256`. */
  readonly signatureAlgorithm: string;
  /** XAdES SigningTime from the signed properties, ISO 8601 UTC (`2026-01-01T10:00:00.000Z`); absent without signed properties or when unparseable. */
  readonly signingTime?: string;
  /** The certificate whose key verified the signature (from KeyInfo/X509Data), DER and parsed. Not trust-checked. */
  readonly certificate: { readonly der: Uint8Array; readonly info: CertificateInfo };
  /** The identity KSeF would derive (ksef-docs `uwierzytelnianie.md`; see `deriveKsefIdentity`). */
  readonly identity: KsefIdentity;
  /** Where {@link identity} came from. `trustedProfile` is only as trustworthy as the certificate (check it is the Profil Zaufany seal). */
  readonly identitySource: IdentitySource;
  /** SHA-256 of the certificate DER, 64 uppercase hex (the KSeF fingerprint). */
  readonly fingerprint: string;
  /** Profil Zaufany's ppZP:PodpisZP person data, when the signed properties carry it. */
  readonly trustedProfile?: TrustedProfileData;
}

/**
 * Why a signed AuthTokenRequest was rejected (`details.reason` of the thrown error), each with the
 * exception code KSeF returns for the same fault in `details.ksefExceptionCode` (SPEC
 * `POST /auth/xades-signature` 400 table; ksef-docs `auth/podpis-xades.md`).
 */
export type XadesRejectionReason =
  | "too-large"
  | "too-complex"
  | "not-xml"
  | "dtd-or-entity"
  | "not-utf8"
  | "not-auth-token-request"
  | "xsd-violation"
  | "no-signature"
  | "multiple-signatures"
  | "detached"
  | "reference-not-covering-root"
  | "signature-wrapping"
  | "digest-mismatch"
  | "signature-invalid"
  | "unsupported-algorithm"
  | "certificate-missing"
  | "certificate-invalid"
  | "signing-certificate-mismatch"
  | "subject-identifier-invalid"
  | "challenge-mismatch"
  | "context-mismatch";

/**
 * The KSeF exception code of each {@link XadesRejectionReason}: 21001 unreadable content, 21217 bad
 * character encoding, 21405 input validation (our size and structure limits, `too-large` and `too-complex`), 21401 XSD violation, 21405 input validation, 9101 invalid document, 9102 no
 * signature, 9103 too many signatures, 9105 invalid signature, 21115 invalid certificate, 21117 subject
 * identifier invalid for the context, 21111 invalid challenge. `context-mismatch` has no KSeF twin (KSeF
 * takes the context from the document); 21405 is the closest.
 */
export const XADES_REJECTION_KSEF_CODES: Readonly<Record<XadesRejectionReason, number>> = {
  "too-large": 21405,
  "too-complex": 21405,
  "not-xml": 21001,
  "dtd-or-entity": 21001,
  "not-utf8": 21217,
  "not-auth-token-request": 21401,
  "xsd-violation": 21401,
  "no-signature": 9102,
  "multiple-signatures": 9103,
  detached: 9101,
  "reference-not-covering-root": 9105,
  "signature-wrapping": 9105,
  "digest-mismatch": 9105,
  "signature-invalid": 9105,
  "unsupported-algorithm": 9105,
  "certificate-missing": 21115,
  "certificate-invalid": 21115,
  "signing-certificate-mismatch": 9105,
  "subject-identifier-invalid": 21117,
  "challenge-mismatch": 21111,
  "context-mismatch": 21405,
};

/**
 * The reason and KSeF exception code carried by an error {@link verifySignedAuthTokenRequest} threw.
 * @param err anything caught
 * @returns `{ reason, ksefExceptionCode }`, or `undefined` when `err` is not such a rejection
 */
export function xadesRejectionOf(err: unknown): { reason: XadesRejectionReason; ksefExceptionCode: number } | undefined {
  if (!(err instanceof KsefCertsError)) return undefined;
  const reason = err.details.reason;
  if (typeof reason !== "string" || !Object.hasOwn(XADES_REJECTION_KSEF_CODES, reason)) return undefined;
  return { reason: reason as XadesRejectionReason, ksefExceptionCode: XADES_REJECTION_KSEF_CODES[reason as XadesRejectionReason] };
}

function reject(
  code: ErrorCode,
  reason: XadesRejectionReason,
  message: string,
  extra: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
): KsefCertsError {
  return new KsefCertsError(code, message, {
    ...(extra.hint === undefined ? {} : { hint: extra.hint }),
    ...(extra.cause === undefined ? {} : { cause: extra.cause }),
    details: { ...extra.details, reason, ksefExceptionCode: XADES_REJECTION_KSEF_CODES[reason] },
  });
}

// ---------------------------------------------------------------------------------------------------
// DOM helpers (only element/text nodes matter; comments and PIs are skipped as canonicalisation skips them)

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;

function elementChildren(parent: Node): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === ELEMENT) out.push(n as Element);
  return out;
}

function is(e: Element | null | undefined, namespace: string, localName: string): e is Element {
  return e !== null && e !== undefined && e.namespaceURI === namespace && e.localName === localName;
}

function isXades(e: Element | null | undefined, localName: string): e is Element {
  return e !== null && e !== undefined && XADES_NAMESPACES.has(e.namespaceURI ?? "") && e.localName === localName;
}

function contains(ancestor: Element, node: Node): boolean {
  for (let n: Node | null = node; n !== null; n = n.parentNode) if (n === ancestor) return true;
  return false;
}

/** Text the way C14N sees it: Text and CDATA children concatenated, comments and PIs skipped (so `52658<!---->77635` reads as the signed `5265877635`). */
function directText(e: Element): string {
  let out = "";
  for (let n = e.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === TEXT || n.nodeType === CDATA) out += n.nodeValue ?? "";
  return out;
}

function describe(e: Element): string {
  return e.namespaceURI === null || e.namespaceURI === "" ? e.localName : `{${e.namespaceURI}}${e.localName}`;
}

// ---------------------------------------------------------------------------------------------------
// AuthTokenRequest against the XSD (spec/schemat_auth_v2-0.xsd and v2-1.xsd), checked in code because
// xmllint is not available at run time.

const TNIP = "[1-9]((\\d[1-9])|([1-9]\\d))\\d{7}";
const IP4 = "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
// The XSD writes NipVatUe and PeppolId with `^…$`. In XSD regex those are literal characters (xmllint then wants `^PAB123456$`),
// but KSeF evaluates them as anchors (its 2.0 schema also uses `\b`, which XSD regex lacks); we follow KSeF's reading.
const VAT_UE =
  "((AT)(U\\d{8})|(BE)([01]{1}\\d{9})|(BG)(\\d{9,10})|(CY)(\\d{8}[A-Z])|(CZ)(\\d{8,10})|(DE)(\\d{9})|(DK)(\\d{8})|(EE)(\\d{9})|(EL)(\\d{9})|(ES)([A-Z]\\d{8}|\\d{8}[A-Z]|[A-Z]\\d{7}[A-Z])|(FI)(\\d{8})|(FR)[A-Z0-9]{2}\\d{9}|(HR)(\\d{11})|(HU)(\\d{8})|(IE)(\\d{7}[A-Z]{2}|\\d[A-Z0-9+*]\\d{5}[A-Z])|(IT)(\\d{11})|(LT)(\\d{9}|\\d{12})|(LU)(\\d{8})|(LV)(\\d{11})|(MT)(\\d{8})|(NL)([A-Z0-9+*]{12})|(PT)(\\d{9})|(RO)(\\d{2,10})|(SE)(\\d{12})|(SI)(\\d{8})|(SK)(\\d{10})|(XI)((\\d{9}|(\\d{12}))|(GD|HA)(\\d{3})))";
const PATTERNS = {
  Challenge: /^\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}$/,
  Nip: new RegExp(`^${TNIP}$`),
  InternalId: new RegExp(`^${TNIP}-\\d{5}$`),
  NipVatUe: new RegExp(`^(${TNIP}-${VAT_UE})$`),
  PeppolId: /^P[A-Z]{2}[0-9]{6}$/,
  Ip4Address: new RegExp(`^${IP4}$`),
  Ip4Range: new RegExp(`^${IP4}-${IP4}$`),
  Ip4Mask: new RegExp(`^${IP4}/(0|[1-9]|[12][0-9]|3[0-2])$`),
} as const;

/** XSD `token` whitespace facet: collapse (XML Schema Part 2 §4.3.6). */
function collapse(s: string): string {
  return s.replace(/[\t\n\r ]+/g, " ").trim();
}

const XSI = "http://www.w3.org/2001/XMLSchema-instance";
const XMLNS = "http://www.w3.org/2000/xmlns/";

interface ReadRequest {
  readonly namespace: string;
  readonly challenge: string;
  readonly contextIdentifier: { readonly type: ContextIdentifierType; readonly value: string };
  readonly subjectIdentifierType: "certificateSubject" | "certificateFingerprint";
  readonly authorizationPolicy?: { readonly allowedIps: AllowedIps };
}

/**
 * Reads an AuthTokenRequest element, checking what its XSD says: namespace, children in order and
 * counts, no foreign attributes, no text in element-only content, simple values against the patterns.
 * `skip` (the enveloped ds:Signature) is ignored wherever it sits among the root's children, as KSeF
 * removes it before XSD validation (ksef-docs `uwierzytelnianie.md`).
 */
function readAuthTokenRequest(root: Element, skip: Element | undefined): ReadRequest {
  const violations: string[] = [];
  const ns = root.namespaceURI ?? "";
  if (!(AUTH_TOKEN_REQUEST_NAMESPACES as readonly string[]).includes(ns)) {
    throw reject("MALFORMED", "xsd-violation", `The AuthTokenRequest is in namespace "${ns}"; KSeF accepts ${AUTH_TOKEN_REQUEST_NAMESPACES.join(" and ")}.`, {
      hint: "Generate the request again with the namespace of schema 2.0 or 2.1.",
      details: { violations: ["namespace"] },
    });
  }
  const checkAttributes = (e: Element): void => {
    for (let i = 0; i < e.attributes.length; i++) {
      const a = e.attributes.item(i);
      if (a === null || a.namespaceURI === XMLNS || a.namespaceURI === XSI) continue;
      violations.push(`${e.localName}: attribute "${a.name}" is not allowed`);
    }
  };
  const checkNoText = (e: Element): void => {
    if (directText(e).trim() !== "") violations.push(`${e.localName}: text is not allowed between elements`);
  };
  const kids = (e: Element): Element[] => elementChildren(e).filter((k) => k !== skip);
  const simple = (e: Element, token: boolean): string => {
    checkAttributes(e);
    if (elementChildren(e).length > 0) violations.push(`${e.localName}: child elements are not allowed`);
    const text = directText(e);
    return token ? collapse(text) : text;
  };
  const inNs = (e: Element | undefined, name: string): e is Element => e !== undefined && e.namespaceURI === ns && e.localName === name;

  checkAttributes(root);
  checkNoText(root);
  const children = kids(root);
  let i = 0;
  let challenge = "";
  if (inNs(children[i], "Challenge")) {
    challenge = simple(children[i++] as Element, true);
    if (challenge.length !== 36 || !PATTERNS.Challenge.test(challenge))
      violations.push("Challenge: not 36 characters of the form YYYYMMDD-CR-XXXXXXXXXX-XXXXXXXXXX-XX");
  } else violations.push("Challenge: missing (it must be the first child)");

  let contextIdentifier: { type: ContextIdentifierType; value: string } | undefined;
  if (inNs(children[i], "ContextIdentifier")) {
    const ci = children[i++] as Element;
    checkAttributes(ci);
    checkNoText(ci);
    const choice = elementChildren(ci);
    const first = choice[0];
    if (choice.length !== 1 || first === undefined) violations.push("ContextIdentifier: exactly one of Nip, InternalId, NipVatUe, PeppolId is required");
    else if (
      first.namespaceURI === ns &&
      (first.localName === "Nip" || first.localName === "InternalId" || first.localName === "NipVatUe" || first.localName === "PeppolId")
    ) {
      const type = first.localName;
      const value = simple(first, false);
      if (!PATTERNS[type].test(value)) violations.push(`ContextIdentifier/${type}: "${value}" does not match the pattern`);
      contextIdentifier = { type, value };
    } else violations.push(`ContextIdentifier: unexpected element ${describe(first)}`);
  } else violations.push("ContextIdentifier: missing (it must follow Challenge)");

  let subjectIdentifierType: "certificateSubject" | "certificateFingerprint" | undefined;
  if (inNs(children[i], "SubjectIdentifierType")) {
    const v = simple(children[i++] as Element, true);
    if (v === "certificateSubject" || v === "certificateFingerprint") subjectIdentifierType = v;
    else violations.push(`SubjectIdentifierType: "${v}" is neither certificateSubject nor certificateFingerprint`);
  } else violations.push("SubjectIdentifierType: missing (it must follow ContextIdentifier)");

  let authorizationPolicy: { allowedIps: AllowedIps } | undefined;
  if (inNs(children[i], "AuthorizationPolicy")) {
    const ap = children[i++] as Element;
    checkAttributes(ap);
    checkNoText(ap);
    const apKids = elementChildren(ap);
    const allowed = apKids[0];
    if (apKids.length !== 1 || !inNs(allowed, "AllowedIps")) violations.push("AuthorizationPolicy: exactly one AllowedIps is required");
    else {
      checkAttributes(allowed);
      checkNoText(allowed);
      const ips: AllowedIps = { ip4Addresses: [], ip4Ranges: [], ip4Masks: [] };
      const order = ["Ip4Address", "Ip4Range", "Ip4Mask"] as const;
      const lists = { Ip4Address: ips.ip4Addresses, Ip4Range: ips.ip4Ranges, Ip4Mask: ips.ip4Masks };
      let stage = 0;
      for (const ip of elementChildren(allowed)) {
        const kind = order.findIndex((k) => inNs(ip, k));
        const name = order[kind];
        if (name === undefined || kind < stage) {
          violations.push(`AllowedIps: unexpected or out-of-order element ${describe(ip)} (order: Ip4Address*, Ip4Range*, Ip4Mask*)`);
          continue;
        }
        stage = kind;
        const v = simple(ip, true);
        if (!PATTERNS[name].test(v)) violations.push(`AllowedIps/${name}: "${v}" does not match the pattern`);
        lists[name].push(v);
      }
      for (const k of order) if (lists[k].length > 10) violations.push(`AllowedIps: at most 10 ${k} elements`);
      authorizationPolicy = { allowedIps: ips };
    }
  }
  for (const extra of children.slice(i)) violations.push(`unexpected element ${describe(extra)} after the request's fields`);

  if (violations.length > 0 || contextIdentifier === undefined || subjectIdentifierType === undefined) {
    throw reject("MALFORMED", "xsd-violation", `The AuthTokenRequest does not follow its XSD: ${violations.join("; ")}.`, {
      hint: "Generate and sign the request again; do not edit the file by hand.",
      details: { violations },
    });
  }
  return { namespace: ns, challenge, contextIdentifier, subjectIdentifierType, ...(authorizationPolicy === undefined ? {} : { authorizationPolicy }) };
}

// ---------------------------------------------------------------------------------------------------
// Signature structure

/** SignatureMethod URIs KSeF lists (ksef-docs `auth/podpis-xades.md`) that xmldsigjs can verify. */
const SUPPORTED_SIGNATURE_METHODS = new Set([
  "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
  "http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1",
  "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
  "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
  "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
]);

/** Digest algorithms for XAdES CertDigest, by URI → node:crypto name (XMLDSig §6.2, RFC 6931 §2.1). */
const DIGESTS: Readonly<Record<string, string>> = {
  "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
  "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
  "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
  "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
};

const EC_CURVES: Readonly<Record<string, { name: string; bytes: number }>> = {
  prime256v1: { name: "P-256", bytes: 32 },
  secp384r1: { name: "P-384", bytes: 48 },
  secp521r1: { name: "P-521", bytes: 66 },
};

/** The Id index: every value of an `Id`/`ID`/`id` attribute (the names xmldsigjs resolves) → the elements carrying it. */
function indexIds(elements: readonly Element[]): Map<string, Element[]> {
  const ids = new Map<string, Element[]>();
  for (const e of elements) {
    const seen = new Set<string>();
    for (const name of ["Id", "ID", "id"]) {
      const v = e.getAttributeNode(name)?.value;
      if (v === undefined || seen.has(v)) continue;
      seen.add(v);
      const list = ids.get(v) ?? [];
      list.push(e);
      ids.set(v, list);
    }
  }
  return ids;
}

interface ResolvedReference {
  /** The Reference element itself. */
  readonly reference: Element;
  /** The element it resolves to. */
  readonly element: Element;
  readonly uri: string;
  readonly type: string | null;
}

/** Resolves a Reference URI the way xmldsigjs does (same-document only), on our DOM. */
function resolveReference(reference: Element, root: Element, ids: Map<string, Element[]>): ResolvedReference {
  const uri = reference.getAttributeNode("URI")?.value;
  const type = reference.getAttributeNode("Type")?.value ?? null;
  if (uri === undefined) {
    throw reject("MALFORMED", "detached", "A signature Reference has no URI, so it does not say which data it signs (a detached signature).", {
      hint: 'KSeF accepts enveloped or enveloping signatures only: sign the AuthTokenRequest file itself (Reference URI="").',
    });
  }
  let id: string | undefined;
  if (uri === "" || uri === "#xpointer(/)") return { reference, element: root, uri, type };
  const xp = /^#xpointer\(id\(['"]([^'"]+)['"]\)\)$/.exec(uri);
  if (xp?.[1] !== undefined) id = xp[1];
  else if (uri.startsWith("#")) id = uri.slice(1);
  if (id === undefined) {
    throw reject("MALFORMED", "detached", `A signature Reference points outside the document (${JSON.stringify(uri.slice(0, 100))}): a detached signature.`, {
      hint: "KSeF rejects detached signatures: sign the AuthTokenRequest as an enveloped (or enveloping) XAdES signature.",
      details: { uri: uri.slice(0, 200) },
    });
  }
  const found = ids.get(id) ?? [];
  const target = found[0];
  if (target === undefined) {
    throw reject(
      "MALFORMED",
      "detached",
      `A signature Reference points at "#${id.slice(0, 100)}", which is not in the document: the signed data is elsewhere (detached).`,
      {
        hint: "Sign the AuthTokenRequest file itself and send the file the signer produced.",
        details: { uri: uri.slice(0, 200) },
      },
    );
  }
  return { reference, element: target, uri, type };
}

/** Transforms KSeF allows (ksef-docs `auth/podpis-xades.md`) that xmldsigjs implements; XPath only as the enveloped-signature filter. */
const ALLOWED_TRANSFORMS = new Set([
  "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
  "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
  "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
  "http://www.w3.org/2001/10/xml-exc-c14n#",
  "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
]);
const XPATH_TRANSFORM = "http://www.w3.org/TR/1999/REC-xpath-19991116";

/**
 * Refuses transforms other than the allowed ones. A signer-chosen XPath or XSLT could sign less than the
 * whole request (e.g. filter out ContextIdentifier), so XPath is accepted only as
 * `not(ancestor-or-self::p:Signature)` with `p` bound to XMLDSig.
 */
function checkTransforms(reference: Element): void {
  const transforms = elementChildren(reference).find((e) => is(e, DSIG, "Transforms"));
  if (transforms === undefined) return;
  for (const t of elementChildren(transforms)) {
    const algorithm = t.getAttribute("Algorithm") ?? "";
    if (ALLOWED_TRANSFORMS.has(algorithm)) continue;
    if (algorithm === XPATH_TRANSFORM) {
      const xpath = elementChildren(t).find((e) => is(e, DSIG, "XPath"));
      const m = xpath === undefined ? null : /^not\(ancestor-or-self::([A-Za-z_][\w.-]*):Signature\)$/.exec(collapse(directText(xpath)));
      if (xpath !== undefined && m?.[1] !== undefined && xpath.lookupNamespaceURI(m[1]) === DSIG) continue;
    }
    throw reject(
      "UNSUPPORTED",
      "unsupported-algorithm",
      `The signature uses a transform that is not accepted (${JSON.stringify(algorithm.slice(0, 100))}${algorithm === XPATH_TRANSFORM ? " with an XPath other than not(ancestor-or-self::ds:Signature)" : ""}).`,
      {
        hint: "Sign with enveloped-signature and (exclusive) C14N transforms.",
        details: { transform: algorithm.slice(0, 200) },
      },
    );
  }
}

function base64Bytes(text: string, what: string): Uint8Array {
  const clean = text.replace(/[\t\n\r ]+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) {
    throw reject("MALFORMED", what === "certificate" ? "certificate-invalid" : "signature-invalid", `The ${what} in the signature is not valid base64.`);
  }
  return new Uint8Array(Buffer.from(clean, "base64"));
}

interface CertDigest {
  readonly algorithm: string;
  readonly value: Uint8Array;
}

/** SigningCertificate (v1, `Cert/CertDigest`) and SigningCertificateV2 (`CertV2/CertDigest`) digests from the signed properties. */
function signingCertificateDigests(signedProperties: Element): CertDigest[] {
  const out: CertDigest[] = [];
  const ssp = elementChildren(signedProperties).find((e) => isXades(e, "SignedSignatureProperties"));
  if (ssp === undefined) return out;
  for (const sc of elementChildren(ssp).filter((e) => isXades(e, "SigningCertificate") || isXades(e, "SigningCertificateV2"))) {
    for (const cert of elementChildren(sc).filter((e) => isXades(e, "Cert") || isXades(e, "CertV2"))) {
      const digest = elementChildren(cert).find((e) => isXades(e, "CertDigest"));
      if (digest === undefined) continue;
      const method =
        elementChildren(digest)
          .find((e) => is(e, DSIG, "DigestMethod"))
          ?.getAttribute("Algorithm") ?? "";
      const value = elementChildren(digest).find((e) => is(e, DSIG, "DigestValue"));
      if (value === undefined) continue;
      out.push({ algorithm: method, value: base64Bytes(directText(value), "SigningCertificate digest") });
    }
  }
  return out;
}

function matchesDigest(der: Uint8Array, digest: CertDigest): boolean {
  const name = DIGESTS[digest.algorithm];
  if (name === undefined) return false;
  return Buffer.compare(createHash(name).update(der).digest(), Buffer.from(digest.value)) === 0;
}

function signingTimeOf(signedProperties: Element): string | undefined {
  const ssp = elementChildren(signedProperties).find((e) => isXades(e, "SignedSignatureProperties"));
  const st = ssp === undefined ? undefined : elementChildren(ssp).find((e) => isXades(e, "SigningTime"));
  if (st === undefined) return undefined;
  const t = new Date(collapse(directText(st)));
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

function importParams(
  info: CertificateInfo,
  algorithm: { name: string; hash?: unknown },
): (RsaHashedImportParams | EcKeyImportParams) & Record<string, unknown> {
  if (algorithm.name === "ECDSA") {
    const curve = EC_CURVES[info.publicKey.asymmetricKeyDetails?.namedCurve ?? ""];
    if (curve === undefined) throw reject("UNSUPPORTED", "unsupported-algorithm", "The signing certificate's EC curve is not P-256, P-384 or P-521.");
    return { ...algorithm, namedCurve: curve.name };
  }
  return { ...algorithm } as RsaHashedImportParams & Record<string, unknown>;
}

/**
 * Verifies a signed AuthTokenRequest (XAdES, enveloped or enveloping) the way KSeF's
 * `POST /auth/xades-signature` does (ksef-docs `uwierzytelnianie.md`, `auth/podpis-xades.md`), and returns
 * the content the signature covers, the signing certificate and the identity KSeF would derive.
 *
 * Checks, in this order (first failure wins; `details.reason` / `details.ksefExceptionCode`):
 * size (`too-large`), well-formed UTF-8 XML without DTD (`not-utf8`, `dtd-or-entity`, `not-xml`), an
 * AuthTokenRequest present (`not-auth-token-request`), exactly one ds:Signature (`no-signature`,
 * `multiple-signatures`), wrapping defences (`signature-wrapping`: a second AuthTokenRequest, duplicate
 * Ids, request or signature out of place, request-namespace elements outside the signed request), the XSD
 * (`xsd-violation`), references (`detached`, `reference-not-covering-root`; `unsupported-algorithm` for a
 * transform outside the allowed set, e.g. an XPath that could filter fields out of the digest), the certificate in KeyInfo
 * (`certificate-missing`, `certificate-invalid`, `signing-certificate-mismatch` against XAdES
 * SigningCertificate v1/V2), the cryptography (`unsupported-algorithm`, `digest-mismatch`,
 * `signature-invalid`), the certificate at `now` (`certificate-invalid`: expired, not yet valid, or a
 * KSeF Offline certificate, which KSeF refuses for authentication), the identity
 * (`subject-identifier-invalid`), then the caller's expectations (`challenge-mismatch`, `context-mismatch`).
 *
 * Accepts any prefix for the XMLDSig namespace, XAdES 1.3.2/1.4.1 properties of any kind, transforms
 * enveloped-signature, XPath `not(ancestor-or-self::ds:Signature)` (any prefix bound to XMLDSig), C14N 1.0 and
 * exclusive C14N (with or without comments), RSA PKCS#1 v1.5, RSA-PSS and ECDSA (raw r‖s) signatures, and a
 * SignedProperties reference with or without its `Type`. XPath Filter 2.0 and C14N 1.1 (which KSeF also lists)
 * are refused, as xmldsigjs does not implement them. Base64-embedded enveloping
 * content is not supported (`not-auth-token-request`). Trust is not checked (self-signed certificates
 * pass, as on KSeF TEST): check `certificate` yourself.
 * @param input the signed file's bytes, exactly as received (never re-serialised)
 * @param expected the challenge and context the caller issued/asked for, checked when given
 * @param options `maxBytes` (default {@link MAX_SIGNED_AUTH_TOKEN_REQUEST_BYTES}), `now` (default now)
 * @returns the verified request (see {@link VerifiedAuthTokenRequest})
 * @throws {KsefCertsError} `TOO_LARGE` (`too-large`); `MALFORMED` for structure, reference, digest,
 *   signature and unparseable-certificate failures; `UNSUPPORTED` (`unsupported-algorithm`);
 *   `VALIDATION` for `certificate-invalid` at `now`, `subject-identifier-invalid`, `challenge-mismatch`
 *   and `context-mismatch`. Every rejection carries `details.reason` ({@link XadesRejectionReason}) and
 *   `details.ksefExceptionCode`; read both with {@link xadesRejectionOf}.
 */
export async function verifySignedAuthTokenRequest(
  input: Uint8Array,
  expected: ExpectedAuthTokenRequest = {},
  options: VerifyAuthTokenRequestOptions = {},
): Promise<VerifiedAuthTokenRequest> {
  const maxBytes = options.maxBytes ?? MAX_SIGNED_AUTH_TOKEN_REQUEST_BYTES;
  if (input.byteLength > maxBytes) {
    throw reject("TOO_LARGE", "too-large", `The signed AuthTokenRequest is ${input.byteLength} bytes; the limit is ${maxBytes} bytes.`, {
      hint: "A signed AuthTokenRequest is a few kilobytes: check that this is the right file.",
      details: { size: input.byteLength, maxBytes },
    });
  }
  const document = parse(input, maxBytes);
  // parseXmlSafely refuses a document without a root element.
  const root = document.documentElement;

  // Inventory of the whole document: every wrapping attack adds, duplicates or moves one of these.
  const elements = elementsInDocumentOrder(root);
  const requests = elements.filter((e) => e.localName === "AuthTokenRequest");
  const signatures = elements.filter((e) => is(e, DSIG, "Signature"));
  if (requests.length === 0) {
    throw reject("MALFORMED", "not-auth-token-request", `The file is not an AuthTokenRequest (its root is ${describe(root)}).`, {
      hint: "Choose the signed AuthTokenRequest file (base64-embedded enveloping content is not supported).",
    });
  }
  if (signatures.length === 0) {
    throw reject("MALFORMED", "no-signature", "The AuthTokenRequest is not signed (no ds:Signature).", {
      hint: "Sign the file (Profil Zaufany, a qualified signature or a KSeF certificate) and choose the signed file.",
    });
  }
  if (signatures.length > 1) {
    throw reject("MALFORMED", "multiple-signatures", `The file holds ${signatures.length} signatures; KSeF accepts exactly one.`, {
      hint: "Sign the unsigned AuthTokenRequest once; do not sign an already signed file again.",
      details: { signatures: signatures.length },
    });
  }
  const signature = signatures[0] as Element;
  const request = requests[0] as Element;
  if (requests.length > 1) throw wrapping(`The file holds ${requests.length} AuthTokenRequest elements; exactly one may be present.`);
  const ids = indexIds(elements);
  for (const [id, carriers] of ids)
    if (carriers.length > 1) throw wrapping(`The Id "${id.slice(0, 100)}" is carried by ${carriers.length} elements; Ids must be unique.`);

  let packaging: "enveloped" | "enveloping";
  if (root === request) {
    if (signature.parentNode !== root)
      throw wrapping("The signature is not a child of the AuthTokenRequest root (enveloped signatures sit directly in the signed root).");
    packaging = "enveloped";
  } else if (root === signature) {
    const object = request.parentNode as Element | null;
    if (!is(object, DSIG, "Object") || object.parentNode !== signature)
      throw wrapping("In an enveloping signature the AuthTokenRequest must sit directly in a ds:Object of the root signature.");
    if (elementChildren(object).length !== 1 || directText(object).trim() !== "")
      throw wrapping("The ds:Object holding the AuthTokenRequest holds other content too.");
    packaging = "enveloping";
  } else {
    throw wrapping(`The root element is ${describe(root)}: the AuthTokenRequest (enveloped) or its ds:Signature (enveloping) must be the root.`);
  }
  // Elements in the request's namespace outside the request (e.g. a second Challenge in a ds:Object) are bait for readers that search by name.
  const requestNs = request.namespaceURI ?? "";
  // In enveloped packaging the signature sits inside the request but is not covered by the digest (the transform removes it).
  const outsideSigned = (e: Element): boolean => !contains(request, e) || (packaging === "enveloped" && contains(signature, e));
  if (requestNs !== "" && elements.some((e) => e.namespaceURI === requestNs && outsideSigned(e))) {
    throw wrapping("Elements of the AuthTokenRequest namespace appear outside the AuthTokenRequest.");
  }

  const content = readAuthTokenRequest(request, packaging === "enveloped" ? signature : undefined);

  // SignedInfo and its references, resolved on our DOM.
  const signedInfo = elementChildren(signature).find((e) => is(e, DSIG, "SignedInfo"));
  if (signedInfo === undefined) throw reject("MALFORMED", "signature-invalid", "The signature has no SignedInfo.");
  const signatureMethod =
    elementChildren(signedInfo)
      .find((e) => is(e, DSIG, "SignatureMethod"))
      ?.getAttribute("Algorithm") ?? "";
  const references = elementChildren(signedInfo)
    .filter((e) => is(e, DSIG, "Reference"))
    .map((r) => resolveReference(r, root, ids));
  if (references.length === 0) throw reject("MALFORMED", "reference-not-covering-root", "The signature has no Reference, so it signs nothing.");
  for (const r of references) checkTransforms(r.reference);
  const coversRequest = (r: ResolvedReference): boolean => r.element === request || (packaging === "enveloping" && r.element === request.parentNode);
  if (!references.some(coversRequest)) {
    throw reject(
      "MALFORMED",
      "reference-not-covering-root",
      "No signature Reference covers the whole AuthTokenRequest (a reference to a part of it, or to something else, leaves the rest unsigned).",
      {
        hint: 'The signature must cover the whole request: enveloped with Reference URI="" (or enveloping, referencing the ds:Object that holds it).',
        details: { uris: references.map((r) => r.uri.slice(0, 100)) },
      },
    );
  }
  for (const r of references) {
    if (coversRequest(r)) continue;
    // Any other reference must point into the signature itself (SignedProperties, KeyInfo): a reference to a
    // part of the request or to foreign content signs something the verifier does not read.
    if (!contains(signature, r.element) || (packaging === "enveloping" && contains(request, r.element))) {
      throw reject(
        "MALFORMED",
        "reference-not-covering-root",
        `A signature Reference (${r.uri.slice(0, 100)}) covers a part of the document other than the whole request.`,
      );
    }
  }
  // Some signers leave out the Type; a reference that lands on a xades:SignedProperties is one all the same.
  const signedPropertiesRefs = references.filter((r) => r.type === SIGNED_PROPERTIES_TYPE || isXades(r.element, "SignedProperties"));
  if (signedPropertiesRefs.length > 1) throw wrapping("The signature has more than one SignedProperties reference.");
  const signedPropertiesRef = signedPropertiesRefs[0];
  let signedProperties: Element | undefined;
  if (signedPropertiesRef !== undefined) {
    const sp = signedPropertiesRef.element;
    const qp = sp.parentNode as Element | null;
    const obj = qp?.parentNode as Element | null | undefined;
    if (!isXades(sp, "SignedProperties") || !isXades(qp, "QualifyingProperties") || !is(obj, DSIG, "Object") || obj.parentNode !== signature) {
      throw wrapping("The SignedProperties reference does not point at the signature's own ds:Object/QualifyingProperties/SignedProperties.");
    }
    signedProperties = sp;
  }

  // Certificates in KeyInfo (the only place KSeF reads the signing certificate from).
  const keyInfo = elementChildren(signature).find((e) => is(e, DSIG, "KeyInfo"));
  const certificateTexts = (keyInfo === undefined ? [] : elementChildren(keyInfo).filter((e) => is(e, DSIG, "X509Data")))
    .flatMap((d) => elementChildren(d).filter((e) => is(e, DSIG, "X509Certificate")))
    .map((e) => directText(e));
  if (certificateTexts.length === 0) {
    throw reject("MALFORMED", "certificate-missing", "The signature carries no certificate (KeyInfo/X509Data/X509Certificate).", {
      hint: "Sign again with a signer that includes the signing certificate in the signature.",
    });
  }
  const certificates = certificateTexts.map((t) => {
    const der = base64Bytes(t, "certificate");
    try {
      return parseCertificate(der);
    } catch (error) {
      throw reject("MALFORMED", "certificate-invalid", "A certificate in the signature cannot be read.", { cause: error });
    }
  });
  const digests = signedProperties === undefined ? [] : signingCertificateDigests(signedProperties);
  const candidates = digests.length === 0 ? certificates : certificates.filter((c) => digests.some((d) => matchesDigest(c.der, d)));
  if (candidates.length === 0) {
    throw reject("MALFORMED", "signing-certificate-mismatch", "The XAdES SigningCertificate digest matches no certificate in KeyInfo.", {
      hint: "The signature's properties name another certificate than the one it carries: sign again.",
    });
  }

  // Cryptography: xmldsigjs on the same DOM, with the key of each candidate certificate (never a bare KeyValue).
  if (!SUPPORTED_SIGNATURE_METHODS.has(signatureMethod)) {
    throw reject("UNSUPPORTED", "unsupported-algorithm", `The signature algorithm ${JSON.stringify(signatureMethod.slice(0, 100))} is not supported.`, {
      hint: "Use RSA (PKCS#1 v1.5 or PSS) or ECDSA with SHA-256.",
      details: { signatureMethod: signatureMethod.slice(0, 200) },
    });
  }
  const x = xades();
  let signer: CertificateInfo | undefined;
  for (const candidate of candidates) {
    const signed = new x.SignedXml(document);
    let loadedAlgorithm: { name: string; hash?: unknown };
    try {
      signed.LoadXml(signature);
      loadedAlgorithm = signed.Algorithm as { name: string; hash?: unknown };
    } catch (error) {
      throw reject("MALFORMED", "signature-invalid", "The signature element cannot be read.", { cause: error });
    }
    let ok: boolean;
    try {
      const params = importParams(candidate, loadedAlgorithm);
      const key = await globalThis.crypto.subtle.importKey("spki", new Uint8Array(candidate.subjectPublicKeyInfo), params, true, ["verify"]);
      signed.Algorithm = params;
      ok = await signed.Verify({ key });
    } catch (error) {
      if (error instanceof KsefCertsError) throw error;
      // xml-core's XmlError does not extend Error: read its message structurally.
      const message = typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error);
      if (/Invalid digest/i.test(message)) {
        throw reject("MALFORMED", "digest-mismatch", "The signed content was changed after signing (a reference digest does not match).", {
          hint: "Send the file exactly as the signer produced it: do not open and re-save it in an editor.",
          cause: error,
        });
      }
      // A key that does not fit the algorithm (an RSA certificate for an ECDSA signature) just does not verify.
      if (error instanceof Error && /DataError|NotSupportedError|InvalidAccessError/.test(error.name)) continue;
      throw reject("MALFORMED", "signature-invalid", "The signature cannot be verified.", { cause: error });
    }
    if (ok) {
      signer = candidate;
      break;
    }
  }
  if (signer === undefined) {
    throw reject("MALFORMED", "signature-invalid", "The signature value does not verify with the certificate the signature carries.", {
      hint: ecdsaDerHint(signature, signatureMethod, candidates) ?? "The signature was damaged or made with another key: sign again.",
    });
  }

  // The certificate at `now`.
  const now = options.now ?? new Date();
  if (now.getTime() < Date.parse(signer.validFrom) || now.getTime() > Date.parse(signer.validTo)) {
    throw reject(
      "VALIDATION",
      "certificate-invalid",
      `The signing certificate is not valid at ${now.toISOString()} (valid ${signer.validFrom} – ${signer.validTo}).`,
      {
        hint: "Sign with a certificate that is currently valid.",
        details: { validFrom: signer.validFrom, validTo: signer.validTo },
      },
    );
  }
  if (signer.ksefType === "Offline" || signer.typeCheck.fromCommonName === "Offline") {
    throw reject(
      "VALIDATION",
      "certificate-invalid",
      "The signing certificate is a KSeF Offline certificate, which only signs offline-invoice QR codes, not logins.",
      {
        hint: "Sign with a KSeF Authentication certificate, a qualified signature or Profil Zaufany.",
      },
    );
  }

  // Identity.
  const pzBlocks = signedProperties === undefined ? [] : findTrustedProfileBlocks(signedProperties);
  if (pzBlocks.length > 1)
    throw reject("VALIDATION", "subject-identifier-invalid", "The signed properties carry more than one Profil Zaufany (PodpisZP) block.");
  const trustedProfile = pzBlocks[0] === undefined ? undefined : readTrustedProfile(pzBlocks[0]);
  const derived = deriveKsefIdentity(content.subjectIdentifierType, signer, trustedProfile);
  if (derived === undefined) {
    throw reject(
      "VALIDATION",
      "subject-identifier-invalid",
      "SubjectIdentifierType is certificateSubject, but the signer carries no NIP or PESEL (certificate subject serialNumber/organizationIdentifier, or Profil Zaufany PESEL).",
      {
        hint: "Use certificateFingerprint for a certificate without NIP/PESEL (permissions must be granted to its fingerprint), or sign with a certificate that names you.",
      },
    );
  }

  // The caller's expectations.
  if (expected.challenge !== undefined && expected.challenge !== content.challenge) {
    throw reject("VALIDATION", "challenge-mismatch", "The signed request carries another challenge than the one issued for this login.", {
      hint: "Generate a new AuthTokenRequest for the current challenge and sign it.",
    });
  }
  const ctx = expected.contextIdentifier;
  if (ctx !== undefined && (ctx.type !== content.contextIdentifier.type || ctx.value !== content.contextIdentifier.value)) {
    throw reject(
      "VALIDATION",
      "context-mismatch",
      `The signed request logs into ${content.contextIdentifier.type} ${content.contextIdentifier.value}, not the expected ${ctx.type} ${ctx.value}.`,
      {
        hint: "Generate the request for the intended context and sign it again.",
      },
    );
  }

  const signingTime = signedProperties === undefined ? undefined : signingTimeOf(signedProperties);
  return {
    packaging,
    namespace: content.namespace,
    challenge: content.challenge,
    contextIdentifier: content.contextIdentifier,
    subjectIdentifierType: content.subjectIdentifierType,
    ...(content.authorizationPolicy === undefined ? {} : { authorizationPolicy: content.authorizationPolicy }),
    signatureAlgorithm: signatureMethod,
    ...(signingTime === undefined ? {} : { signingTime }),
    certificate: { der: signer.der, info: signer },
    identity: derived.identity,
    identitySource: derived.source,
    fingerprint: signer.fingerprintSha256,
    ...(trustedProfile === undefined ? {} : { trustedProfile }),
  };
}

function wrapping(message: string): KsefCertsError {
  return reject("MALFORMED", "signature-wrapping", `${message} The file looks altered to smuggle unsigned content (XML signature wrapping).`, {
    hint: "Use the file exactly as the signer produced it.",
  });
}

/** Parses with {@link parseXmlSafely}, telling a DTD, bad UTF-8, nesting or width beyond the limits and plain malformation apart. */
function parse(input: Uint8Array, maxBytes: number): Document {
  try {
    return parseXmlSafely(input, { maxBytes, what: "the signed AuthTokenRequest" }).document;
  } catch (error) {
    if (xmlLimitOf(error) !== undefined && error instanceof KsefCertsError) {
      // Keep the parser's violation (its rule id is what a UI translates) and add the rejection's reason and code.
      throw new KsefCertsError(error.code, error.message, {
        ...(error.hint === undefined ? {} : { hint: error.hint }),
        violations: error.violations,
        details: { ...error.details, reason: "too-complex", ksefExceptionCode: XADES_REJECTION_KSEF_CODES["too-complex"] },
        cause: error,
      });
    }
    const message = error instanceof Error ? error.message : "";
    // ASCII markers survive any decoding, so the raw bytes tell a DTD apart even when UTF-8 decoding failed too.
    const latin1 = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("latin1");
    if (/<!DOCTYPE|<!ENTITY/i.test(latin1)) {
      throw reject("MALFORMED", "dtd-or-entity", "The file contains a document type (DOCTYPE) or entity declaration, which is refused.", {
        hint: "Signed AuthTokenRequests never contain a DTD; this file may be crafted to attack the parser.",
        cause: error,
      });
    }
    if (/UTF-8/.test(message))
      throw reject("MALFORMED", "not-utf8", message, { hint: "KSeF accepts UTF-8 only (21217). Send the file exactly as signed.", cause: error });
    throw reject("MALFORMED", "not-xml", message === "" ? "The file is not well-formed XML." : message, { cause: error });
  }
}

function ecdsaDerHint(signature: Element, method: string, candidates: readonly CertificateInfo[]): string | undefined {
  if (!method.includes("ecdsa")) return undefined;
  const valueEl = elementChildren(signature).find((e) => is(e, DSIG, "SignatureValue"));
  const value = valueEl === undefined ? undefined : Buffer.from(directText(valueEl).replace(/\s+/g, ""), "base64");
  const curve = EC_CURVES[candidates[0]?.publicKey.asymmetricKeyDetails?.namedCurve ?? ""];
  if (value === undefined || curve === undefined || value.length === 2 * curve.bytes || value[0] !== 0x30) return undefined;
  return "The ECDSA SignatureValue looks DER-encoded; XML signatures (and KSeF) need the raw r‖s form (XMLDSig 1.1 §6.4.3, RFC 4050).";
}
