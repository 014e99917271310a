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
import { MESSAGES_PL, violationMessagePl } from "./messages-pl.js";

function violationsOf(run: () => unknown): readonly Violation[] {
  try {
    run();
  } catch (error) {
    if (isKsefCertsError(error, "VALIDATION")) return error.violations;
    throw error;
  }
  throw new Error("expected a VALIDATION error");
}

describe("Polish messages of the KSeF protocol rules (the web app shows these next to the field)", () => {
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
    const missing = [...rules].filter((rule) => MESSAGES_PL[rule] === undefined);
    expect(missing).toEqual([]);
    for (const v of violations) expect(violationMessagePl(v)).not.toBe(v.message);
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
      expect(MESSAGES_PL[v.rule], v.rule).toBeDefined();
      expect(violationMessagePl(v)).not.toBe(v.message);
    }
  });
});
