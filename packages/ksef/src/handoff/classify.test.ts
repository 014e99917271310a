import { performance } from "node:perf_hooks";
import { beforeAll, describe, expect, test } from "vitest";
import { KsefCertsError } from "../errors.js";
import { XADES_REJECTION_KSEF_CODES, type XadesRejectionReason } from "../xades/verify.js";
import { xmlLimitOf } from "../xml/safe-parse.js";
import { deeplyNestedXml, hostileXmlDocuments } from "../xml/testing.js";
import { classifySignedFile, isExpectedSigner, type ClassifiedFile, type PendingSignature } from "./classify.js";
import { REJECTION_REASONS_PL, problemMessage, problemMessageIn, wrongSignerMessage } from "./messages.js";
import { NIP, makePerson, pendingFor, signedFor, unsignedFor, type Person } from "../testing/signer.js";

let person: Person;
let waiting: PendingSignature;
let other: PendingSignature;
let signed: Uint8Array;

beforeAll(async () => {
  person = await makePerson();
  waiting = pendingFor("enr-1");
  other = pendingFor("enr-2");
  signed = await signedFor(person, waiting);
});

const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

describe("classifySignedFile", () => {
  test("a signed file for a pending challenge is signed and verified, picking the right pending among several", async () => {
    const result = await classifySignedFile(signed, [other, waiting]);
    expect(result.kind).toBe("signed");
    if (result.kind !== "signed") return;
    expect(result.pending).toBe(waiting);
    expect(result.verified.challenge).toBe(waiting.challenge);
    expect(result.verified.identity).toEqual({ type: "Nip", value: NIP });
  });

  test("our own unsigned auth.xml is unsigned, naming the pending request it belongs to", async () => {
    expect(await classifySignedFile(unsignedFor(waiting), [waiting])).toEqual({ kind: "unsigned", challenge: waiting.challenge, pending: waiting });
    expect(await classifySignedFile(unsignedFor(waiting), [])).toEqual({ kind: "unsigned", challenge: waiting.challenge });
  });

  test("a signed file whose challenge expired is expired (judged at `now`)", async () => {
    const later = new Date(waiting.expiresAt.getTime() + 1);
    expect(await classifySignedFile(signed, [waiting], { now: later })).toEqual({ kind: "expired", pending: waiting });
    expect((await classifySignedFile(signed, [waiting], { now: new Date(waiting.expiresAt.getTime() - 1) })).kind).toBe("signed");
  });

  test("a signed file for a challenge nobody waits for is unknown-challenge", async () => {
    expect(await classifySignedFile(signed, [other])).toEqual({ kind: "unknown-challenge", challenge: waiting.challenge });
  });

  test("a tampered signature is rejected with the verifier's reason and KSeF code", async () => {
    const s = text(signed);
    const value = /<ds:SignatureValue>([^<]+)</.exec(s)?.[1] ?? "";
    expect(value.length).toBeGreaterThan(20);
    const flipped = value[5] === "A" ? "B" : "A";
    const tampered = Buffer.from(s.replace(value, value.slice(0, 5) + flipped + value.slice(6)), "utf8");
    const result = await classifySignedFile(tampered, [waiting]);
    expect(result).toMatchObject({ kind: "rejected", reason: "signature-invalid", ksefExceptionCode: 9105, pending: waiting });
  });

  test("a changed request body is rejected as digest-mismatch", async () => {
    const tampered = Buffer.from(text(signed).replace("certificateSubject", "certificateFingerprint"), "utf8");
    expect(await classifySignedFile(tampered, [waiting])).toMatchObject({ kind: "rejected", reason: "digest-mismatch", ksefExceptionCode: 9105 });
  });

  test("a valid signature for another context than the pending one is rejected as context-mismatch", async () => {
    const foreign = await signedFor(person, waiting, "1234563218");
    expect(await classifySignedFile(foreign, [waiting])).toMatchObject({ kind: "rejected", reason: "context-mismatch" });
  });

  test("a signed file re-saved as UTF-16 is rejected (not-utf8, KSeF 21217), not ignored", async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text(signed).replace('encoding="utf-8"', 'encoding="utf-16"'), "utf16le")]);
    expect(await classifySignedFile(utf16, [waiting])).toMatchObject({ kind: "rejected", reason: "not-utf8", ksefExceptionCode: 21217 });
  });

  test("a signature without the request inside (detached) is rejected as detached", async () => {
    const detached = Buffer.from(
      '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Reference URI="auth.xml"/></ds:SignedInfo></ds:Signature>',
      "utf8",
    );
    expect(await classifySignedFile(detached, [waiting])).toMatchObject({ kind: "rejected", reason: "detached", ksefExceptionCode: 9101 });
  });

  test("other documents, non-XML bytes and an AuthTokenRequest-looking element of another namespace are not-auth-request", async () => {
    for (const input of [
      Buffer.from("<Faktura><Challenge>x</Challenge></Faktura>"),
      Buffer.from("%PDF-1.7 binary \u0000\u0001"),
      Buffer.from("<AuthTokenRequest xmlns='urn:other'><Challenge>" + waiting.challenge + "</Challenge></AuthTokenRequest>"),
      new Uint8Array(0),
    ]) {
      expect(await classifySignedFile(input, [waiting])).toEqual({ kind: "not-auth-request" });
    }
  });

  test.each(hostileXmlDocuments())(
    "$name (an AuthTokenRequest on the outside, beyond the $limit limit) is refused with the typed error, in well under a second",
    async (doc) => {
      const started = performance.now();
      const error: unknown = await classifySignedFile(doc.bytes, [waiting]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error).toBeInstanceOf(KsefCertsError);
      expect(error).toMatchObject({ code: "MALFORMED", details: { limit: doc.limit }, violations: [{ rule: `xml.${doc.limit}` }] });
      expect(xmlLimitOf(error)).toBe(doc.limit);
    },
  );

  test("XML too deep is refused whatever it claims to be (no AuthTokenRequest named anywhere) and whatever is pending", async () => {
    const faktura = Buffer.from(Buffer.from(deeplyNestedXml().bytes).toString("utf8").replaceAll("AuthTokenRequest", "Faktura"));
    await expect(classifySignedFile(faktura, [])).rejects.toMatchObject({ code: "MALFORMED", details: { limit: "depth" } });
  });

  test("refuses a file above maxBytes without parsing it", async () => {
    await expect(classifySignedFile(signed, [waiting], { maxBytes: 100 })).rejects.toMatchObject({ code: "TOO_LARGE" });
  });
  test("with an expected signer, a valid signature by someone else is wrong-signer; by that person (NIP on record) signed", async () => {
    const result = await classifySignedFile(signed, [{ ...waiting, expectedSigner: { name: "Jan Kowalski", pesel: "44051401458" } }]);
    expect(result).toMatchObject({
      kind: "wrong-signer",
      expected: { name: "Jan Kowalski", pesel: "44051401458" },
      verified: { identity: { type: "Nip", value: NIP } },
    });
    expect(problemMessage("wrong-signer", { classification: result }).en).toBe(
      `The file was signed by NIP ${NIP}, but this request is for Jan Kowalski (PESEL 44051401458). KSeF issues the certificate to whoever signs, so Jan Kowalski must sign this auth.xml. The file was not sent to KSeF.`,
    );
    expect((await classifySignedFile(signed, [{ ...waiting, expectedSigner: { name: "Anna Nowak", pesel: "44051401458", nip: NIP } }])).kind).toBe("signed");
  });
});

describe("expected signer", () => {
  test("PESEL or NIP on record must match the same kind of identity; a fingerprint never matches; nothing on record matches all", () => {
    const jan = { name: "Jan Kowalski", pesel: "44051401458" };
    expect(isExpectedSigner({ type: "Pesel", value: "44051401458" }, jan)).toBe(true);
    expect(isExpectedSigner({ type: "Pesel", value: "02070803628" }, jan)).toBe(false);
    expect(isExpectedSigner({ type: "Nip", value: NIP }, jan)).toBe(false);
    expect(isExpectedSigner({ type: "Nip", value: NIP }, { name: "Jan", nip: "526-587-76-35" })).toBe(true);
    expect(isExpectedSigner({ type: "Fingerprint", value: "AB".repeat(32) }, jan)).toBe(false);
    expect(isExpectedSigner({ type: "Pesel", value: "02070803628" }, { name: "Stażysta" })).toBe(true);
  });

  test("a signature naming no person has its own reason, in both languages", () => {
    const m = wrongSignerMessage({ type: "Fingerprint", value: "AB".repeat(32) }, { name: "Jan Kowalski", pesel: "44051401458" });
    expect(m.en).toContain("does not name the signer by PESEL or NIP");
    expect(m.en).toContain("this request is for Jan Kowalski (PESEL 44051401458)");
    expect(m.pl).toContain("nie da się odczytać PESEL ani NIP");
  });
});

describe("problem messages", () => {
  test("every verifier rejection reason has a Polish explanation", () => {
    const reasons = Object.keys(XADES_REJECTION_KSEF_CODES) as XadesRejectionReason[];
    for (const r of reasons) expect(REJECTION_REASONS_PL[r], r).toMatch(/\S{3}/);
    expect(Object.keys(REJECTION_REASONS_PL).sort()).toEqual(reasons.sort());
    // Each reason is the catalogue's handoff.rejection.<reason>, present in both languages (never the id itself).
    const rejected = (reason: XadesRejectionReason): ClassifiedFile => ({ kind: "rejected", reason, ksefExceptionCode: 1, message: "x" });
    for (const r of reasons) {
      expect(problemMessageIn("pl", "rejected", { classification: rejected(r) }), r).not.toContain("handoff.rejection");
      expect(problemMessageIn("pl", "rejected", { classification: rejected(r) }), r).toContain(REJECTION_REASONS_PL[r]);
    }
  });

  test("a rejection names the reason in Polish and the KSeF code in both languages", () => {
    const m = problemMessage("rejected", {
      classification: { kind: "rejected", reason: "digest-mismatch", ksefExceptionCode: 9105, message: "Digest differs." },
    });
    expect(m.pl).toContain("skrót się nie zgadza");
    expect(m.pl).toContain("9105");
    expect(m.en).toContain("Digest differs.");
    expect(problemMessage("expired").en).toContain("new auth.xml");
  });
});
