/**
 * `@ksef-certs/adapters/conformance`: the one suite every adapter runs. Call
 * `runAdapterConformance(adapter, options)` at the top level of a vitest test file; it registers a
 * `describe` block (vitest is a peer dependency of this entry) that checks, on freshly issued
 * KSeF-like test certificates with encrypted keys:
 *
 * 1. round trip: export then import keeps the certificate DER, the key file bytes (or, for formats
 *    that re-encrypt, a key that decrypts with the password and matches the certificate) and the
 *    metadata the format says it keeps;
 * 2. a wrong password gives `WRONG_PASSWORD` (from the adapter, or when the imported key is opened);
 * 3. damaged (truncated) files give typed `KsefCertsError`s, never another exception or a silent pair;
 * 4. no password and no key material reaches `ctx.logger`, `console` or stdout/stderr;
 * 5. two exports in parallel into one folder (or file) leave complete, consistent files and no temp files (the
 *    second either writes the same bytes or is refused with `CONFLICT`: nothing is silently overwritten);
 * 6. a file with other content where the export writes is never replaced unless `ctx.replace` asks for it, and every
 *    replacement is reported through `ctx.onReplaced`.
 */
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type {
  AdapterContext,
  AdapterImportResult,
  AdapterSource,
  AdapterTarget,
  CertificateAdapter,
  ExportPair,
  ImportedPair,
} from "@ksef-certs/ksef/adapters";
import { assertKeyMatchesCertificate, encryptPrivateKeyPem, generateKeyPair, parseCertificate, readPrivateKey } from "@ksef-certs/ksef/crypto";
import { isKsefCertsError, KsefCertsError } from "@ksef-certs/ksef/errors";
import { issueKsefLikeCertificate } from "@ksef-certs/ksef/testing";

/** Metadata fields a format may keep across a round trip (`certificateType` is always checked). */
export type KeptMetadata = "environment" | "scope" | "mode" | "name";

/** Options of {@link runAdapterConformance}. */
export interface ConformanceOptions {
  /** Whether the key file comes back byte for byte (false for formats that re-encrypt, e.g. PKCS#12). Default true. */
  readonly keepsKeyBytes?: boolean;
  /** Metadata fields the format carries. Default none. */
  readonly keepsMetadata?: readonly KeptMetadata[];
  /** PBKDF2 iterations of the test keys (default 100 000, as the KSeF web app). */
  readonly keyIterations?: number;
  /** Pairs per round trip (default 3: Authentication and Offline, company, branch and operator scopes). */
  readonly pairs?: number;
}

/** What the suite makes for an adapter: pairs with their passwords and key material. */
export interface ConformanceFixture {
  readonly pairs: readonly ExportPair[];
  readonly password: string;
  /** Every secret that must never be logged: the password, key files (text), plain keys (PEM body, DER hex and base64). */
  readonly secrets: readonly string[];
}

const PASSWORD = "Zażółć-Gęślą-Jaźń-2026!";

/**
 * Makes `count` pairs issued like KSeF issues them, keys encrypted in the web app's layout under one password.
 * @param count how many (types and scopes alternate)
 * @param keyIterations PBKDF2 iterations
 */
export async function conformanceFixture(count = 3, keyIterations = 100_000): Promise<ConformanceFixture> {
  const secrets = [PASSWORD];
  const pairs: ExportPair[] = [];
  for (let i = 0; i < count; i++) {
    const keys = await generateKeyPair();
    const certificateType = i % 2 === 0 ? "Authentication" : "Offline";
    const issued = await issueKsefLikeCertificate({
      certificateType,
      keys,
      enrollmentData: { commonName: `Jan Kowalski ${i}`, countryName: "PL", givenName: "Jan", surname: "Kowalski", serialNumber: "PNOPL-44051401458" },
    });
    const keyPem = await encryptPrivateKeyPem(keys.privateKey, PASSWORD, { iterations: keyIterations });
    const plainDer = keys.privateKey.export({ type: "pkcs8", format: "der" });
    secrets.push(keyPem.split("\n")[1] ?? keyPem, plainDer.toString("hex").slice(-64), plainDer.toString("base64").slice(-40));
    const scope =
      i % 3 === 0
        ? { companyNip: "5265877635" }
        : i % 3 === 1
          ? { companyNip: "5265877635", branchCode: "WAW" }
          : { companyNip: "5265877635", operatorPesel: "44051401458" };
    pairs.push({
      certificateId: randomUUID(),
      serialNumber: parseCertificate(issued.der).serialNumber,
      certificateDer: issued.der,
      keyFile: new TextEncoder().encode(keyPem),
      metadata: { certificateType, environment: i % 2 === 0 ? "test" : "demo", mode: "current", name: `Jan Kowalski ${i}`, scope },
    });
  }
  return { pairs, password: PASSWORD, secrets };
}

function ctxWith(password: string, logged: string[]): AdapterContext {
  return {
    password: () => Promise.resolve(password),
    logger: {
      info: (m, f) => logged.push(m, JSON.stringify(f ?? {})),
      warn: (m, f) => logged.push(m, JSON.stringify(f ?? {})),
    },
  };
}

function where(adapter: CertificateAdapter, dir: string, name: string): { target: AdapterTarget; source: AdapterSource } {
  if (adapter.targetKinds.includes("folder") && adapter.sourceKinds.includes("folder"))
    return { target: { kind: "folder", path: join(dir, name) }, source: { kind: "folder", path: join(dir, name) } };
  return { target: { kind: "file", path: join(dir, `${name}.out`) }, source: { kind: "file", path: join(dir, `${name}.out`) } };
}

/**
 * Opens an imported pair the way the registry does: decrypts the key with `password`, checks it belongs to the certificate.
 * @param pair what the adapter read
 * @param password the key's password
 * @throws {KsefCertsError} WRONG_PASSWORD, MALFORMED, KEY_MISMATCH…
 */
export async function openImportedPair(pair: ImportedPair, password: string): Promise<void> {
  const key = await readPrivateKey(pair.keyFile, { password });
  assertKeyMatchesCertificate(key.key, parseCertificate(pair.certificateDer));
}

async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

function matchBySerial(result: AdapterImportResult, pairs: readonly ExportPair[]): Map<string, ImportedPair> {
  const bySerial = new Map(result.pairs.map((p) => [parseCertificate(p.certificateDer).serialNumber, p]));
  expect([...bySerial.keys()].sort()).toEqual(pairs.map((p) => p.serialNumber).sort());
  return bySerial;
}

/**
 * Registers the conformance suite for `adapter` (a `describe` block with one `it` per property).
 * @param adapter the adapter under test (must import and export)
 * @param options what the format keeps; see {@link ConformanceOptions}
 */
export function runAdapterConformance(adapter: CertificateAdapter, options: ConformanceOptions = {}): void {
  const keepsKeyBytes = options.keepsKeyBytes ?? true;
  const kept = new Set(options.keepsMetadata ?? []);
  describe(`adapter conformance: ${adapter.id}`, () => {
    let dir = "";
    let fixture: ConformanceFixture;
    const logged: string[] = [];
    const spies: { mockRestore(): void }[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `ksef-adapter-${adapter.id}-`));
      fixture = await conformanceFixture(options.pairs ?? 3, options.keyIterations ?? 100_000);
      fixture = { ...fixture, pairs: fixture.pairs.filter((p) => adapter.capabilities.certificateTypes.includes(p.metadata.certificateType)) };
      const capture = (...args: unknown[]): void => {
        logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      };
      for (const method of ["log", "info", "warn", "error", "debug"] as const) spies.push(vi.spyOn(console, method).mockImplementation(capture));
      for (const stream of [process.stdout, process.stderr]) {
        const original = stream.write.bind(stream);
        spies.push(
          vi.spyOn(stream, "write").mockImplementation((chunk: unknown, ...rest: unknown[]) => {
            logged.push(String(chunk));
            return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
          }),
        );
      }
    }, 120_000);

    afterAll(async () => {
      for (const s of spies) s.mockRestore();
      await rm(dir, { recursive: true, force: true });
    });

    it("declares a literal id, a description and what it can do", () => {
      expect(adapter.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(adapter.description.length).toBeGreaterThan(10);
      expect(adapter.capabilities.import && adapter.capabilities.export).toBe(true);
      expect(adapter.capabilities.certificateTypes.length).toBeGreaterThan(0);
    });

    it("round trip keeps the certificate, the key and the metadata", async () => {
      const { target, source } = where(adapter, dir, "roundtrip");
      const exported = await adapter.export(fixture.pairs, target, ctxWith(fixture.password, logged));
      expect(exported.written.map((w) => w.certificateId).sort()).toEqual(fixture.pairs.map((p) => p.certificateId).sort());
      const result = await adapter.import(source, ctxWith(fixture.password, logged));
      expect(result.failures).toEqual([]);
      const bySerial = matchBySerial(result, fixture.pairs);
      for (const original of fixture.pairs) {
        const back = bySerial.get(original.serialNumber);
        if (back === undefined) throw new Error("missing pair");
        expect(Buffer.from(back.certificateDer).equals(Buffer.from(original.certificateDer))).toBe(true);
        if (keepsKeyBytes) expect(Buffer.from(back.keyFile).equals(Buffer.from(original.keyFile))).toBe(true);
        await openImportedPair(back, fixture.password);
        expect(back.metadata.certificateType).toBe(original.metadata.certificateType);
        for (const field of kept) expect(back.metadata[field]).toEqual(original.metadata[field]);
      }
    });

    it("a wrong password gives WRONG_PASSWORD", async () => {
      const { target, source } = where(adapter, dir, "wrong-password");
      await adapter.export(fixture.pairs, target, ctxWith(fixture.password, logged));
      const wrong = "Nie-To-Hasło-123!";
      let code: string | undefined;
      try {
        const result = await adapter.import(source, ctxWith(wrong, logged));
        code = result.failures[0]?.error.code;
        if (code === undefined) {
          const first = result.pairs[0];
          if (first === undefined) throw new Error("nothing imported");
          await openImportedPair(first, wrong).catch((err: unknown) => {
            code = isKsefCertsError(err) ? err.code : "untyped";
          });
        }
      } catch (err) {
        code = isKsefCertsError(err) ? err.code : "untyped";
      }
      expect(code).toBe("WRONG_PASSWORD");
    });

    it("damaged files give typed errors", async () => {
      const { target, source } = where(adapter, dir, "damaged");
      await adapter.export(fixture.pairs.slice(0, 1), target, ctxWith(fixture.password, logged));
      const root = target.kind === "folder" ? target.path : dir;
      const files = (await filesBelow(root)).filter((f) => target.kind === "folder" || f === (target as { path: string }).path);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const original = await readFile(file);
        await truncate(file, Math.floor(original.byteLength / 2));
        let typed: KsefCertsError | undefined;
        try {
          const result = await adapter.import(source, ctxWith(fixture.password, logged));
          typed = result.failures[0]?.error;
          for (const p of result.pairs) {
            if (typed !== undefined) break;
            await openImportedPair(p, fixture.password).catch((err: unknown) => {
              typed = err as KsefCertsError;
            });
            // A damaged file that is not part of any pair (none here) would leave the pairs intact.
          }
        } catch (err) {
          typed = err as KsefCertsError;
        }
        expect(typed, `truncating ${file} was not reported`).toBeInstanceOf(KsefCertsError);
        const { writeFile } = await import("node:fs/promises");
        await writeFile(file, original);
      }
    });

    it("two exports in parallel into one place leave complete, consistent files", async () => {
      const { target, source } = where(adapter, dir, "parallel");
      const outcomes = await Promise.allSettled([
        adapter.export(fixture.pairs, target, ctxWith(fixture.password, logged)),
        adapter.export(fixture.pairs, target, ctxWith(fixture.password, logged)),
      ]);
      // Formats that re-encrypt write other bytes each time: where the two meet, one is refused, never overwritten.
      for (const o of outcomes) if (o.status === "rejected") expect(isKsefCertsError(o.reason, "CONFLICT"), String(o.reason)).toBe(true);
      const result = await adapter.import(source, ctxWith(fixture.password, logged)).catch((e: unknown) => e);
      if (outcomes.some((o) => o.status === "fulfilled")) {
        const read = result as AdapterImportResult;
        expect(read.failures).toEqual([]);
        const bySerial = matchBySerial(read, fixture.pairs);
        for (const p of fixture.pairs) await openImportedPair(bySerial.get(p.serialNumber) as ImportedPair, fixture.password);
      } else if (!isKsefCertsError(result, "NOT_FOUND")) {
        // Both refused: whatever either wrote is whole.
        const read = result as AdapterImportResult;
        expect(read.failures).toEqual([]);
        for (const p of read.pairs) await openImportedPair(p, fixture.password);
      }
      const root = target.kind === "folder" ? target.path : dir;
      const leftovers = (await filesBelow(root)).filter((f) => f.endsWith(".tmp") || f.endsWith(".lock"));
      expect(leftovers).toEqual([]);
      if (target.kind === "file") expect((await stat(target.path)).size).toBeGreaterThan(0);
    });

    it("never replaces a file with other content unless asked, and reports each replacement", async () => {
      const { target, source } = where(adapter, dir, "replace");
      await adapter.export(fixture.pairs, target, ctxWith(fixture.password, logged));
      const written = target.kind === "folder" ? await filesBelow(target.path) : target.kind === "file" ? [target.path] : [];
      expect(written.length).toBeGreaterThan(0);
      // Someone else's edit of every file: the next export must not destroy it.
      for (const f of written) await writeFile(f, "not ours\n");
      const refused = await adapter.export(fixture.pairs, target, ctxWith(fixture.password, logged)).catch((e: unknown) => e);
      // CONFLICT, or MALFORMED from a format that first reads an index of its own (F2000's manifest): either way a refusal.
      expect(isKsefCertsError(refused, "CONFLICT", "MALFORMED"), String(refused)).toBe(true);
      expect(await Promise.all(written.map((f) => readFile(f, "utf8")))).toEqual(written.map(() => "not ours\n"));
      const replaced: string[] = [];
      await adapter.export(fixture.pairs, target, { ...ctxWith(fixture.password, logged), replace: true, onReplaced: (p) => replaced.push(p) });
      expect(replaced.length).toBeGreaterThan(0);
      const result = await adapter.import(source, ctxWith(fixture.password, logged));
      expect(result.failures).toEqual([]);
      matchBySerial(result, fixture.pairs);
    });

    it("no password or key material reaches logs", () => {
      const text = logged.join("\n");
      for (const secret of fixture.secrets) expect(text.includes(secret), "a secret was logged").toBe(false);
    });
  });
}
