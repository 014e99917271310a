/**
 * `f2000`: an F2000-style folder tree that takes over (and gives back) a whole organisation:
 *
 * ```
 * manifest.json                                  what every pair is (versioned JSON, below)
 * 5265877635/firma/test-Authentication-012E76A6111F788E.crt|.key       company's own
 * 5265877635/oddzial-WAW/production-Offline-….crt|.key                 branch WAW's
 * 5265877635/operator-44051401458/test-Authentication-….crt|.key       an operator's (by PESEL)
 * ```
 *
 * `manifest.json` = `{ "format": "ksef-certs/f2000", "version": 1, "certificates": [ { "crt", "key",
 * "certificateType", "environment", "mode", "name", "scope": { "companyNip", "branchCode"?,
 * "operatorPesel"? }, "serialNumber", "fingerprintSha256" } ] }`; paths are relative, forward-slash,
 * checked against traversal on import. Exports into an existing tree merge into its manifest (under a
 * folder lock, so parallel exports take turns). The bundle adapter carries the same tree.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { encodePem, parseCertificate } from "@ksef-certs/ksef/crypto";
import {
  ADAPTER_LIMITS,
  type AdapterFailure,
  type AdapterImportResult,
  type AdapterScope,
  assertSafeRelativePath,
  defineAdapter,
  ensureFolder,
  type ExportPair,
  folderOf,
  type ImportedPair,
  mapConcurrent,
  readFileInside,
  withFolderLock,
  writeFileAtomic,
  writeOptions,
} from "@ksef-certs/ksef/adapters";
import { KsefCertsError, isKsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { KsefEnvironment } from "@ksef-certs/ksef/vocabulary";
import { typedFailure } from "./names.js";

/** `format` of an F2000 manifest. */
export const F2000_FORMAT = "ksef-certs/f2000";
/** The manifest version this code writes and reads. */
export const F2000_VERSION = 1;
/** The manifest's file name at the root of the tree. */
export const F2000_MANIFEST = "manifest.json";

/** One manifest entry (see the module comment). */
export interface F2000Entry {
  readonly crt: string;
  readonly key: string;
  readonly certificateType: "Authentication" | "Offline";
  readonly environment: KsefEnvironment;
  readonly mode: "current" | "queued";
  readonly name: string;
  readonly scope: AdapterScope;
  readonly serialNumber: string;
  readonly fingerprintSha256: string;
}

/** The manifest. */
export interface F2000Manifest {
  readonly format: typeof F2000_FORMAT;
  readonly version: typeof F2000_VERSION;
  readonly certificates: readonly F2000Entry[];
}

/** A file of the tree: relative path and bytes. */
export interface TreeFile {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly mode: number;
}

function segment(value: string): string {
  // encodeURIComponent leaves no "/" and no "%"-free ".." (the prefix makes each segment non-empty and not a dot name).
  return encodeURIComponent(value);
}

function folderOfScope(scope: AdapterScope): string {
  const company = segment(scope.companyNip);
  if (scope.branchCode !== undefined) return `${company}/oddzial-${segment(scope.branchCode)}`;
  if (scope.operatorPesel !== undefined) return `${company}/operator-${segment(scope.operatorPesel)}`;
  return `${company}/firma`;
}

/**
 * The files of the tree for `pairs` (two per pair) and their manifest entries.
 * @param pairs pairs with environment, mode, name and scope in their metadata
 * @throws {KsefCertsError} UNSUPPORTED when a pair lacks environment or scope (the tree needs both)
 */
export function f2000Files(pairs: readonly ExportPair[]): { files: TreeFile[]; entries: F2000Entry[] } {
  const files: TreeFile[] = [];
  const entries: F2000Entry[] = [];
  for (const p of pairs) {
    const { environment, scope } = p.metadata;
    if (environment === undefined || scope === undefined) {
      throw new KsefCertsError("UNSUPPORTED", msg("adapters.f2000.noScope", { serialNumber: p.serialNumber }), {
        details: { certificateId: p.certificateId },
      });
    }
    const base = `${folderOfScope(scope)}/${environment}-${p.metadata.certificateType}-${segment(p.serialNumber)}`;
    const entry: F2000Entry = {
      crt: `${base}.crt`,
      key: `${base}.key`,
      certificateType: p.metadata.certificateType,
      environment,
      mode: p.metadata.mode ?? "current",
      name: p.metadata.name ?? p.serialNumber,
      scope,
      serialNumber: p.serialNumber,
      fingerprintSha256: createHash("sha256").update(p.certificateDer).digest("hex").toUpperCase(),
    };
    files.push(
      { path: entry.crt, bytes: new TextEncoder().encode(encodePem("CERTIFICATE", p.certificateDer)), mode: 0o644 },
      { path: entry.key, bytes: p.keyFile, mode: 0o600 },
    );
    entries.push(entry);
  }
  return { files, entries };
}

/**
 * The manifest bytes (pretty JSON, entries sorted by path so two exports of the same pairs write the same bytes).
 * @param entries manifest entries
 */
export function manifestBytes(entries: readonly F2000Entry[]): Uint8Array {
  const manifest: F2000Manifest = {
    format: F2000_FORMAT,
    version: F2000_VERSION,
    certificates: [...entries].sort((a, b) => (a.crt < b.crt ? -1 : a.crt > b.crt ? 1 : 0)),
  };
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}

const str = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 1024;

/**
 * Parses and checks a manifest: format, version, every field's type, paths safe (no traversal).
 * @param bytes the manifest file
 * @throws {KsefCertsError} MALFORMED (not JSON, wrong fields), UNSUPPORTED (another version), FORBIDDEN (a path leaving the tree), TOO_LARGE
 */
export function parseManifest(bytes: Uint8Array): F2000Manifest {
  if (bytes.byteLength > ADAPTER_LIMITS.manifestBytes)
    throw new KsefCertsError("TOO_LARGE", msg("adapters.f2000.manifest.tooLarge", { limit: ADAPTER_LIMITS.manifestBytes }), {
      details: { limitBytes: ADAPTER_LIMITS.manifestBytes },
    });
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new KsefCertsError("MALFORMED", msg("adapters.f2000.manifest.notJson"), { hint: msg("adapters.f2000.manifest.exportAgain.hint"), cause });
  }
  const m = data as Partial<F2000Manifest> | null;
  if (m === null || typeof m !== "object" || m.format !== F2000_FORMAT || !Array.isArray(m.certificates)) {
    throw new KsefCertsError("MALFORMED", msg("adapters.f2000.manifest.wrongFormat", { format: F2000_FORMAT }), {
      hint: msg("adapters.f2000.manifest.wrongFormat.hint"),
    });
  }
  if (m.version !== F2000_VERSION)
    throw new KsefCertsError("UNSUPPORTED", msg("adapters.f2000.manifest.version", { version: String(m.version), supported: F2000_VERSION }), {
      details: { scheme: `f2000 v${String(m.version)}` },
    });
  if (m.certificates.length > ADAPTER_LIMITS.files)
    throw new KsefCertsError("TOO_LARGE", msg("adapters.f2000.manifest.tooManyCertificates", { limit: ADAPTER_LIMITS.files }), {
      details: { limitFiles: ADAPTER_LIMITS.files },
    });
  for (const e of m.certificates as unknown[]) {
    const x = e as Partial<F2000Entry> | null;
    const scope = x?.scope as Partial<AdapterScope> | undefined;
    const ok =
      x !== null &&
      typeof x === "object" &&
      str(x.crt) &&
      str(x.key) &&
      (x.certificateType === "Authentication" || x.certificateType === "Offline") &&
      (x.environment === "test" || x.environment === "demo" || x.environment === "production") &&
      (x.mode === "current" || x.mode === "queued") &&
      str(x.name) &&
      str(x.serialNumber) &&
      typeof scope === "object" &&
      str(scope.companyNip) &&
      (scope.branchCode === undefined || str(scope.branchCode)) &&
      (scope.operatorPesel === undefined || str(scope.operatorPesel));
    if (!ok) throw new KsefCertsError("MALFORMED", msg("adapters.f2000.manifest.entryIncomplete"), { hint: msg("adapters.f2000.manifest.exportAgain.hint") });
    assertSafeRelativePath(x.crt, "manifest");
    assertSafeRelativePath(x.key, "manifest");
  }
  return m as F2000Manifest;
}

/**
 * Reads the pairs a manifest lists through `readFile` (a folder or an unpacked archive); each entry that
 * cannot be read is a failure, the rest are pairs with the manifest's metadata.
 * @param manifest the checked manifest
 * @param readFile reads one relative path with a size limit
 * @param onProgress entries done / total
 */
export async function readF2000(
  manifest: F2000Manifest,
  readFile: (path: string, maxBytes: number) => Promise<Uint8Array>,
  onProgress?: (done: number, total: number) => void,
): Promise<AdapterImportResult> {
  const failures: AdapterFailure[] = [];
  let done = 0;
  const read = await mapConcurrent(manifest.certificates, 16, async (e): Promise<ImportedPair | undefined> => {
    try {
      const info = parseCertificate(await readFile(e.crt, ADAPTER_LIMITS.pairFileBytes));
      const keyFile = await readFile(e.key, ADAPTER_LIMITS.pairFileBytes);
      return {
        ref: e.crt,
        certificateDer: info.der,
        keyFile,
        metadata: { certificateType: e.certificateType, environment: e.environment, mode: e.mode, name: e.name, scope: e.scope },
      };
    } catch (err) {
      failures.push({ ref: e.crt, error: typedFailure(err, "tree") });
      return undefined;
    } finally {
      onProgress?.(++done, manifest.certificates.length);
    }
  });
  return { pairs: read.filter((p): p is ImportedPair => p !== undefined), failures };
}

/** The `f2000` adapter: the organisation's folder tree with a manifest. */
export const f2000Adapter = defineAdapter({
  id: "f2000",
  description: "F2000-style tree per company, branch and operator with a versioned manifest of type, mode and environment; round-trips a whole organisation.",
  capabilities: { import: true, export: true, certificateTypes: ["Authentication", "Offline"], carriesPasswords: false },
  sourceKinds: ["folder"],
  targetKinds: ["folder"],
  async import(source, ctx) {
    const root = folderOf(source, "source");
    const manifest = parseManifest(await readFileInside(root, F2000_MANIFEST, ADAPTER_LIMITS.manifestBytes));
    return readF2000(manifest, (path, max) => readFileInside(root, path, max), ctx.onProgress);
  },
  async export(pairs, target, ctx) {
    const root = folderOf(target, "target");
    await ensureFolder(root, writeOptions(ctx));
    const { files, entries } = f2000Files(pairs);
    return withFolderLock(root, async () => {
      let previous: readonly F2000Entry[] = [];
      let unreadable = false;
      try {
        previous = parseManifest(await readFileInside(root, F2000_MANIFEST, ADAPTER_LIMITS.manifestBytes)).certificates;
      } catch (err) {
        // A manifest that is not ours is kept, unless the person asked to replace what is there.
        if (!isKsefCertsError(err, "NOT_FOUND") && !(ctx.replace === true && isKsefCertsError(err, "MALFORMED", "UNSUPPORTED"))) throw err;
        unreadable = !isKsefCertsError(err, "NOT_FOUND");
      }
      let done = 0;
      const folders = new Set(files.map((f) => f.path.slice(0, f.path.lastIndexOf("/"))));
      for (const f of folders) await ensureFolder(join(root, ...f.split("/")), writeOptions(ctx));
      await mapConcurrent(files, 16, async (f) => {
        await writeFileAtomic(join(root, ...f.path.split("/")), f.bytes, f.mode, writeOptions(ctx));
        if (f.path.endsWith(".key")) ctx.onProgress?.(++done, pairs.length);
      });
      const merged = new Map(previous.map((e) => [`${e.environment}/${e.serialNumber}`, e]));
      for (const e of entries) merged.set(`${e.environment}/${e.serialNumber}`, e);
      // The manifest is merged on purpose (read under the folder lock, written back with every entry kept).
      // Only a manifest that was not ours counts as replaced; merging into ours is the format working (still undoable).
      const { onReplaced: _merged, ...merging } = writeOptions(ctx);
      await writeFileAtomic(join(root, F2000_MANIFEST), manifestBytes([...merged.values()]), 0o600, {
        ...(unreadable ? writeOptions(ctx) : merging),
        replace: true,
      });
      return { written: pairs.map((p, i) => ({ certificateId: p.certificateId, ref: join(root, ...(entries[i]?.crt ?? "").split("/")) })) };
    });
  },
});
