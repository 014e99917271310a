import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KsefCertsError, localizeError } from "@ksef-certs/ksef/errors";
import { msg, translate } from "@ksef-certs/ksef/messages";
import { buildAuthTokenRequest } from "@ksef-certs/ksef/api";
import { AGENT_API_PREFIX, MAX_WAIT_MS } from "@ksef-certs/ksef/agent-protocol";
import { errorFromStatusForTest } from "./__fixtures__/api-errors.js";
import { AgentApiClient } from "./api.js";
import { autoSignerFor, type AutoSigner } from "./autosign.js";
import { fullJitterDelay } from "./backoff.js";
import { foldersOf, loadConfig, loadToken, resolveConfigDir, saveConfig, saveToken, type AgentConfig } from "./config.js";
import { Journal } from "./journal.js";
import { readUnsignedRequest } from "./request-xml.js";
import { systemdUserUnit } from "./systemd.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ksef-signer-unit-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("fullJitterDelay", () => {
  it("stays within [0, min(30 s, 500·2^attempt)] and covers that range", () => {
    expect(fullJitterDelay(0, 0.999)).toBe(499);
    expect(fullJitterDelay(3, 0.5)).toBe(2000);
    expect(fullJitterDelay(20, 0.999_999)).toBe(29_999);
    expect(fullJitterDelay(1000, 1)).toBe(30_000);
    expect(fullJitterDelay(5, 0)).toBe(0);
  });
});

describe("config folder", () => {
  it("follows --config-dir, then XDG_CONFIG_HOME, then ~/.config", () => {
    expect(resolveConfigDir("rel", {}, "/srv")).toBe("/srv/rel");
    expect(resolveConfigDir(undefined, { XDG_CONFIG_HOME: "/x" }, "/")).toBe("/x/ksef-signer");
    expect(resolveConfigDir(undefined, { XDG_CONFIG_HOME: "relative", HOME: "/home/jan" }, "/")).toBe("/home/jan/.config/ksef-signer");
  });

  it("stores the token 0600 and the config without secrets; folders: local override, then the server's", async () => {
    const config: AgentConfig = {
      version: 1,
      server: "http://127.0.0.1:8080",
      workstation: { id: "w", name: "kasa-1", outboxDir: "/srv/out", inboxDir: "/srv/in" },
      pairedAt: "2026-11-30T00:00:00.000Z",
      inboxDir: "/mnt/in",
      autoSign: [],
    };
    await saveConfig(join(dir, "c"), config);
    await saveToken(join(dir, "c"), "secret-token-value-123456");
    expect((await stat(join(dir, "c", "token"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "c"))).mode & 0o777).toBe(0o700);
    expect(await loadToken(join(dir, "c"))).toBe("secret-token-value-123456");
    expect(await readFile(join(dir, "c", "config.json"), "utf8")).not.toContain("secret-token");
    const loaded = await loadConfig(join(dir, "c"));
    expect(loaded).toEqual(config);
    expect(foldersOf(config)).toEqual({ outboxDir: "/srv/out", inboxDir: "/mnt/in" });
    const { inboxDir: _dropped, ...withoutInbox } = config;
    expect(() => foldersOf({ ...withoutInbox, workstation: { id: "w", name: "x" } })).toThrow(KsefCertsError);
  });

  it("a damaged config is MALFORMED with a hint to pair again", async () => {
    await saveToken(join(dir, "c"), "t".repeat(20));
    await writeFile(join(dir, "c", "config.json"), "{}");
    const error = await loadConfig(join(dir, "c")).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "MALFORMED" });
    expect((error as KsefCertsError).hint).toContain("Pair again");
  });
});

describe("Journal", () => {
  it("survives reopening, writes 0600, and forgets finished requests after a day", async () => {
    const j = await Journal.open(dir);
    await j.putRequest({
      id: "a",
      source: "server",
      challenge: "c",
      contextIdentifier: { type: "Nip", value: "5265877635" },
      fileName: "f.xml",
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      status: "pending",
    });
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    await j.update((s) => {
      s.requests["old"] = {
        id: "old",
        source: "server",
        challenge: "d",
        contextIdentifier: { type: "Nip", value: "5265877635" },
        fileName: "g.xml",
        expiresAt: old,
        status: "expired",
        updatedAt: old,
      };
      s.uploads["ab"] = { requestId: "a", fileName: "x.xml", result: "signed", at: new Date().toISOString() };
      s.cursor = "42";
    });
    expect((await stat(join(dir, "journal.json"))).mode & 0o777).toBe(0o600);
    const again = await Journal.open(dir);
    expect(again.request("a")?.status).toBe("pending");
    expect(again.request("old")).toBeUndefined();
    expect(again.upload("ab")?.result).toBe("signed");
    expect(again.cursor).toBe("42");
  });
});

describe("readUnsignedRequest", () => {
  it("reads back what buildAuthTokenRequest wrote, including IP policy and schema 2.1", () => {
    const challenge = "20261130-CR-1234567890-ABCDEF0123-45";
    const xml = Buffer.from(
      buildAuthTokenRequest({
        challenge,
        contextIdentifier: { type: "Nip", value: "5265877635" },
        subjectIdentifierType: "certificateFingerprint",
        authorizationPolicy: { allowedIps: { ip4Addresses: ["10.0.0.1"] } },
        namespace: "2.1",
      }),
      "utf8",
    );
    expect(readUnsignedRequest(xml)).toEqual({
      challenge,
      contextIdentifier: { type: "Nip", value: "5265877635" },
      subjectIdentifierType: "certificateFingerprint",
      authorizationPolicy: { allowedIps: { ip4Addresses: ["10.0.0.1"], ip4Ranges: [], ip4Masks: [] } },
      namespace: "2.1",
    });
  });

  it("refuses other documents and DTDs", () => {
    expect(() => readUnsignedRequest(Buffer.from("<a/>"))).toThrow(expect.objectContaining({ code: "VALIDATION" }) as Error);
    expect(() => readUnsignedRequest(Buffer.from('<!DOCTYPE x [<!ENTITY e "x">]><AuthTokenRequest xmlns="http://ksef.mf.gov.pl/auth/token/2.0"/>'))).toThrow(
      KsefCertsError,
    );
  });
});

describe("API errors", () => {
  it("401 is 'token revoked: pair again'; 410 carries replacedBy; 5xx is retryable IO", async () => {
    expect(await errorFromStatusForTest(401, { error: { code: "FORBIDDEN", message: "x" } })).toMatchObject({
      message: "token revoked: pair again",
      details: { reason: "token-revoked" },
    });
    expect(await errorFromStatusForTest(410, { error: { code: "CONFLICT", message: "the challenge expired" }, replacedBy: "new-id" })).toMatchObject({
      code: "CONFLICT",
      details: { status: 410, replacedBy: "new-id" },
    });
    expect(await errorFromStatusForTest(503, undefined)).toMatchObject({ code: "IO", retryable: true });
  });

  it("keep the server's catalogue id when it names one rendering the same English text, so the operator reads it in their language", async () => {
    const english = translate("en", msg("agent.localApi.tooLarge", { limit: 10 }));
    const known = await errorFromStatusForTest(413, {
      error: { code: "TOO_LARGE", message: english, messageId: "agent.localApi.tooLarge", params: { limit: 10 }, hint: "x" },
    });
    expect(known.message).toBe(english);
    expect(known.messageRef).toEqual({ id: "agent.localApi.tooLarge", params: { limit: 10 } });
    expect(localizeError(known, "pl").message).toBe(translate("pl", msg("agent.localApi.tooLarge", { limit: 10 })));
    expect(known.hintRef).toEqual({ id: "error.legacy", params: { text: "x" } });
    // An id this agent does not know, or one whose text differs here, falls back to the server's own words.
    for (const error of [
      { code: "TOO_LARGE", message: "Too big.", messageId: "no.such.id" },
      { code: "TOO_LARGE", message: "Too big.", messageId: "agent.localApi.tooLarge", params: { limit: 10 } },
    ]) {
      const e = await errorFromStatusForTest(413, { error });
      expect(e.message).toBe("Too big.");
      expect(localizeError(e, "pl").message).toBe("Too big.");
    }
    expect((await errorFromStatusForTest(502, undefined)).message).toBe("The admin server answered HTTP 502.");
  });
});

describe("API answers", () => {
  /** A client whose server answers every call with 200 and `body`, recording the URLs asked for. */
  function clientAnswering(body: unknown): { client: AgentApiClient; urls: string[] } {
    const urls: string[] = [];
    const fetchImpl = ((url: string) => {
      urls.push(url);
      return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    }) as typeof fetch;
    return { client: new AgentApiClient("http://127.0.0.1:1", "token-xxxxxxxxxxxxxxxx", fetchImpl), urls };
  }
  const request = {
    id: "r-1",
    enrollmentId: null,
    challenge: "20261130-CR-0123456789-ABCDEF0123-45",
    contextIdentifier: { type: "Nip", value: "5265877635" },
    fileName: "auth.xml",
    xmlBase64: "",
    expiresAt: "2026-11-30T12:00:00.000Z",
    status: "pending",
  };

  it("reads answers on the agent protocol and asks with its query (waitMs capped at MAX_WAIT_MS)", async () => {
    const { client, urls } = clientAnswering({ requests: [request], cursor: "42" });
    expect(await client.requests(120_000, "41")).toEqual({ requests: [request], cursor: "42" });
    expect(urls).toEqual([`http://127.0.0.1:1${AGENT_API_PREFIX}/requests?waitMs=${MAX_WAIT_MS}&after=41`]);
    await expect(clientAnswering({ status: "failed" }).client.reportFailed("r-1", "x")).resolves.toBeUndefined();
  });

  it("refuses answers off the agent protocol as MALFORMED, naming the answer", async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => clientAnswering({ requests: [{ ...request, status: "archived" }] }).client.requests(0, undefined), "agent.api.contract.requests"],
      [() => clientAnswering({ requests: [{ ...request, fileName: "x".repeat(201) }] }).client.requests(0, undefined), "agent.api.contract.requests"],
      [() => clientAnswering({ id: "" }).client.workstation(), "agent.api.contract.workstation"],
      [() => clientAnswering({ status: "accepted" }).client.uploadSigned("r-1", new Uint8Array(1)), "agent.api.contract.upload"],
      [() => clientAnswering({ status: "gone" }).client.reportFailed("r-1", "x"), "agent.api.contract.failed"],
    ];
    for (const [call, id] of cases) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KsefCertsError);
      expect(error).toMatchObject({ code: "MALFORMED", messageRef: { id } });
    }
  });
});

describe("autoSignerFor", () => {
  it("picks a certificate only for its allowed contexts and while it is valid", () => {
    const signer = {
      setting: { contexts: [{ type: "Nip", value: "5265877635" }] },
      signer: { certificate: { validFrom: "2026-01-01T00:00:00Z", validTo: "2027-01-01T00:00:00Z" } },
    } as unknown as AutoSigner;
    const now = new Date("2026-11-30T00:00:00Z");
    expect(autoSignerFor([signer], { type: "Nip", value: "5265877635" }, now)).toBe(signer);
    expect(autoSignerFor([signer], { type: "Nip", value: "1111111111" }, now)).toBeUndefined();
    expect(autoSignerFor([signer], { type: "InternalId", value: "5265877635" }, now)).toBeUndefined();
    expect(autoSignerFor([signer], { type: "Nip", value: "5265877635" }, new Date("2027-02-01T00:00:00Z"))).toBeUndefined();
  });
});

describe("systemdUserUnit", () => {
  it("runs the agent, restarts on failure but not after a revoked token (exit 9), quotes paths with spaces", () => {
    const unit = systemdUserUnit({
      node: "/usr/bin/node",
      main: "/opt/ksef signer/main.js",
      configDir: "/home/jan/.config/ksef-signer",
      runArgs: ["--open-signing-page"],
    });
    expect(unit).toContain('ExecStart=/usr/bin/node "/opt/ksef signer/main.js" run --config-dir /home/jan/.config/ksef-signer --open-signing-page');
    expect(unit).toContain("RestartPreventExitStatus=9");
    expect(unit).toContain("WantedBy=default.target");
  });
});
