/**
 * Reading an unsigned AuthTokenRequest (`auth.xml`) back into the fields `signAuthTokenRequest` takes, for
 * automatic signing and for the local API (which receives the ERP's own request). Parsed only with core
 * `parseXmlSafely` (no DTDs, size-limited); the namespace decides schema 2.0 or 2.1.
 */
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg, type MessageRef } from "@ksef-certs/ksef/messages";
import { AUTH_TOKEN_REQUEST_NAMESPACES, type ContextIdentifierType } from "@ksef-certs/ksef/xades";
import { parseXmlSafely } from "@ksef-certs/ksef/xml";

/** Largest unsigned AuthTokenRequest accepted, bytes (one is under 1 KiB; 64 KiB leaves room for comments and IP lists). */
export const MAX_UNSIGNED_REQUEST_BYTES = 65_536;

/** The fields of an unsigned AuthTokenRequest (the shape of core's `AuthTokenRequestInput`). */
export interface UnsignedRequestFields {
  readonly challenge: string;
  readonly contextIdentifier: { readonly type: ContextIdentifierType; readonly value: string };
  readonly subjectIdentifierType: "certificateSubject" | "certificateFingerprint";
  readonly authorizationPolicy?: { readonly allowedIps: { readonly ip4Addresses: string[]; readonly ip4Ranges: string[]; readonly ip4Masks: string[] } };
  readonly namespace: "2.0" | "2.1";
}

/** A DOM element as core's parser returns them (no DOM lib needed by this package). */
type XmlElement = ReturnType<typeof parseXmlSafely>["document"]["documentElement"];

const CONTEXT_TYPES: readonly string[] = ["Nip", "InternalId", "NipVatUe", "PeppolId"];

/**
 * Reads an unsigned AuthTokenRequest.
 * @param xml the document, UTF-8 bytes
 * @returns its fields, text whitespace-collapsed as the XSD `token` type does
 * @throws {KsefCertsError} MALFORMED / TOO_LARGE for a document `parseXmlSafely` refuses; VALIDATION when it is not an
 *   unsigned AuthTokenRequest (wrong root or namespace, a signature already inside, a missing field)
 */
export function readUnsignedRequest(xml: Uint8Array): UnsignedRequestFields {
  const { document } = parseXmlSafely(xml, { maxBytes: MAX_UNSIGNED_REQUEST_BYTES, what: "the AuthTokenRequest" });
  const root = document.documentElement;
  const ns = root.namespaceURI ?? "";
  if (root.localName !== "AuthTokenRequest" || !(AUTH_TOKEN_REQUEST_NAMESPACES as readonly string[]).includes(ns)) {
    throw invalid("root", msg("agent.request.notAuthTokenRequest"));
  }
  const children = elementChildren(root);
  if (children.some((c) => c.localName === "Signature")) throw invalid("signature", msg("agent.request.alreadySigned"));
  const text = (e: XmlElement | undefined): string | undefined => e?.textContent.replace(/\s+/g, " ").trim();
  const challenge = text(children.find((c) => c.localName === "Challenge"));
  const context = children.find((c) => c.localName === "ContextIdentifier");
  const contextValue = context === undefined ? undefined : elementChildren(context)[0];
  const subject = text(children.find((c) => c.localName === "SubjectIdentifierType"));
  if (challenge === undefined || challenge === "") throw invalid("Challenge", msg("agent.request.noChallenge"));
  if (contextValue === undefined || !CONTEXT_TYPES.includes(contextValue.localName)) throw invalid("ContextIdentifier", msg("agent.request.noContext"));
  if (subject !== "certificateSubject" && subject !== "certificateFingerprint") throw invalid("SubjectIdentifierType", msg("agent.request.subjectType"));
  const policy = children.find((c) => c.localName === "AuthorizationPolicy");
  const allowed = policy === undefined ? undefined : elementChildren(policy).find((c) => c.localName === "AllowedIps");
  const listOf = (name: string): string[] =>
    allowed === undefined
      ? []
      : elementChildren(allowed)
          .filter((c) => c.localName === name)
          .map((c) => text(c) ?? "");
  return {
    challenge,
    contextIdentifier: { type: contextValue.localName as ContextIdentifierType, value: text(contextValue) ?? "" },
    subjectIdentifierType: subject,
    ...(allowed === undefined
      ? {}
      : { authorizationPolicy: { allowedIps: { ip4Addresses: listOf("Ip4Address"), ip4Ranges: listOf("Ip4Range"), ip4Masks: listOf("Ip4Mask") } } }),
    namespace: ns.endsWith("/2.1") ? "2.1" : "2.0",
  };
}

function elementChildren(e: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (let n = e.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === 1) out.push(n as XmlElement);
  return out;
}

function invalid(field: string, message: MessageRef): KsefCertsError {
  return new KsefCertsError("VALIDATION", message, { violations: [violation(field, "authTokenRequest.unsigned")] });
}
