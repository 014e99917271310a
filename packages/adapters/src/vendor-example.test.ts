/**
 * The vendor how-to of README.md, verbatim between the markers (the README imports the suite as
 * `@ksef-certs/adapters/conformance`, this file from its source), and a check that the two stay equal.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// example:start
import { defineAdapter, ensureFolder, folderOf, listFilesInside, readFileInside, writeFileAtomic, writeOptions, type AdapterFailure, type ImportedPair } from "@ksef-certs/ksef/adapters";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { runAdapterConformance } from "./conformance.js";
type AcmeFile = { type: "Authentication" | "Offline"; name: string; certificate: string; key: string };
/** ACME ERP's format: one `SERIAL.json` per certificate (type, name, DER and encrypted key file in base64). */
export const acmeAdapter = defineAdapter({
  id: "acme-json",
  description: "ACME ERP: one JSON file per certificate with its DER and its encrypted key file.",
  capabilities: { import: true, export: true, certificateTypes: ["Authentication", "Offline"], carriesPasswords: false },
  sourceKinds: ["folder"], targetKinds: ["folder"],
  async import(source) {
    const root = folderOf(source, "source");
    const { files, refused } = await listFilesInside(root, { maxDepth: 0 });
    const pairs: ImportedPair[] = [], failures: AdapterFailure[] = [...refused];
    for (const ref of files.filter((f) => f.endsWith(".json"))) {
      try {
        const f = JSON.parse(new TextDecoder().decode(await readFileInside(root, ref, 256 * 1024))) as AcmeFile;
        pairs.push({ ref, certificateDer: Buffer.from(f.certificate, "base64"), keyFile: Buffer.from(f.key, "base64"), metadata: { certificateType: f.type, name: f.name } });
      } catch (err) {
        failures.push({ ref, error: err instanceof KsefCertsError ? err : new KsefCertsError("MALFORMED", msg("adapters.file.notFormat", { ref, format: "ACME JSON" })) });
      }
    }
    return { pairs, failures };
  },
  async export(pairs, target, ctx) {
    const root = folderOf(target, "target");
    await ensureFolder(root, writeOptions(ctx));
    for (const p of pairs) {
      const file: AcmeFile = { type: p.metadata.certificateType, name: p.metadata.name ?? p.serialNumber, certificate: Buffer.from(p.certificateDer).toString("base64"), key: Buffer.from(p.keyFile).toString("base64") };
      await writeFileAtomic(`${root}/${p.serialNumber}.json`, new TextEncoder().encode(JSON.stringify(file)), 0o600, writeOptions(ctx));
    }
    return { written: pairs.map((p) => ({ certificateId: p.certificateId, ref: `${p.serialNumber}.json` })) };
  },
});
runAdapterConformance(acmeAdapter, { keepsKeyBytes: true, keepsMetadata: ["name"] });
// example:end

describe("the README's vendor how-to", () => {
  it("is this file's example, line for line, and under 40 lines", () => {
    const between = (text: string, start: string, end: string): string => text.slice(text.indexOf(start) + start.length, text.indexOf(end)).trim();
    const example = between(readFileSync(new URL(import.meta.url), "utf8"), "// example:start", "// example:end").replace('from "./conformance.js"', 'from "@ksef-certs/adapters/conformance"');
    const readme = between(readFileSync(new URL("../README.md", import.meta.url), "utf8"), "<!-- vendor-example:start -->\n```ts", "```\n<!-- vendor-example:end -->");
    expect(readme).toBe(example);
    expect(example.split("\n").length).toBeLessThan(40);
  });
});
