/**
 * Telling what a file dropped into a hand-off inbox is, by its content only (any name: `.xml`, `.xades`,
 * `.xml.xades`, `.XAdES`, none: all seen from the ministry's signing service): a signed AuthTokenRequest for a challenge we are waiting
 * for (verified with the same verifier KSeF's counterpart uses), our own unsigned `auth.xml` dropped back,
 * a signed file for an expired or unknown challenge, a signed file the verifier refuses, or something else.
 *
 * The challenge is first read from the unverified document only to pick which pending request to verify
 * against; the verifier then checks that the *signed* content carries exactly that challenge and context
 * (so a wrapped, second Challenge cannot pick a request the signature does not cover).
 */
import { KsefCertsError } from "../errors.js";
import { parseXmlSafely, xmlLimitOf } from "../xml/safe-parse.js";
import { elementsInDocumentOrder } from "../xml/walk.js";
import {
  AUTH_TOKEN_REQUEST_NAMESPACES,
  XADES_REJECTION_KSEF_CODES,
  verifySignedAuthTokenRequest,
  xadesRejectionOf,
  type ContextIdentifierType,
  type VerifiedAuthTokenRequest,
  type XadesRejectionReason,
} from "../xades/verify.js";
import type { KsefIdentity } from "../xades/identity.js";

/** Largest file the hand-off reads: 1 MiB (a signed AuthTokenRequest is 3–12 KiB; a certificate chain adds a few). */
export const MAX_HANDOFF_FILE_BYTES = 1_048_576;

/**
 * The one person who may sign a request: KSeF issues an Authentication certificate to whoever signed the
 * AuthTokenRequest (ksef-docs `uwierzytelnianie.md`), so an operator's enrollment must be signed by that operator.
 * Without `pesel` and `nip` nothing is checked.
 */
export interface ExpectedSigner {
  /** How people know them, e.g. `Jan Kowalski` (in messages only). */
  readonly name: string;
  /** PESEL on record (11 digits). */
  readonly pesel?: string;
  /** NIP on record (10 digits). */
  readonly nip?: string;
}

/** A login waiting for a person's signature: the challenge KSeF issued and the context it is for. */
export interface PendingSignature {
  /** The caller's id of this request (an enrollment id, a journal key); passed back unchanged. */
  readonly id: string;
  /** The KSeF challenge written into `auth.xml` (36 characters). */
  readonly challenge: string;
  /** The context `auth.xml` logs into; the signed file must carry the same. */
  readonly contextIdentifier: { readonly type: ContextIdentifierType; readonly value: string };
  /** When the challenge stops being accepted (KSeF: 10 minutes after `POST /auth/challenge`; ksef-docs `uwierzytelnianie.md`). */
  readonly expiresAt: Date;
  /** Who must sign (an operator's enrollment); absent when any authorised person may (company, branch). */
  readonly expectedSigner?: ExpectedSigner;
}

/**
 * Whether the identity KSeF derives from a signature (`VerifiedAuthTokenRequest.identity`: the certificate
 * subject's PESEL/NIP, or Profil Zaufany's ppZP PESEL) is the expected signer's. A certificate fingerprint
 * never matches: it names no person.
 * @param identity the signer's identity as the verifier derived it
 * @param expected the person on record
 * @returns true when it names them (or nothing is on record to compare with)
 */
export function isExpectedSigner(identity: KsefIdentity, expected: ExpectedSigner): boolean {
  const digits = (v: string | undefined): string => (v ?? "").replace(/\D/g, "");
  const pesel = digits(expected.pesel);
  const nip = digits(expected.nip);
  if (pesel === "" && nip === "") return true;
  if (identity.type === "Pesel") return pesel !== "" && identity.value === pesel;
  if (identity.type === "Nip") return nip !== "" && identity.value === nip;
  return false;
}

/**
 * What a file is (see {@link classifySignedFile}):
 * - `signed`: a valid signature over an AuthTokenRequest for `pending`, not expired; submit `bytes` unchanged.
 * - `unsigned`: an AuthTokenRequest without a signature (our own `auth.xml` in the wrong folder, or not yet signed);
 *   `pending` when its challenge is one we wait for.
 * - `expired`: a file for `pending`, whose challenge has expired; a new `auth.xml` has to be signed.
 * - `unknown-challenge`: an AuthTokenRequest for a challenge nobody is waiting for (an old or foreign request).
 * - `wrong-signer`: a valid signature for `pending`, but not by `pending.expectedSigner` (`verified.identity` names
 *   someone else, or no person: a fingerprint); must not be submitted, KSeF would issue the certificate to the signer.
 * - `rejected`: the verifier refused it (`reason`, KSeF's `ksefExceptionCode`, an English `message`); `pending` when it names one.
 * - `not-auth-request`: not an AuthTokenRequest at all (another document, not XML).
 */
export type ClassifiedFile =
  | { readonly kind: "signed"; readonly pending: PendingSignature; readonly verified: VerifiedAuthTokenRequest }
  | { readonly kind: "unsigned"; readonly challenge?: string; readonly pending?: PendingSignature }
  | { readonly kind: "expired"; readonly pending: PendingSignature }
  | { readonly kind: "wrong-signer"; readonly pending: PendingSignature; readonly verified: VerifiedAuthTokenRequest; readonly expected: ExpectedSigner }
  | { readonly kind: "unknown-challenge"; readonly challenge?: string }
  | {
      readonly kind: "rejected";
      readonly reason: XadesRejectionReason;
      readonly ksefExceptionCode: number;
      readonly message: string;
      readonly pending?: PendingSignature;
    }
  | { readonly kind: "not-auth-request" };

/** Options of {@link classifySignedFile}. */
export interface ClassifyOptions {
  /** The moment expiry and certificate validity are judged at; default now. */
  readonly now?: Date;
  /** Largest accepted file, bytes; default {@link MAX_HANDOFF_FILE_BYTES}. */
  readonly maxBytes?: number;
}

const DSIG = "http://www.w3.org/2000/09/xmldsig#";
const REQUEST_NAMESPACES: ReadonlySet<string> = new Set(AUTH_TOKEN_REQUEST_NAMESPACES);

/**
 * Classifies a file from a hand-off inbox by its content (see {@link ClassifiedFile}). Order: not XML or no
 * AuthTokenRequest → `not-auth-request` (unless the raw bytes name an AuthTokenRequest, e.g. a file re-saved
 * as UTF-16: then `rejected` with the verifier's reason); a root ds:Signature without the request →
 * `rejected` `detached`; no ds:Signature → `unsigned`; no pending request with its challenge →
 * `unknown-challenge`; the pending request expired at `now` → `expired`; then
 * `verifySignedAuthTokenRequest(bytes, { challenge, contextIdentifier }, { now })` → `rejected`, or
 * `wrong-signer` when the pending request has an `expectedSigner` the signature does not name, else `signed`.
 * The bytes are never changed or re-serialised.
 * @param bytes the file exactly as read
 * @param pending the requests waiting for a signature
 * @param options `now` and `maxBytes`
 * @returns the classification
 * @throws {KsefCertsError} TOO_LARGE above `maxBytes` (the inbox watcher checks the size before reading)
 * @throws {KsefCertsError} MALFORMED with `details.limit` (`xmlLimitOf` tells it: `depth`, `elements`, `attributes`) and one
 *   violation of rule `xml.depth` / `xml.elements` / `xml.attributes` when the file is XML nested or spread beyond
 *   `parseXmlSafely`'s structure limits: a refusal of the file, never a reason to try it again
 * @throws {KsefCertsError} INTERNAL when the verifier fails in an unexpected way (a bug, not a bad file)
 */
export async function classifySignedFile(bytes: Uint8Array, pending: readonly PendingSignature[], options: ClassifyOptions = {}): Promise<ClassifiedFile> {
  const now = options.now ?? new Date();
  const maxBytes = options.maxBytes ?? MAX_HANDOFF_FILE_BYTES;
  if (bytes.byteLength > maxBytes) {
    throw new KsefCertsError("TOO_LARGE", `The file is ${bytes.byteLength} bytes; a signed AuthTokenRequest is at most ${maxBytes} bytes.`, {
      details: { size: bytes.byteLength, limitBytes: maxBytes },
    });
  }
  let document: Document;
  try {
    document = parseXmlSafely(bytes, { maxBytes, what: "the file" }).document;
  } catch (error) {
    // Too deep or too wide to read at all: no classification fits, the file is refused as it is (and is never
    // worth a retry). The parser's pre-scan refused it before building anything.
    if (xmlLimitOf(error) !== undefined) throw error;
    // An AuthTokenRequest we cannot parse (re-encoded, DTD added, cut off) deserves the verifier's precise reason.
    return mentionsAuthTokenRequest(bytes) ? rejectedBy(bytes, undefined, now, maxBytes) : { kind: "not-auth-request" };
  }
  const elements = elementsInDocumentOrder(document.documentElement);
  const requests = elements.filter((e) => e.localName === "AuthTokenRequest" && REQUEST_NAMESPACES.has(e.namespaceURI ?? ""));
  const signatures = elements.filter((e) => e.localName === "Signature" && e.namespaceURI === DSIG);
  if (requests.length === 0) {
    const root = document.documentElement;
    if (root.localName === "Signature" && root.namespaceURI === DSIG) {
      return {
        kind: "rejected",
        reason: "detached",
        ksefExceptionCode: XADES_REJECTION_KSEF_CODES.detached,
        message:
          "The file is a signature without the signed AuthTokenRequest inside it (a detached signature, or an enveloping one with base64-embedded content); KSeF accepts only enveloped or enveloping XAdES that contains the request.",
      };
    }
    return { kind: "not-auth-request" };
  }
  const challenges = new Set(
    elements.filter((e) => e.localName === "Challenge" && REQUEST_NAMESPACES.has(e.namespaceURI ?? "")).map((e) => e.textContent.replace(/\s+/g, " ").trim()),
  );
  const match = pending.find((p) => challenges.has(p.challenge));
  const firstChallenge = [...challenges][0];
  if (signatures.length === 0) {
    return {
      kind: "unsigned",
      ...(firstChallenge === undefined ? {} : { challenge: firstChallenge.slice(0, 64) }),
      ...(match === undefined ? {} : { pending: match }),
    };
  }
  if (match === undefined) return { kind: "unknown-challenge", ...(firstChallenge === undefined ? {} : { challenge: firstChallenge.slice(0, 64) }) };
  if (match.expiresAt.getTime() <= now.getTime()) return { kind: "expired", pending: match };
  return rejectedBy(bytes, match, now, maxBytes);
}

/** Whether undecodable bytes still name an AuthTokenRequest (in an 8-bit encoding, UTF-16LE or UTF-16BE). */
function mentionsAuthTokenRequest(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.toString("latin1").includes("AuthTokenRequest")) return true;
  const even = b.subarray(0, b.byteLength - (b.byteLength % 2));
  return even.toString("utf16le").includes("AuthTokenRequest") || Buffer.from(even).swap16().toString("utf16le").includes("AuthTokenRequest");
}

/** Runs the verifier for `pending` (or without expectations) and turns its verdict into a classification. */
async function rejectedBy(bytes: Uint8Array, pending: PendingSignature | undefined, now: Date, maxBytes: number): Promise<ClassifiedFile> {
  try {
    const expected = pending === undefined ? {} : { challenge: pending.challenge, contextIdentifier: pending.contextIdentifier };
    const verified = await verifySignedAuthTokenRequest(bytes, expected, { now, maxBytes });
    if (pending === undefined) return { kind: "unknown-challenge", challenge: verified.challenge.slice(0, 64) };
    const signer = pending.expectedSigner;
    if (signer !== undefined && !isExpectedSigner(verified.identity, signer)) return { kind: "wrong-signer", pending, verified, expected: signer };
    return { kind: "signed", pending, verified };
  } catch (error) {
    const rejection = xadesRejectionOf(error);
    if (rejection === undefined) {
      throw new KsefCertsError("INTERNAL", "The signature verifier failed unexpectedly on a hand-off file.", { cause: error });
    }
    return {
      kind: "rejected",
      reason: rejection.reason,
      ksefExceptionCode: rejection.ksefExceptionCode,
      message: error instanceof Error ? error.message : String(error),
      ...(pending === undefined ? {} : { pending }),
    };
  }
}
