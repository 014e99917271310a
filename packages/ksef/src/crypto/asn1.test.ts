import { generateKeyPairSync } from "node:crypto";
import * as asn1js from "asn1js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asn1parse, OpensslDir } from "./__fixtures__/openssl.js";
import { classifyDer, integer, octetString, oidName, parseDer, readExplicit, readOctets, readSmallInteger, sortedSetOf, toDer } from "./asn1.js";
import { thrown } from "../testing/errors.js";

let dir: OpensslDir;
beforeAll(() => {
  dir = new OpensslDir();
});
afterAll(() => {
  dir.cleanup();
});

describe("parseDer", () => {
  it("throws MALFORMED for garbage, truncation and trailing bytes", () => {
    const der = toDer(new asn1js.Sequence({ value: [integer(5)] }));
    expect(parseDer(der, "x")).toBeInstanceOf(asn1js.Sequence);
    expect(thrown(() => parseDer(der.subarray(0, der.length - 1), "thing")).code).toBe("MALFORMED");
    expect(thrown(() => parseDer(new Uint8Array([...der, 0]), "thing")).message).toContain("trailing");
    expect(thrown(() => parseDer(new Uint8Array([0xff, 0xff, 0xff]), "thing")).code).toBe("MALFORMED");
  });

  it("refuses hostile nesting without overflowing the stack", () => {
    // 5 000 nested indefinite-length SEQUENCEs: 30 80 … 00 00.
    const depth = 5000;
    const bytes = new Uint8Array(depth * 4);
    for (let i = 0; i < depth; i++) bytes.set([0x30, 0x80], i * 2);
    expect(thrown(() => parseDer(bytes, "thing")).code).toBe("MALFORMED");
  });

  it("joins BER constructed OCTET STRINGs", () => {
    // 24 80 04 02 01 02 04 01 03 00 00: constructed, indefinite length, two chunks
    const node = parseDer(new Uint8Array([0x24, 0x80, 0x04, 0x02, 0x01, 0x02, 0x04, 0x01, 0x03, 0x00, 0x00]), "x");
    expect([...readOctets(node, "x")]).toEqual([1, 2, 3]);
  });
});

describe("readSmallInteger / integer", () => {
  it("encodes like openssl reads it and reads back", () => {
    for (const value of [0, 1, 127, 128, 255, 256, 100_000, 2 ** 31, 2 ** 40 + 3]) {
      const der = toDer(integer(value));
      const line = asn1parse(dir, der)[0];
      expect(parseInt(line?.value ?? "", 16)).toBe(value);
      expect(readSmallInteger(parseDer(der, "n"), "n")).toBe(value);
    }
  });

  it("refuses negative and oversized values", () => {
    expect(thrown(() => readSmallInteger(parseDer(new Uint8Array([2, 1, 0xff]), "n"), "n")).message).toContain("negative");
    const big = new Uint8Array([2, 9, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(thrown(() => readSmallInteger(parseDer(big, "n"), "n")).code).toBe("MALFORMED");
    expect(thrown(() => readSmallInteger(parseDer(toDer(integer(11)), "n"), "n", 10)).code).toBe("MALFORMED");
  });
});

describe("classifyDer", () => {
  it("recognises what openssl writes", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    dir.write("ec.pem", ec.privateKey.export({ type: "pkcs8", format: "pem" }));
    dir.write("pw", "pw");
    dir.run(["req", "-new", "-x509", "-key", "ec.pem", "-subj", "/CN=t", "-days", "2", "-outform", "DER", "-out", "cert.der"]);
    dir.run(["req", "-new", "-key", "ec.pem", "-subj", "/CN=t", "-outform", "DER", "-out", "csr.der"]);
    dir.run(["x509", "-inform", "DER", "-in", "cert.der", "-out", "cert.pem"]);
    dir.run(["pkcs12", "-export", "-in", "cert.pem", "-inkey", "ec.pem", "-passout", "file:pw", "-out", "x.p12"]);
    dir.run(["crl2pkcs7", "-nocrl", "-certfile", "cert.pem", "-outform", "DER", "-out", "x.p7b"]);
    dir.run(["ec", "-in", "ec.pem", "-outform", "DER", "-out", "sec1.der"]);
    dir.run(["pkcs8", "-topk8", "-in", "ec.pem", "-passout", "file:pw", "-outform", "DER", "-out", "enc.der"]);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const cases: [Uint8Array, string][] = [
      [dir.read("cert.der"), "certificate"],
      [dir.read("csr.der"), "csr"],
      [dir.read("x.p12"), "pkcs12"],
      [dir.read("x.p7b"), "pkcs7"],
      [dir.read("sec1.der"), "sec1"],
      [dir.read("enc.der"), "pkcs8-encrypted"],
      [ec.privateKey.export({ type: "pkcs8", format: "der" }), "pkcs8"],
      [ec.publicKey.export({ type: "spki", format: "der" }), "spki"],
      [rsa.privateKey.export({ type: "pkcs1", format: "der" }), "pkcs1"],
      [rsa.publicKey.export({ type: "pkcs1", format: "der" }), "pkcs1-public"],
      [toDer(octetString(new Uint8Array([1]))), "unknown"],
    ];
    for (const [der, kind] of cases) expect({ kind, got: classifyDer(parseDer(der, "x")) }).toEqual({ kind, got: kind });
  });
});

describe("builders", () => {
  it("sortedSetOf orders elements by encoding (X.690 §11.6)", () => {
    const set = sortedSetOf([octetString(new Uint8Array([2])), octetString(new Uint8Array([1, 1])), octetString(new Uint8Array([1]))]);
    expect(Buffer.from(toDer(set)).toString("hex")).toBe("310a" + "040101" + "040102" + "04020101");
  });

  it("readExplicit returns undefined for another tag and the inner node for its own", () => {
    const tagged = parseDer(toDer(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [integer(7)] })), "x");
    expect(readExplicit(tagged, 0, "x")).toBeUndefined();
    expect(readSmallInteger(readExplicit(tagged, 1, "x"), "x")).toBe(7);
  });

  it("oidName names known OIDs and passes unknown ones through", () => {
    expect(oidName("1.2.840.113549.1.5.13")).toBe("PBES2");
    expect(oidName("1.2.3")).toBe("1.2.3");
  });
});
