/**
 * Benchmark (`pnpm bench`, not a test): import BENCH_PAIRS (default 2 000) pairs with
 * encrypted keys (PBKDF2-HMAC-SHA256, 100 000 iterations each, the KSeF web app's layout) through the
 * f2000 adapter into an in-memory PGlite registry (atomic, every key decrypted and matched), then export
 * them again; pairs per second beside the raw PBKDF2 rate of all cores measured in the same run
 * (`crypto.pbkdf2` async, `os.availableParallelism()` in flight). Target: import ≥ 80 % of the raw rate.
 * The pairs are generated in the setup on all cores (libuv thread pool; UV_THREADPOOL_SIZE is raised
 * to the core count when it is lower, by re-running this script with it set).
 */
import { spawnSync } from "node:child_process";
import { pbkdf2, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { exportWithAdapter, importWithAdapter } from "@ksef-certs/domain/adapters";
import { mapConcurrent, type ExportPair } from "@ksef-certs/ksef/adapters";
import { encryptPrivateKeyPem, generateKeyPair, parseCertificate } from "@ksef-certs/ksef/crypto";
import { addBranch, addCompany } from "@ksef-certs/domain/registry";
import { openStore } from "@ksef-certs/domain/store";
import { issueKsefLikeCertificate } from "@ksef-certs/ksef/testing";
import { f2000Adapter } from "../f2000.js";

const cores = availableParallelism();
if (Number(process.env["UV_THREADPOOL_SIZE"] ?? 4) < cores) {
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, UV_THREADPOOL_SIZE: String(cores) },
  });
  process.exit(child.status ?? 1);
}

const PAIRS = Number(process.env["BENCH_PAIRS"] ?? 2000);
const ITERATIONS = 100_000;
const PASSWORD = "Bench-Haslo-2026!";
const NIP = "5265877635";

/** Process CPU seconds (all threads: main and thread pool), for figures the machine's other load does not skew. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds one raw derivation costs, from the last {@link rawPbkdf2Rate} run. */
const rawCpu: number[] = [];

function rawPbkdf2Rate(seconds: number): Promise<number> {
  return new Promise((resolve) => {
    const started = performance.now();
    const cpuStart = cpuSeconds();
    let done = 0;
    let stopped = false;
    const one = (): void => {
      pbkdf2(PASSWORD, randomBytes(16), ITERATIONS, 32, "sha256", () => {
        done++;
        if (performance.now() - started < seconds * 1000) one();
        else if (!stopped) {
          stopped = true;
          // The others still in flight finish after the clock stops: count only what finished inside it.
          rawCpu.push((cpuSeconds() - cpuStart) / done);
          resolve(done / ((performance.now() - started) / 1000));
        }
      });
    };
    for (let i = 0; i < cores; i++) one();
  });
}

async function main(): Promise<void> {
  console.log(
    `adapters bench: ${PAIRS} pairs, PBKDF2-HMAC-SHA256 ${ITERATIONS} iterations per key, ${cores} cores (${cpus()[0]?.model ?? "?"}), UV_THREADPOOL_SIZE=${process.env["UV_THREADPOOL_SIZE"] ?? "4"}, Node ${process.version}`,
  );
  const dir = await mkdtemp(join(tmpdir(), "ksef-adapters-bench-"));
  const store = await openStore({ dataDir: ":memory:" });
  try {
    const meta = { actor: "bench" };
    const t0 = performance.now();
    const pairs = await mapConcurrent(
      Array.from({ length: PAIRS }, (_, i) => i),
      cores * 2,
      async (i): Promise<ExportPair> => {
        const keys = await generateKeyPair();
        const certificateType = i % 2 === 0 ? "Authentication" : "Offline";
        const issued = await issueKsefLikeCertificate({
          certificateType,
          keys,
          enrollmentData: { commonName: `Operator ${i}`, countryName: "PL", serialNumber: "PNOPL-44051401458" },
        });
        const keyFile = new TextEncoder().encode(await encryptPrivateKeyPem(keys.privateKey, PASSWORD, { iterations: ITERATIONS }));
        // Two types per branch: every pair gets a slot of its own (one current certificate per slot).
        const scope = { companyNip: NIP, branchCode: `B${Math.floor(i / 2)}` };
        return {
          certificateId: randomUUID(),
          serialNumber: parseCertificate(issued.der).serialNumber,
          certificateDer: issued.der,
          keyFile,
          metadata: { certificateType, environment: "test", mode: "current", name: `Operator ${i}`, scope },
        };
      },
    );
    const company = await addCompany(store.db, { nip: NIP, name: "Bench" }, meta);
    for (let b = 0; b < Math.ceil(PAIRS / 2); b++) await addBranch(store.db, { companyId: company.id, code: `B${b}`, name: `Oddział ${b}` }, meta);
    const source = join(dir, "source");
    await f2000Adapter.export(pairs, { kind: "folder", path: source }, { password: () => Promise.resolve(PASSWORD) });
    console.log(
      `setup: ${PAIRS} pairs generated and written as an F2000 tree, ${Math.ceil(PAIRS / 2)} branches, in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const raw = await rawPbkdf2Rate(Math.max(3, Math.min(10, PAIRS / 200)));
    const ctx = { password: () => Promise.resolve(PASSWORD) };
    const t1 = performance.now();
    const cpu1 = cpuSeconds();
    const phaseStart = new Map<string, number>();
    const report = await importWithAdapter({
      db: store.db,
      adapter: f2000Adapter,
      source: { kind: "folder", path: source },
      ctx,
      atomic: true,
      actor: "bench",
      onProgress: (p) => {
        if (!phaseStart.has(p.phase)) phaseStart.set(p.phase, performance.now());
      },
    });
    const importSeconds = (performance.now() - t1) / 1000;
    const importCpuPerPair = (cpuSeconds() - cpu1) / PAIRS;
    if (report.imported.length !== PAIRS) throw new Error(`imported ${report.imported.length} of ${PAIRS}`);
    const end = performance.now();
    const phases = [...phaseStart.entries()].map(([name, start], i, all) => `${name} ${(((all[i + 1]?.[1] ?? end) - start) / 1000).toFixed(1)} s`).join(", ");
    const rawAfter = await rawPbkdf2Rate(3);
    const rawRate = (raw + rawAfter) / 2;

    const t2 = performance.now();
    const exported = await exportWithAdapter({
      db: store.db,
      adapter: f2000Adapter,
      target: { kind: "folder", path: join(dir, "export") },
      ctx,
      certificateIds: report.imported.map((r) => r.certificateId),
      actor: "bench",
    });
    const exportSeconds = (performance.now() - t2) / 1000;
    if (exported.exported.length !== PAIRS) throw new Error(`exported ${exported.exported.length} of ${PAIRS}`);

    const importRate = PAIRS / importSeconds;
    const ratio = importRate / rawRate;
    const row = (name: string, value: string, extra = ""): void => {
      console.log(`  ${name.padEnd(62)} ${value.padStart(12)}  ${extra}`);
    };
    console.log("");
    row(`raw PBKDF2 100k, ${cores} in flight (baseline, before/after import)`, `${rawRate.toFixed(1)}/s`, `(${raw.toFixed(1)} / ${rawAfter.toFixed(1)})`);
    row(
      `import ${PAIRS} pairs (f2000 → registry, atomic, keys decrypted+matched)`,
      `${importRate.toFixed(1)}/s`,
      `${importSeconds.toFixed(1)} s, ${(ratio * 100).toFixed(1)} % of raw (${phases})`,
    );
    row(
      `export ${PAIRS} pairs (registry → f2000, exports recorded + audited)`,
      `${(PAIRS / exportSeconds).toFixed(1)}/s`,
      `${exportSeconds.toFixed(1)} s (no PBKDF2: key files copied byte for byte)`,
    );
    const rawCpuPerDerivation = rawCpu.reduce((a, b) => a + b, 0) / rawCpu.length;
    row(
      `CPU per pair: import vs one raw derivation (all threads)`,
      `${(importCpuPerPair * 1000).toFixed(1)} ms`,
      `raw ${(rawCpuPerDerivation * 1000).toFixed(1)} ms: ${((rawCpuPerDerivation / importCpuPerPair) * 100).toFixed(1)} % of the import's CPU is the PBKDF2 it must do`,
    );
    console.log(
      `load average during the run: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(", ")} (1, 5, 15 min; other processes share these ${cores} cores)`,
    );
    console.log(`\ntarget: import ≥ 80 % of the raw all-core PBKDF2 rate: ${ratio >= 0.8 ? "met" : "not met"} (${(ratio * 100).toFixed(1)} %)`);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
