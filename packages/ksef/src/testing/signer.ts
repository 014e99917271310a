/**
 * Test-only: a person's signing certificate (self-signed, subject serialNumber `TINPL-<NIP>`, as a qualified
 * personal certificate carries it) and helpers that build the files people drop into a hand-off inbox.
 */
import { randomBytes } from "node:crypto";
import { generateKeyPair, type KeyPair } from "../crypto/index.js";
import { selfSignedCertificate } from "./ksef-like-certificate.js";
import { buildAuthTokenRequest } from "../api/auth-token-request.js";
import { signAuthTokenRequest } from "../xades/sign.js";
import type { PendingSignature } from "../handoff/classify.js";

/** A NIP with a valid check digit. */
export const NIP = "5265877635";

/** A person's key and self-signed certificate. */
export interface Person {
  readonly keys: KeyPair;
  readonly certificate: Uint8Array;
}

/**
 * Makes the signing person (one EC P-256 key; call once per test file): Anna Nowak with NIP {@link NIP}, or
 * with `pesel`, a person whose certificate names that PESEL (`PNOPL-<PESEL>`) and `name`.
 */
export async function makePerson(options: { readonly pesel?: string; readonly name?: readonly [given: string, surname: string] } = {}): Promise<Person> {
  const keys = await generateKeyPair("EC-P256");
  const [given, surname] = options.name ?? ["Anna", "Nowak"];
  const cert = await selfSignedCertificate(keys, [
    { oid: "2.5.4.42", value: given, stringType: "UTF8String" },
    { oid: "2.5.4.4", value: surname, stringType: "UTF8String" },
    { oid: "2.5.4.5", value: options.pesel === undefined ? `TINPL-${NIP}` : `PNOPL-${options.pesel}`, stringType: "PrintableString" },
    { oid: "2.5.4.3", value: `${given} ${surname}`, stringType: "UTF8String" },
    { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
  ]);
  return { keys, certificate: cert.der };
}

/** Operator Jan Kowalski's PESEL (valid check digit). */
export const JAN_PESEL = "44051401458";
/** Another person's PESEL (Ewa Lis), who must not enroll Jan's certificate. */
export const OTHER_PESEL = "02070803628";

/** Jan Kowalski ({@link JAN_PESEL}) and Ewa Lis ({@link OTHER_PESEL}), each with a PESEL certificate. */
export async function makeJanAndEwa(): Promise<{ jan: Person; ewa: Person }> {
  const [jan, ewa] = await Promise.all([makePerson({ pesel: JAN_PESEL, name: ["Jan", "Kowalski"] }), makePerson({ pesel: OTHER_PESEL, name: ["Ewa", "Lis"] })]);
  return { jan, ewa };
}

/** A fresh challenge of the XSD form. */
export function newChallenge(): string {
  const hex = (n: number): string => randomBytes(n).toString("hex").toUpperCase();
  return `20260625-CR-${hex(5)}-${hex(5)}-${hex(1)}`;
}

/** A pending signature for a new challenge, expiring `inMs` from `now`. */
export function pendingFor(id: string, inMs = 600_000, now = new Date()): PendingSignature {
  return { id, challenge: newChallenge(), contextIdentifier: { type: "Nip", value: NIP }, expiresAt: new Date(now.getTime() + inMs) };
}

/** The unsigned auth.xml of a pending signature, UTF-8 bytes. */
export function unsignedFor(p: PendingSignature): Uint8Array {
  return Buffer.from(
    buildAuthTokenRequest({
      challenge: p.challenge,
      contextIdentifier: { type: "Nip", value: p.contextIdentifier.value },
      subjectIdentifierType: "certificateSubject",
    }),
    "utf8",
  );
}

/** The auth.xml of a pending signature, signed by the person (XAdES-BES enveloped). */
export function signedFor(person: Person, p: PendingSignature, context = p.contextIdentifier.value): Promise<Uint8Array> {
  return signAuthTokenRequest(
    { challenge: p.challenge, contextIdentifier: { type: "Nip", value: context }, subjectIdentifierType: "certificateSubject" },
    { privateKey: person.keys.privateKey, certificate: person.certificate },
  );
}
