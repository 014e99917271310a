/* eslint-disable @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-member-access -- parsed CLI JSON is checked field by field with expect() */
// The registry commands run in-process against one real embedded database (PGlite in a temp data
// folder), as a scripted sequence: organisation, imports, listing, resolution, export, revocation,
// the audit chain and the data-folder lock. Certificates are issued by core's test CA; files are
// checked with the openssl CLI.
import { randomBytes, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptPrivateKeyPem, generateKeyPair, type KeyPair } from "@ksef-certs/ksef/crypto";
import { MESSAGES_PL, violationMessagePl } from "@ksef-certs/ksef/policies";
import { openStore } from "@ksef-certs/domain/store";
import { issueKsefLikeCertificate } from "@ksef-certs/testing/certificates";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openssl, run, type RunOptions } from "./__fixtures__/harness.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PASSWORD = "Rej3str!Unikalne-Haslo";
const NIP = "5265877635";
const PESEL = "44051401458";
const DAY = 86_400_000;

let dir: string;
let dataDir: string;
const everything: string[] = [];
const ids: Record<string, string> = {};
/** The master key once a test introduced one: the audit log is keyed from then on, so every later command needs it. */
let keyEnv: Record<string, string> = {};

async function cli(argv: readonly string[], more: Partial<RunOptions> = {}): ReturnType<typeof run> {
  const r = await run([...argv, "--data-dir", dataDir], { cwd: dir, ...more, env: { ...keyEnv, ...more.env } });
  everything.push(r.stdout, r.stderr);
  return r;
}

/** Writes `<name>.crt` (PEM) and `<name>.key` (encrypted PKCS#8 under PASSWORD) for a new KSeF-like certificate. */
async function issue(
  name: string,
  certificateType: "Authentication" | "Offline",
  validityDays: number,
  keys?: KeyPair,
): Promise<{ serial: string; keys: KeyPair }> {
  const k = keys ?? (await generateKeyPair("EC-P256"));
  const cert = await issueKsefLikeCertificate({
    certificateType,
    keys: k,
    enrollmentData: { commonName: `Jan Kowalski ${name}`, countryName: "PL", givenName: "Jan", surname: "Kowalski", serialNumber: `PNOPL-${PESEL}` },
    validFrom: new Date(Date.now() - DAY),
    validityDays,
  });
  writeFileSync(join(dir, `${name}.crt`), cert.certificate);
  writeFileSync(join(dir, `${name}.key`), await encryptPrivateKeyPem(k.privateKey, PASSWORD));
  return { serial: new X509Certificate(cert.certificate).serialNumber.toUpperCase(), keys: k };
}

const serials: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ksef-certs-registry-"));
  dataDir = join(dir, "data");
  writeFileSync(join(dir, "pw.txt"), `${PASSWORD}\n`);
  serials["op"] = (await issue("op", "Authentication", 400)).serial;
  serials["branch"] = (await issue("branch", "Authentication", 50)).serial;
  serials["company"] = (await issue("company", "Authentication", 730)).serial;
  serials["next"] = (await issue("next", "Authentication", 700)).serial;
  await issue("other", "Authentication", 300);
  serials["offline"] = (await issue("offline", "Offline", 300)).serial;
  // openssl reads line 2 for -passout when both name the same file.
  writeFileSync(join(dir, "pw-out.txt"), `${PASSWORD}\n`);
  openssl(dir, [
    "pkcs12",
    "-export",
    "-inkey",
    "offline.key",
    "-in",
    "offline.crt",
    "-passin",
    "file:pw.txt",
    "-passout",
    "file:pw-out.txt",
    "-out",
    "offline.p12",
  ]);
});

afterAll(() => {
  // No command printed the password or a private key, on any stream, in any mode.
  const all = everything.join("\n");
  expect(all).not.toContain(PASSWORD);
  expect(all).not.toMatch(/PRIVATE KEY-----/);
  rmSync(dir, { recursive: true, force: true });
});

describe("registry commands on an embedded database", () => {
  it("adds and lists companies, refusing a bad NIP with a violation a Polish UI can show", async () => {
    const add = await cli(["company", "add", "--nip", "526-587-76-35", "--name", "Firma Zażółć", "--json"]);
    expect(add.code, add.stderr).toBe(0);
    const company = add.json<{ company: Json }>().company;
    expect(company).toMatchObject({ nip: NIP, name: "Firma Zażółć" });
    expect(company["id"]).toMatch(/^[0-9a-f-]{36}$/);
    ids["company"] = company["id"] as string;

    const list = await cli(["company", "list", "--json"]);
    expect(list.json<Json[]>().map((c) => c["nip"])).toEqual([NIP]);
    const human = await cli(["company", "list"]);
    expect(human.stdout).toMatch(new RegExp(`${ids["company"]}\\s+${NIP}\\s+Firma Zażółć`));

    const bad = await cli(["company", "add", "--nip", "5265877636", "--name", "Zła", "--json"]);
    expect(bad.code).toBe(2);
    const err = bad.json<{ error: Json }>().error;
    expect(err["code"]).toBe("VALIDATION");
    const violation = (err["violations"] as Json[]).find((v) => v["field"] === "nip");
    expect(violation?.["rule"]).toBe("nip.checksum");
    expect(MESSAGES_PL[violation?.["rule"] as string]).toBeDefined();
    expect(violationMessagePl(violation as never)).toContain("cyfra kontrolna");
    expect((await cli(["company", "list", "--json"])).json<Json[]>()).toHaveLength(1);

    const dup = await cli(["company", "add", "--nip", NIP, "--name", "Again"]);
    expect(dup.code).toBe(8);
    expect(dup.stderr).toContain(`A company with NIP ${NIP} already exists`);
  });

  it("adds branches, operators and workstations named by NIP and code", async () => {
    const b1 = await cli(["branch", "add", "--company", NIP, "--code", "001", "--name", "Kraków", "--json"]);
    expect(b1.code, b1.stdout).toBe(0);
    ids["b1"] = b1.json<{ branch: Json }>().branch["id"] as string;
    const b2 = await cli(["branch", "add", "--company", NIP, "--code", "002", "--name", "Gdańsk", "--internal-id", `${NIP}-00017`]);
    expect(b2.code, b2.stderr).toBe(0);
    expect(b2.stdout).toContain(`${NIP}-00017`);
    const branches = (await cli(["branch", "list", "--company", NIP, "--json"])).json<Json[]>();
    expect(branches.map((b) => [b["code"], b["internalId"]])).toEqual([
      ["001", null],
      ["002", `${NIP}-00017`],
    ]);
    const unknown = await cli(["branch", "list", "--company", "1111111111", "--json"]);
    expect(unknown.code).toBe(7);

    const op = await cli(["operator", "add", "--company", NIP, "--name", "Jan Kowalski", "--pesel", PESEL, "--branch", "001", "--json"]);
    expect(op.code, op.stdout).toBe(0);
    const operator = op.json<{ operator: Json }>().operator;
    expect(operator).toMatchObject({ pesel: PESEL, branchIds: [ids["b1"]], branchCodes: ["001"] });
    ids["op"] = operator["id"] as string;
    const badPesel = await cli(["operator", "add", "--company", NIP, "--name", "X", "--pesel", "44051401459", "--json"]);
    expect(badPesel.code).toBe(2);
    expect(badPesel.json<{ error: Json }>().error["violations"]).toContainEqual(expect.objectContaining({ field: "pesel" }));
    expect((await cli(["operator", "list", "--company", NIP, "--branch", "002", "--json"])).json<Json[]>()).toEqual([]);
    const atB1 = await cli(["operator", "list", "--company", NIP, "--branch", "001"]);
    expect(atB1.stdout).toMatch(new RegExp(`${ids["op"]}\\s+Jan Kowalski\\s+${PESEL}\\s+-\\s+001`));

    const ws = await cli([
      "workstation",
      "add",
      "--company",
      NIP,
      "--branch",
      "001",
      "--name",
      "kasa-1",
      "--outbox",
      "hand/out",
      "--inbox",
      "hand/in",
      "--json",
    ]);
    expect(ws.code, ws.stdout).toBe(0);
    expect(ws.json<{ workstation: Json }>().workstation).toMatchObject({ outboxDir: join(dir, "hand/out"), inboxDir: join(dir, "hand/in") });
    const same = await cli(["workstation", "add", "--company", NIP, "--branch", "001", "--name", "kasa-2", "--outbox", "x", "--inbox", "x", "--json"]);
    expect(same.code).toBe(2);
    expect((await cli(["workstation", "list", "--company", NIP, "--json"])).json<Json[]>().map((w) => [w["name"], w["branchCode"]])).toEqual([
      ["kasa-1", "001"],
    ]);
  });

  it("refuses a mismatched pair with exit 6 and stores nothing", async () => {
    const r = await cli(["cert", "import", "--company", NIP, "--environment", "test", "--cert", "op.crt", "--key", "other.key", "--password-stdin", "--json"], {
      stdin: `${PASSWORD}\n`,
    });
    expect(r.code).toBe(6);
    expect(r.json<{ error: Json }>().error["code"]).toBe("KEY_MISMATCH");
    expect((await cli(["cert", "list", "--json"])).json<Json[]>()).toEqual([]);
    const wrong = await cli(["cert", "import", "--company", NIP, "--environment", "test", "--cert", "op.crt", "--key", "op.key", "--password-stdin"], {
      stdin: "not-the-password\n",
    });
    expect(wrong.code).toBe(4);
    const both = await cli(["cert", "import", "--company", NIP, "--environment", "test", "--cert", "op.crt", "--key", "op.key", "--p12", "x.p12"]);
    expect(both.code).toBe(2);
    // A certificate of KSeF's test CA is never production: refused from the certificate alone, before any password is asked for.
    const production = await cli(["cert", "import", "--company", NIP, "--environment", "production", "--cert", "op.crt", "--key", "op.key", "--json"]);
    expect(production.code).toBe(2);
    const refused = production.json<{ error: { code: string; message: string; violations: Json[] } }>().error;
    expect(refused.code).toBe("VALIDATION");
    expect(refused.message).toContain("issued by KSeF's test environment (TEST CCK KSeF)");
    expect(refused.violations.map((v) => v["rule"])).toEqual(["certificate.environment"]);
    expect((await cli(["cert", "list", "--json"])).json<Json[]>()).toEqual([]);
  });

  it("imports pairs for an operator, a branch and the company, reading type, serial and validity from the certificate", async () => {
    const op = await cli(
      [
        "cert",
        "import",
        "--company",
        NIP,
        "--operator-pesel",
        PESEL,
        "--environment",
        "test",
        "--cert",
        "op.crt",
        "--key",
        "op.key",
        "--password-stdin",
        "--json",
      ],
      {
        stdin: `${PASSWORD}\n`,
      },
    );
    expect(op.code, op.stdout).toBe(0);
    const c = op.json<{ certificate: Json }>().certificate;
    const x = new X509Certificate(readFileSync(join(dir, "op.crt")));
    expect(c).toMatchObject({
      certificateType: "Authentication",
      environment: "test",
      mode: "current",
      serialNumber: serials["op"],
      state: "active",
      passwordSealed: false,
      source: "imported",
    });
    expect(c["validTo"]).toBe(new Date(x.validTo).toISOString());
    expect(c["subjectIdentifierValue"]).toBe(PESEL);
    expect(c["name"]).toBe("Jan Kowalski op");
    expect(c["scope"]).toMatchObject({ type: "operator", operatorName: "Jan Kowalski", companyNip: NIP });
    expect(c["keyFile"]).toBeUndefined();
    ids["opCert"] = c["id"] as string;

    const branch = await cli([
      "cert",
      "import",
      "--company",
      NIP,
      "--branch",
      "001",
      "--environment",
      "test",
      "--cert",
      "branch.crt",
      "--key",
      "branch.key",
      "--password-file",
      "pw.txt",
      "--json",
    ]);
    expect(branch.code, branch.stdout).toBe(0);
    ids["branchCert"] = branch.json<{ certificate: Json }>().certificate["id"] as string;
    // Human output, password from the terminal prompt.
    const company = await cli(
      ["cert", "import", "--company", NIP, "--environment", "test", "--cert", "company.crt", "--key", "company.key", "--name", "Firma auth"],
      { prompts: [PASSWORD] },
    );
    expect(company.code, company.stderr).toBe(0);
    expect(company.stdout).toContain(serials["company"]);
    expect(company.stdout).toMatch(/days to expiry:\s+728/);

    const p12 = await cli(
      ["cert", "import", "--company", NIP, "--branch", "002", "--environment", "demo", "--p12", "offline.p12", "--password-stdin", "--json"],
      { stdin: `${PASSWORD}\n` },
    );
    expect(p12.code, p12.stdout).toBe(0);
    expect(p12.json<{ certificate: Json }>().certificate).toMatchObject({
      certificateType: "Offline",
      environment: "demo",
      serialNumber: serials["offline"],
      scope: { type: "branch", branchCode: "002" },
    });
    const twice = await cli(
      ["cert", "import", "--company", NIP, "--branch", "002", "--environment", "demo", "--p12", "offline.p12", "--password-stdin", "--json"],
      { stdin: `${PASSWORD}\n` },
    );
    expect(twice.code).toBe(8);
  });

  it("lists with days to expiry and filters", async () => {
    const now = new Date();
    const all = (await cli(["cert", "list", "--type", "Authentication", "--json"], { now })).json<Json[]>();
    expect(all.map((c) => c["serialNumber"])).toEqual([serials["branch"], serials["op"], serials["company"]]);
    for (const c of all) expect(c["daysToExpiry"]).toBe(Math.floor((Date.parse(c["validTo"] as string) - now.getTime()) / DAY));
    expect(all.map((c) => c["daysToExpiry"])).toEqual([48, 398, 728]);
    const human = await cli(["cert", "list", "--company", NIP, "--environment", "test"], { now });
    expect(human.stdout.split("\n")[0]).toMatch(/^ID\s+SCOPE\s+TYPE\s+ENV\s+MODE\s+SERIAL\s+VALID TO\s+DAYS\s+STATE$/);
    expect(human.stdout).toMatch(new RegExp(`branch ${NIP}/001\\s+Authentication\\s+test\\s+current\\s+${serials["branch"]}\\s+\\S+\\s+48\\s+active`));
    const soon = (await cli(["cert", "list", "--expiring-within", "60d", "--json"], { now })).json<Json[]>();
    expect(soon.map((c) => c["serialNumber"])).toEqual([serials["branch"]]);
    expect((await cli(["cert", "list", "--company", NIP, "--branch", "001", "--json"])).json<Json[]>()).toHaveLength(1);
    expect((await cli(["cert", "list", "--type", "Offline", "--json"])).json<Json[]>().map((c) => c["serialNumber"])).toEqual([serials["offline"]]);
    expect((await cli(["cert", "list", "--environment", "production", "--json"])).json<Json[]>()).toEqual([]);
    // In 100 days the branch certificate has expired.
    const later = (await cli(["cert", "list", "--status", "expired", "--json"], { now: new Date(now.getTime() + 100 * DAY) })).json<Json[]>();
    expect(later.map((c) => c["serialNumber"])).toEqual([serials["branch"]]);
    const badDays = await cli(["cert", "list", "--expiring-within", "soon", "--json"]);
    expect(badDays.code).toBe(2);

    const warn = (await cli(["cert", "expiring", "--within", "60d", "--json"], { now })).json<Json[]>();
    expect(warn.map((w) => [w["certificate"]["serialNumber"], w["reason"]])).toEqual([[serials["branch"], "noSuccessor"]]);
  });

  it("resolves operator > branch > company and says which rule matched", async () => {
    const base = ["cert", "resolve", "--company", NIP, "--environment", "test", "--type", "Authentication", "--json"];
    const op = (await cli([...base, "--branch", "001", "--operator-pesel", PESEL])).json<Json>();
    expect(op).toMatchObject({ rule: "operator", tried: ["operator"] });
    expect(op["certificate"]["id"]).toBe(ids["opCert"]);
    const branch = (await cli([...base, "--branch", "001"])).json<Json>();
    expect(branch).toMatchObject({ rule: "branch", tried: ["branch"] });
    expect(branch["certificate"]["id"]).toBe(ids["branchCert"]);
    const company = (await cli([...base, "--branch", "002"])).json<Json>();
    expect(company).toMatchObject({ rule: "company", tried: ["branch", "company"] });
    // After the branch certificate expired, branch 001 falls back to the company.
    const later = (await cli([...base, "--branch", "001", "--at", new Date(Date.now() + 100 * DAY).toISOString().slice(0, 10)])).json<Json>();
    expect(later["rule"]).toBe("company");
    const human = await cli(["cert", "resolve", "--company", NIP, "--operator", ids["op"] ?? "", "--environment", "test", "--type", "Authentication"]);
    expect(human.stdout).toContain("matched rule: operator");

    const none = await cli([
      "cert",
      "resolve",
      "--company",
      NIP,
      "--branch",
      "001",
      "--operator-pesel",
      PESEL,
      "--environment",
      "test",
      "--type",
      "Offline",
      "--json",
    ]);
    expect(none.code).toBe(7);
    const err = none.json<{ error: Json }>().error;
    expect(err["code"]).toBe("NOT_FOUND");
    expect(err["message"]).toContain("rules tried: operator, branch, company");
  });

  it("exports the stored .key byte for byte and a .crt openssl reads (creating the folder), refuses to overwrite, and writes a .p12", async () => {
    const out = join(dir, "export");
    const r = await cli(["cert", "export", ids["opCert"] ?? "", "--out-dir", "export", "--json"]);
    expect(r.code, r.stdout).toBe(0);
    const files = r.json<{ files: string[] }>().files;
    expect(files).toEqual([join(out, "Jan_Kowalski_op.crt"), join(out, "Jan_Kowalski_op.key")]);
    expect(readFileSync(join(out, "Jan_Kowalski_op.key")).equals(readFileSync(join(dir, "op.key")))).toBe(true);
    expect(statSync(join(out, "Jan_Kowalski_op.key")).mode & 0o777).toBe(0o600);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(openssl(dir, ["x509", "-in", join(out, "Jan_Kowalski_op.crt"), "-noout", "-serial"]).trim()).toBe(`serial=${serials["op"]}`);

    const again = await cli(["cert", "export", ids["opCert"] ?? "", "--out-dir", "export"]);
    expect(again.code).toBe(8);

    const p12 = await cli(["cert", "export", ids["opCert"] ?? "", "--out-dir", "export", "--p12", "--password-stdin", "--json"], { stdin: `${PASSWORD}\n` });
    expect(p12.code, p12.stdout).toBe(0);
    const p12Path = join(out, "Jan_Kowalski_op.p12");
    expect(statSync(p12Path).mode & 0o777).toBe(0o600);
    const fromP12 = openssl(dir, ["pkcs12", "-in", p12Path, "-passin", "file:pw.txt", "-nokeys", "-clcerts"]);
    expect(openssl(dir, ["x509", "-noout", "-serial"], fromP12).trim()).toBe(`serial=${serials["op"]}`);
    const noPassword = await cli(["cert", "export", ids["opCert"] ?? "", "--out-dir", "export", "--p12", "--file-name", "other"]);
    expect(noPassword.code).toBe(4);
  });

  it("seals the password only with a master key, and uses the sealed one to export a .p12", async () => {
    const args = [
      "cert",
      "import",
      "--company",
      NIP,
      "--operator",
      ids["op"] ?? "",
      "--environment",
      "test",
      "--mode",
      "queued",
      "--cert",
      "next.crt",
      "--key",
      "next.key",
      "--password-stdin",
      "--seal-password",
      "--json",
    ];
    const refused = await cli(args, { stdin: `${PASSWORD}\n` });
    expect(refused.code).toBe(2);
    expect(refused.json<{ error: Json }>().error["message"]).toContain("--seal-password needs a master key");
    expect((await cli(["cert", "list", "--json"])).json<Json[]>()).toHaveLength(4);

    const masterKey = randomBytes(32).toString("base64");
    const env = { KSEF_CERTS_MASTER_KEY: masterKey };
    keyEnv = env;
    const ok = await cli(args, { stdin: `${PASSWORD}\n`, env });
    expect(ok.code, ok.stdout).toBe(0);
    const c = ok.json<{ certificate: Json }>().certificate;
    expect(c).toMatchObject({ mode: "queued", passwordSealed: true, serialNumber: serials["next"] });
    ids["nextCert"] = c["id"] as string;

    // No password source at all: the sealed password opens the key.
    const p12 = await cli(["cert", "export", ids["nextCert"] ?? "", "--out-dir", "export", "--p12", "--json"], { env });
    expect(p12.code, p12.stdout).toBe(0);
    const fromP12 = openssl(dir, ["pkcs12", "-in", join(dir, "export", "Jan_Kowalski_next.p12"), "-passin", "file:pw.txt", "-nokeys", "-clcerts"]);
    expect(openssl(dir, ["x509", "-noout", "-serial"], fromP12).trim()).toBe(`serial=${serials["next"]}`);
  });

  it("revokes locally (KSeF revocation needs --with-certificate: exit 2 without either) and the queued successor takes over", async () => {
    const neither = await cli(["cert", "revoke", ids["opCert"] ?? "", "--reason", "Superseded", "--json"]);
    expect(neither.code).toBe(2);
    expect(neither.json<{ error: Json }>().error["code"]).toBe("VALIDATION");
    const r = await cli(["cert", "revoke", ids["opCert"] ?? "", "--reason", "Superseded", "--local", "--json"]);
    expect(r.code, r.stdout).toBe(0);
    const body = r.json<Json>();
    expect(body["certificate"]).toMatchObject({ state: "revoked", revocationReason: "Superseded" });
    expect(body["promoted"]).toMatchObject({ certificateId: ids["nextCert"], replacedId: ids["opCert"] });
    const resolved = (
      await cli(["cert", "resolve", "--company", NIP, "--operator-pesel", PESEL, "--environment", "test", "--type", "Authentication", "--json"])
    ).json<Json>();
    expect(resolved["rule"]).toBe("operator");
    expect(resolved["certificate"]["id"]).toBe(ids["nextCert"]);
    expect((await cli(["cert", "show", ids["opCert"] ?? "", "--json"])).json<{ certificate: Json }>().certificate).toMatchObject({ state: "revoked" });
    expect((await cli(["cert", "list", "--status", "revoked", "--json"])).json<Json[]>().map((c) => c["id"])).toEqual([ids["opCert"]]);
  });

  it("reports coverage gaps on a date with what resolution falls back to", async () => {
    const on = new Date(Date.now() + 100 * DAY).toISOString().slice(0, 10);
    const r = await cli(["cert", "gaps", "--on", on, "--environment", "test", "--type", "Authentication", "--json"]);
    expect(r.code, r.stdout).toBe(0);
    const gaps = r.json<Json[]>();
    const b1 = gaps.find((g) => g["scope"]["type"] === "branch" && g["label"]["branchCode"] === "001");
    expect(b1).toMatchObject({ fallback: "company" });
    expect(b1?.["endedCertificate"]?.["serialNumber"]).toBe(serials["branch"]);
    expect(gaps.some((g) => g["scope"]["type"] === "operator")).toBe(false);
    expect(gaps.some((g) => g["scope"]["type"] === "company")).toBe(false);
    const badDate = await cli(["cert", "gaps", "--on", "tomorrow"]);
    expect(badDate.code).toBe(2);
  });

  it("verifies the audit log, then reports the first tampered entry", async () => {
    const ok = await cli(["audit", "verify", "--json"]);
    expect(ok.code, ok.stdout).toBe(0);
    const v = ok.json<Json>();
    expect(v["ok"]).toBe(true);
    // company, 2 branches, operator, workstation, 5 imports, revoke, promotion.
    expect(v["entries"]).toBe(12);
    const human = await cli(["audit", "verify"]);
    expect(human.stdout).toContain("audit log OK: 12 entries checked");

    const store = await openStore({ dataDir, env: {} });
    try {
      await store.db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4");
    } finally {
      await store.close();
    }
    const bad = await cli(["audit", "verify", "--json"]);
    expect(bad.code).toBe(3);
    expect(bad.json<Json>()).toMatchObject({ ok: false, entries: 3, firstBad: { seq: 4, reason: "hash", actor: "mallory", action: "operator.add" } });
    const badHuman = await cli(["audit", "verify"]);
    expect(badHuman.code).toBe(3);
    expect(badHuman.stdout).toContain("audit log BROKEN");
    expect(badHuman.stdout).toContain("entry #4 (operator.add");
  });

  it("refuses a second opener of the data folder with a clear message, and releases the lock after every command", async () => {
    const holder = await openStore({ dataDir, env: {} });
    try {
      const r = await cli(["company", "list"]);
      expect(r.code).toBe(8);
      expect(r.stderr).toContain("The ksef-certs data folder");
    } finally {
      await holder.close();
    }
    expect((await cli(["company", "list", "--json"])).code).toBe(0);
  });

  it("documents every registry command with examples", async () => {
    for (const path of [
      ["company", "add"],
      ["branch", "list"],
      ["operator", "add"],
      ["workstation", "add"],
      ["cert", "import"],
      ["cert", "resolve"],
      ["cert", "revoke"],
      ["cert", "export"],
      ["audit", "verify"],
    ]) {
      const r = await run([...path, "--help"], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Examples:");
      expect(r.stdout).toContain("--json");
    }
    expect((await run(["cert", "revoke", "--help"], { cwd: dir })).stdout).toContain("--with-certificate");
  });
});
