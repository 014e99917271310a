/**
 * `pem-pair`: the ministry web app's layout (Aplikacja Podatnika KSeF / MCU): per certificate a
 * `NAME.crt` (PEM or DER) and `NAME.key` (encrypted PKCS#8), any number of pairs in one folder, both
 * KSeF types. The type is read from the certificate (keyUsage, ksef-docs `certyfikaty-KSeF.md`), never from the name;
 * the format carries no environment or scope, so an import names them.
 */
import { join } from "node:path";
import { encodePem, parseCertificate } from "@ksef-certs/ksef/crypto";
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
import { exportPerPair, typedFailure } from "./names.js";

const FILE_CONCURRENCY = 16;

/** The `pem-pair` adapter: `NAME.crt` + `NAME.key` per certificate in one folder. */
export const pemPairAdapter = defineAdapter({
  id: "pem-pair",
  description: "NAME.crt + NAME.key per certificate in one folder (the KSeF web app's download; what F2000, Obsługa Faktur and most ERPs import).",
  capabilities: { import: true, export: true, certificateTypes: ["Authentication", "Offline"], carriesPasswords: false },
  sourceKinds: ["folder"],
  targetKinds: ["folder"],
  async import(source, ctx) {
    const root = folderOf(source, "source");
    const listing = await listFilesInside(root, { maxDepth: 0 });
    const failures: AdapterFailure[] = [...listing.refused];
    const crts = new Map<string, string>();
    const keys = new Map<string, string>();
    for (const file of listing.files) {
      const m = /^(.+)\.(crt|cer|key)$/i.exec(file);
      if (m?.[1] === undefined || m[2] === undefined) continue;
      (m[2].toLowerCase() === "key" ? keys : crts).set(m[1], file);
    }
    const names = [...new Set([...crts.keys(), ...keys.keys()])].sort();
    let done = 0;
    const read = await mapConcurrent(names, FILE_CONCURRENCY, async (name): Promise<ImportedPair | undefined> => {
      try {
        const crt = crts.get(name);
        const key = keys.get(name);
        if (crt === undefined || key === undefined) {
          throw new KsefCertsError(
            "NOT_FOUND",
            msg("adapters.pemPair.halfMissing", { name, missing: crt === undefined ? `${name}.crt` : `${name}.key`, present: crt ?? key ?? name }),
            {
              details: { ref: name },
            },
          );
        }
        const info = parseCertificate(await readFileInside(root, crt, ADAPTER_LIMITS.pairFileBytes));
        if (info.ksefType === undefined) throw new KsefCertsError("MALFORMED", msg("adapters.pemPair.notKsef", { ref: crt }), { details: { ref: crt } });
        const keyFile = await readFileInside(root, key, ADAPTER_LIMITS.pairFileBytes);
        return { ref: name, certificateDer: info.der, keyFile, metadata: { certificateType: info.ksefType, name } };
      } catch (err) {
        failures.push({ ref: name, error: typedFailure(err, "pair") });
        return undefined;
      } finally {
        ctx.onProgress?.(++done, names.length);
      }
    });
    return { pairs: read.filter((p): p is ImportedPair => p !== undefined), failures };
  },
  async export(pairs, target, ctx) {
    return exportPerPair(pairs, target, ctx, FILE_CONCURRENCY, async (pair, base, root) => {
      await writeFileAtomic(join(root, `${base}.crt`), new TextEncoder().encode(encodePem("CERTIFICATE", pair.certificateDer)), 0o644, writeOptions(ctx));
      // The key file exactly as stored: the web app's encrypted PKCS#8, openable by every program that opens it today.
      await writeFileAtomic(join(root, `${base}.key`), pair.keyFile, 0o600, writeOptions(ctx));
      return join(root, `${base}.crt`);
    });
  },
});
