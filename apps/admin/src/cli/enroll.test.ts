/* eslint-disable @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-member-access -- parsed CLI JSON is checked field by field with expect() */
// `cert enroll`, `enrollment list|show|resume` and `cert revoke` in KSeF, run in-process against the real
// simulator (HTTP on loopback) and one embedded PGlite data folder: an operator's Authentication certificate
// through the folder hand-off (the test signs auth.xml as the person would), an Offline one automatically with
// it, revocation in KSeF, and an enrollment interrupted by Ctrl-C after KSeF got the request, then resumed.
import { randomBytes, type KeyObject } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "@ksef-certs/ksef/crypto";
import { selfSignedCertificate } from "@ksef-certs/testing/certificates";
import { signXml } from "@ksef-certs/ksef/xades";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, type RunOptions, type RunResult } from "./__fixtures__/harness.js";
import type { CliIo } from "./context.js";
import { describeKsefTarget, ksefTargetOf } from "./ksef.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PASSWORD = "Nowy-Klucz!KSeF-2026x";
const SIGNING_FREE_PASSWORD = "Drugi-Klucz!KSeF-2026y";
const NIP = "5265877635";
const PESEL = "44051401458";
const ENROLLMENT_STATUS = "GET /certificates/enrollments/{referenceNumber}";

let sim: RunningSimulator;
let dir: string;
let dataDir: string;
let outbox: string;
let inbox: string;
const env = { KSEF_CERTS_MASTER_KEY: randomBytes(32).toString("base64") };
const everything: string[] = [];
const ids: Record<string, string> = {};
let janSigner: { privateKey: KeyObject; certificate: Uint8Array };

async function cli(argv: readonly string[], more: Partial<RunOptions> = {}): Promise<RunResult> {
  const r = await run([...argv, "--data-dir", dataDir], { cwd: dir, env, ...more });
  everything.push(r.stdout, r.stderr);
  return r;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  sim = await startSimulator({ enrollmentDelayMs: 200 });
  dir = mkdtempSync(join(tmpdir(), "ksef-certs-enroll-"));
  dataDir = join(dir, "data");
  outbox = join(dir, "do-podpisu");
  inbox = join(dir, "podpisane");
  mkdirSync(outbox);
  mkdirSync(inbox);
  writeFileSync(join(dir, "pw.txt"), `${PASSWORD}\n`);
  writeFileSync(join(dir, "weak.txt"), "short\n");
  // Jan's own signature (what Profil Zaufany does for him): PESEL in the subject's serialNumber.
  const keys = await generateKeyPair("EC-P256");
  const cert = await selfSignedCertificate(keys, [
    { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
    { oid: "2.5.4.42", value: "Jan", stringType: "UTF8String" },
    { oid: "2.5.4.4", value: "Kowalski", stringType: "UTF8String" },
    { oid: "2.5.4.5", value: `PNOPL-${PESEL}`, stringType: "PrintableString" },
    { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
  ]);
  janSigner = { privateKey: keys.privateKey, certificate: cert.der };
});

afterAll(async () => {
  await sim.close();
  // No command printed a password or a private key, on any stream, in any mode.
  const all = everything.join("\n");
  expect(all).not.toContain(PASSWORD);
  expect(all).not.toContain(SIGNING_FREE_PASSWORD);
  expect(all).not.toMatch(/PRIVATE KEY-----/);
  rmSync(dir, { recursive: true, force: true });
});

describe("cert enroll, enrollment resume and cert revoke against the simulator", () => {
  it("sets up a company, a branch with a workstation and an operator with a PESEL", async () => {
    expect((await cli(["company", "add", "--nip", NIP, "--name", "Hurtownia Testowa"])).code).toBe(0);
    expect((await cli(["branch", "add", "--company", NIP, "--code", "001", "--name", "Kraków"])).code).toBe(0);
    const op = await cli(["operator", "add", "--company", NIP, "--name", "Jan Kowalski", "--pesel", PESEL, "--branch", "001", "--json"]);
    expect(op.code, op.stdout).toBe(0);
    ids["op"] = op.json<{ operator: Json }>().operator["id"] as string;
    const ws = await cli(["workstation", "add", "--company", NIP, "--branch", "001", "--name", "kasa-1", "--outbox", outbox, "--inbox", inbox]);
    expect(ws.code, ws.stderr).toBe(0);
  });

  it("refuses a new key password that breaks the ksef-app rules, listing the violations, before anything is stored", async () => {
    const r = await cli([
      "cert",
      "enroll",
      "--company",
      NIP,
      "--operator-pesel",
      PESEL,
      "--environment",
      "test",
      "--type",
      "Authentication",
      "--name",
      "Jan Kowalski logowanie",
      "--workstation",
      "kasa-1",
      "--password-file",
      "weak.txt",
      "--ksef-url",
      sim.url,
      "--json",
    ]);
    expect(r.code).toBe(2);
    const err = r.json<{ error: Json }>().error;
    expect(err["code"]).toBe("VALIDATION");
    expect((err["violations"] as Json[]).length).toBeGreaterThan(0);
    expect((err["violations"] as Json[]).every((v) => typeof v["rule"] === "string" && v["rule"].startsWith("password."))).toBe(true);
    const neither = await cli([
      "cert",
      "enroll",
      "--company",
      NIP,
      "--environment",
      "test",
      "--type",
      "Offline",
      "--name",
      "Firma offline",
      "--password-file",
      "pw.txt",
      "--json",
    ]);
    expect(neither.code).toBe(2);
    expect((await cli(["enrollment", "list", "--json"])).json<Json[]>()).toEqual([]);
    expect(sim.state.counters.enrollmentsCreated).toBe(0);
  });

  it("enrolls the operator's Authentication certificate through the folder hand-off, signed by Jan", async () => {
    const running = cli([
      "cert",
      "enroll",
      "--company",
      NIP,
      "--operator-pesel",
      PESEL,
      "--environment",
      "test",
      "--type",
      "Authentication",
      "--name",
      "Jan Kowalski logowanie",
      "--workstation",
      "kasa-1",
      "--password-file",
      "pw.txt",
      "--seal-password",
      "--ksef-url",
      sim.url,
      "--json",
    ]);
    const authXml = await until("auth.xml in the outbox", () => readdirSync(outbox).find((n) => /^auth-.*\.xml$/.test(n)));
    const signed = await signXml(readFileSync(join(outbox, authXml)), janSigner);
    writeFileSync(join(inbox, "podpisany.xml"), signed);
    const r = await running;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const body = r.json<Json>();
    expect(body["outcome"]).toBe("completed");
    expect(body["enrollment"]).toMatchObject({ state: "completed", authMethod: "handoff", passwordSealed: true });
    const c = body["certificate"] as Json;
    expect(c).toMatchObject({
      certificateType: "Authentication",
      environment: "test",
      mode: "current",
      state: "active",
      subjectIdentifierValue: PESEL,
      source: "enrolled",
      passwordSealed: true,
    });
    expect(sim.state.certificates.get(c["serialNumber"] as string)?.type).toBe("Authentication");
    ids["auth"] = c["id"] as string;
    // Progress on stderr even in --json mode: which KSeF, the states, where auth.xml is and where the signed file goes.
    expect(r.stderr).toContain(`KSeF test: ${sim.url} (from --ksef-url; a local server, not MF's KSeF)`);
    expect(r.stderr).toContain(`auth.xml goes to ${outbox}; the signed file is taken from ${inbox}`);
    expect(r.stderr).toMatch(/\[awaiting_signature\] auth\.xml is in .*auth-.*\.xml: sign it .* before \d{4}-\d\d-\d\dT/);
    expect(r.stderr).toContain("[completed] Certificate");
  });

  it("enrolls an Offline certificate automatically with that Authentication certificate (its sealed password), human output", async () => {
    const r = await cli(
      [
        "cert",
        "enroll",
        "--company",
        NIP,
        "--operator",
        ids["op"] ?? "",
        "--environment",
        "test",
        "--type",
        "Offline",
        "--name",
        "Jan Kowalski offline",
        "--with-certificate",
        ids["auth"] ?? "",
        "--password-stdin",
      ],
      { stdin: `${SIGNING_FREE_PASSWORD}\n`, env: { ...env, KSEF_CERTS_KSEF_URL: sim.url } },
    );
    expect(r.code, r.stderr).toBe(0);
    const serial = /^enrolled certificate ([0-9A-F]{16})$/m.exec(r.stdout)?.[1];
    expect(serial).toBeDefined();
    expect(sim.state.certificates.get(serial ?? "")?.type).toBe("Offline");
    expect(r.stdout).toMatch(/valid to:\s+\d{4}-\d\d-\d\dT/);
    expect(r.stdout).toMatch(/mode:\s+current/);
    expect(r.stderr).toContain(`(from KSEF_CERTS_KSEF_URL; a local server`);
    expect(r.stderr).toContain("[authenticating] Signing in to KSeF with the held Authentication certificate.");
    ids["offline"] = /certificate id:\s+(\S+)/.exec(r.stdout)?.[1] ?? "";
    ids["offlineSerial"] = serial ?? "";

    const list = (await cli(["cert", "list", "--company", NIP, "--operator-pesel", PESEL, "--json"])).json<Json[]>();
    expect(list.map((x) => [x["certificateType"], x["source"], x["state"]]).sort()).toEqual([
      ["Authentication", "enrolled", "active"],
      ["Offline", "enrolled", "active"],
    ]);
    expect(list.find((x) => x["certificateType"] === "Offline")?.["id"]).toBe(ids["offline"]);
  });

  it("revokes the Offline certificate in KSeF (signed in with the Authentication one) and locally", async () => {
    const bad = await cli([
      "cert",
      "revoke",
      ids["offline"] ?? "",
      "--reason",
      "KeyCompromise",
      "--with-certificate",
      ids["offline"] ?? "",
      "--ksef-url",
      sim.url,
      "--json",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.json<{ error: Json }>().error["violations"]).toContainEqual(expect.objectContaining({ rule: "signingCertificate.type" }));
    expect(sim.state.certificates.get(ids["offlineSerial"] ?? "")?.revokedAt).toBeUndefined();

    const r = await cli([
      "cert",
      "revoke",
      ids["offline"] ?? "",
      "--reason",
      "KeyCompromise",
      "--with-certificate",
      ids["auth"] ?? "",
      "--ksef-url",
      sim.url,
      "--json",
    ]);
    expect(r.code, r.stdout).toBe(0);
    const body = r.json<Json>();
    expect(body["ksef"]).toBe("revoked");
    expect(body["certificate"]).toMatchObject({ id: ids["offline"], state: "revoked", revocationReason: "KeyCompromise" });
    const inKsef = sim.state.certificates.get(ids["offlineSerial"] ?? "");
    expect(inKsef?.revokedAt).toBeInstanceOf(Date);
    expect(inKsef?.revocationReason).toBe("KeyCompromise");
    const again = await cli(["cert", "revoke", ids["offline"] ?? "", "--with-certificate", ids["auth"] ?? "", "--ksef-url", sim.url, "--json"]);
    expect(again.code).toBe(8);
  });

  it("marks a certificate KSeF already revoked (25009) revoked here too, and says so", async () => {
    // A second Offline certificate, revoked in KSeF behind the registry's back.
    const e = await cli([
      "cert",
      "enroll",
      "--company",
      NIP,
      "--operator-pesel",
      PESEL,
      "--environment",
      "test",
      "--type",
      "Offline",
      "--name",
      "Jan Kowalski offline 2",
      "--with-certificate",
      ids["auth"] ?? "",
      "--password-file",
      "pw.txt",
      "--ksef-url",
      sim.url,
      "--json",
    ]);
    expect(e.code, e.stdout).toBe(0);
    const c = e.json<Json>()["certificate"] as Json;
    const record = sim.state.certificates.get(c["serialNumber"] as string);
    if (record === undefined) throw new Error("the simulator does not know the certificate");
    record.revokedAt = new Date();
    record.revocationReason = "Unspecified";
    const r = await cli(["cert", "revoke", c["id"] as string, "--reason", "Superseded", "--with-certificate", ids["auth"] ?? "", "--ksef-url", sim.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("is already revoked (25009)");
    expect(r.stdout).toContain("KSeF had already revoked it: 25009");
    expect((await cli(["cert", "show", c["id"] as string, "--json"])).json<{ certificate: Json }>().certificate).toMatchObject({ state: "revoked" });
  });

  it("leaves a resumable enrollment on Ctrl-C after KSeF got the request, and `enrollment resume` finishes it without a second request", async () => {
    const created = sim.state.counters.enrollmentsCreated;
    const polls = sim.state.counters.requests[ENROLLMENT_STATUS] ?? 0;
    const baseListeners = process.listenerCount("SIGINT");
    const running = cli([
      "cert",
      "enroll",
      "--company",
      NIP,
      "--operator-pesel",
      PESEL,
      "--environment",
      "test",
      "--type",
      "Offline",
      "--name",
      "Jan Kowalski offline 3",
      "--with-certificate",
      ids["auth"] ?? "",
      "--password-file",
      "pw.txt",
      "--ksef-url",
      sim.url,
      "--json",
    ]);
    // State `submitted` is saved before the first status poll; the CLI's own SIGINT handler must be there
    // (else the store's lock handler would end this test process).
    await until("the first status poll", () =>
      (sim.state.counters.requests[ENROLLMENT_STATUS] ?? 0) > polls && process.listenerCount("SIGINT") > baseListeners ? true : undefined,
    );
    process.emit("SIGINT", "SIGINT");
    const r = await running;
    expect(r.code, r.stdout).toBe(7);
    const err = r.json<{ error: Json }>().error;
    expect(err["details"]).toMatchObject({ state: "submitted", aborted: true });
    expect(err["hint"]).toContain("ksef-certs enrollment resume");
    const id = err["details"]["enrollmentId"] as string;
    expect(process.listenerCount("SIGINT")).toBe(baseListeners);

    const listed = (await cli(["enrollment", "list", "--state", "submitted", "--json"])).json<Json[]>();
    expect(listed.map((x) => x["id"])).toEqual([id]);
    const shown = await cli(["enrollment", "show", id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/state:\s+submitted/);
    expect(shown.stdout).toMatch(/KSeF reference:\s+\S+/);

    const resumed = await cli(["enrollment", "resume", id, "--ksef-url", sim.url, "--json"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const [result] = resumed.json<{ results: Json[] }>().results;
    expect(result).toMatchObject({
      outcome: "completed",
      enrollment: { id, state: "completed" },
      certificate: { certificateType: "Offline", state: "active" },
    });
    expect(sim.state.counters.enrollmentsCreated).toBe(created + 1);
    expect((await cli(["enrollment", "resume", "--json"])).json<{ results: Json[] }>().results).toEqual([]);
    const all = (await cli(["enrollment", "list", "--json"])).json<Json[]>();
    expect(all.map((x) => x["state"])).toEqual(["completed", "completed", "completed", "completed"]);
    expect(all[0]?.["id"]).toBe(id);
    for (const x of all) expect(Object.keys(x).some((k) => /keyFile|sealed(Password|Session)$/.test(k))).toBe(false);
  });

  it("leaves a hand-off interrupted while waiting for the signature resumable; without the key password it waits (exit 4), with it the resumed wait takes the signed file", async () => {
    const before = new Set(readdirSync(outbox));
    const baseListeners = process.listenerCount("SIGINT");
    const running = cli(
      [
        "cert",
        "enroll",
        "--company",
        NIP,
        "--operator-pesel",
        PESEL,
        "--environment",
        "test",
        "--type",
        "Authentication",
        "--mode",
        "queued",
        "--name",
        "Jan Kowalski następca",
        "--workstation",
        "kasa-1",
        "--password-stdin",
        "--ksef-url",
        sim.url,
      ],
      { stdin: `${SIGNING_FREE_PASSWORD}\n` },
    );
    await until("a new auth.xml", () =>
      readdirSync(outbox).some((n) => /^auth-.*\.xml$/.test(n) && !before.has(n)) && process.listenerCount("SIGINT") > baseListeners ? true : undefined,
    );
    process.emit("SIGINT", "SIGINT");
    const r = await running;
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toMatch(/Interrupted: enrollment \S+ stopped in state awaiting_signature/);
    const id = /enrollment resume ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? "";

    const noPassword = await cli(["enrollment", "resume", id, "--ksef-url", sim.url, "--json"]);
    expect(noPassword.code, noPassword.stdout).toBe(4);
    expect(noPassword.json<{ error: Json }>().error).toMatchObject({ code: "PASSWORD_REQUIRED", details: { state: "awaiting_signature", outcome: "waiting" } });
    const shown = (await cli(["enrollment", "show", id, "--json"])).json<{ enrollment: Json }>().enrollment;
    expect(shown).toMatchObject({ id, state: "awaiting_signature", authMethod: "handoff", passwordSealed: false });
    expect(shown["handoffFile"]).toMatch(/auth-.*\.xml$/);

    // The interrupted wait closed its folder watchers: the resumed run, not a leftover watcher, gets the signed file.
    const resuming = cli(["enrollment", "resume", id, "--ksef-url", sim.url, "--password-stdin", "--json"], { stdin: `${SIGNING_FREE_PASSWORD}\n` });
    const file = await until("auth.xml of the resumed wait", () => readdirSync(outbox).find((n) => /^auth-.*\.xml$/.test(n) && !before.has(n)));
    writeFileSync(join(inbox, "po przerwie.xml"), await signXml(readFileSync(join(outbox, file)), janSigner));
    const done = await resuming;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.json<{ results: Json[] }>().results[0]).toMatchObject({ outcome: "completed", enrollment: { id, state: "completed" } });
  });

  it("says which KSeF it talks to, and warns when the environment and the address disagree", () => {
    const io = { env: {} } as unknown as CliIo;
    expect(describeKsefTarget(ksefTargetOf(io, {}), "demo")).toBe("KSeF demo: https://api-demo.ksef.mf.gov.pl/v2 (the official demo environment)");
    expect(describeKsefTarget(ksefTargetOf(io, { ksefUrl: "http://127.0.0.1:8090/v2/" }), "production")).toBe(
      "KSeF production: http://127.0.0.1:8090/v2 (from --ksef-url; a local server, not MF's KSeF) — the certificate is recorded as production, but this is not the production KSeF",
    );
    expect(describeKsefTarget(ksefTargetOf({ env: { KSEF_CERTS_KSEF_URL: "https://api.ksef.mf.gov.pl/v2" } } as unknown as CliIo, {}), "test")).toContain(
      "this is the PRODUCTION KSeF",
    );
    expect(() => ksefTargetOf(io, { ksefUrl: "not a url" })).toThrow(/--ksef-url is not a usable URL/);
  });

  it("documents the KSeF commands with examples", async () => {
    for (const path of [
      ["cert", "enroll"],
      ["enrollment", "list"],
      ["enrollment", "show"],
      ["enrollment", "resume"],
      ["cert", "revoke"],
    ]) {
      const r = await run([...path, "--help"], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Examples:");
      expect(r.stdout).toContain("--json");
    }
    expect((await run(["cert", "enroll", "--help"], { cwd: dir })).stdout).toContain("--ksef-url");
  });
});
