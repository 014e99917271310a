import { describe, expect, it } from "vitest";
import { generateKeyPair } from "../crypto/keys.js";
import { issueKsefLikeCertificate } from "../testing/ksef-like-certificate.js";
import { isKsefCertsError, type Violation } from "../errors.js";
import { checkAuthTokenRequestInput } from "../api/auth-token-request.js";
import { kod1Url } from "../qr/kod1.js";
import { prepareKod2Signer } from "../qr/kod2.js";
import { renderQr } from "../qr/render.js";
import { parseXmlSafely } from "../xml/safe-parse.js";
import { hostileXmlDocuments } from "../xml/testing.js";
import { CATALOGUES, isMessageId, translate } from "../messages/index.js";
import { MESSAGES_PL, violationMessagePl } from "./messages-pl.js";
import { checkCertificateName } from "./certificate-name.js";
import { checkInternalId, checkNip, checkPesel } from "./identifiers.js";
import { checkPassword } from "./password.js";

function violationsOf(run: () => unknown): readonly Violation[] {
  try {
    run();
  } catch (error) {
    if (isKsefCertsError(error, "VALIDATION")) return error.violations;
    throw error;
  }
  throw new Error("expected a VALIDATION error");
}

/** A violation's sentence in one locale, through the catalogue (`rule.<rule>`). */
const say = (locale: "pl" | "en", v: Violation): string =>
  translate(locale, { id: `rule.${v.rule}` as never, ...(v.params === undefined ? {} : { params: v.params }) });

/** Rules without a `rule.<rule>` entry in both catalogues. */
const uncatalogued = (violations: readonly Violation[]): string[] =>
  [...new Set(violations.map((v) => v.rule))].filter((r) => !isMessageId(`rule.${r}`) || !Object.keys(CATALOGUES.pl).some((k) => k === `rule.${r}`));

describe("catalogue sentences of the policy rules (forms show them next to the field)", () => {
  it("exist in both locales for every rule the policies produce, and differ between them", () => {
    const violations = [
      ...checkCertificateName("a.b"),
      ...checkCertificateName("Oddział?", { profile: "ksef-app" }),
      ...checkPassword("short", "ksef-app"),
      ...checkPassword("Zażółćgęśląjaźń1!", "ksef-app"),
      ...checkPassword("abcdefghijkl", "f2000"),
      ...checkPassword("ab", "f2000"),
      ...checkPassword("ABCDEFGHIJKLMNOP", "ksef-app"),
      ...checkPassword("abcdefghijklmnop", "ksef-app"),
      ...checkNip("0000000001"),
      ...checkNip("52658776"),
      ...checkPesel("99999999999"),
      ...checkPesel("1"),
      ...checkInternalId("5265877635-00010"),
      ...checkInternalId("x"),
    ];
    expect(new Set(violations.map((v) => v.rule)).size).toBeGreaterThanOrEqual(17);
    expect(uncatalogued(violations)).toEqual([]);
    for (const v of violations) {
      expect(v.message, v.rule).toBe(say("en", v));
      expect(say("pl", v), v.rule).not.toBe(v.message);
      expect(say("pl", v), v.rule).not.toMatch(/\{\{/);
    }
  });

  it("pick the variant of a sentence by the rule's context (password length with and without a maximum)", () => {
    const [app] = checkPassword("short", "ksef-app");
    const [f2000] = checkPassword("Ab1?", "f2000");
    expect([app?.message, f2000?.message]).toEqual(["The password must have 15 to 32 characters.", "The password must have at least 12 characters."]);
    expect([say("pl", app as Violation), say("pl", f2000 as Violation)]).toEqual([
      "Hasło musi mieć od 15 do 32 znaków.",
      "Hasło musi mieć co najmniej 12 znaków.",
    ]);
  });

  it("are what the deprecated MESSAGES_PL and violationMessagePl still return", () => {
    const [v] = checkNip("5265877636");
    expect(v?.rule).toBe("nip.checksum");
    expect(MESSAGES_PL["nip.checksum"]?.({})).toBe(say("pl", v as Violation));
    expect(violationMessagePl(v as Violation)).toBe("Błędna cyfra kontrolna NIP: sprawdź, czy nie ma literówki.");
    expect(violationMessagePl({ field: "x", rule: "no.such.rule", message: "English only." })).toBe("English only.");
  });
});

describe("catalogue sentences of the KSeF protocol rules (the web app shows these next to the field)", () => {
  it("exist for every rule a broken AuthTokenRequest, KOD I/KOD II input or QR label produces", async () => {
    const keys = await generateKeyPair("EC-P256");
    const enrollmentData = { commonName: "Firma", countryName: "PL", organizationIdentifier: "VATPL-5265877635", organizationName: "Firma" };
    const auth = await issueKsefLikeCertificate({ certificateType: "Authentication", keys, enrollmentData });
    const violations = [
      ...checkAuthTokenRequestInput({
        challenge: "nie-wyzwanie",
        contextIdentifier: { type: "NipVatUe", value: "1234" },
        subjectIdentifierType: "certificateSubject",
        authorizationPolicy: { allowedIps: { ip4Addresses: ["300.1.1.1"], ip4Ranges: ["10.0.0.9-10.0.0.1"] } },
      }),
      ...checkAuthTokenRequestInput({
        challenge: "20250625-CR-20F5EE4000-DA48AE4124-46",
        contextIdentifier: { type: "PeppolId", value: "X" },
        subjectIdentifierType: "certificateSubject",
        authorizationPolicy: { allowedIps: {} },
      }),
      ...violationsOf(() => kod1Url({ environment: "test", sellerNip: "5265877635", issueDate: "2026-13-45", invoice: new Uint8Array() })),
      ...violationsOf(() =>
        prepareKod2Signer({
          environment: "test",
          contextIdentifier: { type: "Nip", value: "5265877635" },
          sellerNip: "5265877635",
          certificate: auth.der,
          privateKey: keys.privateKey,
        }),
      ),
      ...violationsOf(() => renderQr({ url: "https://qr-test.ksef.mf.gov.pl/invoice/x", label: "ofline?", format: "svg" })),
    ];
    const rules = new Set(violations.map((v) => v.rule));
    expect(rules.size).toBeGreaterThanOrEqual(8);
    expect(uncatalogued(violations)).toEqual([]);
    for (const v of violations) expect(say("pl", v)).not.toBe(v.message);
  });

  it("exist for every structure limit of XML read from outside (the upload forms show them)", () => {
    const violations = hostileXmlDocuments().flatMap((doc) => {
      try {
        parseXmlSafely(doc.bytes);
      } catch (error) {
        if (isKsefCertsError(error, "MALFORMED")) return error.violations;
        throw error;
      }
      throw new Error(`expected ${doc.name} to be refused`);
    });
    expect(violations.map((v) => v.rule)).toEqual(["xml.depth", "xml.elements", "xml.attributes"]);
    for (const v of violations) {
      expect(uncatalogued([v])).toEqual([]);
      expect(say("pl", v)).not.toBe(v.message);
      expect(say("pl", v)).toContain(String(v.params?.["max"]));
    }
  });
});
