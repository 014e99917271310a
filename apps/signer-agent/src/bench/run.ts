/**
 * The signer agent's benchmark (`pnpm --filter @ksef-certs/signer-agent bench`; not part of the tests):
 *
 * 1. Hand-off latency: from the moment a signed file is complete in the inbox (renamed into place, as a browser
 *    finishes a download) to the moment its upload has arrived at the server, median and p95 over
 *    `BENCH_HANDOFFS` (50) hand-offs, with the agent's default timings and with `--stability-ms 150`; beside the
 *    raw HTTP upload alone (same bytes, same server, same run) as the baseline.
 * 2. Idle cost: the built `ksef-signer run` process (paired, long-polling, watching two empty folders) over
 *    `BENCH_IDLE_MS` (60 000) — CPU time and RSS from /proc — beside a bare `node` process measured in the same window.
 *
 * Server side: the in-process fake of the agent contract (it verifies each signed file with core like the admin server).
 */
import { spawn } from "node:child_process";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { Agent } from "../agent.js";
import { AgentApiClient } from "../api.js";
import { createLogger } from "../logger.js";
import { makePerson, pairedFakeSetup, signFor, type PairedFake, type Person } from "../__fixtures__/fake-server.js";

const HANDOFFS = Number(process.env["BENCH_HANDOFFS"] ?? 50);
const IDLE_MS = Number(process.env["BENCH_IDLE_MS"] ?? 60_000);
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};
const fmt = (ms: number): string => (ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`);

function line(name: string, xs: readonly number[], baselineMedian: number): void {
  const med = quantile(xs, 0.5);
  console.log(
    `  ${name.padEnd(58)} median ${fmt(med).padStart(9)}  p95 ${fmt(quantile(xs, 0.95)).padStart(9)}  n=${xs.length}  ${(med / baselineMedian).toFixed(2).padStart(7)}x`,
  );
}

type Env = PairedFake;

const setup = (): Promise<Env> => pairedFakeSetup("ksef-signer-bench-");

const silent = new Writable({
  write(_c, _e, cb) {
    cb();
  },
});

/** Hand-offs through an in-process agent: returns ms from "file complete" to "upload arrived", one per hand-off. */
async function handoffLatencies(env: Env, person: Person, n: number, stabilityMs: number | undefined): Promise<number[]> {
  const agent = new Agent({
    configDir: env.configDir,
    config: env.config,
    token: env.token,
    logger: createLogger({ level: "silent", destination: silent }),
    ...(stabilityMs === undefined ? {} : { stabilityMs }),
  });
  await agent.start();
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const r = env.server.addRequest();
      // Wait until the agent wrote this request's auth.xml (so it is pending there when the signed file lands).
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (agent.journalSnapshot().requests[r.id]?.outboxPath !== undefined) resolve();
          else setTimeout(check, 5);
        };
        check();
      });
      const signed = await signFor(person, r);
      const temp = join(env.inbox, `.bench-${i}.xml.part`);
      await writeFile(temp, signed);
      const before = env.server.uploads.length;
      await rename(temp, join(env.inbox, `podpisany-${i}.xml`));
      const complete = performance.now();
      const arrived = await new Promise<number>((resolve) => {
        const check = (): void => {
          const u = env.server.uploads[before];
          if (u?.at !== undefined) resolve(u.at);
          else setTimeout(check, 2);
        };
        check();
      });
      out.push(arrived - complete);
    }
  } finally {
    await agent.stop();
  }
  return out;
}

/** The baseline: the same signed bytes uploaded by a bare HTTP call (client → server arrival), one per request. */
async function rawUploads(env: Env, person: Person, n: number): Promise<number[]> {
  const client = new AgentApiClient(env.server.url, env.token);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = env.server.addRequest();
    const signed = await signFor(person, r);
    const before = env.server.uploads.length;
    const t0 = performance.now();
    await client.uploadSigned(r.id, signed);
    const at = env.server.uploads[before]?.at ?? NaN;
    out.push(at - t0);
  }
  return out;
}

/** CPU ticks (utime+stime) and RSS (kB) of a process from /proc. */
async function procStats(pid: number): Promise<{ cpuTicks: number; rssKb: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return { cpuTicks, rssKb };
}

async function idle(env: Env): Promise<void> {
  const agent = spawn(process.execPath, [CLI, "run", "--config-dir", env.configDir], { stdio: ["ignore", "ignore", "pipe"] });
  const bare = spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], { stdio: "ignore" });
  const started = new Promise<void>((resolve) => {
    agent.stderr.on("data", (d: Buffer) => {
      if (d.toString("utf8").includes("signer agent started")) resolve();
    });
  });
  try {
    await Promise.race([started, new Promise((r) => setTimeout(r, 20_000))]);
    await new Promise((r) => setTimeout(r, 1000)); // start-up work (imports, first rescan) is not idle
    const pidA = agent.pid ?? 0;
    const pidB = bare.pid ?? 0;
    const a0 = await procStats(pidA);
    const b0 = await procStats(pidB);
    const w0 = performance.now();
    const rss: { a: number[]; b: number[] } = { a: [], b: [] };
    while (performance.now() - w0 < IDLE_MS) {
      await new Promise((r) => setTimeout(r, Math.min(1000, IDLE_MS / 10)));
      rss.a.push((await procStats(pidA)).rssKb);
      rss.b.push((await procStats(pidB)).rssKb);
    }
    const wall = performance.now() - w0;
    const a1 = await procStats(pidA);
    const b1 = await procStats(pidB);
    const cpuMs = (t: number): number => t * 10; // USER_HZ = 100 on Linux
    const pct = (ticks: number): string => `${((cpuMs(ticks) / wall) * 100).toFixed(2)} %`;
    const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MiB`;
    console.log(`\nIdle over ${(wall / 1000).toFixed(1)} s (CPU time from /proc/<pid>/stat at 10 ms resolution; RSS median of ${rss.a.length} samples)`);
    console.log(
      `  ${"bare node process (baseline)".padEnd(58)} CPU ${String(cpuMs(b1.cpuTicks - b0.cpuTicks)).padStart(6)} ms (${pct(b1.cpuTicks - b0.cpuTicks)})  RSS ${mb(quantile(rss.b, 0.5)).padStart(10)}`,
    );
    console.log(
      `  ${"ksef-signer run (long poll 25 s, 2 folders watched, rescan 30 s)".padEnd(58)} CPU ${String(cpuMs(a1.cpuTicks - a0.cpuTicks)).padStart(6)} ms (${pct(a1.cpuTicks - a0.cpuTicks)})  RSS ${mb(quantile(rss.a, 0.5)).padStart(10)}  ${(quantile(rss.a, 0.5) / quantile(rss.b, 0.5)).toFixed(2)}x RSS`,
    );
  } finally {
    agent.kill("SIGTERM");
    bare.kill("SIGTERM");
  }
}

async function main(): Promise<void> {
  console.log(`@ksef-certs/signer-agent benchmark — node ${process.version}, ${HANDOFFS} hand-offs per line, idle window ${IDLE_MS} ms`);
  const person = await makePerson();
  const env = await setup();
  try {
    await rawUploads(env, person, 5); // warm-up (JIT, keep-alive connection)
    const raw = await rawUploads(env, person, HANDOFFS);
    const defaults = await handoffLatencies(env, person, HANDOFFS, undefined);
    const tuned = await handoffLatencies(env, person, HANDOFFS, 150);
    const base = quantile(raw, 0.5);
    console.log("\nSigned file complete in the inbox → its upload arrived at the server (ratio: median to the baseline's)");
    line("raw HTTP upload of the same bytes (baseline)", raw, base);
    line("agent, default timings (write-finish 400 ms + stable check)", defaults, base);
    line("agent, --stability-ms 150", tuned, base);
    await idle(env);
  } finally {
    await env.server.close();
    await rm(env.dir, { recursive: true, force: true });
  }
}

await main();
