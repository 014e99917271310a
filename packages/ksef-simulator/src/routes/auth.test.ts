/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-assignment --
   Response bodies are read as loose JSON here; their shape is checked against the OpenAPI schema by expectConformingResponses. */
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Credential,
  call,
  expectConformingResponses,
  newSimulator,
  personCredential,
  signIn,
  signRequest,
  movableClock,
} from "../__fixtures__/harness.js";

let person: Credential;

beforeAll(async () => {
  person = await personCredential("44051401458");
});

describe("XAdES sign-in", () => {
  it("runs challenge → signed request (verified for real) → status 200 → redeem, once", async () => {
    const sim = await newSimulator();
    const challenge = await call(sim, "POST", "/auth/challenge");
    const signed = await signRequest(challenge.body.challenge as string, person);
    const init = await call(sim, "POST", "/auth/xades-signature", { xml: signed });
    expect(init.status).toBe(202);
    expect(init.body.referenceNumber).toMatch(/^\d{8}-AU-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$/);
    const authToken = init.body.authenticationToken.token as string;
    expect(authToken.split(".")).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(authToken.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ "token-type": "OperationToken", "operation-reference-number": init.body.referenceNumber });

    const status = await call(sim, "GET", `/auth/${init.body.referenceNumber as string}`, { token: authToken });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      status: { code: 200 },
      authenticationMethod: "QualifiedSignature",
      authenticationMethodInfo: { category: "XadesSignature" },
      isTokenRedeemed: false,
    });

    const tokens = await call(sim, "POST", "/auth/token/redeem", { token: authToken });
    expect(tokens.status).toBe(200);
    const access = JSON.parse(Buffer.from((tokens.body.accessToken.token as string).split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
    expect(access).toMatchObject({ "token-type": "ContextToken", "context-identifier-type": "Nip", "context-identifier-value": "5265877635" });
    expect(JSON.parse(access["subject-details"] as string)).toEqual({ SubjectIdentifier: { Type: "Pesel", Value: "44051401458" } });
    expect(Date.parse(tokens.body.accessToken.validUntil as string) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(Date.parse(tokens.body.refreshToken.validUntil as string) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);

    const again = await call(sim, "POST", "/auth/token/redeem", { token: authToken });
    expect(again.status).toBe(400);
    expect(again.body.exception.exceptionDetailList[0].exceptionCode).toBe(21301);
    const after = await call(sim, "GET", `/auth/${init.body.referenceNumber as string}`, { token: authToken });
    expect(after.body.isTokenRedeemed).toBe(true);
    expect(sim.state.counters.authenticationsStarted).toBe(1);
    expectConformingResponses(sim);
  });

  it("refuses a tampered document with 400/9105 and leaves the challenge unused", async () => {
    const sim = await newSimulator();
    const challenge = await call(sim, "POST", "/auth/challenge");
    const signed = Buffer.from(await signRequest(challenge.body.challenge as string, person)).toString("utf8");
    const tampered = signed.replace("<Nip>5265877635</Nip>", "<Nip>7811767696</Nip>");
    expect(tampered).not.toBe(signed);
    const res = await call(sim, "POST", "/auth/xades-signature", { xml: tampered, headers: { "X-Error-Format": "problem-details" } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].code).toBe(9105);
    expect(sim.state.challenges.get(challenge.body.challenge as string)?.used).toBe(false);
    expect(sim.state.authOperations.size).toBe(0);
    // The untouched document still goes through.
    expect((await call(sim, "POST", "/auth/xades-signature", { xml: signed })).status).toBe(202);
    expectConformingResponses(sim);
  });

  it("refuses a document that is no XML at all with a KSeF code, not a 500", async () => {
    const sim = await newSimulator();
    const res = await call(sim, "POST", "/auth/xades-signature", { xml: "this is not xml" });
    expect(res.status).toBe(400);
    expect([21001, 9101, 21401]).toContain(res.body.exception.exceptionDetailList[0].exceptionCode);
    expectConformingResponses(sim);
  });

  it("uses a challenge once: a second sign-in with the same document is 400/21111", async () => {
    const sim = await newSimulator();
    const challenge = await call(sim, "POST", "/auth/challenge");
    const signed = await signRequest(challenge.body.challenge as string, person);
    expect((await call(sim, "POST", "/auth/xades-signature", { xml: signed })).status).toBe(202);
    const replay = await call(sim, "POST", "/auth/xades-signature", { xml: signed });
    expect(replay.status).toBe(400);
    expect(replay.body.exception.exceptionDetailList[0]).toMatchObject({ exceptionCode: 21111, details: ["Wyzwanie autoryzacyjne zostało już wykorzystane."] });
    expectConformingResponses(sim);
  });

  it("refuses an expired challenge (10 minutes) and one it never issued with 400/21111", async () => {
    const c = movableClock();
    const sim = await newSimulator({ now: c.now });
    const challenge = await call(sim, "POST", "/auth/challenge");
    const signed = await signRequest(challenge.body.challenge as string, person);
    c.advance(10 * 60_000);
    const late = await call(sim, "POST", "/auth/xades-signature", { xml: signed });
    expect(late.body.exception.exceptionDetailList[0]).toMatchObject({ exceptionCode: 21111, details: ["Wyzwanie autoryzacyjne wygasło."] });

    const other = await newSimulator({ now: c.now });
    const foreign = await call(other, "POST", "/auth/xades-signature", { xml: await signRequest("20260302-CR-0000000000-0000000000-00", person) });
    expect(foreign.body.exception.exceptionDetailList[0].exceptionCode).toBe(21111);
    expectConformingResponses(sim);
    expectConformingResponses(other);
  });

  it("shows status 100 until the authentication delay has passed; redeem before that is 400/21301", async () => {
    const c = movableClock();
    const sim = await newSimulator({ now: c.now, authenticationDelayMs: 2000 });
    const challenge = await call(sim, "POST", "/auth/challenge");
    const init = await call(sim, "POST", "/auth/xades-signature", { xml: await signRequest(challenge.body.challenge as string, person) });
    const ref = init.body.referenceNumber as string;
    const token = init.body.authenticationToken.token as string;
    expect((await call(sim, "GET", `/auth/${ref}`, { token })).body.status).toEqual({ code: 100, description: "Uwierzytelnianie w toku" });
    const early = await call(sim, "POST", "/auth/token/redeem", { token });
    expect(early.body.exception.exceptionDetailList[0]).toMatchObject({ exceptionCode: 21301 });
    expect(early.body.exception.exceptionDetailList[0].details[0]).toMatch(/\(100\)/);
    c.advance(2000);
    expect((await call(sim, "GET", `/auth/${ref}`, { token })).body.status.code).toBe(200);
    expect((await call(sim, "POST", "/auth/token/redeem", { token })).status).toBe(200);
    expectConformingResponses(sim);
  });

  it("with verifyCertificateChain=true a self-signed certificate ends with status 460 (untrusted chain)", async () => {
    const sim = await newSimulator();
    const challenge = await call(sim, "POST", "/auth/challenge");
    const init = await call(sim, "POST", "/auth/xades-signature?verifyCertificateChain=true", {
      xml: await signRequest(challenge.body.challenge as string, person),
    });
    expect(init.status).toBe(202);
    const token = init.body.authenticationToken.token as string;
    const status = await call(sim, "GET", `/auth/${init.body.referenceNumber as string}`, { token });
    expect(status.body.status).toMatchObject({ code: 460, details: ["Niezaufany łańcuch certyfikatów."] });
    expect((await call(sim, "POST", "/auth/token/redeem", { token })).body.exception.exceptionDetailList[0].exceptionCode).toBe(21301);
    expectConformingResponses(sim);
  });

  it("authStatus550 makes the next sign-in end with 550, the one after succeeds", async () => {
    const sim = await newSimulator({ faults: { authStatus550: 1 } });
    for (const expected of [550, 200]) {
      const challenge = await call(sim, "POST", "/auth/challenge");
      const init = await call(sim, "POST", "/auth/xades-signature", { xml: await signRequest(challenge.body.challenge as string, person) });
      const status = await call(sim, "GET", `/auth/${init.body.referenceNumber as string}`, { token: init.body.authenticationToken.token as string });
      expect(status.body.status.code).toBe(expected);
    }
    expectConformingResponses(sim);
  });

  it("answers an unknown reference with 400/21304 and another operation's reference with 403", async () => {
    const sim = await newSimulator();
    const s = await signIn(sim, person);
    const unknown = await call(sim, "GET", "/auth/20260302-AU-0000000000-0000000000-00", { token: s.authenticationToken });
    expect(unknown.body.exception.exceptionDetailList[0].exceptionCode).toBe(21304);
    const s2 = await signIn(sim, person);
    const foreign = await call(sim, "GET", `/auth/${s2.referenceNumber}`, { token: s.authenticationToken });
    expect(foreign.status).toBe(403);
    expect(foreign.body.reasonCode).toBe("insufficient-resource-access");
    expectConformingResponses(sim);
  });
});

describe("tokens and sessions", () => {
  it("refreshes with the refresh token only, and access tokens expire after 15 minutes", async () => {
    const c = movableClock();
    const sim = await newSimulator({ now: c.now });
    const s = await signIn(sim, person);
    expect((await call(sim, "POST", "/auth/token/refresh", { token: s.accessToken })).status).toBe(401);
    const refreshedAt = c.now().toISOString();
    const refreshed = await call(sim, "POST", "/auth/token/refresh", { token: s.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.accessToken.token).not.toBe(s.accessToken);
    expect((await call(sim, "GET", "/certificates/limits", { token: refreshed.body.accessToken.token as string })).status).toBe(200);
    c.advance(15 * 60_000 + 1000);
    const expired = await call(sim, "GET", "/certificates/limits", { token: s.accessToken });
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toBe("Token wygasł.");
    const status = await call(sim, "GET", `/auth/${s.referenceNumber}`, { token: s.authenticationToken });
    expect(status.body.lastTokenRefreshDate).toBe(refreshedAt);
    expectConformingResponses(sim);
  });

  it("lists active sessions of the context, revokes the current one: refresh then fails, the access token lives on", async () => {
    const sim = await newSimulator();
    const first = await signIn(sim, person);
    const second = await signIn(sim, person);
    const list = await call(sim, "GET", "/auth/sessions", { token: second.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { referenceNumber: string }) => i.referenceNumber).sort()).toEqual([first.referenceNumber, second.referenceNumber].sort());
    expect(list.body.items.find((i: { isCurrent: boolean }) => i.isCurrent).referenceNumber).toBe(second.referenceNumber);
    expect(list.body.continuationToken).toBeNull();
    expect((await call(sim, "GET", "/auth/sessions?pageSize=5", { token: second.accessToken })).body.exception.exceptionDetailList[0].exceptionCode).toBe(
      21405,
    );
    expect(
      (await call(sim, "GET", "/auth/sessions", { token: second.accessToken, headers: { "x-continuation-token": "!!" } })).body.exception.exceptionDetailList[0]
        .exceptionCode,
    ).toBe(21418);

    expect((await call(sim, "DELETE", "/auth/sessions/current", { token: second.refreshToken })).status).toBe(204);
    const refresh = await call(sim, "POST", "/auth/token/refresh", { token: second.refreshToken });
    expect(refresh.body.exception.exceptionDetailList[0]).toMatchObject({ exceptionCode: 21301 });
    expect((await call(sim, "GET", "/certificates/limits", { token: second.accessToken })).status).toBe(200);
    expect((await call(sim, "GET", `/auth/${second.referenceNumber}`, { token: second.authenticationToken })).body.status.code).toBe(425);

    expect((await call(sim, "DELETE", `/auth/sessions/${first.referenceNumber}`, { token: second.accessToken })).status).toBe(204);
    expect((await call(sim, "POST", "/auth/token/refresh", { token: first.refreshToken })).status).toBe(400);
    const remaining = await call(sim, "GET", "/auth/sessions", { token: first.accessToken });
    expect(remaining.body.items).toEqual([]);
    const missing = await call(sim, "DELETE", "/auth/sessions/20260302-AU-0000000000-0000000000-00", { token: first.accessToken });
    expect(missing.status).toBe(400);
    expectConformingResponses(sim);
  });
});
