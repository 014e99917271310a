/**
 * `bundle`: an encrypted archive of selected pairs for handing to an accounting office (certificates
 * must never travel by e-mail unencrypted). The archive is a tar of the F2000 tree (manifest + pairs)
 * inside a password-encrypted CMS EnvelopedData (RFC 5652 + RFC 3211 PWRI, AES-256-CBC, PBKDF2-HMAC-SHA256
 * 600 000 iterations; core `sealWithPassword`). Without ksef-certs it opens with
 * `openssl cms -decrypt -binary -inform DER -in pairs.p7m -pwri_password 'PASS' | tar -x`.
 *
 * Import limits: the file at most {@link ADAPTER_LIMITS.bundleBytes}, as much unpacked, at most
 * {@link ADAPTER_LIMITS.files} entries; only regular-file entries with safe relative paths (a link,
 * device or `..` entry refuses the whole bundle).
 */
import { ADAPTER_LIMITS, assertSafeRelativePath, defineAdapter, readSourceBytes, writeOptions, writeTargetBytes } from "@ksef-certs/ksef/adapters";
import { openWithPassword, sealWithPassword } from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import tar from "tar-stream";
import { f2000Files, F2000_MANIFEST, manifestBytes, parseManifest, readF2000 } from "./f2000.js";

/** Options of {@link createBundleAdapter}. */
export interface BundleOptions {
  /** PBKDF2 iterations of the password (default 600 000; tests may lower it, never below 1 000). */
  readonly iterations?: number;
}

async function packTar(files: readonly { path: string; bytes: Uint8Array; mode: number }[], at: Date): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = new Promise<void>((resolve, reject) => {
    pack.on("data", (c: unknown) => chunks.push(c as Buffer));
    pack.on("end", resolve);
    pack.on("error", reject);
  });
  for (const f of files) pack.entry({ name: f.path, size: f.bytes.byteLength, mode: f.mode, mtime: at, type: "file" }, Buffer.from(f.bytes));
  pack.finalize();
  await collected;
  return new Uint8Array(Buffer.concat(chunks));
}

async function unpackTar(bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const extract = tar.extract();
  let total = 0;
  let count = 0;
  // The first problem is kept and the rest of the archive drained: destroying the stream mid-entry leaves errors nobody listens to.
  let failure: KsefCertsError | undefined;
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (header, stream, next) => {
      const skip = (err?: KsefCertsError): void => {
        failure ??= err;
        stream.on("end", next);
        stream.resume();
      };
      if (failure !== undefined) {
        skip();
        return;
      }
      if (++count > ADAPTER_LIMITS.files) {
        skip(
          new KsefCertsError("TOO_LARGE", msg("adapters.bundle.tooManyEntries", { limit: ADAPTER_LIMITS.files }), {
            details: { limitFiles: ADAPTER_LIMITS.files },
          }),
        );
        return;
      }
      if (header.type === "directory") {
        skip();
        return;
      }
      if (header.type !== "file") {
        skip(
          new KsefCertsError("FORBIDDEN", msg("adapters.bundle.notAFile", { type: header.type, entry: header.name }), {
            details: { entry: header.name },
          }),
        );
        return;
      }
      try {
        assertSafeRelativePath(header.name, "bundle entry");
      } catch (err) {
        skip(err as KsefCertsError);
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (data: unknown) => {
        const c = data as Buffer;
        total += c.byteLength;
        if (total > ADAPTER_LIMITS.bundleBytes)
          failure ??= new KsefCertsError("TOO_LARGE", msg("adapters.bundle.tooLarge", { limit: ADAPTER_LIMITS.bundleBytes }), {
            details: { limitBytes: ADAPTER_LIMITS.bundleBytes },
          });
        else chunks.push(c);
      });
      stream.on("end", () => {
        files.set(header.name, new Uint8Array(Buffer.concat(chunks)));
        next();
      });
    });
    extract.on("finish", () => {
      if (failure === undefined) resolve();
      else reject(failure);
    });
    extract.on("error", (err) => {
      reject(err instanceof KsefCertsError ? err : new KsefCertsError("MALFORMED", msg("adapters.bundle.damaged"), { cause: err }));
    });
  });
  extract.end(Buffer.from(bytes));
  await done;
  return files;
}

/**
 * A bundle adapter with its own PBKDF2 iteration count (the default one is {@link bundleAdapter}).
 * @param options see {@link BundleOptions}
 */
export function createBundleAdapter(options: BundleOptions = {}) {
  return defineAdapter({
    id: "bundle",
    description:
      "One encrypted archive (.p7m: CMS password-encrypted tar of the F2000 tree) of selected pairs, for an accounting office; openssl cms opens it.",
    capabilities: { import: true, export: true, certificateTypes: ["Authentication", "Offline"], carriesPasswords: true },
    sourceKinds: ["file", "stream"],
    targetKinds: ["file", "stream"],
    async import(source, ctx) {
      const sealed = await readSourceBytes(source, ADAPTER_LIMITS.bundleBytes);
      const ref = source.kind === "stream" ? (source.name ?? "bundle") : source.kind === "file" ? source.path : "bundle";
      const password = await ctx.password({ purpose: "file", ref });
      const files = await unpackTar(await openWithPassword(sealed, password));
      const read = (path: string, max: number): Promise<Uint8Array> => {
        const bytes = files.get(path);
        if (bytes === undefined)
          return Promise.reject(new KsefCertsError("NOT_FOUND", msg("adapters.bundle.entryMissing", { entry: path }), { details: { entry: path } }));
        if (bytes.byteLength > max)
          return Promise.reject(
            new KsefCertsError("TOO_LARGE", msg("adapters.bundle.entryTooLarge", { entry: path, limit: max }), { details: { limitBytes: max } }),
          );
        return Promise.resolve(bytes);
      };
      return readF2000(parseManifest(await read(F2000_MANIFEST, ADAPTER_LIMITS.manifestBytes)), read, ctx.onProgress);
    },
    async export(pairs, target, ctx) {
      const { files, entries } = f2000Files(pairs);
      const archive = await packTar([{ path: F2000_MANIFEST, bytes: manifestBytes(entries), mode: 0o600 }, ...files], new Date());
      const ref = target.kind === "stream" ? (target.name ?? "bundle") : target.kind === "file" ? target.path : "bundle";
      const password = await ctx.password({ purpose: "new", ref });
      const where = await writeTargetBytes(
        target,
        await sealWithPassword(archive, password, options.iterations === undefined ? {} : { iterations: options.iterations }),
        writeOptions(ctx),
      );
      ctx.onProgress?.(pairs.length, pairs.length);
      return { written: pairs.map((p) => ({ certificateId: p.certificateId, ref: where })) };
    },
  });
}

/** The `bundle` adapter (600 000 PBKDF2 iterations). */
export const bundleAdapter = createBundleAdapter();
