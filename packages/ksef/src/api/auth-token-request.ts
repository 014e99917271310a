/**
 * The unsigned `AuthTokenRequest` ("auth.xml") that a XAdES login signs and posts to
 * `POST /auth/xades-signature` (ksef-docs `uwierzytelnianie.md`; spec/schemat_auth_v2-0.xsd, spec/schemat_auth_v2-1.xsd).
 *
 * Input is validated against the XSD's patterns (and the NIP/InternalId check digits) before any XML
 * is written, so KSeF's 21401 "XSD violation" never comes back for something we could have caught, and
 * the caller learns every problem at once.
 */
import { create } from "xmlbuilder2";
import { assertNoViolations, type Violation } from "../errors.js";
import type { ContextIdentifierType } from "../vocabulary.js";
import { checkInternalId, checkNip } from "../policies/identifiers.js";

/** Namespace of schema 2.0, which both official clients emit (ksef-docs `uwierzytelnianie.md`, spec/schemat_auth_v2-0.xsd). */
export const AUTH_TOKEN_REQUEST_NAMESPACE_2_0 = "http://ksef.mf.gov.pl/auth/token/2.0";

/** Namespace of schema 2.1, accepted since API 2.5.0; it differs from 2.0 only in the IPv4 patterns (spec/schemat_auth_v2-1.xsd). */
export const AUTH_TOKEN_REQUEST_NAMESPACE_2_1 = "http://ksef.mf.gov.pl/auth/token/2.1";

/**
 * A KSeF challenge (`POST /auth/challenge` → `challenge`, 36 characters, valid 10 minutes), e.g.
 * `20250625-CR-20F5EE4000-DA48AE4124-46`. The XSD pattern of `Challenge`, anchored.
 */
export const AUTH_CHALLENGE_PATTERN = /^\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}$/;

/** Context identifier kinds of the XSD's `TContextIdentifier` choice (the vocabulary's `ContextIdentifierType`). */
export type AuthContextIdentifierType = ContextIdentifierType;

/** The two AuthTokenRequest namespaces KSeF accepts (spec/schemat_auth_v2-0.xsd, spec/schemat_auth_v2-1.xsd). */
export const AUTH_TOKEN_REQUEST_NAMESPACES = [AUTH_TOKEN_REQUEST_NAMESPACE_2_0, AUTH_TOKEN_REQUEST_NAMESPACE_2_1] as const;

/**
 * What to put in an AuthTokenRequest (ksef-docs `uwierzytelnianie.md`).
 *
 * - `challenge`: from `POST /auth/challenge`, see {@link AUTH_CHALLENGE_PATTERN}.
 * - `contextIdentifier`: the context to log into: a NIP (10 digits), an InternalId (`NIP-NNNNN`),
 *   a NipVatUe (`NIP-<EU VAT number>`) or a Peppol provider id (`PXX123456`).
 * - `subjectIdentifierType`: `certificateSubject` (KSeF reads NIP/PESEL from the signing certificate's
 *   subject) or `certificateFingerprint` (KSeF uses the certificate's SHA-256 fingerprint).
 * - `authorizationPolicy`: optional IPv4 allow-list enforced on every use of the resulting access
 *   token; 0–10 entries of each kind, at least one in total. Addresses `a.b.c.d`, ranges
 *   `a.b.c.d-e.f.g.h`, masks `a.b.c.d/0..32`.
 * - `namespace`: `"2.0"` (default, what the official clients send) or `"2.1"`.
 */
export interface AuthTokenRequestInput {
  readonly challenge: string;
  readonly contextIdentifier: { readonly type: AuthContextIdentifierType; readonly value: string };
  readonly subjectIdentifierType: "certificateSubject" | "certificateFingerprint";
  readonly authorizationPolicy?: {
    readonly allowedIps: {
      readonly ip4Addresses?: readonly string[];
      readonly ip4Ranges?: readonly string[];
      readonly ip4Masks?: readonly string[];
    };
  };
  readonly namespace?: "2.0" | "2.1";
}

/** Most entries of each IPv4 kind the XSD allows (`maxOccurs="10"`). */
export const MAX_ALLOWED_IPS_PER_KIND = 10;

const NIP = "[1-9]((\\d[1-9])|([1-9]\\d))\\d{7}";
/** XSD `TNipVatUE`, anchored: a NIP, a dash and an EU VAT number by the VIES FAQ Q11 per-country patterns. */
const NIP_VAT_UE_PATTERN = new RegExp(
  `^(${NIP}-((AT)(U\\d{8})|(BE)([01]{1}\\d{9})|(BG)(\\d{9,10})|(CY)(\\d{8}[A-Z])|(CZ)(\\d{8,10})|(DE)(\\d{9})|(DK)(\\d{8})|(EE)(\\d{9})|(EL)(\\d{9})|(ES)([A-Z]\\d{8}|\\d{8}[A-Z]|[A-Z]\\d{7}[A-Z])|(FI)(\\d{8})|(FR)[A-Z0-9]{2}\\d{9}|(HR)(\\d{11})|(HU)(\\d{8})|(IE)(\\d{7}[A-Z]{2}|\\d[A-Z0-9+*]\\d{5}[A-Z])|(IT)(\\d{11})|(LT)(\\d{9}|\\d{12})|(LU)(\\d{8})|(LV)(\\d{11})|(MT)(\\d{8})|(NL)([A-Z0-9+*]{12})|(PT)(\\d{9})|(RO)(\\d{2,10})|(SE)(\\d{12})|(SI)(\\d{8})|(SK)(\\d{10})|(XI)((\\d{9}|(\\d{12}))|(GD|HA)(\\d{3}))))$`,
);
/** XSD `TPeppolId`. */
const PEPPOL_ID_PATTERN = /^P[A-Z]{2}[0-9]{6}$/;

// Schema 2.1's octet (no leading zeros). Schema 2.0 writes the same set as a .NET regex (`^…\b…$`) that
// is not a valid XSD regex; both accept exactly the dotted quads below, so one JS pattern serves both.
const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const IP4 = `${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}`;
const IP4_ADDRESS_PATTERN = new RegExp(`^${IP4}$`);
const IP4_RANGE_PATTERN = new RegExp(`^(${IP4})-(${IP4})$`);
const IP4_MASK_PATTERN = new RegExp(`^${IP4}/(0|[1-9]|[12][0-9]|3[0-2])$`);

const CONTEXT_TYPES: readonly AuthContextIdentifierType[] = ["Nip", "InternalId", "NipVatUe", "PeppolId"];
const SUBJECT_TYPES: readonly string[] = ["certificateSubject", "certificateFingerprint"];

function ip4ToNumber(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function checkIpList(
  list: unknown,
  field: string,
  pattern: RegExp,
  example: string,
  violations: Violation[],
  extra?: (value: string, field: string) => Violation | undefined,
): number {
  if (list === undefined) return 0;
  if (!Array.isArray(list)) {
    violations.push({ field, rule: "authTokenRequest.allowedIps.list", message: `${field} must be a list of strings.` });
    return 0;
  }
  if (list.length > MAX_ALLOWED_IPS_PER_KIND) {
    violations.push({
      field,
      rule: "authTokenRequest.allowedIps.count",
      message: `${field} has ${list.length} entries; KSeF accepts at most ${MAX_ALLOWED_IPS_PER_KIND}.`,
      params: { max: MAX_ALLOWED_IPS_PER_KIND, actual: list.length },
    });
  }
  list.forEach((value: unknown, i) => {
    const f = `${field}[${i}]`;
    if (typeof value !== "string" || !pattern.test(value)) {
      violations.push({ field: f, rule: "authTokenRequest.allowedIps.format", message: `${f} is not in the form ${example}.`, params: { example } });
      return;
    }
    const more = extra?.(value, f);
    if (more !== undefined) violations.push(more);
  });
  return list.length;
}

function checkRangeOrder(value: string, field: string): Violation | undefined {
  const m = IP4_RANGE_PATTERN.exec(value);
  const from = m?.[1];
  const to = m?.[6];
  if (from === undefined || to === undefined || ip4ToNumber(from) <= ip4ToNumber(to)) return undefined;
  return { field, rule: "authTokenRequest.allowedIps.rangeOrder", message: `${field} starts after it ends; write the lower address first.` };
}

function checkContextValue(type: AuthContextIdentifierType, value: string): Violation[] {
  const field = "contextIdentifier.value";
  switch (type) {
    case "Nip":
      return checkNip(value, field);
    case "InternalId":
      return checkInternalId(value, field);
    case "NipVatUe": {
      if (!NIP_VAT_UE_PATTERN.test(value)) {
        return [
          {
            field,
            rule: "authTokenRequest.nipVatUe.format",
            message: "A NipVatUe is a Polish NIP, a dash and an EU VAT number with its country prefix (e.g. 5265877635-ATU12345678).",
          },
        ];
      }
      return checkNip(value.slice(0, 10), field);
    }
    case "PeppolId":
      return PEPPOL_ID_PATTERN.test(value)
        ? []
        : [{ field, rule: "authTokenRequest.peppolId.format", message: "A Peppol provider id is P, two capital letters and six digits (e.g. PPL123456)." }];
  }
}

/**
 * Every rule `input` breaks, as {@link Violation}s (empty when it can be written and would pass the XSD).
 * Field names: `challenge`, `contextIdentifier.type`, `contextIdentifier.value`, `subjectIdentifierType`,
 * `authorizationPolicy.allowedIps`, `authorizationPolicy.allowedIps.ip4Addresses[i]` (`ip4Ranges`,
 * `ip4Masks`), `namespace`. Beyond the XSD: NIP and InternalId check digits (also the NIP part of a
 * NipVatUe), a range must not end before it starts, and an `AllowedIps` must list at least one entry
 * (an empty allow-list is schema-valid but its effect is undocumented).
 * @param input the request data (checked defensively: JavaScript callers may pass anything)
 * @returns the violations, in field order
 */
export function checkAuthTokenRequestInput(input: AuthTokenRequestInput): Violation[] {
  const v: Violation[] = [];
  const challenge: unknown = input.challenge;
  if (typeof challenge !== "string" || !AUTH_CHALLENGE_PATTERN.test(challenge)) {
    v.push({
      field: "challenge",
      rule: "authTokenRequest.challenge.format",
      message:
        "The challenge is not a KSeF challenge (36 characters like 20250625-CR-20F5EE4000-DA48AE4124-46); pass the value POST /auth/challenge returned, unchanged.",
    });
  }
  const ctx: unknown = input.contextIdentifier;
  const ctxType: unknown = (ctx as { type?: unknown } | undefined)?.type;
  const ctxValue: unknown = (ctx as { value?: unknown } | undefined)?.value;
  if (!CONTEXT_TYPES.includes(ctxType as AuthContextIdentifierType)) {
    v.push({
      field: "contextIdentifier.type",
      rule: "authTokenRequest.contextIdentifier.type",
      message: `The context identifier type must be one of ${CONTEXT_TYPES.join(", ")}.`,
      params: { allowed: CONTEXT_TYPES.join(", ") },
    });
  } else if (typeof ctxValue !== "string") {
    v.push({ field: "contextIdentifier.value", rule: "authTokenRequest.contextIdentifier.value", message: "The context identifier value is missing." });
  } else {
    v.push(...checkContextValue(ctxType as AuthContextIdentifierType, ctxValue));
  }
  if (!SUBJECT_TYPES.includes(input.subjectIdentifierType)) {
    v.push({
      field: "subjectIdentifierType",
      rule: "authTokenRequest.subjectIdentifierType",
      message: "The subject identifier type must be certificateSubject or certificateFingerprint.",
    });
  }
  if (input.authorizationPolicy !== undefined) {
    const allowed: unknown = (input.authorizationPolicy as { allowedIps?: unknown } | null)?.allowedIps;
    const base = "authorizationPolicy.allowedIps";
    if (typeof allowed !== "object" || allowed === null) {
      v.push({ field: base, rule: "authTokenRequest.allowedIps.missing", message: "An authorization policy needs allowedIps." });
    } else {
      const a = allowed as { ip4Addresses?: unknown; ip4Ranges?: unknown; ip4Masks?: unknown };
      const total =
        checkIpList(a.ip4Addresses, `${base}.ip4Addresses`, IP4_ADDRESS_PATTERN, "192.168.0.1", v) +
        checkIpList(a.ip4Ranges, `${base}.ip4Ranges`, IP4_RANGE_PATTERN, "192.168.0.1-192.168.0.99", v, checkRangeOrder) +
        checkIpList(a.ip4Masks, `${base}.ip4Masks`, IP4_MASK_PATTERN, "192.168.0.0/24", v);
      if (total === 0) {
        v.push({
          field: base,
          rule: "authTokenRequest.allowedIps.empty",
          message: "The IP allow-list is empty; list at least one address, range or mask, or leave the authorization policy out.",
        });
      }
    }
  }
  const namespace: unknown = input.namespace;
  if (namespace !== undefined && namespace !== "2.0" && namespace !== "2.1") {
    v.push({ field: "namespace", rule: "authTokenRequest.namespace", message: 'The schema version must be "2.0" or "2.1".' });
  }
  return v;
}

/**
 * Throws unless `input` is a valid AuthTokenRequest (see {@link checkAuthTokenRequestInput}).
 * @param input the request data
 * @throws {KsefCertsError} VALIDATION listing every violation
 */
export function assertAuthTokenRequestInput(input: AuthTokenRequestInput): void {
  assertNoViolations(checkAuthTokenRequestInput(input), "The AuthTokenRequest cannot be built");
}

/**
 * The namespace URI `input` selects.
 * @param input the request data (`namespace` defaults to `"2.0"`)
 */
export function authTokenRequestNamespace(input: Pick<AuthTokenRequestInput, "namespace">): string {
  return input.namespace === "2.1" ? AUTH_TOKEN_REQUEST_NAMESPACE_2_1 : AUTH_TOKEN_REQUEST_NAMESPACE_2_0;
}

/**
 * Builds the unsigned AuthTokenRequest: UTF-8 text with the declaration `<?xml version="1.0" encoding="utf-8"?>`,
 * the default namespace of the chosen schema, children in XSD order (Challenge, ContextIdentifier,
 * SubjectIdentifierType, AuthorizationPolicy/AllowedIps with Ip4Address*, Ip4Range*, Ip4Mask*), no
 * whitespace between elements and no self-closing tags (so the text after the declaration is already
 * its exclusive canonical form). Hand it to a signer unchanged, or to Profil Zaufany.
 * Source: spec/schemat_auth_v2-0.xsd, spec/schemat_auth_v2-1.xsd; ksef-docs `uwierzytelnianie.md`.
 * @param input the request data
 * @returns the XML document as a string (encode as UTF-8 without BOM)
 * @throws {KsefCertsError} VALIDATION listing every violation (see {@link checkAuthTokenRequestInput})
 */
export function buildAuthTokenRequest(input: AuthTokenRequestInput): string {
  assertAuthTokenRequestInput(input);
  const ns = authTokenRequestNamespace(input);
  const doc = create({ version: "1.0", encoding: "utf-8" });
  const root = doc.ele(ns, "AuthTokenRequest");
  root.ele(ns, "Challenge").txt(input.challenge);
  root.ele(ns, "ContextIdentifier").ele(ns, input.contextIdentifier.type).txt(input.contextIdentifier.value);
  root.ele(ns, "SubjectIdentifierType").txt(input.subjectIdentifierType);
  const allowed = input.authorizationPolicy?.allowedIps;
  if (allowed !== undefined) {
    const ips = root.ele(ns, "AuthorizationPolicy").ele(ns, "AllowedIps");
    for (const ip of allowed.ip4Addresses ?? []) ips.ele(ns, "Ip4Address").txt(ip);
    for (const range of allowed.ip4Ranges ?? []) ips.ele(ns, "Ip4Range").txt(range);
    for (const mask of allowed.ip4Masks ?? []) ips.ele(ns, "Ip4Mask").txt(mask);
  }
  return doc.end({ prettyPrint: false, allowEmptyTags: true });
}
