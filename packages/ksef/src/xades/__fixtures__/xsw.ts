/**
 * The XML Signature Wrapping (XSW) corpus: ways to make a verifier accept unsigned content next to a
 * valid signature, each built from a genuinely signed AuthTokenRequest and paired with the rejection
 * reason the verifier must give.
 *
 * Literature: M. McIntosh, P. Austel, "XML Signature Element Wrapping Attacks and Countermeasures"
 * (ACM SWS 2005); J. Somorovsky, M. Heiderich, M. Jensen, J. Schwenk, N. Gruschka, L. Lo Iacono,
 * "All Your Clouds Are Belong to Us" (CCSW 2011); J. Somorovsky, A. Mayer, J. Schwenk, M. Kampmann,
 * M. Jensen, "On Breaking SAML: Be Whoever You Want to Be" (USENIX Security 2012, XSW1–XSW8);
 * K. Ludwig (Duo Labs), comment truncation in SAML libraries (2018, CVE-2017-11427/-11428/-11429).
 * Test-only.
 */
import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import type { XadesRejectionReason } from "../verify.js";
import { signWithXmlsec, type TestSigner, unsignedRequest, xmlsecTemplate } from "./foreign-signers.js";

const DSIG = "http://www.w3.org/2000/09/xmldsig#";
/** A NIP other than the signed one (valid pattern): the context an attacker wants to log into. */
export const EVIL_NIP = "1111111111";

/** The genuine material every attack starts from. */
export interface XswOriginals {
  /** Enveloped, Reference URI="", signed by {@link signer} (xmlsec1). */
  readonly enveloped: string;
  /** Enveloping, Reference URI="#obj" (exclusive C14N) on `<ds:Object Id="obj">` holding the request, signed by {@link signer} (xmlsec1). */
  readonly enveloping: string;
  /** The victim whose signature is abused. */
  readonly signer: TestSigner;
  /** The attacker's own key and certificate. */
  readonly attacker: TestSigner;
}

/** One attack: how to build it and what the verifier must answer. */
export interface XswCase {
  /** Short stable id (test name). */
  readonly id: string;
  /** What the attack does. */
  readonly description: string;
  /** The published attack it instantiates. */
  readonly source: string;
  /** The rejection reason the verifier must give. */
  readonly expected: XadesRejectionReason;
  /** Builds the attacked document from genuine material. */
  readonly build: (o: XswOriginals) => string | Promise<string>;
}

function parse(xml: string): Document {
  return new DOMParser().parseFromString(xml, "application/xml") as unknown as Document;
}

function serialize(node: Node): string {
  return new XMLSerializer().serializeToString(node as never);
}

function first(doc: Document | Element, ns: string, name: string): Element {
  const e = doc.getElementsByTagNameNS(ns, name)[0];
  if (e === undefined) throw new Error(`fixture: no ${name}`);
  return e;
}

function signatureOf(doc: Document): Element {
  return first(doc, DSIG, "Signature");
}

/** The request element of a document (the root, or the one inside ds:Object). */
function requestOf(doc: Document): Element {
  const e = doc.getElementsByTagName("AuthTokenRequest")[0];
  if (e === undefined) throw new Error("fixture: no AuthTokenRequest");
  return e;
}

/** An evil, unsigned AuthTokenRequest (context {@link EVIL_NIP}) as a parsed element. */
function evilRequest(doc: Document): Element {
  const evil = parse(unsignedRequest({ context: { type: "Nip", value: EVIL_NIP } })).documentElement;
  return doc.importNode(evil, true);
}

/** An original's request without its enveloped signature (what an attacker can copy around). */
function requestWithoutSignature(doc: Document): Element {
  const copy = requestOf(doc).cloneNode(true) as Element;
  const sig = copy.getElementsByTagNameNS(DSIG, "Signature")[0];
  sig?.parentNode?.removeChild(sig);
  return copy;
}

function newDocumentWithRoot(root: Element): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serialize(root)}`;
}

/** The corpus; every entry must be rejected with its `expected` reason. */
export const XSW_CORPUS: readonly XswCase[] = [
  {
    id: "evil-root-wrapping-signed-original",
    description:
      "An evil AuthTokenRequest becomes the root; the genuine enveloping signature (with the signed request in its ds:Object) is appended inside it, looking enveloped.",
    source: "McIntosh & Austel 2005 (simple context-based wrapping); Somorovsky et al. 2012 XSW1",
    expected: "signature-wrapping",
    build: (o) => {
      const doc = parse(o.enveloping);
      const evil = evilRequest(doc);
      evil.appendChild(doc.documentElement.cloneNode(true));
      return newDocumentWithRoot(evil);
    },
  },
  {
    id: "evil-root-original-in-object",
    description: "An evil request as root holds the genuine signature; the genuine signed request is moved into a new ds:Object of that signature.",
    source: "Somorovsky et al. 2012 XSW2/XSW3-style (original moved into the Signature's Object); McIntosh & Austel 2005 optional-element wrapping",
    expected: "signature-wrapping",
    build: (o) => {
      const doc = parse(o.enveloped);
      const original = requestWithoutSignature(doc);
      const signature = signatureOf(doc).cloneNode(true) as Element;
      const object = doc.createElementNS(DSIG, `${signature.prefix ?? "ds"}:Object`);
      object.appendChild(original);
      signature.appendChild(object);
      const evil = evilRequest(doc);
      evil.appendChild(signature);
      return newDocumentWithRoot(evil);
    },
  },
  {
    id: "evil-object-before-signed-object",
    description: "Enveloping: a second ds:Object with an evil request is inserted before the signed one, for readers that take the first request they find.",
    source: "Somorovsky et al. 2011 (wrapping inside ds:Object); Somorovsky et al. 2012 XSW7/XSW8 (extension/Object placement)",
    expected: "signature-wrapping",
    build: (o) => {
      const doc = parse(o.enveloping);
      const signature = doc.documentElement;
      const object = doc.createElementNS(DSIG, `${signature.prefix ?? "ds"}:Object`);
      object.appendChild(evilRequest(doc));
      const signedObject = first(doc, DSIG, "Object");
      signature.insertBefore(object, signedObject);
      return serialize(doc);
    },
  },
  {
    id: "duplicate-id-object",
    description: 'Enveloping: an evil ds:Object carrying the same Id="obj" as the signed one is placed first, so an Id lookup may return either.',
    source: "McIntosh & Austel 2005 (Id-based wrapping); Somorovsky et al. 2012 XSW (duplicate ID resolution)",
    expected: "signature-wrapping",
    build: (o) => {
      const doc = parse(o.enveloping);
      const signature = doc.documentElement;
      const signedObject = first(doc, DSIG, "Object");
      const evilObject = signedObject.cloneNode(false) as Element;
      evilObject.appendChild(doc.createComment(" evil content with the signed Id "));
      signature.insertBefore(evilObject, signedObject);
      return serialize(doc);
    },
  },
  {
    id: "duplicate-id-signed-properties",
    description:
      'A second SignedProperties with the genuine Id="sp" and an attacker\'s Profil Zaufany PESEL is placed before the genuine one (identity spoofing via properties).',
    source: "Somorovsky et al. 2012 (duplicate-Id wrapping applied to signed properties); McIntosh & Austel 2005",
    expected: "signature-wrapping",
    build: (o) => {
      const doc = parse(o.enveloped);
      const signature = signatureOf(doc);
      const signedObject = signature.getElementsByTagNameNS(DSIG, "Object")[0];
      if (signedObject === undefined) throw new Error("fixture: no Object");
      const evil = signedObject.cloneNode(true) as Element;
      const role = parse(
        `<xades:SignerRole xmlns:xades="http://uri.etsi.org/01903/v1.3.2#"><xades:ClaimedRoles><xades:ClaimedRole><ppZP:PodpisZP xmlns:ppZP="http://crd.gov.pl/xml/schematy/ppzp/" xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/11/16/"><ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej><os:Imie>Evil</os:Imie><os:Nazwisko>Mallory</os:Nazwisko><os:PESEL>99999999999</os:PESEL></ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP></ppZP:PodpisZP></xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole>`,
      ).documentElement;
      first(evil, "http://uri.etsi.org/01903/v1.3.2#", "SignedSignatureProperties").appendChild(doc.importNode(role, true));
      signature.insertBefore(evil, signedObject);
      return serialize(doc);
    },
  },
  {
    id: "second-signature",
    description: "A second ds:Signature (the attacker's copy) is appended to the root, so a verifier may check one and a reader trust the other.",
    source: "Somorovsky et al. 2012 (multiple signatures / XSW with a second Signature); KSeF 9103",
    expected: "multiple-signatures",
    build: (o) => {
      const doc = parse(o.enveloped);
      doc.documentElement.appendChild(signatureOf(doc).cloneNode(true));
      return serialize(doc);
    },
  },
  {
    id: "signature-nested-in-object",
    description: "The attacker's signed document is hidden inside a ds:Object of the genuine signature (a signature within a signature).",
    source: "Somorovsky et al. 2012 XSW5/XSW6-style (signature nested in wrapped content)",
    expected: "multiple-signatures",
    build: (o) => {
      const doc = parse(o.enveloped);
      const signature = signatureOf(doc);
      const object = doc.createElementNS(DSIG, `${signature.prefix ?? "ds"}:Object`);
      const foreign = parse(o.enveloping).documentElement;
      object.appendChild(doc.importNode(foreign, true));
      signature.appendChild(object);
      return serialize(doc);
    },
  },
  {
    id: "reference-to-signed-properties-only",
    description:
      "A genuinely signed file whose data Reference points at a part (the SignedProperties) instead of the request root: the request itself is unsigned.",
    source: "McIntosh & Austel 2005 (references that do not cover the processed element)",
    expected: "reference-not-covering-root",
    build: (o) =>
      signWithXmlsec(
        xmlsecTemplate(unsignedRequest({ context: { type: "Nip", value: EVIL_NIP } }), o.attacker, { documentReferenceUri: "#sp", transforms: ["exc-c14n"] }),
        o.attacker,
      ),
  },
  {
    id: "reference-to-other-object",
    description: "Enveloping: the Reference covers a harmless ds:Object; the request sits in a second, unreferenced ds:Object.",
    source: "Somorovsky et al. 2011 (signed data and processed data are different elements)",
    expected: "reference-not-covering-root",
    build: (o) => {
      const template = xmlsecTemplate(unsignedRequest({ context: { type: "Nip", value: EVIL_NIP } }), o.attacker, {
        packaging: "enveloping",
        documentReferenceUri: "#note",
      }).replace("</ds:Signature>", `<ds:Object Id="note"><Note xmlns="urn:example:note">harmless</Note></ds:Object></ds:Signature>`);
      return signWithXmlsec(template, o.attacker);
    },
  },
  {
    id: "signature-moved-outside",
    description: "The signature is moved out of the signed request: a new root holds the (unsigned-now) request and the signature as siblings.",
    source: "McIntosh & Austel 2005 (sibling wrapping); Somorovsky et al. 2012 XSW3/XSW4",
    expected: "signature-wrapping",
    build: (o) => {
      const doc = parse(o.enveloped);
      const wrapper = doc.createElementNS("urn:example:wrapper", "Envelope");
      wrapper.appendChild(requestWithoutSignature(doc));
      wrapper.appendChild(signatureOf(doc).cloneNode(true));
      return newDocumentWithRoot(wrapper);
    },
  },
  {
    id: "injected-second-challenge",
    description: "An evil Challenge is injected right after the signed one (readers taking the last Challenge get the evil one).",
    source: "McIntosh & Austel 2005 (element injection); XSD sequence violation",
    expected: "xsd-violation",
    build: (o) => {
      const doc = parse(o.enveloped);
      const challenge = doc.getElementsByTagName("Challenge")[0];
      if (challenge === undefined) throw new Error("fixture: no Challenge");
      const evil = challenge.cloneNode(true) as Element;
      (evil.firstChild as Node).nodeValue = "20260625-CR-EEEEEEEEEE-EEEEEEEEEE-EE";
      challenge.parentNode?.insertBefore(evil, challenge.nextSibling);
      return serialize(doc);
    },
  },
  {
    id: "bait-challenge-in-object",
    description:
      "An evil Challenge (request namespace) is placed in a ds:Object of the signature, outside the signed content, for readers that search by name.",
    source: "Somorovsky et al. 2012 XSW7/XSW8 (content in unsigned extension points)",
    expected: "signature-wrapping",
    build: (o) => {
      const doc = parse(o.enveloped);
      const signature = signatureOf(doc);
      const object = doc.createElementNS(DSIG, `${signature.prefix ?? "ds"}:Object`);
      const challenge = doc.createElementNS("http://ksef.mf.gov.pl/auth/token/2.0", "Challenge");
      challenge.appendChild(doc.createTextNode("20260625-CR-EEEEEEEEEE-EEEEEEEEEE-EE"));
      object.appendChild(challenge);
      signature.appendChild(object);
      return serialize(doc);
    },
  },
  {
    id: "original-in-comment",
    description:
      "An evil root carries the genuine signature; the genuine request is kept in a comment (C14N drops comments, so the digest is over the evil root).",
    source: "Comment-based wrapping (Somorovsky et al. 2012 §5; Duo Labs 2018 comment handling)",
    expected: "digest-mismatch",
    build: (o) => {
      const doc = parse(o.enveloped);
      const original = serialize(requestWithoutSignature(doc));
      const evil = evilRequest(doc);
      evil.appendChild(doc.createComment(original.replace(/--/g, "- -")));
      evil.appendChild(signatureOf(doc).cloneNode(true));
      return newDocumentWithRoot(evil);
    },
  },
  {
    id: "original-in-cdata",
    description: "An evil root carries the genuine signature; the genuine request is kept as CDATA text in a ds:Object.",
    source: "CDATA smuggling (Somorovsky et al. 2012 §5, parser differentials)",
    expected: "digest-mismatch",
    build: (o) => {
      const doc = parse(o.enveloped);
      const original = serialize(requestWithoutSignature(doc));
      const evil = evilRequest(doc);
      const signature = signatureOf(doc).cloneNode(true) as Element;
      const object = doc.createElementNS(DSIG, `${signature.prefix ?? "ds"}:Object`);
      object.appendChild(doc.createCDATASection(original));
      signature.appendChild(object);
      evil.appendChild(signature);
      return newDocumentWithRoot(evil);
    },
  },
  {
    id: "original-in-processing-instruction",
    description: "An evil root carries the genuine signature; the genuine request is kept in a processing instruction.",
    source: "Processing-instruction smuggling (parser differentials; Somorovsky et al. 2012 §5)",
    expected: "digest-mismatch",
    build: (o) => {
      const doc = parse(o.enveloped);
      const original = serialize(requestWithoutSignature(doc));
      const evil = evilRequest(doc);
      evil.insertBefore(doc.createProcessingInstruction("original", original.replace(/\?>/g, "? >")), evil.firstChild);
      evil.appendChild(signatureOf(doc).cloneNode(true));
      return newDocumentWithRoot(evil);
    },
  },
  {
    id: "detached-external-uri",
    description: "The data Reference points at an external file: the signature is detached from the document it arrives with.",
    source: "XMLDSig detached signatures (KSeF 9101: detached is rejected)",
    expected: "detached",
    build: (o) => o.enveloped.replace('URI=""', 'URI="https://example.com/AuthTokenRequest.xml"'),
  },
  {
    id: "detached-missing-id",
    description: "The data Reference points at an Id that is not in the document.",
    source: "XMLDSig detached signatures; McIntosh & Austel 2005 (dangling references)",
    expected: "detached",
    build: (o) => o.enveloping.replace('URI="#obj"', 'URI="#elsewhere"'),
  },
  {
    id: "tampered-content",
    description: "The context NIP of the signed request is changed.",
    source: "Baseline integrity (XMLDSig §3.2.1 reference validation)",
    expected: "digest-mismatch",
    build: (o) => o.enveloped.replace(/<Nip>\d{10}<\/Nip>/, `<Nip>${EVIL_NIP}</Nip>`),
  },
  {
    id: "tampered-signature-value",
    description: "One byte of the SignatureValue is changed.",
    source: "Baseline integrity (XMLDSig §3.2.2 signature validation)",
    expected: "signature-invalid",
    build: (o) => {
      const doc = parse(o.enveloped);
      const value = first(doc, DSIG, "SignatureValue");
      const raw = Buffer.from(value.textContent.replace(/\s+/g, ""), "base64");
      raw[10] = (raw[10] ?? 0) ^ 0x01;
      while (value.firstChild !== null) value.removeChild(value.firstChild);
      value.appendChild(doc.createTextNode(raw.toString("base64")));
      return serialize(doc);
    },
  },
  {
    id: "certificate-substitution",
    description:
      "The attacker signs with his own key and puts the victim's certificate into KeyInfo (no SigningCertificate), hoping the verifier trusts KeyInfo for identity and any key for the signature.",
    source: "Key/identity confusion (Somorovsky et al. 2011 §4; XAdES SigningCertificate rationale, ETSI EN 319 132-1 §5.2.2)",
    expected: "signature-invalid",
    build: (o) => {
      const signed = signWithXmlsec(
        xmlsecTemplate(unsignedRequest({ context: { type: "Nip", value: EVIL_NIP } }), o.attacker, { signingCertificate: "none" }),
        o.attacker,
      );
      const doc = parse(signed);
      const cert = first(doc, DSIG, "X509Certificate");
      while (cert.firstChild !== null) cert.removeChild(cert.firstChild);
      cert.appendChild(doc.createTextNode(Buffer.from(o.signer.der).toString("base64")));
      return serialize(doc);
    },
  },
  {
    id: "doctype-with-entity",
    description: "A DOCTYPE declares an entity used in the request (entity expansion / XXE vector).",
    source: "OWASP XXE; Somorovsky et al. 2011 (DTD-based attacks on signature processing)",
    expected: "dtd-or-entity",
    build: (o) =>
      o.enveloped
        .replace(/^(<\?xml[^>]*\?>\s*)?/, `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE AuthTokenRequest [<!ENTITY nip "${EVIL_NIP}">]>\n`)
        .replace(/<Nip>\d{10}<\/Nip>/, "<Nip>&nip;</Nip>"),
  },
];
