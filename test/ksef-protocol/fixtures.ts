/**
 * Shared pieces of the KSeF protocol end-to-end suites: a person with a self-signed certificate
 * (what KSeF TEST accepts for XAdES), and a login through the simulator with our client and signer.
 */
import type { KeyObject } from "node:crypto";
import { generateKeyPair, type KeyPair } from "@ksef-certs/ksef/crypto";
import type { KsefClient, KsefSession } from "@ksef-certs/ksef/api";
import { selfSignedCertificate } from "@ksef-certs/testing/certificates";
import { type NameAttributeInput } from "@ksef-certs/testing/certificates";
import { signAuthTokenRequest } from "@ksef-certs/ksef/xades";

/** A NIP with a valid check digit (the simulator and our builder check it). */
export const NIP = "5265877635";

/** Someone who can sign: key pair and certificate DER. */
export interface Signer {
  readonly keys: KeyPair;
  readonly certificate: Uint8Array;
}

/**
 * A person with a self-signed qualified-like certificate: serialNumber `TINPL-<NIP>` gives KSeF the NIP identity.
 * @param name given name and surname
 */
export async function selfSignedPerson(name: { givenName: string; surname: string }): Promise<Signer> {
  const keys = await generateKeyPair("EC-P256");
  const subject: NameAttributeInput[] = [
    { oid: "2.5.4.3", value: `${name.givenName} ${name.surname}`, stringType: "UTF8String" },
    { oid: "2.5.4.42", value: name.givenName, stringType: "UTF8String" },
    { oid: "2.5.4.4", value: name.surname, stringType: "UTF8String" },
    { oid: "2.5.4.5", value: `TINPL-${NIP}`, stringType: "PrintableString" },
    { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
  ];
  const cert = await selfSignedCertificate(keys, subject);
  return { keys, certificate: cert.der };
}

/**
 * Challenge → sign (our template signer) → submit → poll → redeem: a KSeF session for `signer` in the NIP context.
 * @param client a client pointed at the simulator
 * @param signer key and certificate
 * @param privateKey override of the signing key (tests of mismatches)
 */
export async function logIn(client: KsefClient, signer: Signer, privateKey: KeyObject = signer.keys.privateKey): Promise<KsefSession> {
  const { challenge } = await client.challenge();
  const signed = await signAuthTokenRequest(
    { challenge, contextIdentifier: { type: "Nip", value: NIP }, subjectIdentifierType: "certificateSubject" },
    { privateKey, certificate: signer.certificate },
  );
  const init = await client.submitXadesSignature(signed);
  await client.waitForAuthentication(init.referenceNumber, init.authenticationToken.token, { intervalMs: 50 });
  return client.openSession(init.authenticationToken.token);
}
