/* eslint-disable @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment -- parsed CLI JSON is checked field by field with expect() */
// `renew --plan`, `renew policy show|set`, `renew approve` and `renew --due`, run in-process with an injected clock
// (never today's date) on embedded PGlite data folders; `--due` against the KSeF simulator, whose clock moves with
// the CLI's so that the enrolled certificate falls due.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptPrivateKeyPem, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { signXml } from "@ksef-certs/ksef/xades";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { issueKsefLikeCertificate, selfSignedCertificate } from "@ksef-certs/testing/certificates";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, type RunOptions, type RunResult } from "./__fixtures__/harness.js";
import { exitCodeFor } from "./exit-codes.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PASSWORD = "Odn0wienie!Haslo-2026";
const NIP = "5265877635";
const PESEL = "44051401458";
const DAY = 86_400_000;
const VALID_FROM = new Date("2026-01-05T00:00:00Z");
const VALIDITY_DAYS = 730;
/** The plan's clock: 59 days before both imported certificates expire (within the default 60-day lead). */
const PLAN_AT = new Date(VALID_FROM.getTime() + (VALIDITY_DAYS - 59) * DAY);

const env = { KSEF_CERTS_MASTER_KEY: randomBytes(32).toString("base64") };
const everything: string[] = [];
let dir: string;

function cliIn(dataDir: string, now: Date): (argv: readonly string[], more?: Partial<RunOptions>) => Promise<RunResult> {
  return async (argv, more = {}) => {
    const r = await run([...argv, "--data-dir", dataDir], { cwd: dir, env, now, ...more });
    everything.push(r.stdout, r.stderr);
    return r;
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ksef-certs-renew-"));
  writeFileSync(join(dir, "pw.txt"), `${PASSWORD}\n`);
  for (const name of ["sealed", "unsealed"]) {
    const keys = await generateKeyPair("EC-P256");
    const cert = await issueKsefLikeCertificate({
      certificateType: "Authentication",
      keys,
      enrollmentData: { commonName: `Firma ${name}`, countryName: "PL", givenName: "Jan", surname: "Kowalski", serialNumber: `PNOPL-${PESEL}` },
      validFrom: VALID_FROM,
      validityDays: VALIDITY_DAYS,
    });
    writeFileSync(join(dir, `${name}.crt`), cert.certificate);
    writeFileSync(join(dir, `${name}.key`), await encryptPrivateKeyPem(keys.privateKey, PASSWORD));
  }
});

afterAll(() => {
  // No command printed a password or a private key.
  const all = everything.join("\n");
  expect(all).not.toContain(PASSWORD);
  expect(all).not.toMatch(/PRIVATE KEY-----/);
  rmSync(dir, { recursive: true, force: true });
});

describe("renew --plan, policy and approve", () => {
  let cli: ReturnType<typeof cliIn>;
  const ids: Record<string, string> = {};

  it("sets up a company with a certificate whose password is sealed (test) and one whose is not (demo)", async () => {
    cli = cliIn(join(dir, "data-plan"), new Date(VALID_FROM.getTime() + DAY));
    expect((await cli(["company", "add", "--nip", NIP, "--name", "Hurtownia Testowa"])).code).toBe(0);
    expect((await cli(["branch", "add", "--company", NIP, "--code", "001", "--name", "Kraków"])).code).toBe(0);
    const sealed = await cli([
      "cert",
      "import",
      "--company",
      NIP,
      "--environment",
      "test",
      "--cert",
      "sealed.crt",
      "--key",
      "sealed.key",
      "--password-file",
      "pw.txt",
      "--seal-password",
      "--json",
    ]);
    expect(sealed.code, sealed.stdout + sealed.stderr).toBe(0);
    const unsealed = await cli([
      "cert",
      "import",
      "--company",
      NIP,
      "--environment",
      "demo",
      "--cert",
      "unsealed.crt",
      "--key",
      "unsealed.key",
      "--password-file",
      "pw.txt",
      "--json",
    ]);
    expect(unsealed.code, unsealed.stdout + unsealed.stderr).toBe(0);
    cli = cliIn(join(dir, "data-plan"), PLAN_AT);
  });

  it("plans an automatic renewal for the sealed one and 'blocked: password not sealed' for the other (JSON and English)", async () => {
    const r = await cli(["renew", "--plan", "--company", NIP, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const body = r.json<{ vault: boolean; items: Json[] }>();
    expect(body.vault).toBe(true);
    const byEnv = new Map(body.items.map((i) => [i["certificate"]["environment"], i]));
    expect(byEnv.get("test")).toMatchObject({ route: "automatic", signing: "certificate", reason: null });
    expect(byEnv.get("demo")).toMatchObject({ route: "blocked", reason: { id: "renewal.blocked.passwordNotSealed" } });
    const human = await cli(["renew", "--plan", "--lang", "en"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^CERTIFICATE\s+COMPANY\s+SCOPE\s+ENV\s+TYPE\s+EXPIRES\s+DUE\s+ROUTE/m);
    expect(human.stdout).toMatch(/Firma sealed.*test\s+Authentication.*automatic/);
    expect(human.stdout).toMatch(/Firma unsealed.*demo.*blocked: The key's password is not sealed under the master key/);
    const polish = await cli(["renew", "--plan", "--environment", "demo", "--lang", "pl"]);
    expect(polish.stdout).toMatch(/^CERTYFIKAT\s+FIRMA/m);
    expect(polish.stdout).toContain("zablokowane: Hasło klucza nie jest zapieczętowane");
    expect(polish.stdout).not.toContain("Firma sealed");
    // Without a master key nothing can go unattended.
    const noKey = await run(["renew", "--plan", "--json", "--data-dir", join(dir, "data-plan")], { cwd: dir, env: {}, now: PLAN_AT });
    expect(noKey.code, noKey.stdout).toBe(0);
    expect(noKey.json<{ vault: boolean; items: Json[] }>().items.every((i) => i["reason"]?.["id"] === "renewal.blocked.noMasterKey")).toBe(true);
  });

  it("sets and shows policies with each value's source, and refuses a bad value with its rule in Polish", async () => {
    const company = await cli(["renew", "policy", "set", "--company", NIP, "--renew-before-days", "45", "--approval", "ask_first", "--json"]);
    expect(company.code, company.stdout).toBe(0);
    const branch = await cli(["renew", "policy", "set", "--company", NIP, "--branch", "001", "--password-policy", "generate", "--json"]);
    expect(branch.code, branch.stdout).toBe(0);
    const shown = await cli(["renew", "policy", "show", "--company", NIP, "--branch", "001", "--json"]);
    const view = shown.json<Json>();
    expect(view["own"]).toEqual({ password: "generate" });
    expect(view["effective"]["values"]).toMatchObject({ renewBeforeDays: 45, approval: "ask_first", password: "generate", signing: "certificate" });
    expect(view["effective"]["sources"]).toMatchObject({ renewBeforeDays: "company", approval: "company", password: "branch", signing: "default" });
    const human = await cli(["renew", "policy", "show", "--company", NIP, "--branch", "001", "--lang", "en"]);
    expect(human.stdout).toMatch(/renewBeforeDays\s+\(inherited\)\s+45\s+company/);
    expect(human.stdout).toMatch(/password\s+generate\s+generate\s+branch/);
    expect(human.stdout).toMatch(/signing\s+\(inherited\)\s+certificate\s+default/);

    const bad = await cli(["renew", "policy", "set", "--company", NIP, "--renew-before-days", "400", "--lang", "pl"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("błąd: Zasady odnawiania są nieprawidłowe:");
    expect(bad.stderr).toMatch(/policy\.renewBeforeDays: .*365/);
    const badJson = await cli(["renew", "policy", "set", "--company", NIP, "--approval", "sometimes", "--json", "--lang", "pl"]);
    expect(badJson.json<{ error: Json }>().error["violations"]).toContainEqual(
      expect.objectContaining({ field: "policy.approval", rule: "policy.approval.known" }),
    );

    const cleared = await cli(["renew", "policy", "set", "--company", NIP, "--clear", "approval", "renewBeforeDays", "--json"]);
    expect(cleared.code, cleared.stdout).toBe(0);
    expect(cleared.json<Json>()["effective"]["sources"]).toMatchObject({ approval: "default", renewBeforeDays: "default" });
    expect((await cli(["renew", "policy", "set", "--company", NIP, "--clear", "colour"])).code).toBe(2);
  });

  it("refuses to approve a renewal that does not wait for approval", async () => {
    const unknown = await cli(["renew", "approve", "00000000-0000-4000-8000-000000000000", "--json"]);
    expect(unknown.code).toBe(7);
    // Open the renewals (the demo one is blocked, so it is only opened and parked).
    const pass = await cli(["renew", "--due", "--ksef-url", "http://127.0.0.1:9/v2", "--json"]);
    expect(pass.json<Json>()).toHaveProperty("opened");
    const plan = (await cli(["renew", "--plan", "--json"])).json<{ items: Json[] }>();
    const renewal = plan.items.find((i) => i["certificate"]["environment"] === "demo")?.["renewal"];
    expect(renewal).toBeTruthy();
    ids["renewal"] = renewal["id"];
    expect(renewal["state"]).not.toBe("awaiting_approval");
    const r = await cli(["renew", "approve", ids["renewal"] ?? "", "--json"]);
    expect(r.json<{ error: Json }>().error).toMatchObject({ code: "CONFLICT", messageId: "renewal.approve.notWaiting" });
    expect(r.code).toBe(exitCodeFor("CONFLICT"));
  });

  it("has --help on every subcommand", async () => {
    for (const argv of [["renew"], ["renew", "policy", "show"], ["renew", "policy", "set"], ["renew", "approve"]]) {
      const r = await cli([...argv, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("--json");
    }
  });
});

describe("renew --due against the simulator", () => {
  let sim: RunningSimulator;
  let simNow: Date | undefined;
  const dataDir = (): string => join(dir, "data-due");
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    sim = await startSimulator({ now: () => simNow ?? new Date() });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("enrolls an Authentication certificate with a sealed password through the hand-off", async () => {
    const cli = (argv: readonly string[]): Promise<RunResult> => run([...argv, "--data-dir", dataDir()], { cwd: dir, env });
    const outbox = join(dir, "out");
    const inbox = join(dir, "in");
    mkdirSync(outbox);
    mkdirSync(inbox);
    expect((await cli(["company", "add", "--nip", NIP, "--name", "Hurtownia"])).code).toBe(0);
    expect((await cli(["branch", "add", "--company", NIP, "--code", "001", "--name", "Kraków"])).code).toBe(0);
    expect((await cli(["operator", "add", "--company", NIP, "--name", "Jan Kowalski", "--pesel", PESEL, "--branch", "001"])).code).toBe(0);
    expect((await cli(["workstation", "add", "--company", NIP, "--branch", "001", "--name", "kasa-1", "--outbox", outbox, "--inbox", inbox])).code).toBe(0);
    const keys = await generateKeyPair("EC-P256");
    const jan = await selfSignedCertificate(keys, [
      { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
      { oid: "2.5.4.5", value: `PNOPL-${PESEL}`, stringType: "PrintableString" },
      { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
    ]);
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
    const end = Date.now() + 30_000;
    let authXml: string | undefined;
    while ((authXml = readdirSync(outbox).find((n) => /^auth-.*\.xml$/.test(n))) === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    writeFileSync(join(inbox, "signed.xml"), await signXml(readFileSync(join(outbox, authXml ?? "")), { privateKey: keys.privateKey, certificate: jan.der }));
    const r = await running;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const c = r.json<Json>()["certificate"];
    ids["auth"] = c["id"];
    ids["validTo"] = c["validTo"];
  });

  it("a pass enrolls the queued successor of the certificate due for renewal; a second pass does nothing more", async () => {
    simNow = new Date(Date.parse(ids["validTo"] ?? "") - 59 * DAY);
    const at = simNow;
    const cli = (argv: readonly string[]): Promise<RunResult> => run([...argv, "--data-dir", dataDir()], { cwd: dir, env, now: at });
    const before = sim.state.counters.enrollmentsCreated;
    const first = await cli(["renew", "--due", "--ksef-url", sim.url, "--json"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.json<Json>()).toMatchObject({ opened: 1, completed: 1, failed: 0, retrying: 0 });
    expect(first.stderr).toMatch(/completed/);
    expect(sim.state.counters.enrollmentsCreated).toBe(before + 1);
    const list = (await cli(["cert", "list", "--company", NIP, "--operator-pesel", PESEL, "--json"])).json<Json[]>();
    expect(list.map((x) => x["mode"]).sort()).toEqual(["current", "queued"]);
    const plan = (await cli(["renew", "--plan", "--json"])).json<{ items: Json[] }>();
    const item = plan.items.find((i) => i["certificate"]["id"] === ids["auth"]);
    expect(item).toMatchObject({ route: "renewed", renewal: { state: "completed" } });

    const second = await cli(["renew", "--due", "--ksef-url", sim.url, "--json"]);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.json<Json>()).toMatchObject({ opened: 0, completed: 0, failed: 0 });
    expect(sim.state.counters.enrollmentsCreated).toBe(before + 1);
    const human = await cli(["renew", "--due", "--ksef-url", sim.url, "--lang", "pl"]);
    expect(human.stdout).toContain("Przebieg zakończony:");
  });
});
