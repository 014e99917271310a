import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import {
  assertCertificateName,
  assertIdentifier,
  assertInternalId,
  assertNip,
  assertPassword,
  assertPesel,
  checkCertificateName,
  checkInternalId,
  checkNip,
  checkPassword,
  checkPesel,
  generateKsefPassword,
  internalIdCheckDigit,
  isValidCertificateName,
  isValidInternalId,
  isValidNip,
  isValidPassword,
  isValidPesel,
  normalizeNip,
  peselBirthDate,
  violationMessagePl,
} from "./index.js";

const rules = (v: { rule: string }[]): string[] => v.map((x) => x.rule);

describe("certificate name", () => {
  it("accepts KSeF API names with Polish letters, digits, space, _ and -", () => {
    expect(checkCertificateName("Certyfikat oddziału Łódź_2026-01")).toEqual([]);
    expect(checkCertificateName("abcde")).toEqual([]);
    expect(checkCertificateName("a".repeat(100))).toEqual([]);
  });
  it("reports length and characters at once", () => {
    expect(rules(checkCertificateName("a.b"))).toEqual(["certificateName.length", "certificateName.characters"]);
    expect(rules(checkCertificateName("a".repeat(101)))).toEqual(["certificateName.length"]);
    expect(checkCertificateName("name/with*bad")[0]?.message).toContain('"/" "*"');
  });
  it("the web app profile is stricter: 50 characters, no diacritics", () => {
    expect(checkCertificateName("a".repeat(51), { profile: "ksef-app" }).map((v) => v.params)).toEqual([{ min: 5, max: 50, actual: 51 }]);
    expect(rules(checkCertificateName("Oddział Kraków", { profile: "ksef-app" }))).toEqual(["certificateName.charactersNoDiacritics"]);
    expect(checkCertificateName("Oddzial Krakow", { profile: "ksef-app" })).toEqual([]);
  });
  it("assert and is variants agree with the check", () => {
    expect(isValidCertificateName("Oddział Kraków")).toBe(true);
    expect(isValidCertificateName("Oddział Kraków", { profile: "ksef-app" })).toBe(false);
    expect(() => {
      assertCertificateName("ab");
    }).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => {
      assertCertificateName("Oddzial Krakow", { profile: "ksef-app" });
    }).not.toThrow();
  });
  it("follows the SPEC (EnrollCertificateRequest.certificateName) exactly", async () => {
    const { readFile } = await import("node:fs/promises");
    const spec = JSON.parse(await readFile(new URL("../../../../spec/open-api.json", import.meta.url), "utf8")) as {
      components: { schemas: { EnrollCertificateRequest: { properties: { certificateName: { minLength: number; maxLength: number; pattern: string } } } } };
    };
    const field = spec.components.schemas.EnrollCertificateRequest.properties.certificateName;
    const re = new RegExp(field.pattern); // no "u": the spec escapes the space (`\ `), which only the legacy mode allows
    const samples = ["abcd", "abcde", "a".repeat(100), "a".repeat(101), "Łódź oddział_1-2", "a.bcde", "tab\there", "zażółć", "ÀÉÎÕÜ name", "名前名前名前"];
    for (const s of samples) {
      const len = Array.from(s).length;
      const specOk = re.test(s) && len >= field.minLength && len <= field.maxLength;
      expect(isValidCertificateName(s, { profile: "ksef-api" }), s).toBe(specOk);
    }
  });
  it("counts characters, not UTF-16 units or bytes", () => {
    expect(checkCertificateName("ąćęłń")).toEqual([]);
  });
});

describe("password profiles", () => {
  it("ksef-app: 15-32 chars, upper, lower, digit, one of !@#$%^&*()-_+=, nothing else", () => {
    expect(checkPassword("Abcdefghijk1234!", "ksef-app")).toEqual([]);
    expect(rules(checkPassword("short", "ksef-app"))).toEqual(["password.length", "password.upper", "password.digit", "password.special"]);
    expect(rules(checkPassword("Zażółćgęśląjaźń1!", "ksef-app"))).toEqual(["password.characters"]);
    expect(checkPassword("Zażółćgęśląjaźń1!", "ksef-app")[0]?.message).toContain("no Polish letters");
    expect(rules(checkPassword("Abcdefghijk 1234!", "ksef-app"))).toEqual(["password.characters"]);
    expect(rules(checkPassword("Abcdefghijk1234?", "ksef-app"))).toEqual(["password.special", "password.characters"]);
    expect(rules(checkPassword(`A1!${"a".repeat(30)}`, "ksef-app"))).toEqual(["password.length"]);
  });
  it("f2000: at least 12 with upper, lower, digit and any special", () => {
    expect(checkPassword("Zażółć-gęślą1", "f2000")).toEqual([]);
    expect(rules(checkPassword("abcdefghijkl", "f2000"))).toEqual(["password.upper", "password.digit", "password.special"]);
    expect(rules(checkPassword("Ab1?", "f2000"))).toEqual(["password.length"]);
  });
  it("reports each missing class of a ksef-app password separately", () => {
    expect(rules(checkPassword("ABCDEFGHIJKLMNOP", "ksef-app"))).toEqual(["password.lower", "password.digit", "password.special"]);
    expect(rules(checkPassword("abcdefghijklmnop", "ksef-app"))).toEqual(["password.upper", "password.digit", "password.special"]);
    expect(rules(checkPassword("Abcdefghijklmnop", "ksef-app"))).toEqual(["password.digit", "password.special"]);
    expect(rules(checkPassword("Abcdefghijklmno1", "ksef-app"))).toEqual(["password.special"]);
    for (const special of "!@#$%^&*()-_+=") expect(isValidPassword(`Abcdefghijklmn1${special}`, "ksef-app"), special).toBe(true);
    expect(isValidPassword("Abcdefghijklmn1!", "f2000")).toBe(true);
  });
  it("f2000 accepts any non-alphanumeric special and letters outside ASCII", () => {
    expect(checkPassword("Abcdefghij1?", "f2000")).toEqual([]);
    expect(checkPassword("Abcdefghij1 ", "f2000")).toEqual([]);
    expect(rules(checkPassword("ŁÓDŹGDAŃSK1!", "f2000"))).toEqual(["password.lower"]);
  });
  it("never puts the password or its length in a message", () => {
    for (const v of [...checkPassword("Ab1!", "ksef-app"), ...checkPassword("Ab1!", "f2000")]) {
      expect(v.message).not.toMatch(/\b4\b/);
      expect(JSON.stringify(v.params ?? {})).not.toMatch(/:4\b/);
    }
  });
  it("never puts the password in a message (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 6, maxLength: 40 }).filter((s) => /[A-Za-z]{6}/.test(s)),
        fc.constantFrom("ksef-app", "f2000" as const),
        (pw, profile) => {
          for (const v of checkPassword(pw, profile)) {
            expect(v.message).not.toContain(pw);
            expect(violationMessagePl(v)).not.toContain(pw);
          }
        },
      ),
    );
  });
  it("assertPassword throws VALIDATION with every violation", () => {
    try {
      assertPassword("abc", "ksef-app");
      expect.unreachable();
    } catch (e) {
      expect(isKsefCertsError(e, "VALIDATION")).toBe(true);
      if (isKsefCertsError(e)) expect(rules([...e.violations])).toEqual(["password.length", "password.upper", "password.digit", "password.special"]);
    }
    expect(() => {
      assertPassword("Abcdefghijklmn1!", "ksef-app");
    }).not.toThrow();
  });
});

// Independent of the implementation: the weights as the regulation states them.
const nipOk = (first9: number[]): number | undefined => {
  const s = [6, 5, 7, 2, 3, 4, 5, 6, 7].reduce((a, w, i) => a + w * first9[i]!, 0) % 11;
  return s === 10 ? undefined : s;
};
const nipArb = fc
  .array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 })
  .filter((d) => d[0] !== 0 && !(d[1] === 0 && d[2] === 0) && nipOk(d) !== undefined)
  .map((d) => d.join("") + String(nipOk(d)));

describe("NIP", () => {
  it("accepts real NIPs and normalises what people type", () => {
    expect(isValidNip("5265877635")).toBe(true); // the ministry's own example
    expect(isValidNip("7740001454")).toBe(true);
    expect(normalizeNip("PL 526-587-76-35")).toBe("5265877635");
  });
  it("tells format, KSeF pattern and checksum apart", () => {
    expect(rules(checkNip("526587763"))).toEqual(["nip.format"]);
    expect(rules(checkNip("5265877636"))).toEqual(["nip.checksum"]);
    expect(rules(checkNip("0000000000"))).toEqual(["nip.pattern"]);
    expect(rules(checkNip("1001234567"))).toContain("nip.pattern");
  });
  it("every valid NIP passes and every single-digit change fails", () => {
    fc.assert(
      fc.property(nipArb, fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 9 }), (nip, pos, delta) => {
        expect(checkNip(nip)).toEqual([]);
        const changed = nip.slice(0, pos) + String((Number(nip[pos]) + delta) % 10) + nip.slice(pos + 1);
        expect(checkNip(changed).length).toBeGreaterThan(0);
      }),
    );
  });
});

describe("PESEL", () => {
  it("accepts valid PESELs and decodes the birth date across centuries", () => {
    expect(isValidPesel("44051401458")).toBe(true);
    expect(peselBirthDate("44051401458")).toBe("1944-05-14");
    expect(peselBirthDate("02270803624")).toBe("2002-07-08");
    expect(peselBirthDate("00892912345")).toBe("1800-09-29");
    expect(peselBirthDate("01223112345")).toBeUndefined(); // 31 February 2001
  });
  it("tells format, birth date and checksum apart", () => {
    expect(rules(checkPesel("4405140145"))).toEqual(["pesel.format"]);
    expect(rules(checkPesel("44051401459"))).toEqual(["pesel.checksum"]);
    expect(rules(checkPesel("44133101454"))).toContain("pesel.birthDate");
  });
  it("every single-digit change of a valid PESEL fails", () => {
    const peselArb = fc
      .tuple(fc.integer({ min: 1900, max: 2099 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 9999 }))
      .map(([y, m, d, serial]) => {
        const mm = m + (y >= 2000 ? 20 : 0);
        const first10 = `${String(y % 100).padStart(2, "0")}${String(mm).padStart(2, "0")}${String(d).padStart(2, "0")}${String(serial).padStart(4, "0")}`;
        const sum = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3].reduce((a, w, i) => a + w * Number(first10[i]), 0);
        return first10 + String((10 - (sum % 10)) % 10);
      });
    fc.assert(
      fc.property(peselArb, fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 9 }), (pesel, pos, delta) => {
        expect(checkPesel(pesel)).toEqual([]);
        const changed = pesel.slice(0, pos) + String((Number(pesel[pos]) + delta) % 10) + pesel.slice(pos + 1);
        expect(checkPesel(changed).length).toBeGreaterThan(0);
      }),
    );
  });
});

describe("assert variants for identifiers", () => {
  it("throw VALIDATION with the violations, or return", () => {
    expect(() => {
      assertNip("5265877636");
    }).toThrow(expect.objectContaining({ code: "VALIDATION", violations: [expect.objectContaining({ rule: "nip.checksum" })] }));
    expect(() => {
      assertPesel("44051401459");
    }).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => {
      assertInternalId("5265877635-00013");
    }).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => {
      assertIdentifier("nip", "x");
    }).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    assertNip("5265877635");
    assertPesel("44051401458");
    assertInternalId("5265877635-00017");
  });
});

// The Java client's algorithm written out again, independently of ours: weights 1,3,1,3,… over 14 digits, mod 10.
const javaInternalIdCheckSum = (value: string): number => {
  let sum = 0;
  for (let i = 0; i < value.length; i++) sum += Number(value[i]) * (i % 2 === 0 ? 1 : 3);
  return sum % 10;
};

describe("InternalId", () => {
  it("matches the Java client's check digit for any NIP and suffix", () => {
    fc.assert(
      fc.property(nipArb, fc.integer({ min: 0, max: 9999 }), (nip, n) => {
        const first4 = String(n).padStart(4, "0");
        expect(internalIdCheckDigit(nip, first4)).toBe(javaInternalIdCheckSum(nip + first4));
      }),
      { numRuns: 300 },
    );
  });
  it("accepts NIP-NNNNN with the KSeF check digit", () => {
    expect(internalIdCheckDigit("5265877635", "0001")).toBe(7);
    expect(isValidInternalId("5265877635-00017")).toBe(true);
    expect(rules(checkInternalId("5265877635-00013"))).toEqual(["internalId.checksum"]);
    expect(rules(checkInternalId("5265877636-00017"))).toContain("nip.checksum");
    expect(rules(checkInternalId("5265877635-0017"))).toEqual(["internalId.format"]);
  });
  it("every single-digit change of the suffix fails", () => {
    fc.assert(
      fc.property(nipArb, fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 9 }), (nip, n, pos, delta) => {
        const first4 = String(n).padStart(4, "0");
        const id = `${nip}-${first4}${internalIdCheckDigit(nip, first4)}`;
        expect(checkInternalId(id)).toEqual([]);
        const suffix = id.slice(11);
        const changed = id.slice(0, 11) + suffix.slice(0, pos) + String((Number(suffix[pos]) + delta) % 10) + suffix.slice(pos + 1);
        expect(checkInternalId(changed).length).toBeGreaterThan(0);
      }),
    );
  });
});

describe("Polish messages", () => {
  it("exist for every rule the checks emit", () => {
    const all = [
      ...checkCertificateName("a/"),
      ...checkCertificateName("ą/", { profile: "ksef-app" }),
      ...checkPassword("ą", "ksef-app"),
      ...checkPassword("a", "f2000"),
      ...checkNip("0"),
      ...checkNip("0000000001"),
      ...checkPesel("1"),
      ...checkPesel("44133101455"),
      ...checkInternalId("x"),
      ...checkInternalId("5265877635-00013"),
    ];
    for (const v of all) expect(violationMessagePl(v), v.rule).not.toBe(v.message);
    expect(violationMessagePl(checkCertificateName("abc")[0]!)).toBe("Nazwa certyfikatu musi mieć od 5 do 100 znaków (ma 3).");
  });
});

describe("generateKsefPassword", () => {
  it("always satisfies the ministry's rules (ksef-app profile), at every allowed length, and differs each time", () => {
    const seen = new Set<string>();
    for (let length = 15; length <= 32; length++) {
      for (let i = 0; i < 50; i++) {
        const p = generateKsefPassword(length);
        expect(p).toHaveLength(length);
        expect(checkPassword(p, "ksef-app")).toEqual([]);
        seen.add(p);
      }
    }
    expect(seen.size).toBe(18 * 50);
    expect(() => generateKsefPassword(14)).toThrow(RangeError);
    expect(() => generateKsefPassword(33)).toThrow(RangeError);
  });
});
