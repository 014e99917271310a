/**
 * Drawing KOD I / KOD II as QR codes with their label underneath, as PNG or SVG.
 *
 * The module matrix comes from the maintained `qrcode` package (ISO/IEC 18004, error correction M);
 * this file only lays it out and draws the label. The PNG label uses the built-in 5×7 font, so the
 * same input always gives the same bytes and no system fonts are needed. Source for labels and the
 * symbol standard: ksef-docs `kody-qr.md`.
 */
import { PNG } from "pngjs";
import QRCode from "qrcode";
import { KsefCertsError } from "../errors.js";
import { FONT_5X7, GLYPH_HEIGHT, GLYPH_SPACING, GLYPH_WIDTH, LABEL_PATTERN } from "./font.js";

/** Label under a KOD I code when the invoice has no KSeF number yet (offline invoice). */
export const KOD1_OFFLINE_LABEL = "OFFLINE";
/** Label under every KOD II code. */
export const KOD2_LABEL = "CERTYFIKAT";
/** Longest label accepted: 64 characters (a KSeF number has 35 or 36). */
export const MAX_LABEL_CHARS = 64;
/** Most UTF-8 bytes a QR payload may have here: 2048 (a QR code at level M holds at most 2331). */
export const MAX_QR_PAYLOAD_BYTES = 2048;

/** SPEC `KsefNumber` pattern: `{NIP}-{YYYYMMDD}-{6 hex}[-]{6 hex}-{2 hex}`. */
const KSEF_NUMBER =
  /^([1-9](\d[1-9]|[1-9]\d)\d{7})-(20[2-9][0-9]|2[1-9]\d{2}|[3-9]\d{3})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])-([0-9A-F]{6})-?([0-9A-F]{6})-([0-9A-F]{2})$/;

/**
 * The label under a KOD I code: the invoice's KSeF number, or `OFFLINE` when it has none yet
 * (ksef-docs `kody-qr.md`).
 * @param ksefNumber the KSeF number, e.g. `5265877635-20250826-0100001AF629-AF`; undefined for an offline invoice
 * @throws {KsefCertsError} `VALIDATION` (rule `ksefNumber.format`) when it does not match the SPEC `KsefNumber` pattern
 */
export function kod1Label(ksefNumber?: string): string {
  if (ksefNumber === undefined) return KOD1_OFFLINE_LABEL;
  if (typeof ksefNumber === "string" && KSEF_NUMBER.test(ksefNumber)) return ksefNumber;
  const message = "A KSeF number looks like 5265877635-20250826-0100001AF629-AF (NIP, date, hex parts).";
  throw new KsefCertsError("VALIDATION", `Not a KSeF number: ${message}`, { violations: [{ field: "ksefNumber", rule: "ksefNumber.format", message }] });
}

/** Options of {@link renderQr}. */
export interface RenderQrOptions {
  /** What the code holds: a KOD I or KOD II link (any text up to {@link MAX_QR_PAYLOAD_BYTES} bytes). */
  readonly url: string;
  /** Text under the code: `A–Z`, `0–9`, `-` only (e.g. {@link KOD2_LABEL}, {@link kod1Label}). */
  readonly label: string;
  /** `png` gives bytes, `svg` gives text. */
  readonly format: "png" | "svg";
  /** Pixels per module, integer 1–40; default 5. */
  readonly moduleSizePx?: number;
  /** Quiet zone in modules, integer 0–16; default 4 (the ISO/IEC 18004 minimum). */
  readonly marginModules?: number;
}

/** Where everything goes, in pixels. */
interface Layout {
  readonly modules: Uint8Array;
  readonly n: number;
  readonly ms: number;
  readonly width: number;
  readonly height: number;
  /** Left edge of the symbol's module (0,0). */
  readonly qrX: number;
  readonly qrY: number;
  /** Font pixel size, left and top of the label. */
  readonly scale: number;
  readonly textX: number;
  readonly textY: number;
  readonly textWidth: number;
}

function invalidOption(field: string, rule: string, message: string): KsefCertsError {
  return new KsefCertsError("VALIDATION", message, { violations: [{ field, rule, message }] });
}

function intOption(value: number | undefined, fallback: number, min: number, max: number, field: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw invalidOption(field, `qr.${field}`, `${field} must be a whole number from ${min} to ${max}.`);
  return v;
}

function layout(options: RenderQrOptions): Layout {
  const { url, label } = options;
  if (typeof url !== "string" || url.length === 0) throw invalidOption("url", "qr.url", "The QR code needs a link to hold.");
  const bytes = Buffer.byteLength(url, "utf8");
  if (bytes > MAX_QR_PAYLOAD_BYTES) {
    throw new KsefCertsError("TOO_LARGE", `The link is ${bytes} bytes; a QR code here holds at most ${MAX_QR_PAYLOAD_BYTES}.`, {
      details: { sizeBytes: bytes, limitBytes: MAX_QR_PAYLOAD_BYTES },
    });
  }
  if (typeof label !== "string" || label.length === 0 || label.length > MAX_LABEL_CHARS) {
    throw invalidOption("label", "qrLabel.length", `The label must have 1 to ${MAX_LABEL_CHARS} characters.`);
  }
  if (!LABEL_PATTERN.test(label)) {
    throw invalidOption(
      "label",
      "qrLabel.characters",
      "The label may use only capital letters A-Z, digits and '-' (e.g. OFFLINE, CERTYFIKAT or a KSeF number).",
    );
  }
  const ms = intOption(options.moduleSizePx, 5, 1, 40, "moduleSizePx");
  const margin = intOption(options.marginModules, 4, 0, 16, "marginModules");
  let modules: Uint8Array;
  let n: number;
  try {
    const qr = QRCode.create(url, { errorCorrectionLevel: "M" });
    modules = qr.modules.data;
    n = qr.modules.size;
  } catch (cause) {
    throw new KsefCertsError("VALIDATION", "The link does not fit in a QR code at error correction level M.", {
      violations: [{ field: "url", rule: "qr.capacity", message: "The link is too long for a QR code." }],
      cause,
    });
  }
  const qrPx = (n + 2 * margin) * ms;
  const units = label.length * (GLYPH_WIDTH + GLYPH_SPACING) - GLYPH_SPACING;
  // Preferred letter height is about 4/5 of a module per font pixel row; long labels (KSeF numbers)
  // shrink to fit under the code, as the official clients do, and only widen the image at scale 1.
  const preferred = Math.max(1, Math.floor((ms * 3) / 5));
  const scale = Math.max(1, Math.min(preferred, Math.floor(qrPx / (units + 2))));
  const textWidth = units * scale;
  const width = Math.max(qrPx, textWidth + 2 * scale);
  const qrLeft = Math.floor((width - qrPx) / 2);
  const height = qrPx + (1 + GLYPH_HEIGHT + 2) * scale;
  return {
    modules,
    n,
    ms,
    width,
    height,
    qrX: qrLeft + margin * ms,
    qrY: margin * ms,
    scale,
    textX: Math.floor((width - textWidth) / 2),
    textY: qrPx + scale,
    textWidth,
  };
}

function renderPng(l: Layout, label: string): Uint8Array {
  const gray = Buffer.alloc(l.width * l.height, 255);
  const fill = (x0: number, y0: number, w: number, h: number): void => {
    for (let y = y0; y < y0 + h; y++) gray.fill(0, y * l.width + x0, y * l.width + x0 + w);
  };
  for (let r = 0; r < l.n; r++) {
    for (let c = 0; c < l.n; c++) if (l.modules[r * l.n + c] === 1) fill(l.qrX + c * l.ms, l.qrY + r * l.ms, l.ms, l.ms);
  }
  let x = l.textX;
  for (const ch of label) {
    const rows = FONT_5X7[ch] ?? [];
    rows.forEach((bits, row) => {
      for (let col = 0; col < GLYPH_WIDTH; col++) if ((bits >> (GLYPH_WIDTH - 1 - col)) & 1) fill(x + col * l.scale, l.textY + row * l.scale, l.scale, l.scale);
    });
    x += (GLYPH_WIDTH + GLYPH_SPACING) * l.scale;
  }
  const png = PNG.sync.write({ width: l.width, height: l.height, data: gray } as unknown as PNG, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

function renderSvg(l: Layout, label: string): string {
  // One path, one horizontal run of dark modules per sub-path, in whole pixels.
  const runs: string[] = [];
  for (let r = 0; r < l.n; r++) {
    let c = 0;
    while (c < l.n) {
      if (l.modules[r * l.n + c] !== 1) {
        c++;
        continue;
      }
      const start = c;
      while (c < l.n && l.modules[r * l.n + c] === 1) c++;
      const w = (c - start) * l.ms;
      runs.push(`M${l.qrX + start * l.ms} ${l.qrY + r * l.ms}h${w}v${l.ms}h-${w}z`);
    }
  }
  const baseline = l.textY + GLYPH_HEIGHT * l.scale;
  // Cap height ≈ 0.7 em in common monospace fonts; textLength pins the width to the PNG layout.
  const fontSize = Math.round((GLYPH_HEIGHT * l.scale * 10) / 7);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}" shape-rendering="crispEdges">` +
    `<rect width="${l.width}" height="${l.height}" fill="#ffffff"/>` +
    `<path fill="#000000" d="${runs.join("")}"/>` +
    `<text x="${l.textX}" y="${baseline}" font-family="DejaVu Sans Mono, Consolas, monospace" font-size="${fontSize}" textLength="${l.textWidth}" lengthAdjust="spacingAndGlyphs" fill="#000000">${label}</text>` +
    `</svg>`
  );
}

/**
 * Draws a QR code (error correction M, module matrix from `qrcode`) with its label centred underneath.
 * PNG: 8-bit grayscale, black on white, label in the built-in 5×7 font (deterministic bytes). SVG:
 * one `<rect>` background, one `<path>` of dark modules, and a `<text>` label. The quiet zone stays
 * clear; the label sits below it and shrinks to the code's width (the image widens only when even
 * the smallest letters do not fit). Labels per ksef-docs `kody-qr.md`: KOD I = KSeF number or `OFFLINE`,
 * KOD II = `CERTYFIKAT`.
 * @param options url, label, format, module size (px, default 5), margin (modules, default 4)
 * @returns PNG bytes for `png`, SVG text for `svg`
 * @throws {KsefCertsError} `VALIDATION` for a label outside `A–Z 0–9 -` (`qrLabel.characters`), empty or
 *   over 64 characters (`qrLabel.length`), an out-of-range size or margin, an empty url; `TOO_LARGE` for
 *   a url over 2048 UTF-8 bytes
 */
export function renderQr(options: RenderQrOptions & { readonly format: "png" }): Uint8Array;
export function renderQr(options: RenderQrOptions & { readonly format: "svg" }): string;
export function renderQr(options: RenderQrOptions): Uint8Array | string;
export function renderQr(options: RenderQrOptions): Uint8Array | string {
  const format: unknown = options.format;
  if (format !== "png" && format !== "svg") throw invalidOption("format", "qr.format", "The QR format must be png or svg.");
  const l = layout(options);
  return options.format === "png" ? renderPng(l, options.label) : renderSvg(l, options.label);
}
