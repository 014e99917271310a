/**
 * File names for exported pairs, shared by the folder adapters.
 */
import {
  type AdapterContext,
  type AdapterExportResult,
  type AdapterTarget,
  ensureFolder,
  type ExportPair,
  folderOf,
  mapConcurrent,
  writeOptions,
} from "@ksef-certs/ksef/adapters";
import { KsefCertsError, isKsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";

/**
 * A file base name from a certificate name: letters, digits, `.`, `_`, `-` and spaces kept (the web app's
 * names have spaces), anything else becomes `_`, no leading dot, at most 100 characters; the serial
 * when nothing is left.
 * @param name the certificate name
 * @param serial its serial, the fallback
 */
export function fileBase(name: string | undefined, serial: string): string {
  const base = (name ?? "")
    .normalize("NFC")
    .replace(/[^\p{L}\p{N}._ -]+/gu, "_")
    .replace(/^[._ ]+/, "")
    .trim();
  return Array.from(base).slice(0, 100).join("") || serial;
}

/**
 * Base names for a batch, unique within it (case-insensitively, as Windows and macOS folders compare):
 * a repeated name gets ` (SERIAL)` appended.
 * @param pairs the pairs to export
 * @returns one base name per pair, in order
 */
export function uniqueBases(pairs: readonly ExportPair[]): string[] {
  const seen = new Set<string>();
  return pairs.map((p) => {
    let base = fileBase(p.metadata.name, p.serialNumber);
    if (seen.has(base.toLowerCase())) base = `${base} (${p.serialNumber})`;
    seen.add(base.toLowerCase());
    return base;
  });
}

/**
 * Anything caught while reading one entry, as a typed error (an unexpected one becomes `INTERNAL`).
 * @param err the caught value
 * @param what what was being read (a pair of files, the F2000 tree, a PKCS#12 file), which picks the message
 */
export function typedFailure(err: unknown, what: "pair" | "tree" | "pkcs12"): KsefCertsError {
  return isKsefCertsError(err) ? err : new KsefCertsError("INTERNAL", msg(`adapters.read.unexpected.${what}`), { cause: err });
}

/**
 * The shared shape of per-certificate folder exports: the folder is created (0700), each pair gets a
 * unique base name, `write` writes its files (atomically) and returns the main file's path; progress per pair.
 * @param pairs the pairs
 * @param target a folder target
 * @param ctx for progress
 * @param concurrency pairs written at once
 * @param write writes one pair's files into `root` under `base`
 */
export async function exportPerPair(
  pairs: readonly ExportPair[],
  target: AdapterTarget,
  ctx: AdapterContext,
  concurrency: number,
  write: (pair: ExportPair, base: string, root: string) => Promise<string>,
): Promise<AdapterExportResult> {
  const root = folderOf(target, "target");
  await ensureFolder(root, writeOptions(ctx));
  const bases = uniqueBases(pairs);
  let done = 0;
  const written = await mapConcurrent(pairs, concurrency, async (pair, i) => {
    const ref = await write(pair, bases[i] ?? pair.serialNumber, root);
    ctx.onProgress?.(++done, pairs.length);
    return { certificateId: pair.certificateId, ref };
  });
  return { written };
}
