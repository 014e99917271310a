import { afterAll, describe, expect, it } from "vitest";
import { thrown } from "../testing/errors.js";
import { XmlToolsDir } from "../xades/__fixtures__/xmlsec.js";
import {
  AUTH_CHALLENGE_PATTERN,
  AUTH_TOKEN_REQUEST_NAMESPACE_2_0,
  AUTH_TOKEN_REQUEST_NAMESPACE_2_1,
  type AuthTokenRequestInput,
  buildAuthTokenRequest,
  checkAuthTokenRequestInput,
} from "./auth-token-request.js";

const tools = new XmlToolsDir();
afterAll(() => {
  tools.cleanup();
});

const CHALLENGE = "20250625-CR-20F5EE4000-DA48AE4124-46";
const CONTEXTS: AuthTokenRequestInput["contextIdentifier"][] = [
  { type: "Nip", value: "5265877635" },
  { type: "InternalId", value: "5265877635-00017" },
  { type: "NipVatUe", value: "5265877635-ATU12345678" },
  { type: "PeppolId", value: "PPL123456" },
];
const SUBJECTS = ["certificateSubject", "certificateFingerprint"] as const;
const POLICY: AuthTokenRequestInput["authorizationPolicy"] = {
  allowedIps: { ip4Addresses: ["192.168.0.1", "10.0.0.255"], ip4Ranges: ["10.0.0.1-10.0.0.99"], ip4Masks: ["172.16.0.0/12", "0.0.0.0/0"] },
};

describe("buildAuthTokenRequest", () => {
  const variants: AuthTokenRequestInput[] = [];
  for (const namespace of ["2.0", "2.1"] as const)
    for (const contextIdentifier of CONTEXTS)
      for (const subjectIdentifierType of SUBJECTS)
        for (const withPolicy of [false, true])
          variants.push({ challenge: CHALLENGE, contextIdentifier, subjectIdentifierType, namespace, ...(withPolicy ? { authorizationPolicy: POLICY } : {}) });

  it("covers 4 context types × 2 subject types × with/without policy × 2 namespaces", () => {
    expect(variants).toHaveLength(32);
  });

  it.each(variants.map((v, i) => [i, v] as const))("variant %i validates against the official XSD with xmllint", (_i, input) => {
    const xml = buildAuthTokenRequest(input);
    const r = tools.validate(xml, input.namespace ?? "2.0");
    expect(r.stderr).toContain("validates");
    expect(r.status).toBe(0);
  });

  it("writes the declaration, the namespace, XSD order and no whitespace", () => {
    const xml = buildAuthTokenRequest({
      challenge: CHALLENGE,
      contextIdentifier: { type: "Nip", value: "5265877635" },
      subjectIdentifierType: "certificateSubject",
      authorizationPolicy: POLICY,
    });
    expect(xml).toBe(
      `<?xml version="1.0" encoding="utf-8"?><AuthTokenRequest xmlns="${AUTH_TOKEN_REQUEST_NAMESPACE_2_0}"><Challenge>${CHALLENGE}</Challenge>` +
        `<ContextIdentifier><Nip>5265877635</Nip></ContextIdentifier><SubjectIdentifierType>certificateSubject</SubjectIdentifierType>` +
        `<AuthorizationPolicy><AllowedIps><Ip4Address>192.168.0.1</Ip4Address><Ip4Address>10.0.0.255</Ip4Address><Ip4Range>10.0.0.1-10.0.0.99</Ip4Range>` +
        `<Ip4Mask>172.16.0.0/12</Ip4Mask><Ip4Mask>0.0.0.0/0</Ip4Mask></AllowedIps></AuthorizationPolicy></AuthTokenRequest>`,
    );
    const v21 = buildAuthTokenRequest({
      challenge: CHALLENGE,
      contextIdentifier: { type: "Nip", value: "5265877635" },
      subjectIdentifierType: "certificateSubject",
      namespace: "2.1",
    });
    expect(v21).toContain(`<AuthTokenRequest xmlns="${AUTH_TOKEN_REQUEST_NAMESPACE_2_1}">`);
  });

  it("xmllint rejects what the builder refuses (the oracle is not blind): a bad NIP and an IP mask /33", () => {
    const good = buildAuthTokenRequest({
      challenge: CHALLENGE,
      contextIdentifier: { type: "Nip", value: "5265877635" },
      subjectIdentifierType: "certificateSubject",
      authorizationPolicy: POLICY,
    });
    for (const version of ["2.0", "2.1"] as const) {
      const text = version === "2.0" ? good : good.replace(AUTH_TOKEN_REQUEST_NAMESPACE_2_0, AUTH_TOKEN_REQUEST_NAMESPACE_2_1);
      expect(tools.validate(text, version).status).toBe(0);
      expect(tools.validate(text.replace("5265877635", "0265877635"), version).status).not.toBe(0);
      expect(tools.validate(text.replace("172.16.0.0/12", "172.16.0.0/33"), version).status).not.toBe(0);
      expect(tools.validate(text.replace("192.168.0.1", "192.168.0.01"), version).status).not.toBe(0);
    }
  });

  it("the official XSD files as libxml2 reads them: 2.0 does not compile, 2.1 takes ^…$ literally (why the oracle repairs them)", () => {
    const peppol = buildAuthTokenRequest({
      challenge: CHALLENGE,
      contextIdentifier: { type: "PeppolId", value: "PPL123456" },
      subjectIdentifierType: "certificateSubject",
      namespace: "2.1",
    });
    const v21 = tools.validateOfficial(peppol, "2.1");
    expect(v21.status).not.toBe(0);
    expect(v21.stderr).toContain("'^P[A-Z]{2}[0-9]{6}$'");
    expect(tools.validate(peppol, "2.1").status).toBe(0);
    const nip = buildAuthTokenRequest({
      challenge: CHALLENGE,
      contextIdentifier: { type: "Nip", value: "5265877635" },
      subjectIdentifierType: "certificateSubject",
    });
    const v20 = tools.validateOfficial(nip, "2.0");
    expect(v20.status).not.toBe(0);
    expect(v20.stderr).toContain("failed to compile");
    expect(tools.validateOfficial(nip.replace(AUTH_TOKEN_REQUEST_NAMESPACE_2_0, AUTH_TOKEN_REQUEST_NAMESPACE_2_1), "2.1").status).toBe(0);
  });

  it("refuses a bad input with every violation listed", () => {
    const input = {
      challenge: "20250625-CR-20f5ee4000-DA48AE4124-46",
      contextIdentifier: { type: "Nip", value: "5265877636" },
      subjectIdentifierType: "certificateName",
      authorizationPolicy: {
        allowedIps: {
          ip4Addresses: ["256.1.1.1", "1.2.3.4"],
          ip4Ranges: ["10.0.0.9-10.0.0.1"],
          ip4Masks: ["1.1.1.1/24", "2.2.2.2/8", "10.0.0.0/33", ...Array<string>(8).fill("10.0.0.0/8")],
        },
      },
      namespace: "3.0",
    } as unknown as AuthTokenRequestInput;
    const err = thrown(() => buildAuthTokenRequest(input));
    expect(err.code).toBe("VALIDATION");
    expect(err.violations.map((v) => [v.field, v.rule])).toEqual([
      ["challenge", "authTokenRequest.challenge.format"],
      ["contextIdentifier.value", "nip.checksum"],
      ["subjectIdentifierType", "authTokenRequest.subjectIdentifierType"],
      ["authorizationPolicy.allowedIps.ip4Addresses[0]", "authTokenRequest.allowedIps.format"],
      ["authorizationPolicy.allowedIps.ip4Ranges[0]", "authTokenRequest.allowedIps.rangeOrder"],
      ["authorizationPolicy.allowedIps.ip4Masks", "authTokenRequest.allowedIps.count"],
      ["authorizationPolicy.allowedIps.ip4Masks[2]", "authTokenRequest.allowedIps.format"],
      ["namespace", "authTokenRequest.namespace"],
    ]);
    expect(err.message).toContain("The AuthTokenRequest cannot be built");
  });

  it("checks each context type's value by its own rule", () => {
    const rules = (contextIdentifier: AuthTokenRequestInput["contextIdentifier"]): string[] =>
      checkAuthTokenRequestInput({ challenge: CHALLENGE, contextIdentifier, subjectIdentifierType: "certificateSubject" }).map((v) => v.rule);
    expect(rules({ type: "InternalId", value: "5265877635-00018" })).toEqual(["internalId.checksum"]);
    expect(rules({ type: "InternalId", value: "5265877635" })).toEqual(["internalId.format"]);
    expect(rules({ type: "NipVatUe", value: "5265877635-AT12345678" })).toEqual(["authTokenRequest.nipVatUe.format"]);
    expect(rules({ type: "NipVatUe", value: "5265877636-ATU12345678" })).toEqual(["nip.checksum"]);
    expect(rules({ type: "NipVatUe", value: "5265877635-DE123456789" })).toEqual([]);
    expect(rules({ type: "PeppolId", value: "PPL12345" })).toEqual(["authTokenRequest.peppolId.format"]);
    expect(rules({ type: "Pesel" as "Nip", value: "44051401359" })).toEqual(["authTokenRequest.contextIdentifier.type"]);
  });

  it("refuses an empty allow-list and a missing allowedIps", () => {
    const base = { challenge: CHALLENGE, contextIdentifier: { type: "Nip", value: "5265877635" }, subjectIdentifierType: "certificateSubject" } as const;
    expect(checkAuthTokenRequestInput({ ...base, authorizationPolicy: { allowedIps: {} } }).map((v) => v.rule)).toEqual(["authTokenRequest.allowedIps.empty"]);
    expect(checkAuthTokenRequestInput({ ...base, authorizationPolicy: {} as never }).map((v) => v.rule)).toEqual(["authTokenRequest.allowedIps.missing"]);
  });

  it("accepts exactly the challenge shape of the XSD", () => {
    expect(AUTH_CHALLENGE_PATTERN.test(CHALLENGE)).toBe(true);
    expect(AUTH_CHALLENGE_PATTERN.test(` ${CHALLENGE}`)).toBe(false);
    expect(AUTH_CHALLENGE_PATTERN.test(`${CHALLENGE}0`)).toBe(false);
    expect(AUTH_CHALLENGE_PATTERN.test(CHALLENGE.replace("-CR-", "-AU-"))).toBe(false);
  });
});
