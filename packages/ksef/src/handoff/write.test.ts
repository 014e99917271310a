import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { KsefCertsError } from "../errors.js";
import { MAX_AUTH_REQUEST_BYTES, assertHandoffFileName, handoffFileName, writeAuthRequest } from "./write.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "handoff-write-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(KsefCertsError);
    return (error as KsefCertsError).code;
  }
  throw new Error("expected a rejection");
}

describe("handoffFileName", () => {
  test("says what the file is for, in safe characters, ending with the challenge's random part", () => {
    const name = handoffFileName({ context: "5265877635", operator: "Łucja Żółć-Wąs", challenge: "20250625-CR-20F5EE4000-DA48AE4124-46" });
    expect(name).toBe("auth-5265877635-Lucja-Zolc-Was-DA48AE4124-46.xml");
    expect(() => {
      assertHandoffFileName(name);
    }).not.toThrow();
  });

  test("omits a missing operator and keeps an InternalId readable", () => {
    expect(handoffFileName({ context: "5265877635-00001", challenge: "20250625-CR-20F5EE4000-DA48AE4124-46" })).toBe("auth-5265877635-00001-DA48AE4124-46.xml");
  });

  test("drops characters outside [A-Za-z0-9._-] and caps the length", () => {
    const name = handoffFileName({ context: "../../etc/passwd", operator: "x".repeat(500) + " <script>", challenge: "20250625-CR-20F5EE4000-DA48AE4124-46" });
    expect(name).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(name.length).toBeLessThanOrEqual(160);
    expect(name).not.toContain("..");
  });

  test("refuses a context with nothing usable", () => {
    expect(() => handoffFileName({ context: "///", challenge: "20250625-CR-20F5EE4000-DA48AE4124-46" })).toThrow(KsefCertsError);
  });
});

describe("writeAuthRequest", () => {
  const xml = Buffer.from(
    '<?xml version="1.0" encoding="utf-8"?><AuthTokenRequest xmlns="http://ksef.mf.gov.pl/auth/token/2.0"><Challenge>zażółć</Challenge></AuthTokenRequest>\r\n',
    "utf8",
  );

  test("writes the exact bytes, mode 0644, and leaves no temp file", async () => {
    const old = process.umask(0o077);
    try {
      const result = await writeAuthRequest(dir, { fileName: "auth-1.xml", xml });
      expect(result).toEqual({ path: join(dir, "auth-1.xml"), created: true });
    } finally {
      process.umask(old);
    }
    expect(readFileSync(join(dir, "auth-1.xml")).equals(xml)).toBe(true);
    expect(statSync(join(dir, "auth-1.xml")).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(["auth-1.xml"]);
  });

  test("a second identical write is harmless; a different file under the name is a CONFLICT and stays untouched", async () => {
    await writeAuthRequest(dir, { fileName: "auth-1.xml", xml });
    expect(await writeAuthRequest(dir, { fileName: "auth-1.xml", xml })).toEqual({ path: join(dir, "auth-1.xml"), created: false });
    const other = Buffer.from("<AuthTokenRequest/>");
    expect(await codeOf(writeAuthRequest(dir, { fileName: "auth-1.xml", xml: other }))).toBe("CONFLICT");
    expect(readFileSync(join(dir, "auth-1.xml")).equals(xml)).toBe(true);
    expect(readdirSync(dir)).toEqual(["auth-1.xml"]);
  });

  test("does not replace a foreign file that is already there", async () => {
    writeFileSync(join(dir, "auth-2.xml"), "someone else's");
    expect(await codeOf(writeAuthRequest(dir, { fileName: "auth-2.xml", xml }))).toBe("CONFLICT");
    expect(readFileSync(join(dir, "auth-2.xml"), "utf8")).toBe("someone else's");
    expect(readdirSync(dir)).toEqual(["auth-2.xml"]);
  });

  test("concurrent writes of the same name: one creates, the other finds the same bytes", async () => {
    const results = await Promise.all([writeAuthRequest(dir, { fileName: "auth-3.xml", xml }), writeAuthRequest(dir, { fileName: "auth-3.xml", xml })]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(readdirSync(dir)).toEqual(["auth-3.xml"]);
  });

  test("refuses unsafe names, a missing folder and oversize input", async () => {
    for (const fileName of ["../x.xml", "a b.xml", ".hidden.xml", "auth.xml.part", "", "x".repeat(161), "zażółć.xml"]) {
      expect(await codeOf(writeAuthRequest(dir, { fileName, xml })), fileName).toBe("VALIDATION");
    }
    expect(await codeOf(writeAuthRequest(join(dir, "missing"), { fileName: "a.xml", xml }))).toBe("NOT_FOUND");
    expect(await codeOf(writeAuthRequest(dir, { fileName: "a.xml", xml: new Uint8Array(MAX_AUTH_REQUEST_BYTES + 1) }))).toBe("TOO_LARGE");
    expect(readdirSync(dir)).toEqual([]);
  });
});
