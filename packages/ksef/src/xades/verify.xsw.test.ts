import { beforeAll, describe, expect, test } from "vitest";
import { KsefCertsError } from "../errors.js";
import { generateKeyPair } from "../crypto/index.js";
import { selfSignedCertificate } from "../testing/index.js";
import { bytes, signWithXmlsec, TEST_NIP, TEST_PESEL, testSigner, unsignedRequest, xmlsecTemplate, xmlsecVerifies } from "./__fixtures__/foreign-signers.js";
import { EVIL_NIP, XSW_CORPUS, type XswOriginals } from "./__fixtures__/xsw.js";
import { DOMParser } from "@xmldom/xmldom";
import { xades } from "../xml/dom.js";
import { verifySignedAuthTokenRequest, XADES_REJECTION_KSEF_CODES, xadesRejectionOf } from "./verify.js";

/** What a naive integration does: load the first ds:Signature into xadesjs and call Verify() (keys from KeyInfo). */
async function naiveXadesjsVerify(xml: string): Promise<boolean> {
  const doc = new DOMParser().parseFromString(xml, "application/xml") as unknown as Document;
  const signed = new (xades().SignedXml)(doc);
  const signature = doc.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Signature")[0];
  if (signature === undefined) return false;
  signed.LoadXml(signature);
  return signed.Verify();
}

let originals: XswOriginals;

beforeAll(async () => {
  const victimKeys = await generateKeyPair("EC-P256");
  const attackerKeys = await generateKeyPair("EC-P256");
  const signer = testSigner(
    victimKeys,
    await selfSignedCertificate(victimKeys, [
      { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
      { oid: "2.5.4.5", value: `PNOPL-${TEST_PESEL}`, stringType: "PrintableString" },
      { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
    ]),
  );
  const attacker = testSigner(
    attackerKeys,
    await selfSignedCertificate(attackerKeys, [
      { oid: "2.5.4.3", value: "Mallory", stringType: "UTF8String" },
      { oid: "2.5.4.5", value: "PNOPL-99999999999", stringType: "PrintableString" },
    ]),
  );
  originals = {
    signer,
    attacker,
    enveloped: signWithXmlsec(xmlsecTemplate(unsignedRequest(), signer), signer),
    // Exclusive C14N, as most signers use: the signed ds:Object digests the same wherever it is moved.
    enveloping: signWithXmlsec(xmlsecTemplate(unsignedRequest(), signer, { packaging: "enveloping", transforms: ["exc-c14n"] }), signer),
  };
});

describe("the genuine originals the attacks start from", () => {
  test("both verify, with xmlsec1 and with us, and name the signed NIP", async () => {
    for (const xml of [originals.enveloped, originals.enveloping]) {
      expect(xmlsecVerifies(xml)).toBe(true);
      const v = await verifySignedAuthTokenRequest(bytes(xml));
      expect(v.contextIdentifier).toEqual({ type: "Nip", value: TEST_NIP });
      expect(v.identity).toEqual({ type: "Pesel", value: TEST_PESEL });
    }
  });
});

describe("XML signature wrapping corpus", () => {
  test("has the published variants (at least 12 distinct cases)", () => {
    expect(XSW_CORPUS.length).toBeGreaterThanOrEqual(12);
    expect(new Set(XSW_CORPUS.map((c) => c.id)).size).toBe(XSW_CORPUS.length);
  });

  for (const attack of XSW_CORPUS) {
    test(`${attack.id}: rejected as ${attack.expected} (${attack.source})`, async () => {
      const xml = await attack.build(originals);
      expect(xml).not.toBe(originals.enveloped);
      expect(xml).not.toBe(originals.enveloping);
      let error: unknown;
      try {
        await verifySignedAuthTokenRequest(bytes(xml));
      } catch (e) {
        error = e;
      }
      expect(error, `${attack.id} was accepted`).toBeInstanceOf(KsefCertsError);
      expect(xadesRejectionOf(error), (error as Error).message).toEqual({
        reason: attack.expected,
        ksefExceptionCode: XADES_REJECTION_KSEF_CODES[attack.expected],
      });
    });
  }
});

describe("why the structural defences matter: the cryptography alone accepts some attacks", () => {
  // xmlsec1 checks signatures, not which element an application reads. These attacks keep every digest
  // and the signature value valid, so a verifier that only asks "is the signature valid?" and then reads
  // the first/root AuthTokenRequest would log into EVIL_NIP.
  for (const id of [
    "evil-root-wrapping-signed-original",
    "evil-object-before-signed-object",
    "bait-challenge-in-object",
    "reference-to-signed-properties-only",
  ]) {
    test(`${id}: xmlsec1 and a naive xadesjs Verify() still say the signature is valid, and the document names ${EVIL_NIP} or evil bait`, async () => {
      const attack = XSW_CORPUS.find((c) => c.id === id);
      expect(attack).toBeDefined();
      const xml = await attack!.build(originals);
      expect(xmlsecVerifies(xml)).toBe(true);
      expect(await naiveXadesjsVerify(xml)).toBe(true);
      expect(xml.includes(EVIL_NIP) || xml.includes("EEEEEEEEEE")).toBe(true);
    });
  }
});
