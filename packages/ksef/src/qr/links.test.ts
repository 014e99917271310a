import { spawnSync } from "node:child_process";
import { constants, createHash, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { thrown } from "../testing/errors.js";
import { parseCertificate } from "../crypto/certificate.js";
import { OPENSSL, OpensslDir } from "../crypto/__fixtures__/openssl.js";
import { generateKeyPair, type KeyPair } from "../crypto/keys.js";
import { issueKsefLikeCertificate, type IssueKsefLikeCertificateOptions } from "../testing/ksef-like-certificate.js";
import type { EnrollmentData } from "../crypto/types.js";
import { KSEF_ENDPOINTS, KSEF_ENVIRONMENTS } from "../api/environments.js";
import { internalIdCheckDigit } from "../policies/identifiers.js";
import { kod1Url, kod2Url, type Kod2SignerInput, parseKodUrl, prepareKod2Signer, verifyKod2Url } from "./index.js";

const NIP = "5265877635";
const DOCS_HASH = "UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE";
const INVOICE = new TextEncoder().encode('<?xml version="1.0" encoding="UTF-8"?><Faktura><P_1>2026-02-01</P_1><P_2>FV/1/2026</P_2></Faktura>');
const data: EnrollmentData = { commonName: "Firma Testowa", countryName: "PL", organizationIdentifier: `VATPL-${NIP}`, organizationName: "Firma Testowa" };
const DAY = 86_400_000;

let ec: KeyPair;
let ec2: KeyPair;
let rsa: KeyPair;
let ecOffline: string;
let ecOffline2: string;
let rsaOffline: string;
const dir = new OpensslDir();

const issue = async (keys: KeyPair, o: Partial<IssueKsefLikeCertificateOptions> = {}): Promise<string> =>
  (await issueKsefLikeCertificate({ certificateType: "Offline", keys, enrollmentData: data, ...o })).certificate;

beforeAll(async () => {
  [ec, ec2, rsa] = await Promise.all([generateKeyPair("EC-P256"), generateKeyPair("EC-P256"), generateKeyPair("RSA-2048")]);
  [ecOffline, ecOffline2, rsaOffline] = await Promise.all([issue(ec), issue(ec2), issue(rsa)]);
});
afterAll(() => {
  dir.cleanup();
});
afterEach(() => {
  vi.useRealTimers();
});

const signer = (certificate: string, keys: KeyPair, extra: Partial<Kod2SignerInput> = {}): Kod2SignerInput =>
  ({
    environment: "test",
    contextIdentifier: { type: "Nip", value: NIP },
    sellerNip: NIP,
    certificate,
    privateKey: keys.privateKey,
    ...extra,
  }) as Kod2SignerInput;

/** `openssl dgst -sha256 -verify` with the public key openssl itself takes out of the certificate. */
function opensslVerify(certificatePem: string, signed: string, signature: Uint8Array, sigopts: readonly string[] = []): boolean {
  const tag = Math.random().toString(36).slice(2);
  const cert = dir.write(`${tag}.crt`, certificatePem);
  dir.write(`${tag}.pub`, dir.run(["x509", "-in", cert, "-pubkey", "-noout"]));
  dir.write(`${tag}.txt`, signed);
  dir.write(`${tag}.sig`, signature);
  const args = ["dgst", "-sha256", ...sigopts.flatMap((o) => ["-sigopt", o]), "-verify", `${tag}.pub`, "-signature", `${tag}.sig`, `${tag}.txt`];
  const r = spawnSync(OPENSSL, args, { cwd: dir.dir, encoding: "utf8" });
  if (r.error) throw r.error;
  return r.status === 0 && r.stdout.includes("Verified OK");
}

/** IEEE P1363 r‖s (32+32 bytes) to the DER SEQUENCE { INTEGER r, INTEGER s } openssl expects (RFC 3279 §2.2.3). */
function p1363ToDer(sig: Uint8Array): Buffer {
  const int = (b: Uint8Array): Buffer => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = Buffer.from(b.subarray(i));
    const body = (v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([int(sig.subarray(0, 32)), int(sig.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}

const lastSegment = (url: string): Buffer => Buffer.from(url.slice(url.lastIndexOf("/") + 1), "base64url");
const signedPart = (url: string): string => url.slice("https://".length, url.lastIndexOf("/"));

describe("kod1Url", () => {
  it("reproduces the DOCS kody-qr.md example link from its hash, given as base64, base64url or bytes", () => {
    const expected = `https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/${DOCS_HASH}`;
    const bytes = Buffer.from(DOCS_HASH, "base64url");
    for (const sha256 of [bytes.toString("base64"), DOCS_HASH, new Uint8Array(bytes)]) {
      expect(kod1Url({ environment: "test", sellerNip: "1111111111", issueDate: "2026-02-01", invoice: { sha256 } })).toBe(expected);
    }
  });

  it("hashes the invoice file with SHA-256 (as openssl does) and uses each environment's QR host", () => {
    const file = dir.write("invoice.xml", INVOICE);
    const hash = dir.run(["dgst", "-sha256", "-binary", file]).toString("base64url");
    expect(hash).toHaveLength(43);
    for (const environment of KSEF_ENVIRONMENTS) {
      expect(kod1Url({ environment, sellerNip: NIP, issueDate: "2026-12-31", invoice: INVOICE })).toBe(
        `${KSEF_ENDPOINTS[environment].qrBaseUrl}/invoice/${NIP}/31-12-2026/${hash}`,
      );
    }
    expect(KSEF_ENDPOINTS.production.qrBaseUrl).toBe("https://qr.ksef.mf.gov.pl");
  });

  it("takes a Date as its UTC calendar date and a custom base URL without its trailing slash", () => {
    const url = kod1Url({
      qrBaseUrl: "http://localhost:8080/qr/",
      sellerNip: NIP,
      issueDate: new Date(Date.UTC(2026, 1, 1, 23, 30)),
      invoice: { sha256: DOCS_HASH },
    });
    expect(url).toBe(`http://localhost:8080/qr/invoice/${NIP}/01-02-2026/${DOCS_HASH}`);
  });

  it("lists every broken rule at once", () => {
    const e = thrown(() => kod1Url({ environment: "test", sellerNip: "5265877636", issueDate: "2026-02-30", invoice: { sha256: "abc" } }));
    expect(e.code).toBe("VALIDATION");
    expect(e.violations.map((v) => v.rule).sort()).toEqual(["invoice.sha256", "issueDate.format", "nip.checksum"]);
  });

  it("refuses a non-canonical hash, a wrong-length hash, a bad base URL and an oversized invoice", () => {
    const nonCanonical = `${DOCS_HASH.slice(0, 42)}F`; // E → F only flips unused bits
    expect(Buffer.from(nonCanonical, "base64url")).toEqual(Buffer.from(DOCS_HASH, "base64url"));
    expect(thrown(() => kod1Url({ environment: "test", sellerNip: NIP, issueDate: "2026-02-01", invoice: { sha256: nonCanonical } })).violations[0]?.rule).toBe(
      "invoice.sha256",
    );
    expect(
      thrown(() => kod1Url({ environment: "test", sellerNip: NIP, issueDate: "2026-02-01", invoice: { sha256: new Uint8Array(20) } })).violations[0]?.rule,
    ).toBe("invoice.sha256");
    expect(thrown(() => kod1Url({ qrBaseUrl: "ftp://qr.example/x?y", sellerNip: NIP, issueDate: "2026-02-01", invoice: INVOICE })).violations[0]?.rule).toBe(
      "qrBaseUrl.format",
    );
    expect(thrown(() => kod1Url({ environment: "test", sellerNip: NIP, issueDate: "2026-02-01", invoice: new Uint8Array(3 * 1024 * 1024 + 1) })).code).toBe(
      "TOO_LARGE",
    );
  });
});

describe("KOD II signing", () => {
  it("EC: builds the documented layout and an IEEE P1363 signature that crypto.verify and openssl accept", () => {
    const url = kod2Url({ ...signer(ecOffline, ec), invoice: INVOICE });
    const serial = new X509Certificate(ecOffline).serialNumber.toUpperCase().padStart(16, "0");
    const hash = createHash("sha256").update(INVOICE).digest("base64url");
    expect(url.startsWith(`https://qr-test.ksef.mf.gov.pl/certificate/Nip/${NIP}/${NIP}/${serial}/${hash}/`)).toBe(true);
    const sig = lastSegment(url);
    expect(url.slice(url.lastIndexOf("/") + 1)).toHaveLength(86);
    expect(sig).toHaveLength(64);
    const signed = signedPart(url);
    expect(signed).toBe(`qr-test.ksef.mf.gov.pl/certificate/Nip/${NIP}/${NIP}/${serial}/${hash}`);
    const pub = createPublicKey(ecOffline);
    expect(verify("sha256", Buffer.from(signed), { key: pub, dsaEncoding: "ieee-p1363" }, sig)).toBe(true);
    expect(opensslVerify(ecOffline, signed, p1363ToDer(sig))).toBe(true);
    expect(opensslVerify(ecOffline, `https://${signed}`, p1363ToDer(sig))).toBe(false);
  });

  it("EC with ecdsaSignatureEncoding der: openssl verifies the DER signature as is", () => {
    const url = kod2Url({ ...signer(ecOffline, ec, { ecdsaSignatureEncoding: "der" }), invoice: INVOICE });
    const sig = lastSegment(url);
    expect(sig[0]).toBe(0x30);
    expect(opensslVerify(ecOffline, signedPart(url), sig)).toBe(true);
    const result = verifyKod2Url(url, ecOffline);
    expect(result.valid && result.signatureEncoding).toBe("der");
  });

  it("RSA: RSASSA-PSS SHA-256 with MGF1-SHA-256 and salt 32, verified by crypto.verify and openssl (which rejects salt 20)", () => {
    const url = kod2Url({ ...signer(rsaOffline, rsa, { environment: "production" }), invoice: { sha256: DOCS_HASH } });
    expect(url.startsWith("https://qr.ksef.mf.gov.pl/certificate/Nip/")).toBe(true);
    expect(url.slice(url.lastIndexOf("/") + 1)).toHaveLength(342);
    const sig = lastSegment(url);
    const signed = signedPart(url);
    const pub = createPublicKey(rsaOffline);
    expect(verify("sha256", Buffer.from(signed), { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)).toBe(true);
    expect(opensslVerify(rsaOffline, signed, sig, ["rsa_padding_mode:pss", "rsa_pss_saltlen:32", "rsa_mgf1_md:sha256"])).toBe(true);
    expect(opensslVerify(rsaOffline, signed, sig, ["rsa_padding_mode:pss", "rsa_pss_saltlen:20"])).toBe(false);
    expect(verifyKod2Url(url, rsaOffline).valid).toBe(true);
  });

  it("uses each environment's QR host in the link and in the signed data", () => {
    for (const environment of KSEF_ENVIRONMENTS) {
      const url = kod2Url({ ...signer(ecOffline, ec, { environment }), invoice: INVOICE });
      const host = new URL(KSEF_ENDPOINTS[environment].qrBaseUrl).host;
      expect(signedPart(url).startsWith(`${host}/certificate/`)).toBe(true);
      const r = verifyKod2Url(url, ecOffline);
      expect(r.valid && r.parts.environment).toBe(environment);
    }
  });

  it("a prepared signer makes verifying links for many invoices, each with its own hash", () => {
    const s = prepareKod2Signer(signer(ecOffline, ec));
    expect(s.algorithm).toBe("ECDSA-P256-SHA256");
    expect(s.certificateSerial).toMatch(/^[0-9A-F]{16}$/);
    const links = Array.from({ length: 20 }, (_, i) => s.link(new TextEncoder().encode(`<Faktura nr="${i}"/>`)));
    expect(new Set(links.map((l) => l.split("/")[8])).size).toBe(20);
    for (const l of links) {
      expect(l.startsWith(s.urlPrefix)).toBe(true);
      expect(verifyKod2Url(l, ecOffline).valid).toBe(true);
    }
    expect(prepareKod2Signer(signer(rsaOffline, rsa)).algorithm).toBe("RSASSA-PSS-SHA256");
    // Already parsed certificates (parseCertificate) and DER work as well as PEM.
    const info = parseCertificate(ecOffline);
    const fromInfo = prepareKod2Signer({ ...signer(ecOffline, ec), certificate: info }).link(INVOICE);
    expect(verifyKod2Url(fromInfo, info.der).valid).toBe(true);
  });

  it("names the context types InternalId, NipVatUe and PeppolId and reads them back", () => {
    const internalId = `${NIP}-0001${internalIdCheckDigit(NIP, "0001")}`;
    for (const ctx of [
      { type: "InternalId", value: internalId },
      { type: "NipVatUe", value: `${NIP}-DE123456789` },
      { type: "PeppolId", value: "PPL123456" },
    ] as const) {
      const url = kod2Url({ ...signer(ecOffline, ec, { contextIdentifier: ctx }), invoice: INVOICE });
      expect(url).toContain(`/certificate/${ctx.type}/${ctx.value}/${NIP}/`);
      const r = verifyKod2Url(url, ecOffline);
      expect(r.valid && r.parts.contextIdentifier).toEqual(ctx);
    }
    const e = thrown(() => prepareKod2Signer(signer(ecOffline, ec, { contextIdentifier: { type: "InternalId", value: `${NIP}-00010` } })));
    expect(e.violations.map((v) => [v.field, v.rule])).toContainEqual(["contextIdentifier.value", "internalId.checksum"]);
  });
});

describe("KOD II refusals", () => {
  it("refuses an Authentication certificate with kod2.certificateType and says an Offline one is needed", async () => {
    const auth = await issue(ec, { certificateType: "Authentication" });
    const e = thrown(() => prepareKod2Signer(signer(auth, ec)));
    expect(e.code).toBe("VALIDATION");
    expect(e.violations.map((v) => v.rule)).toEqual(["kod2.certificateType"]);
    expect(e.message).toMatch(/Authentication certificate.*Offline certificate/);
    expect(e.hint).toMatch(/Offline/);
  });

  it("refuses a certificate whose KSeF type cannot be told, or whose name contradicts its key usage", async () => {
    const none = await issue(ec, { overrides: { keyUsage: "none" } });
    const both = await issue(ec, { overrides: { keyUsage: "both" } });
    const contradicting = await issue(ec, { overrides: { commonNameSuffix: " (uwierzytelnienie)" } });
    for (const cert of [none, both, contradicting]) {
      expect(thrown(() => prepareKod2Signer(signer(cert, ec))).violations.map((v) => v.rule)).toEqual(["kod2.certificateType"]);
    }
  });

  it("refuses a certificate that is expired or not yet valid at `at`, and accepts it inside its validity", async () => {
    const from = new Date(Date.UTC(2025, 0, 1));
    const cert = await issue(ec, { validFrom: from, validityDays: 730 });
    expect(thrown(() => prepareKod2Signer(signer(cert, ec, { at: new Date(from.getTime() + 731 * DAY) }))).violations.map((v) => v.rule)).toEqual([
      "kod2.certificateExpired",
    ]);
    expect(thrown(() => prepareKod2Signer(signer(cert, ec, { at: new Date(from.getTime() - DAY) }))).violations.map((v) => v.rule)).toEqual([
      "kod2.certificateNotYetValid",
    ]);
    const url = prepareKod2Signer(signer(cert, ec, { at: new Date(from.getTime() + 10 * DAY) })).link(INVOICE);
    expect(verifyKod2Url(url, cert).valid).toBe(true);
  });

  it("a signer prepared for now stops signing once the certificate expires", async () => {
    const cert = await issue(ec, { validityDays: 1 });
    const s = prepareKod2Signer(signer(cert, ec));
    expect(verifyKod2Url(s.link(INVOICE), cert).valid).toBe(true);
    vi.useFakeTimers();
    vi.setSystemTime(Date.now() + 2 * DAY);
    expect(thrown(() => s.link(INVOICE)).violations.map((v) => v.rule)).toEqual(["kod2.certificateExpired"]);
  });

  it("refuses a private key of another certificate with KEY_MISMATCH", () => {
    const e = thrown(() => prepareKod2Signer(signer(ecOffline, ec2)));
    expect(e.code).toBe("KEY_MISMATCH");
  });

  it("refuses a P-384 key as UNSUPPORTED, and bad seller/context input as VALIDATION with every rule", async () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
    const cert = await issue(p384);
    expect(thrown(() => prepareKod2Signer(signer(cert, p384))).code).toBe("UNSUPPORTED");
    const e = thrown(() => prepareKod2Signer(signer(ecOffline, ec, { sellerNip: "123", contextIdentifier: { type: "PeppolId", value: "X1" } })));
    expect(e.code).toBe("VALIDATION");
    expect(e.violations.map((v) => v.rule).sort()).toEqual(["nip.format", "peppolId.format"]);
    const pub = thrown(() => prepareKod2Signer({ ...signer(ecOffline, ec), privateKey: ec.publicKey }));
    expect(pub.violations.map((v) => v.rule)).toEqual(["privateKey.type"]);
  });
});

describe("verifyKod2Url", () => {
  let url: string;
  beforeAll(() => {
    url = kod2Url({ ...signer(ecOffline, ec), invoice: INVOICE });
  });

  it("accepts the untouched link and reports P1363", () => {
    const r = verifyKod2Url(url, ecOffline);
    expect(r).toMatchObject({ valid: true, signatureEncoding: "ieee-p1363", parts: { kind: "KOD_II", sellerNip: NIP } });
  });

  it("returns invalid when any segment is changed", () => {
    const segs = url.split("/"); // ["https:", "", host, "certificate", type, ctx, nip, serial, hash, sig]
    const replace = (i: number, v: string): string => segs.map((s, j) => (j === i ? v : s)).join("/");
    const otherHash = createHash("sha256").update("other").digest("base64url");
    const sig = segs[9] ?? "";
    const flipped = `${sig.slice(0, 10)}${sig[10] === "A" ? "B" : "A"}${sig.slice(11)}`;
    const cases: [string, string, string][] = [
      ["host", replace(2, "qr-demo.ksef.mf.gov.pl"), "signature"],
      ["context value", replace(5, "1111111111"), "signature"],
      ["context type", replace(4, "NipVatUe"), "malformed"],
      ["seller NIP", replace(6, "1111111111"), "signature"],
      ["serial", replace(7, "0123456789ABCDEF"), "certificateSerial"],
      ["hash", replace(8, otherHash), "signature"],
      ["signature", replace(9, flipped), "signature"],
      ["signature truncated", replace(9, sig.slice(0, 84)), "signature"],
    ];
    for (const [what, tampered, reason] of cases) {
      expect(tampered, what).not.toBe(url);
      const r = verifyKod2Url(tampered, ecOffline);
      expect(r.valid, what).toBe(false);
      expect(!r.valid && r.reason, what).toBe(reason);
    }
  });

  it("refuses a non-canonical signature encoding instead of letting it pass as the same bytes", () => {
    const sig = url.slice(url.lastIndexOf("/") + 1);
    const last = sig[sig.length - 1] ?? "A";
    // 86 characters carry 516 bits for 512: the last character's two low bits are unused.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] ?? "A";
    const tampered = `${url.slice(0, -1)}${sibling}`;
    expect(Buffer.from(tampered.slice(tampered.lastIndexOf("/") + 1), "base64url")).toEqual(Buffer.from(sig, "base64url"));
    const r = verifyKod2Url(tampered, ecOffline);
    expect(!r.valid && r.reason).toBe("malformed");
  });

  it("tells a link made with another certificate, and one signed by another key under the same serial", async () => {
    const other = verifyKod2Url(url, ecOffline2);
    expect(!other.valid && other.reason).toBe("certificateSerial");
    const serial = Buffer.from(new X509Certificate(ecOffline).serialNumber, "hex");
    const twin = await issue(ec2, { serialNumber: serial });
    const r = verifyKod2Url(url, twin);
    expect(!r.valid && r.reason).toBe("signature");
  });

  it("accepts a DER ECDSA signature made by someone else's code (e.g. the Java client)", () => {
    const prefix = url.slice(0, url.lastIndexOf("/"));
    const der = sign("sha256", Buffer.from(signedPart(url)), ec.privateKey);
    const r = verifyKod2Url(`${prefix}/${der.toString("base64url")}`, ecOffline);
    expect(r.valid && r.signatureEncoding).toBe("der");
  });

  it("says a KOD I link has nothing to verify", () => {
    const r = verifyKod2Url(kod1Url({ environment: "test", sellerNip: NIP, issueDate: "2026-02-01", invoice: INVOICE }), ecOffline);
    expect(!r.valid && r.reason).toBe("malformed");
  });
});

describe("parseKodUrl", () => {
  it("reads KOD I parts", () => {
    expect(parseKodUrl(`https://qr.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/${DOCS_HASH}`)).toEqual({
      kind: "KOD_I",
      qrBaseUrl: "https://qr.ksef.mf.gov.pl",
      environment: "production",
      sellerNip: "1111111111",
      issueDate: "2026-02-01",
      invoiceHash: DOCS_HASH,
    });
  });

  it("reads KOD II parts of the DOCS example layout, including a legacy /client-app base", () => {
    const signed = `qr-test.ksef.mf.gov.pl/client-app/certificate/Nip/1111111111/1111111111/01F20A5D352AE590/${DOCS_HASH}`;
    const sig = Buffer.alloc(64, 7).toString("base64url");
    expect(parseKodUrl(`https://${signed}/${sig}`)).toEqual({
      kind: "KOD_II",
      qrBaseUrl: "https://qr-test.ksef.mf.gov.pl/client-app",
      environment: undefined,
      contextIdentifier: { type: "Nip", value: "1111111111" },
      sellerNip: "1111111111",
      certificateSerial: "01F20A5D352AE590",
      invoiceHash: DOCS_HASH,
      signature: sig,
      signedData: signed,
    });
  });

  it("names what is wrong in a MALFORMED error", () => {
    const base = "https://qr-test.ksef.mf.gov.pl";
    const sig = Buffer.alloc(64, 7).toString("base64url");
    const cases: [string, RegExp][] = [
      ["qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/x", /https:\/\//],
      [`${base}/invoice/1111111111/01-02-2026/${DOCS_HASH}?a=1`, /query/],
      [`${base}/invoice/1111111111/01-02-2026/${DOCS_HASH}/`, /empty path segment/],
      [`${base}/invoice/1111111112/01-02-2026/${DOCS_HASH}`, /seller NIP/],
      [`${base}/invoice/1111111111/30-02-2026/${DOCS_HASH}`, /issue date/],
      [`${base}/invoice/1111111111/2026-02-01/${DOCS_HASH}`, /issue date/],
      [`${base}/invoice/1111111111/01-02-2026/${DOCS_HASH.slice(1)}`, /invoice hash/],
      [`${base}/faktura/1111111111/01-02-2026/${DOCS_HASH}`, /neither/],
      [`${base}/certificate/Pesel/1111111111/1111111111/01F20A5D352AE590/${DOCS_HASH}/${sig}`, /context type/],
      [`${base}/certificate/Nip/1111111111/1111111111/01f20a5d352ae590/${DOCS_HASH}/${sig}`, /serial/],
      [`${base}/certificate/Nip/1111111111/1111111111/01F20A5D352AE590/${DOCS_HASH}/${sig}=`, /signature/],
    ];
    for (const [u, why] of cases) {
      const e = thrown(() => parseKodUrl(u));
      expect(e.code, u).toBe("MALFORMED");
      expect(e.message, u).toMatch(why);
    }
    expect(thrown(() => parseKodUrl(`${base}/${"a".repeat(3000)}`)).code).toBe("TOO_LARGE");
  });
});
