/**
 * The signer agent end to end: the built `ksef-signer` CLI as a child process, paired with the server side
 * of the agent contract, hands off auth.xml files and uploads what people save — slowly, by rename, twice,
 * under odd names, into the outbox, too late — and survives kill -9 between steps. Each case ends with
 * exactly one submission (or a clear failure) and every dropped file accounted for.
 */
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeShared, startBackend, type AgentBackend } from "./backend.js";
import { runCli, startAgent, unaccounted, type RunningAgent } from "./fixtures.js";

let dir: string;
let outbox: string;
let inbox: string;
let configDir: string;
let backend: AgentBackend;
let agents: RunningAgent[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ksef-signer-e2e-"));
});
afterAll(async () => {
  await closeShared();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async (ctx) => {
  const base = join(dir, ctx.task.id);
  outbox = join(base, "do-podpisu");
  inbox = join(base, "podpisane");
  configDir = join(base, "config");
  await mkdir(outbox, { recursive: true });
  await mkdir(inbox, { recursive: true });
  backend = await startBackend({ outboxDir: outbox, inboxDir: inbox });
  const paired = await runCli(["pair", "--server", backend.url, "--code", await backend.pairingCode(), "--config-dir", configDir, "--json"]);
  expect(paired.code, paired.stderr + paired.stdout).toBe(0);
  expect((await stat(join(configDir, "token"))).mode & 0o777).toBe(0o600);
}, 120_000);

afterEach(async () => {
  for (const a of agents) await a.kill9();
  agents = [];
  await backend.close();
});

function run(env: Record<string, string> = {}): RunningAgent {
  const a = startAgent(configDir, env);
  agents.push(a);
  return a;
}

const written = (a: RunningAgent, requestId: string): Promise<string> =>
  a
    .waitFor((l) => l.msg === "auth.xml written to the outbox for signing" && l["requestId"] === requestId, 20_000, `auth.xml of ${requestId}`)
    .then((l) => String(l["file"]));

const uploaded = (a: RunningAgent, requestId: string): Promise<unknown> =>
  a.waitFor(
    (l) => (l.msg === "signed file uploaded" || l.msg.startsWith("signed file was already uploaded")) && l["requestId"] === requestId,
    20_000,
    `the upload for ${requestId}`,
  );

const movedTo = (a: RunningAgent, file: string): Promise<unknown> =>
  a.waitFor((l) => l.msg === "signed file handled and moved to processed/" && l["file"] === file, 20_000, `${file} in processed/`);

describe("ksef-signer run against the agent API", () => {
  it("pairs, shows status, and completes a hand-off of a file written slowly in chunks", async () => {
    const status = await runCli(["status", "--config-dir", configDir, "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ server: backend.url, outboxDir: outbox, inboxDir: inbox, serverStatus: { tokenAccepted: true } });
    const a = run();
    const r = await backend.createRequest();
    const path = await written(a, r.id);
    expect(await readFile(path)).toEqual(Buffer.from(r.xml));
    const signed = Buffer.from(await backend.sign(r));
    const h = await open(join(inbox, "auth-podpisany.xml"), "w");
    for (let i = 0; i < signed.length; i += 512) {
      await h.write(signed.subarray(i, i + 512));
      await new Promise((res) => setTimeout(res, 80)); // a slow network copy, paused between chunks
    }
    await h.close();
    await uploaded(a, r.id);
    await movedTo(a, "auth-podpisany.xml");
    expect(await backend.submissions(r.id)).toBe(1);
    expect(await readFile(join(inbox, "processed", "auth-podpisany.xml"))).toEqual(signed);
    // The bytes the server stored are the person's, unchanged: KSeF (the simulator) logs in with them.
    await backend.authenticate(r.id);
    expect(await unaccounted(inbox)).toEqual([]);
    expect(a.raw()).not.toContain(await readFile(join(configDir, "token"), "utf8").then((t) => t.trim()));
  });

  it("a file saved by rename from a browser's temporary name, and the same file saved twice", async () => {
    const a = run();
    const r = await backend.createRequest();
    await written(a, r.id);
    const signed = await backend.sign(r);
    await writeFile(join(inbox, "auth.xml.crdownload"), signed);
    await rename(join(inbox, "auth.xml.crdownload"), join(inbox, "auth.xml"));
    await uploaded(a, r.id);
    await movedTo(a, "auth.xml");
    await writeFile(join(inbox, "auth (1).xml"), signed);
    await a.waitFor((l) => l["kind"] === "duplicate" && l["file"] === "auth (1).xml", 20_000, "the duplicate");
    expect(await backend.submissions(r.id)).toBe(1);
    expect(await readdir(join(inbox, "processed"))).toEqual(expect.arrayContaining(["auth.xml", "auth (1).xml", "auth (1).xml.reason.txt"]));
    expect(await unaccounted(inbox)).toEqual([]);
  });

  it("an odd name (.XAdES, spaces, Polish letters) and a signed file saved into the outbox by mistake", async () => {
    const a = run();
    const r1 = await backend.createRequest();
    const r2 = await backend.createRequest();
    const out1 = await written(a, r1.id);
    await written(a, r2.id);
    await writeFile(join(inbox, "Dokument podpisany — żółć.XAdES"), await backend.sign(r1));
    await writeFile(join(outbox, "AuthTokenRequest (podpisany).xml"), await backend.sign(r2));
    await uploaded(a, r1.id);
    await uploaded(a, r2.id);
    await movedTo(a, "AuthTokenRequest (podpisany).xml");
    expect(await backend.submissions(r1.id)).toBe(1);
    expect(await backend.submissions(r2.id)).toBe(1);
    expect(await readdir(join(outbox, "processed"))).toContain("AuthTokenRequest (podpisany).xml");
    await movedTo(a, "Dokument podpisany — żółć.XAdES");
    expect(await unaccounted(inbox)).toEqual([]);
    // Nothing left in the outbox but (at most, until the signed request's clean-up) our own first auth.xml.
    expect((await unaccounted(outbox)).filter((n) => n !== basename(out1))).toEqual([]);
  });

  it("a file for an expired challenge: a clear reason in failed/, the renewed auth.xml written, then signed once", async () => {
    const a = run();
    const r = await backend.createRequest();
    await written(a, r.id);
    const late = await backend.sign(r);
    const renewed = await backend.expire(r.id);
    const renewedPath = await written(a, renewed.id);
    await writeFile(join(inbox, "za-pozno.xml"), late);
    const reason = await a.waitFor((l) => l["kind"] === "expired" || (l.msg.includes("expired") && l["file"] === "za-pozno.xml"), 20_000, "the expiry message");
    expect(reason.msg).toContain(renewedPath);
    expect(await readFile(join(inbox, "failed", "za-pozno.xml.reason.txt"), "utf8")).toMatch(/wygasło[\s\S]*expired/);
    await writeFile(join(inbox, "na-czas.xml"), await backend.sign(renewed));
    await uploaded(a, renewed.id);
    await movedTo(a, "na-czas.xml");
    expect(await backend.submissions(r.id)).toBe(0);
    expect(await backend.submissions(renewed.id)).toBe(1);
    expect(await unaccounted(inbox)).toEqual([]);
  });

  it("a revoked token stops run with exit code 9 and 'token revoked: pair again'", async () => {
    const a = run();
    await a.waitFor((l) => l.msg === "signer agent started");
    await backend.revokeTokens();
    expect(await a.exited).toBe(9);
    expect(a.raw()).toContain("token revoked: pair again");
  });
});

describe("kill -9 of the agent between steps", () => {
  for (const point of ["before-upload", "after-upload", "after-journal"] as const) {
    it(`killed ${point.replace("-", " ")}: the restarted agent ends with exactly one submission`, async () => {
      const first = run({ KSEF_SIGNER_CRASH_AT: point });
      const r = await backend.createRequest();
      await written(first, r.id);
      await writeFile(join(inbox, "podpisany.xml"), await backend.sign(r));
      expect(await first.exited).toBeNull(); // killed by SIGKILL, no exit code
      expect(await backend.submissions(r.id)).toBe(point === "before-upload" ? 0 : 1);
      const second = run();
      await second.waitFor(
        (l) => (l.msg === "signed file handled and moved to processed/" || l["kind"] === "duplicate") && l["file"] === "podpisany.xml",
        20_000,
        "the file handled after restart",
      );
      expect(await backend.submissions(r.id)).toBe(1);
      expect(await readdir(join(inbox, "processed"))).toContain("podpisany.xml");
      expect(await unaccounted(inbox)).toEqual([]);
    });
  }

  it("killed after writing auth.xml and before the person saved: the restart keeps waiting and uploads once", async () => {
    const first = run();
    const r = await backend.createRequest();
    const path = await written(first, r.id);
    await first.kill9();
    await writeFile(join(inbox, "signed.xml"), await backend.sign(r));
    const second = run();
    await uploaded(second, r.id);
    // Filed under processed/ just after the upload: wait for it rather than race it.
    await second.waitFor(
      (l) => l.msg === "signed file handled and moved to processed/" && l["file"] === "signed.xml",
      20_000,
      "signed.xml filed after the upload",
    );
    expect(await backend.submissions(r.id)).toBe(1);
    expect(await readFile(path).catch(() => undefined)).toBeUndefined(); // auth.xml removed once signed
    expect(await unaccounted(inbox)).toEqual([]);
  });
});
