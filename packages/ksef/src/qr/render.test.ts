import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import QRCode from "qrcode";
import { beforeAll, describe, expect, it } from "vitest";
import { thrown } from "../testing/errors.js";
import { generateKeyPair } from "../crypto/keys.js";
import { issueKsefLikeCertificate } from "../testing/ksef-like-certificate.js";
import { FONT_5X7 } from "./font.js";
import { KOD1_OFFLINE_LABEL, KOD2_LABEL, kod1Label, kod1Url, kod2Url, renderQr } from "./index.js";

// jsqr is CommonJS with an ES-style `export default` declaration: under NodeNext its default import is module.exports.
const jsQR = jsQRModule.default;
const NIP = "5265877635";
const KSEF_NUMBER = "5265877635-20250826-0100001AF629-AF";
const INVOICE = new TextEncoder().encode("<Faktura><P_1>2026-02-01</P_1></Faktura>");

interface Raster {
  readonly width: number;
  readonly height: number;
  /** 1 = dark, 0 = light, row-major. */
  readonly dark: Uint8Array;
  readonly rgba: Uint8ClampedArray;
}

function readPng(bytes: Uint8Array): Raster {
  const img = PNG.sync.read(Buffer.from(bytes));
  const dark = new Uint8Array(img.width * img.height);
  for (let i = 0; i < dark.length; i++) dark[i] = (img.data[i * 4] ?? 255) < 128 ? 1 : 0;
  return { width: img.width, height: img.height, dark, rgba: new Uint8ClampedArray(img.data) };
}

/** Rasterizes the SVG we write: its size, and the `M x y h w v h h-w z` runs of its one path (text is not drawn). */
function rasterizeSvg(svg: string): Raster {
  const size = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg);
  const d = /<path fill="#000000" d="([^"]*)"\/>/.exec(svg)?.[1];
  if (size === null || d === undefined) throw new Error("unexpected SVG");
  const width = Number(size[1]);
  const height = Number(size[2]);
  const dark = new Uint8Array(width * height);
  const runs = [...d.matchAll(/M(\d+) (\d+)h(\d+)v(\d+)h-(\d+)z/g)];
  expect(runs.map((m) => m[0]).join("")).toBe(d);
  for (const [, x, y, w, h] of runs) {
    for (let yy = Number(y); yy < Number(y) + Number(h); yy++) dark.fill(1, yy * width + Number(x), yy * width + Number(x) + Number(w));
  }
  const rgba = new Uint8ClampedArray(width * height * 4);
  dark.forEach((v, i) => rgba.fill(v ? 0 : 255, i * 4, i * 4 + 3).fill(255, i * 4 + 3, i * 4 + 4));
  return { width, height, dark, rgba };
}

const decode = (r: Raster): string | undefined => jsQR(r.rgba, r.width, r.height)?.data;

/** Checks that each module's centre pixel matches QRCode.create at level M and the quiet zone is clear. */
function expectModules(r: Raster, url: string, ms = 5, margin = 4): void {
  const m = QRCode.create(url, { errorCorrectionLevel: "M" }).modules;
  const qrPx = (m.size + 2 * margin) * ms;
  const left = Math.floor((r.width - qrPx) / 2);
  let mismatches = 0;
  for (let row = 0; row < m.size; row++) {
    for (let col = 0; col < m.size; col++) {
      const x = left + (margin + col) * ms + Math.floor(ms / 2);
      const y = (margin + row) * ms + Math.floor(ms / 2);
      if (r.dark[y * r.width + x] !== m.get(row, col)) mismatches++;
    }
  }
  expect(mismatches).toBe(0);
  for (let y = 0; y < qrPx; y++) {
    for (let x = left; x < left + qrPx; x++) {
      const inSymbol = y >= margin * ms && y < qrPx - margin * ms && x >= left + margin * ms && x < left + qrPx - margin * ms;
      if (!inSymbol && r.dark[y * r.width + x] === 1) throw new Error(`dark pixel in the quiet zone at ${x},${y}`);
    }
  }
}

/** Reads the label back from the pixels below the code by matching each 5×7 cell against the font. */
function readLabel(r: Raster, qrPx: number, length: number): string {
  let top = -1;
  let bottom = -1;
  for (let y = qrPx; y < r.height; y++) {
    if (r.dark.subarray(y * r.width, (y + 1) * r.width).includes(1)) {
      if (top < 0) top = y;
      bottom = y;
    }
  }
  const scale = (bottom - top + 1) / 7;
  expect(Number.isInteger(scale)).toBe(true);
  const textWidth = (length * 6 - 1) * scale;
  const left = Math.floor((r.width - textWidth) / 2);
  const byBits = new Map(Object.entries(FONT_5X7).map(([ch, rows]) => [rows.join(","), ch]));
  let text = "";
  for (let i = 0; i < length; i++) {
    const rows: number[] = [];
    for (let row = 0; row < 7; row++) {
      let bits = 0;
      for (let col = 0; col < 5; col++) {
        const x = left + (i * 6 + col) * scale + Math.floor(scale / 2);
        const y = top + row * scale + Math.floor(scale / 2);
        bits = (bits << 1) | (r.dark[y * r.width + x] ?? 0);
      }
      rows.push(bits);
    }
    text += byBits.get(rows.join(",")) ?? "?";
  }
  return text;
}

let kod1: string;
let kod2: string;
/** As long as an RSA-2048 KOD II link (342-character signature); only the QR payload matters here. */
let longLink: string;

beforeAll(async () => {
  const keys = await generateKeyPair("EC-P256");
  const { certificate } = await issueKsefLikeCertificate({
    certificateType: "Offline",
    keys,
    enrollmentData: { commonName: "Firma", countryName: "PL", organizationIdentifier: `VATPL-${NIP}` },
  });
  kod1 = kod1Url({ environment: "test", sellerNip: NIP, issueDate: "2026-02-01", invoice: INVOICE });
  kod2 = kod2Url({
    environment: "test",
    contextIdentifier: { type: "Nip", value: NIP },
    sellerNip: NIP,
    certificate,
    privateKey: keys.privateKey,
    invoice: INVOICE,
  });
  longLink = `${kod2.slice(0, kod2.lastIndexOf("/"))}/${Buffer.alloc(256, 0xa5).toString("base64url")}`;
});

describe("renderQr PNG", () => {
  it("decodes back (jsQR) to the exact KOD I and KOD II links, modules as QRCode.create at level M", () => {
    for (const [url, label] of [
      [kod1, KOD1_OFFLINE_LABEL],
      [kod1, KSEF_NUMBER],
      [kod2, KOD2_LABEL],
      [longLink, KOD2_LABEL],
    ] as const) {
      const r = readPng(renderQr({ url, label, format: "png" }));
      expect(decode(r), label).toBe(url);
      expectModules(r, url);
    }
  });

  it("draws the label under the code in the built-in font, readable back cell by cell", () => {
    for (const [url, label] of [
      [kod1, KOD1_OFFLINE_LABEL],
      [kod1, KSEF_NUMBER],
      [kod2, KOD2_LABEL],
    ] as const) {
      const r = readPng(renderQr({ url, label, format: "png" }));
      const n = QRCode.create(url, { errorCorrectionLevel: "M" }).modules.size;
      const qrPx = (n + 8) * 5;
      expect(r.width, "a KSeF number fits under the code without widening it").toBe(qrPx);
      expect(readLabel(r, qrPx, label.length)).toBe(label);
    }
  });

  it("writes identical bytes for identical input, 8-bit grayscale, and honours module size and margin", () => {
    const a = renderQr({ url: kod2, label: KOD2_LABEL, format: "png" });
    const b = renderQr({ url: kod2, label: KOD2_LABEL, format: "png" });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a.subarray(12, 16)).toString("latin1")).toBe("IHDR");
    expect([a[24], a[25]]).toEqual([8, 0]); // bit depth 8, colour type 0 (grayscale)
    const r = readPng(renderQr({ url: kod1, label: "OFFLINE", format: "png", moduleSizePx: 3, marginModules: 2 }));
    const n = QRCode.create(kod1, { errorCorrectionLevel: "M" }).modules.size;
    expect(r.width).toBe((n + 4) * 3);
    expectModules(r, kod1, 3, 2);
    expect(decode(r)).toBe(kod1);
  });

  it("widens the image only when even the smallest letters do not fit", () => {
    const label = "A".repeat(64);
    const r = readPng(renderQr({ url: "https://x.pl/a", label, format: "png", moduleSizePx: 2 }));
    expect(r.width).toBe(64 * 6 - 1 + 2);
    const n = QRCode.create("https://x.pl/a", { errorCorrectionLevel: "M" }).modules.size;
    expect(readLabel(r, (n + 8) * 2, 64)).toBe(label);
    expect(decode(r)).toBe("https://x.pl/a");
  });
});

describe("renderQr SVG", () => {
  it("has a <text> label and module paths that rasterize to the PNG's code and decode back", () => {
    for (const [url, label] of [
      [kod1, KOD1_OFFLINE_LABEL],
      [kod2, KOD2_LABEL],
    ] as const) {
      const svg = renderQr({ url, label, format: "svg" });
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg).toMatch(new RegExp(`<text [^>]*>${label}</text></svg>$`));
      const r = rasterizeSvg(svg);
      expect(decode(r)).toBe(url);
      expectModules(r, url);
      const png = readPng(renderQr({ url, label, format: "png" }));
      expect([png.width, png.height]).toEqual([r.width, r.height]);
      const qrPx = (QRCode.create(url, { errorCorrectionLevel: "M" }).modules.size + 8) * 5;
      expect(Buffer.from(r.dark.subarray(0, qrPx * r.width)).equals(Buffer.from(png.dark.subarray(0, qrPx * r.width)))).toBe(true);
    }
  });
});

describe("labels and refusals", () => {
  it("kod1Label gives the KSeF number or OFFLINE, and refuses what is not a KSeF number", () => {
    expect(kod1Label()).toBe("OFFLINE");
    expect(kod1Label(KSEF_NUMBER)).toBe(KSEF_NUMBER);
    expect(kod1Label("5265877635-20250826-010000-1AF629-AF")).toBe("5265877635-20250826-010000-1AF629-AF");
    expect(thrown(() => kod1Label("FV/1/2026")).violations[0]?.rule).toBe("ksefNumber.format");
    expect(KOD2_LABEL).toBe("CERTYFIKAT");
  });

  it("the font has a distinct 5×7 glyph for each of A-Z, 0-9 and -", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
    const chars = Array.from({ length: alphabet.length }, (_, i) => alphabet.charAt(i));
    expect(Object.keys(FONT_5X7).sort()).toEqual([...chars].sort());
    const shapes = Object.values(FONT_5X7).map((rows) => {
      expect(rows).toHaveLength(7);
      for (const row of rows) expect(row >= 0 && row < 32).toBe(true);
      return rows.join(",");
    });
    expect(new Set(shapes).size).toBe(chars.length);
  });

  it("refuses labels outside A-Z 0-9 -, bad sizes, formats and oversize links", () => {
    const rule = (o: Parameters<typeof renderQr>[0]): string | undefined => thrown(() => renderQr(o)).violations[0]?.rule;
    expect(rule({ url: kod1, label: "offline", format: "png" })).toBe("qrLabel.characters");
    expect(rule({ url: kod1, label: "ZAŻÓŁĆ", format: "svg" })).toBe("qrLabel.characters");
    expect(rule({ url: kod1, label: "<b>", format: "svg" })).toBe("qrLabel.characters");
    expect(rule({ url: kod1, label: "", format: "png" })).toBe("qrLabel.length");
    expect(rule({ url: kod1, label: "A".repeat(65), format: "png" })).toBe("qrLabel.length");
    expect(rule({ url: kod1, label: "OFFLINE", format: "png", moduleSizePx: 0 })).toBe("qr.moduleSizePx");
    expect(rule({ url: kod1, label: "OFFLINE", format: "png", moduleSizePx: 2.5 })).toBe("qr.moduleSizePx");
    expect(rule({ url: kod1, label: "OFFLINE", format: "png", marginModules: 17 })).toBe("qr.marginModules");
    expect(rule({ url: kod1, label: "OFFLINE", format: "gif" as "png" })).toBe("qr.format");
    expect(rule({ url: "", label: "OFFLINE", format: "png" })).toBe("qr.url");
    expect(thrown(() => renderQr({ url: "x".repeat(2049), label: "OFFLINE", format: "png" })).code).toBe("TOO_LARGE");
  });
});
