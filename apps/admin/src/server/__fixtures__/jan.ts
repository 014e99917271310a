/**
 * Jan Kowalski's own signature for the suites that talk to the KSeF simulator: a self-signed certificate
 * with his PESEL in the subject's serialNumber (what Profil Zaufany or a qualified signature gives him),
 * accepted by the simulator's XAdES sign-in; KSeF certificates enrolled with it carry his PESEL.
 */
import { generateKeyPair } from "@ksef-certs/ksef/crypto";
import { selfSignedCertificate } from "@ksef-certs/testing/certificates";
import type { XadesSigner } from "@ksef-certs/ksef/xades";

/** Jan's PESEL. */
export const JAN_PESEL = "44051401458";

/**
 * A fresh key and self-signed certificate of Jan (EC P-256), valid for a year.
 * @param validFrom start of validity; default now (give the suite's clock when the simulator runs on it)
 */
export async function janSigner(validFrom?: Date): Promise<XadesSigner> {
  const keys = await generateKeyPair("EC-P256");
  const self = await selfSignedCertificate(
    keys,
    [
      { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
      { oid: "2.5.4.42", value: "Jan", stringType: "UTF8String" },
      { oid: "2.5.4.4", value: "Kowalski", stringType: "UTF8String" },
      { oid: "2.5.4.5", value: `PNOPL-${JAN_PESEL}`, stringType: "PrintableString" },
      { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
    ],
    validFrom === undefined ? {} : { validFrom },
  );
  return { privateKey: keys.privateKey, certificate: self.der };
}
