import { describe, expect, it } from "vitest";
import { thrown } from "../testing/errors.js";
import { type AuthTokenRequestInput, buildAuthTokenRequest } from "../api/auth-token-request.js";
import { XML_DECLARATION, canonicalAuthTokenRequest, formatSigningTime } from "./template.js";

const CONTEXTS: AuthTokenRequestInput["contextIdentifier"][] = [
  { type: "Nip", value: "5265877635" },
  { type: "InternalId", value: "5265877635-00017" },
  { type: "NipVatUe", value: "5265877635-NL12345678+*AB" },
  { type: "PeppolId", value: "PPL123456" },
];

describe("canonicalAuthTokenRequest", () => {
  it("is byte for byte buildAuthTokenRequest without its declaration, for every variant", () => {
    let n = 0;
    for (const namespace of ["2.0", "2.1"] as const)
      for (const contextIdentifier of CONTEXTS)
        for (const subjectIdentifierType of ["certificateSubject", "certificateFingerprint"] as const)
          for (const authorizationPolicy of [
            undefined,
            { allowedIps: { ip4Addresses: ["1.2.3.4"], ip4Ranges: ["1.2.3.4-1.2.3.5"], ip4Masks: ["1.2.3.0/24"] } },
            { allowedIps: { ip4Masks: ["0.0.0.0/0"] } },
          ]) {
            const input: AuthTokenRequestInput = {
              challenge: "20250625-CR-20F5EE4000-DA48AE4124-46",
              contextIdentifier,
              subjectIdentifierType,
              namespace,
              ...(authorizationPolicy === undefined ? {} : { authorizationPolicy }),
            };
            expect(XML_DECLARATION + canonicalAuthTokenRequest(input)).toBe(buildAuthTokenRequest(input));
            n++;
          }
    expect(n).toBe(48);
  });

  it("validates like the builder", () => {
    const err = thrown(() =>
      canonicalAuthTokenRequest({ challenge: "", contextIdentifier: { type: "PeppolId", value: "x" }, subjectIdentifierType: "certificateSubject" }),
    );
    expect(err.code).toBe("VALIDATION");
    expect(err.violations.map((v) => v.field)).toEqual(["challenge", "contextIdentifier.value"]);
  });
});

describe("formatSigningTime", () => {
  it("writes UTC with whole seconds and Z", () => {
    expect(formatSigningTime(new Date("2026-01-02T03:04:05.999+02:00"))).toBe("2026-01-02T01:04:05Z");
  });
});
