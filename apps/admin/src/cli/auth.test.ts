import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "@ksef-certs/ksef/crypto";
import { CLI_EXIT_CODES } from "@ksef-certs/ksef/errors";
import { buildAuthTokenRequest } from "@ksef-certs/ksef/api";
import { deeplyNestedXml, manyAttributesXml, manySiblingsXml } from "@ksef-certs/testing/xml";
import { run } from "./__fixtures__/harness.js";

const PASSWORD = "Testowe-Haslo-2026!";
const CHALLENGE = "20250625-CR-20F5EE4000-DA48AE4124-46";
const NIP = "5265877635";
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ksef-certs-auth-"));
  writeFileSync(join(dir, "pw.txt"), `${PASSWORD}\n`);
  writeFileSync(
    join(dir, "auth.xml"),
    buildAuthTokenRequest({ challenge: CHALLENGE, contextIdentifier: { type: "Nip", value: NIP }, subjectIdentifierType: "certificateSubject" }),
  );
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("test-certificate, auth sign and auth verify: the hand-off tried without Profil Zaufany", () => {
  it("makes a self-signed person certificate whose identity is the PESEL, with an encrypted key", async () => {
    const r = await run(
      [
        "test-certificate",
        "--given-name",
        "Jan",
        "--surname",
        "Kowalski",
        "--pesel",
        "44051401458",
        "--out-cert",
        "jan.crt",
        "--out-key",
        "jan.key",
        "--password-file",
        "pw.txt",
        "--json",
      ],
      { cwd: dir },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const info = parseCertificate(readFileSync(join(dir, "jan.crt")));
    expect(info.subjectIdentifier).toEqual({ type: "Pesel", value: "44051401458" });
    expect(readFileSync(join(dir, "jan.key"), "utf8")).toContain("ENCRYPTED PRIVATE KEY");
    const bad = await run(
      ["test-certificate", "--given-name", "Jan", "--pesel", "44051401459", "--out-cert", "x.crt", "--out-key", "x.key", "--password-file", "pw.txt", "--json"],
      { cwd: dir },
    );
    expect(bad.code).toBe(2);
    expect(bad.json<{ error: { violations: { rule: string }[] } }>().error.violations.map((v) => v.rule)).toEqual(
      expect.arrayContaining(["required", "pesel.checksum"]),
    );
  });

  it("signs auth.xml with it, and verify names the signer, the challenge and the context", async () => {
    const signed = await run(["auth", "sign", "auth.xml", "--cert", "jan.crt", "--key", "jan.key", "--password-file", "pw.txt", "--out", "auth.signed.xml"], {
      cwd: dir,
    });
    expect(signed.code, signed.stderr).toBe(0);
    const v = await run(["auth", "verify", "auth.signed.xml", "--challenge", CHALLENGE, "--nip", NIP, "--json"], { cwd: dir });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.json()).toMatchObject({
      valid: true,
      packaging: "enveloped",
      challenge: CHALLENGE,
      identity: { type: "Pesel", value: "44051401458" },
      contextIdentifier: { type: "Nip", value: NIP },
    });
    for (const out of [signed.stdout, signed.stderr, v.stdout, v.stderr]) expect(out).not.toContain(PASSWORD);
  });

  it("verify refuses another challenge and a tampered file, saying what KSeF would answer", async () => {
    const other = await run(["auth", "verify", "auth.signed.xml", "--challenge", "20250625-CR-AAAAAAAAAA-BBBBBBBBBB-CC", "--json"], { cwd: dir });
    expect(other.code).toBe(2);
    expect(other.json<{ error: { message: string; details: { reason: string } } }>().error).toMatchObject({ details: { reason: "challenge-mismatch" } });
    const tampered = readFileSync(join(dir, "auth.signed.xml"), "utf8").replace(`<Nip>${NIP}</Nip>`, "<Nip>1111111111</Nip>");
    writeFileSync(join(dir, "tampered.xml"), tampered);
    const t = await run(["auth", "verify", "tampered.xml", "--json"], { cwd: dir });
    expect(t.code).toBe(3);
    expect(t.json<{ error: { message: string } }>().error.message).toMatch(/KSeF would answer 9105/);
  });

  it("verify refuses XML nested or spread beyond the parser's limits with the typed error and exit code 3, no stack trace", async () => {
    // Under the verifier's 256 KiB limit, so the structure is what refuses them.
    for (const doc of [deeplyNestedXml(30_000), manySiblingsXml(50_000), manyAttributesXml(25_000)]) {
      writeFileSync(join(dir, doc.name), doc.bytes);
      const human = await run(["auth", "verify", doc.name], { cwd: dir });
      expect(human.code, human.stderr).toBe(CLI_EXIT_CODES.MALFORMED);
      expect(human.code).toBe(3);
      expect(human.stderr).toMatch(
        /^error: The signed AuthTokenRequest (nests elements more than 64 levels deep|holds more than 10000 (elements|attributes)).*KSeF would answer 21405\.$/m,
      );
      expect(human.stderr).toMatch(/^hint: /m);
      expect(human.stderr).not.toMatch(/RangeError|call stack|\n\s+at /);
      const json = await run(["auth", "verify", doc.name, "--json"], { cwd: dir });
      expect(json.code).toBe(3);
      expect(json.json<{ error: unknown }>().error).toMatchObject({
        code: "MALFORMED",
        violations: [{ rule: `xml.${doc.limit}` }],
        details: { limit: doc.limit, rule: `xml.${doc.limit}`, reason: "too-complex", ksefExceptionCode: 21405, file: doc.name },
      });
    }
  });
});
