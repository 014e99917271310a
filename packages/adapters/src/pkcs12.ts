/**
 * `pkcs12`: one `.p12` (import also `.pfx`) per certificate, for Windows-based ERPs. Written with core
 * crypto's `exportPkcs12`: AES-256-CBC + PBKDF2-HMAC-SHA256 bags and a SHA-256 MAC, which OpenSSL 3
 * and Windows (10 1709+) read. The file's password is the key's password (asked as `key`); on import
 * the key is re-encrypted into KSeF-layout PKCS#8 under the file's password, so the registry never
 * holds it unencrypted (the key bytes therefore differ from any earlier `.key`; the key itself is kept).
 */
import { encryptPrivateKeyPem, exportPkcs12, importPkcs12, parseCertificate, readPrivateKey } from "@ksef-certs/ksef/crypto";
import {
  ADAPTER_LIMITS,
  type AdapterFailure,
  defineAdapter,
  folderOf,
  type ImportedPair,
  listFilesInside,
  mapConcurrent,
  readFileInside,
  writeFileAtomic,
  writeOptions,
} from "@ksef-certs/ksef/adapters";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { basename, dirname, join, resolve } from "node:path";
import { availableParallelism } from "node:os";
import { exportPerPair, typedFailure } from "./names.js";

/** The `pkcs12` adapter: one password-protected `.p12` per certificate. */
export const pkcs12Adapter = defineAdapter({
  id: "pkcs12",
  description: "NAME.p12 per certificate (PKCS#12, AES-256 + SHA-256 MAC, the key's password), for Windows-based ERPs; imports .p12 and .pfx.",
  capabilities: { import: true, export: true, certificateTypes: ["Authentication", "Offline"], carriesPasswords: true },
  sourceKinds: ["folder", "file"],
  targetKinds: ["folder"],
  async import(source, ctx) {
    let root: string;
    let files: readonly string[];
    const failures: AdapterFailure[] = [];
    if (source.kind === "file") {
      root = dirname(resolve(source.path));
      files = [basename(source.path)];
    } else {
      root = folderOf(source, "source");
      const listing = await listFilesInside(root, { maxDepth: 0 });
      failures.push(...listing.refused);
      files = listing.files.filter((f) => /\.(p12|pfx)$/i.test(f));
    }
    let done = 0;
    const read = await mapConcurrent(files, availableParallelism(), async (file): Promise<ImportedPair | undefined> => {
      try {
        const bytes = await readFileInside(root, file, ADAPTER_LIMITS.pkcs12Bytes);
        const password = await ctx.password({ purpose: "file", ref: file });
        const p12 = await importPkcs12(bytes, password);
        const info = parseCertificate(p12.certificate);
        if (info.ksefType === undefined) throw new KsefCertsError("MALFORMED", msg("adapters.pkcs12.notKsef", { ref: file }), { details: { ref: file } });
        const keyFile = new TextEncoder().encode(await encryptPrivateKeyPem(p12.privateKey, password));
        const name = p12.friendlyName ?? file.replace(/\.(p12|pfx)$/i, "");
        return { ref: file, certificateDer: info.der, keyFile, metadata: { certificateType: info.ksefType, name } };
      } catch (err) {
        failures.push({ ref: file, error: typedFailure(err, "pkcs12") });
        return undefined;
      } finally {
        ctx.onProgress?.(++done, files.length);
      }
    });
    return { pairs: read.filter((p): p is ImportedPair => p !== undefined), failures };
  },
  async export(pairs, target, ctx) {
    return exportPerPair(pairs, target, ctx, availableParallelism(), async (pair, base, root) => {
      const password = await ctx.password({ purpose: "key", ref: base, certificateId: pair.certificateId });
      const key = await readPrivateKey(pair.keyFile, { password });
      const p12 = await exportPkcs12({
        certificate: pair.certificateDer,
        privateKey: key.key,
        password,
        ...(pair.metadata.name === undefined ? {} : { friendlyName: pair.metadata.name }),
      });
      await writeFileAtomic(join(root, `${base}.p12`), p12, 0o600, writeOptions(ctx));
      return join(root, `${base}.p12`);
    });
  },
});
