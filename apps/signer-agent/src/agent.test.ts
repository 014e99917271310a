import { createHash } from "node:crypto";
import { chmod, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { encryptPrivateKeyPem } from "@ksef-certs/ksef/crypto";
import { buildAuthTokenRequest } from "@ksef-certs/ksef/api";
import { hostileXmlDocuments } from "@ksef-certs/testing/xml";
import { Agent, type AgentEvent } from "./agent.js";
import { AgentApiClient } from "./api.js";
import { prepareAutoSigners, storeKeyPassword, unlockSigner } from "./autosign.js";
import type { AgentConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { createLocalApi } from "./local-api.js";
import { NIP, makePerson, newChallenge, pairedFakeSetup, signFor, type PairedFake, type Person } from "./__fixtures__/fake-server.js";
import { until } from "./__fixtures__/wait.js";

let person: Person;
beforeAll(async () => {
  person = await makePerson();
});

interface Setup extends PairedFake {
  config: AgentConfig;
  logs: string[];
  events: AgentEvent[];
}

let s: Setup;
let agents: Agent[] = [];

beforeEach(async () => {
  s = { ...(await pairedFakeSetup("ksef-signer-agent-")), logs: [], events: [] };
});

afterEach(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  agents = [];
  await s.server.close();
  await rm(s.dir, { recursive: true, force: true });
});

function logSink(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(
        ...chunk
          .toString("utf8")
          .split("\n")
          .filter((l) => l !== ""),
      );
      cb();
    },
  });
}

async function startAgent(extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}): Promise<Agent> {
  const agent = new Agent({
    configDir: s.configDir,
    config: s.config,
    token: s.token,
    logger: createLogger({ level: "debug", destination: logSink(s.logs) }),
    pollWaitMs: 2000,
    stabilityMs: 100,
    pollIntervalMs: 50,
    rescanIntervalMs: 500,
    onEvent: (e) => s.events.push(e),
    ...extra,
  });
  agents.push(agent);
  await agent.start();
  return agent;
}

const outboxFile = (id: string): Promise<string> =>
  until(
    () => s.events.find((e): e is Extract<AgentEvent, { type: "request-written" }> => e.type === "request-written" && e.requestId === id)?.path,
    15_000,
    "auth.xml in the outbox",
  );

describe("Agent against the agent contract (fake server)", () => {
  it("writes auth.xml named for its purpose, uploads the signed file once and moves it to processed/", async () => {
    await startAgent();
    const r = s.server.addRequest();
    const path = await outboxFile(r.id);
    expect(path).toBe(join(s.outbox, r.fileName));
    expect(await readFile(path)).toEqual(Buffer.from(r.xml));
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    const signed = await signFor(person, r);
    await writeFile(join(s.inbox, "podpisany (1).xml.xades"), signed);
    await until(() => s.server.submissions.get(r.id) === 1, 15_000, "the submission");
    await until(async () => (await readdir(join(s.inbox, "processed"))).includes("podpisany (1).xml.xades"), 15_000, "the move");
    expect(await readFile(join(s.inbox, "processed", "podpisany (1).xml.xades"))).toEqual(Buffer.from(signed));
    // The signed request's auth.xml leaves the outbox so nobody signs it again.
    await until(async () => !(await readdir(s.outbox)).includes(r.fileName), 5000, "outbox cleanup");
    // A copy saved again is a duplicate: explained in processed/, not sent again.
    await writeFile(join(s.inbox, "kopia.xml"), signed);
    await until(async () => (await readdir(join(s.inbox, "processed"))).includes("kopia.xml.reason.txt"), 15_000, "the duplicate's reason");
    expect(s.server.submissions.get(r.id)).toBe(1);
    expect(s.server.uploads.filter((u) => u.id === r.id)).toHaveLength(1);
    expect(s.logs.join("\n")).not.toContain(s.token);
  });

  it("takes a signed file saved into the outbox by mistake, leaving its own auth.xml alone until signed", async () => {
    await startAgent();
    const r = s.server.addRequest();
    await outboxFile(r.id);
    await writeFile(join(s.outbox, "AuthTokenRequest.xml"), await signFor(person, r));
    await until(() => s.server.submissions.get(r.id) === 1, 15_000, "the submission");
    await until(async () => (await readdir(join(s.outbox, "processed"))).includes("AuthTokenRequest.xml"), 15_000, "the move");
  });

  it("a file for an expired challenge goes to failed/ with the reason naming the renewed auth.xml", async () => {
    await startAgent();
    const r = s.server.addRequest();
    await outboxFile(r.id);
    const signed = await signFor(person, r);
    const renewed = s.server.expire(r.id);
    if (renewed === undefined) throw new Error("no renewal");
    const renewedPath = await outboxFile(renewed.id);
    await until(() => s.events.some((e) => e.type === "request-closed" && e.requestId === r.id && e.status === "expired"), 15_000, "the expiry");
    await writeFile(join(s.inbox, "late.xml"), signed);
    const reason = await until(async () => readFile(join(s.inbox, "failed", "late.xml.reason.txt"), "utf8").catch(() => undefined), 15_000, "the reason");
    expect(reason).toMatch(/wygasło/);
    expect(s.logs.join("\n")).toContain(renewedPath);
    expect(s.server.submissions.size).toBe(0);
    // The stale auth.xml was removed from the outbox, the renewed one is there.
    expect(await readdir(s.outbox)).toContain(renewed.fileName);
    expect(await readdir(s.outbox)).not.toContain(r.fileName);
  });

  it("a 410 from the server (expired there first) moves the file to failed/ and records the renewal", async () => {
    await startAgent();
    const r = s.server.addRequest();
    await outboxFile(r.id);
    // Expired on the server only (no change published), so the agent learns it from the upload's 410.
    const signed = await signFor(person, r);
    const fake = s.server.requests.get(r.id);
    if (fake === undefined) throw new Error("no request");
    fake.expiresAt = new Date(Date.now() - 1);
    await writeFile(join(s.inbox, "signed.xml"), signed);
    await until(async () => (await readdir(join(s.inbox, "failed"))).includes("signed.xml.reason.txt"), 15_000, "failed/");
    expect(s.server.uploads).toMatchObject([{ id: r.id, status: 410 }]);
  });

  it("a file it can never accept (XML too deep or too wide, another document) goes to failed/ once with its reason and is not tried again", async () => {
    const agent = await startAgent();
    const r = s.server.addRequest();
    await outboxFile(r.id);
    const dropped: [string, Uint8Array][] = [
      ...hostileXmlDocuments().map((d): [string, Uint8Array] => [d.name, d.bytes]),
      ["faktura.xml", Buffer.from("<Faktura/>")],
    ];
    for (const [name, bytes] of dropped) await writeFile(join(s.inbox, name), bytes);
    const failed = join(s.inbox, "failed");
    await until(
      async () => {
        const there = await readdir(failed);
        return dropped.every(([name]) => there.includes(name) && there.includes(`${name}.reason.txt`));
      },
      15_000,
      "every file in failed/ with its reason",
    );
    expect(await readFile(join(failed, "deep-100000.xml.reason.txt"), "utf8")).toMatch(/więcej niż 64 poziomach[\s\S]*more than 64 levels deep/);
    expect(await readFile(join(failed, "wide-200000.xml.reason.txt"), "utf8")).toContain("więcej niż 10000 elementów");
    expect(await readFile(join(failed, "attributes-100000.xml.reason.txt"), "utf8")).toContain("więcej niż 10000 atrybutów");
    // Two full rescans later (each awaited): nothing looked at again, nothing uploaded, the request still waits.
    await agent.rescan();
    await agent.rescan();
    const problems = s.events.flatMap((e) => (e.type === "problem" ? [[basename(e.file), e.kind]] : []));
    expect(problems.sort()).toEqual([
      ["attributes-100000.xml", "too-complex"],
      ["deep-100000.xml", "too-complex"],
      ["faktura.xml", "not-auth-request"],
      ["wide-200000.xml", "too-complex"],
    ]);
    expect((await readdir(s.inbox)).sort()).toEqual(["failed", "processed"]);
    expect(s.server.uploads).toEqual([]);
    expect(agent.journalSnapshot().requests[r.id]?.status).toBe("pending");
  });

  it("a server's final refusal (400) moves the file to failed/ with the reason and a journal entry, once; 5xx and 429 are retried until accepted", async () => {
    const agent = await startAgent();
    const refused = s.server.addRequest();
    await outboxFile(refused.id);
    const bytes = await signFor(person, refused);
    s.server.failNextUploads(400);
    await writeFile(join(s.inbox, "odrzucony.xml"), bytes);
    const reason = await until(
      async () => readFile(join(s.inbox, "failed", "odrzucony.xml.reason.txt"), "utf8").catch(() => undefined),
      15_000,
      "the refusal's reason",
    );
    expect(reason).toContain("Serwer odrzucił podpisany plik: Injected answer 400.");
    expect(reason).toContain("The server refused the signed file: Injected answer 400.");
    expect(reason).toContain("Plik / File: odrzucony.xml");
    const sha = createHash("sha256").update(bytes).digest("hex");
    expect(agent.journalSnapshot().uploads[sha]).toMatchObject({ requestId: refused.id, result: "refused", reason: "Injected answer 400." });
    await agent.rescan();
    expect(s.server.uploads).toEqual([expect.objectContaining({ id: refused.id, status: 400 })]);

    const later = s.server.addRequest();
    await outboxFile(later.id);
    s.server.failNextUploads(503, 429);
    await writeFile(join(s.inbox, "pozniej.xml"), await signFor(person, later));
    await until(() => s.server.submissions.get(later.id) === 1, 15_000, "the submission after two transient failures");
    await until(async () => (await readdir(join(s.inbox, "processed"))).includes("pozniej.xml"), 15_000, "processed/");
    expect(s.server.uploads.filter((u) => u.id === later.id).map((u) => u.status)).toEqual([503, 429, "signed"]);
    expect(await readdir(join(s.inbox, "failed"))).not.toContain("pozniej.xml");
  });

  it("stops with 'token revoked: pair again' on 401", async () => {
    const agent = await startAgent();
    s.server.revokeTokens();
    await expect(agent.done).rejects.toThrow("token revoked: pair again");
    expect(s.logs.join("\n")).toContain("token revoked: pair again");
  });

  it("reconnects with backoff when the server is away", async () => {
    s.config = { ...s.config, server: "http://127.0.0.1:9" };
    await startAgent();
    await until(() => s.events.filter((e) => e.type === "poll-failed").length >= 2, 15_000, "two failed polls");
    for (const e of s.events) if (e.type === "poll-failed") expect(e.delayMs).toBeLessThanOrEqual(Math.min(30_000, 500 * 2 ** e.attempt));
  });

  it("signs automatically with an allowed certificate (sealed password), without writing auth.xml for a person", async () => {
    const keyPem = await encryptPrivateKeyPem(person.keys.privateKey, "Haslo-Testowe-1!");
    const certPath = join(s.dir, "anna.crt");
    const keyPath = join(s.dir, "anna.key");
    await writeFile(certPath, Buffer.from(person.certificate));
    await writeFile(keyPath, keyPem);
    const { certificate } = await unlockSigner(certPath, keyPath, "Haslo-Testowe-1!");
    await storeKeyPassword(s.configDir, certificate.fingerprintSha256, "sealed", "Haslo-Testowe-1!");
    expect((await stat(join(s.configDir, "agent.key"))).mode & 0o777).toBe(0o600);
    const sealed = await readFile(join(s.configDir, "auto-sign", `${certificate.fingerprintSha256}.sealed`));
    expect(sealed.includes("Haslo-Testowe-1!")).toBe(false);
    const setting = {
      fingerprint: certificate.fingerprintSha256,
      certPath,
      keyPath,
      contexts: [{ type: "Nip" as const, value: NIP }],
      passwordSource: "sealed" as const,
      subject: certificate.subjectText,
      validTo: certificate.validTo,
      enabledAt: new Date().toISOString(),
    };
    const logs: string[] = [];
    const signers = await prepareAutoSigners(s.configDir, [setting], undefined, createLogger({ destination: logSink(logs) }));
    expect(signers).toHaveLength(1);
    await startAgent({ autoSigners: signers });
    const r = s.server.addRequest();
    await until(() => s.server.submissions.get(r.id) === 1, 15_000, "the automatic submission");
    await until(() => s.events.some((e) => e.type === "uploaded" && e.requestId === r.id && e.by === "agent"), 15_000, "the agent's upload event");
    expect(await readdir(s.outbox)).not.toContain(r.fileName);
    expect(logs.join("\n") + s.logs.join("\n")).not.toContain("Haslo-Testowe-1!");
  });

  it("local API: an ERP's request is written to the outbox and its signed file handed back unchanged", async () => {
    const agent = await startAgent();
    const app = createLocalApi(agent, s.token);
    const challenge = newChallenge();
    const unsigned = Buffer.from(
      buildAuthTokenRequest({ challenge, contextIdentifier: { type: "Nip", value: NIP }, subjectIdentifierType: "certificateSubject" }),
      "utf8",
    );
    const unauthorised = await app.request("/local/v1/handoffs", { method: "POST", body: unsigned });
    expect(unauthorised.status).toBe(401);
    const auth = { authorization: `Bearer ${s.token}` };
    const started = await app.request("/local/v1/handoffs", { method: "POST", body: unsigned, headers: { ...auth, "content-type": "application/xml" } });
    expect(started.status).toBe(201);
    const { id, fileName } = (await started.json()) as { id: string; fileName: string };
    expect(fileName).toMatch(/^auth-erp-5265877635-/);
    expect(await readFile(join(s.outbox, fileName))).toEqual(unsigned);
    expect((await app.request(`/local/v1/handoffs/${id}/signed`, { headers: auth })).status).toBe(409);
    const signed = await signFor(person, { challenge });
    await writeFile(join(s.inbox, "erp.xml"), signed);
    await until(
      async () => ((await (await app.request(`/local/v1/handoffs/${id}`, { headers: auth })).json()) as { status: string }).status === "signed",
      15_000,
      "signed",
    );
    const result = await app.request(`/local/v1/handoffs/${id}/signed`, { headers: auth });
    expect(result.status).toBe(200);
    expect(Buffer.from(await result.arrayBuffer())).toEqual(Buffer.from(signed));
    expect(s.server.uploads).toHaveLength(0);
    const bad = await app.request("/local/v1/handoffs", { method: "POST", body: "<x/>", headers: auth });
    expect(bad.status).toBe(400);
  });
});

describe("Agent resumes from its journal", () => {
  it("a restart after the upload but before the move leaves one submission and the file in processed/", async () => {
    const first = await startAgent();
    const r = s.server.addRequest();
    await outboxFile(r.id);
    await first.stop();
    // Simulate: uploaded by a previous run (server knows, journal knows), process died before the move.
    const signed = await signFor(person, r);
    await writeFile(join(s.inbox, "in.xml"), signed);
    const client = new AgentApiClient(s.server.url, s.token);
    await client.uploadSigned(r.id, signed);
    await startAgent();
    await until(async () => (await readdir(join(s.inbox, "processed"))).includes("in.xml"), 15_000, "processed/");
    expect(s.server.submissions.get(r.id)).toBe(1);
    expect(s.server.uploads.map((u) => u.status)).toEqual(["signed", "duplicate"]);
  });

  it("a journal damaged on disk is set aside and the agent still starts", async () => {
    await writeFile(join(s.configDir, "journal.json"), "{ not json");
    await chmod(join(s.configDir, "journal.json"), 0o600);
    await startAgent();
    expect(await readFile(join(s.configDir, "journal.json.damaged"), "utf8")).toBe("{ not json");
  });

  it("files written by rename or slowly in chunks are read once complete", async () => {
    await startAgent();
    const r = s.server.addRequest();
    await outboxFile(r.id);
    const signed = Buffer.from(await signFor(person, r));
    const { open } = await import("node:fs/promises");
    const h = await open(join(s.inbox, "slow.xml"), "w");
    for (let i = 0; i < signed.length; i += 400) {
      await h.write(signed.subarray(i, i + 400));
      await new Promise((res) => setTimeout(res, 60));
    }
    await h.close();
    await until(() => s.server.submissions.get(r.id) === 1, 15_000, "the submission");
    expect(s.server.uploads).toMatchObject([{ id: r.id, status: "signed" }]);
    const r2 = s.server.addRequest();
    await outboxFile(r2.id);
    await writeFile(join(s.inbox, "x.crdownload"), await signFor(person, r2));
    await rename(join(s.inbox, "x.crdownload"), join(s.inbox, "pobrany.xml"));
    await until(() => s.server.submissions.get(r2.id) === 1, 15_000, "the second submission");
  });
});
