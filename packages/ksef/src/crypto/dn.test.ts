import * as asn1js from "asn1js";
import { describe, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import { parseDer, toDer } from "./asn1.js";
import { DN_ATTRIBUTES, dnAttributeType, encodeName, formatName, isWellFormedText, readName } from "./dn.js";
import type { DnAttribute } from "./types.js";

/** A Name with one RDN per entry; each entry lists the (OID, tag, content bytes) of its attributes. */
function rawName(rdns: readonly (readonly [string, number, Uint8Array])[][]): Uint8Array {
  return toDer(
    new asn1js.Sequence({
      value: rdns.map(
        (rdn) =>
          new asn1js.Set({
            value: rdn.map(
              ([oid, tag, bytes]) =>
                new asn1js.Sequence({
                  value: [new asn1js.ObjectIdentifier({ value: oid }), new asn1js.Primitive({ idBlock: { tagClass: 1, tagNumber: tag }, valueHex: bytes })],
                }),
            ),
          }),
      ),
    }),
  );
}

const attr = (name: string, value: string): DnAttribute => ({ oid: "2.5.4.3", name, value, stringType: "UTF8String" });

describe("readName", () => {
  it("reads every string type with its name, flattening multi-valued RDNs in order", () => {
    const der = rawName([
      [["2.5.4.6", 19, Buffer.from("PL")]],
      [["2.5.4.10", 30, Buffer.from("\u0000Z\u0001\u007C", "latin1")]], // BMPString "Zż" (UTF-16BE 00 5A 01 7C)
      [
        ["1.2.840.113549.1.9.1", 22, Buffer.from("jan@example.pl")],
        ["2.5.4.3", 20, Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72])], // TeletexString read as Latin-1: "Müller"
      ],
      [["2.5.4.4", 28, Buffer.from([0, 0, 0, 0x41, 0, 1, 0xf6, 0x00])]], // UniversalString "A😀"
      [["2.5.4.45", 3, Buffer.from([0x00, 0xab, 0xcd])]], // X.520 BIT STRING uniqueIdentifier
      [["1.2.3.4", 12, Buffer.from("Łódź", "utf8")]],
    ]);
    expect(readName(parseDer(der, "name"))).toEqual([
      { oid: "2.5.4.6", name: "C", value: "PL", stringType: "PrintableString" },
      { oid: "2.5.4.10", name: "O", value: "Zż", stringType: "BMPString" },
      { oid: "1.2.840.113549.1.9.1", name: "emailAddress", value: "jan@example.pl", stringType: "IA5String" },
      { oid: "2.5.4.3", name: "CN", value: "Müller", stringType: "TeletexString" },
      { oid: "2.5.4.4", name: "SN", value: "A😀", stringType: "UniversalString" },
      { oid: "2.5.4.45", name: "uniqueIdentifier", value: "ABCD", stringType: "BitString" },
      { oid: "1.2.3.4", name: "1.2.3.4", value: "Łódź", stringType: "UTF8String" },
    ]);
  });

  it("refuses invalid UTF-8, non-string values and empty RDNs as MALFORMED", () => {
    const bad = [
      rawName([[["2.5.4.3", 12, Uint8Array.from([0xc5])]]]),
      rawName([[["2.5.4.3", 2, Uint8Array.from([1])]]]),
      rawName([[["2.5.4.3", 30, Uint8Array.from([0])]]]),
      toDer(new asn1js.Sequence({ value: [new asn1js.Set({ value: [] })] })),
      toDer(new asn1js.Set({ value: [] })),
    ];
    for (const der of bad) {
      let caught: unknown;
      try {
        readName(parseDer(der, "name"));
      } catch (err) {
        caught = err;
      }
      expect(isKsefCertsError(caught, "MALFORMED")).toBe(true);
    }
  });
});

describe("encodeName", () => {
  it("writes one attribute per RDN with the given string types, byte for byte", () => {
    const der = toDer(
      encodeName([
        { oid: "2.5.4.3", value: " Zażółć\u0000 ", stringType: "UTF8String" },
        { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
      ]),
    );
    const cn = Buffer.from(" Zażółć\u0000 ", "utf8"); // 13 bytes
    // SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String } }, SET { SEQUENCE { OID 2.5.4.6, PrintableString "PL" } } }
    expect(Buffer.from(der).toString("hex")).toBe(`3025311630140603550403` + `0c0d${cn.toString("hex")}` + `310b300906035504061302504c`);
    expect(readName(parseDer(der, "name")).map((a) => [a.value, a.stringType])).toEqual([
      [" Zażółć\u0000 ", "UTF8String"],
      ["PL", "PrintableString"],
    ]);
  });

  it("refuses what it cannot encode faithfully", () => {
    expect(() => encodeName([{ oid: "2.5.4.6", value: "PŁ", stringType: "PrintableString" }])).toThrow();
    expect(() => encodeName([{ oid: "2.5.4.3", value: "\uDC00", stringType: "UTF8String" }])).toThrow();
  });
});

describe("formatName", () => {
  it("joins in certificate order and escapes RFC 4514 specials", () => {
    expect(formatName([attr("CN", 'a,b+c"d\\e<f>g;h'), attr("O", "#x"), attr("OU", " lead"), attr("L", "trail "), attr("ST", "ok")])).toBe(
      'CN=a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h, O=\\#x, OU=\\ lead, L=trail\\ , ST=ok',
    );
    expect(formatName([attr("CN", "a\u0000b\nc\u007fd")])).toBe("CN=a\\00b\\0Ac\\7Fd");
    expect(formatName([])).toBe("");
  });
});

describe("attribute table", () => {
  it("has the KSeF attributes with the string types the official clients write", () => {
    const ksef = Object.fromEntries(
      DN_ATTRIBUTES.filter((a) => a.ksefStringType !== undefined && a.oid !== "2.5.4.11").map((a) => [a.oid, [a.name, a.ksefStringType]]),
    );
    expect(ksef).toEqual({
      "2.5.4.3": ["CN", "UTF8String"],
      "2.5.4.4": ["SN", "UTF8String"],
      "2.5.4.5": ["serialNumber", "PrintableString"],
      "2.5.4.6": ["C", "PrintableString"],
      "2.5.4.10": ["O", "UTF8String"],
      "2.5.4.42": ["G", "UTF8String"],
      "2.5.4.45": ["uniqueIdentifier", "UTF8String"],
      "2.5.4.97": ["organizationIdentifier", "UTF8String"],
    });
    expect(dnAttributeType("2.5.4.7")?.name).toBe("L");
    expect(dnAttributeType("9.9")).toBeUndefined();
  });

  it("tells well-formed text from lone surrogates", () => {
    expect(isWellFormedText("Zażółć 😀")).toBe(true);
    expect(isWellFormedText("a\uD83Db")).toBe(false);
    expect(isWellFormedText("\uDE00")).toBe(false);
  });
});
