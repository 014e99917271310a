/**
 * Shared pieces of the signer agent's end-to-end suites: the built `ksef-signer` CLI spawned as a child
 * process (so kill -9 is real), its pino log lines read as they come, and a check that every file a person
 * dropped is accounted for (moved to processed/ or failed/, each failed or duplicate one with its reason).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI (apps/signer-agent/dist/cli/main.js; `pnpm --filter @ksef-certs/signer-agent build` makes it). */
export const CLI = fileURLToPath(new URL("../../apps/signer-agent/dist/cli/main.js", import.meta.url));

/** A finished CLI run. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI to completion.
 * @param args arguments
 * @param env extra environment
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build apps/signer-agent first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

/** One pino line of the running agent. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A running `ksef-signer run`. */
export interface RunningAgent {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** Raw stderr (for secrets checks). */
  raw(): string;
  /** Resolves with the first log line matching, waiting up to `timeoutMs`. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, then wait for the exit. */
  kill9(): Promise<number | null>;
}

/**
 * Starts `ksef-signer run` with fast test timings.
 * @param configDir the paired config folder
 * @param env extra environment (e.g. `KSEF_SIGNER_CRASH_AT`)
 * @param extraArgs more `run` arguments
 */
export function startAgent(configDir: string, env: Record<string, string> = {}, extraArgs: readonly string[] = []): RunningAgent {
  const child = spawn(
    process.execPath,
    [CLI, "run", "--config-dir", configDir, "--verbose", "--poll-wait-ms", "2000", "--stability-ms", "150", "--rescan-interval-ms", "1000", ...extraArgs],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: LogLine[] = [];
  let raw = "";
  let partial = "";
  const listeners = new Set<() => void>();
  child.stderr.on("data", (d: Buffer) => {
    const text = d.toString("utf8");
    raw += text;
    partial += text;
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        lines.push({ level: 0, msg: p });
      }
    }
    for (const l of listeners) l();
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      resolve(code);
    }),
  );
  const waitFor = (match: (l: LogLine) => boolean, timeoutMs = 20_000, what = "a log line"): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = lines.find(match);
        if (hit !== undefined) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out waiting for ${what}; log:\n${raw.slice(-4000)}`));
      }, timeoutMs);
      listeners.add(check);
      check();
      void exited.then(() => {
        if (listeners.has(check) && !check()) {
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`the agent exited while waiting for ${what}; log:\n${raw.slice(-4000)}`));
        }
      });
    });
  return {
    child,
    lines,
    raw: () => raw,
    waitFor,
    exited,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
    kill9: () => {
      child.kill("SIGKILL");
      return exited;
    },
  };
}

/**
 * Every file in a hand-off folder and its processed/ and failed/ sub-folders, and whether each is explained:
 * nothing left at the top level but our own unsigned auth.xml files (`keep`), every failed file with its
 * `.reason.txt`, every processed file either uploaded (`uploadedNames`) or a duplicate with its reason.
 * @param folder the inbox or outbox
 * @param keep top-level names allowed to stay (the outbox's auth.xml)
 * @returns the names that are not accounted for (empty when all are)
 */
export async function unaccounted(folder: string, keep: readonly string[] = []): Promise<string[]> {
  const out: string[] = [];
  const list = async (dir: string): Promise<string[]> =>
    (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((e) => e.name);
  for (const name of await list(folder)) if (!keep.includes(name)) out.push(name);
  const failed = await list(join(folder, "failed"));
  for (const name of failed) if (!name.endsWith(".reason.txt") && !failed.includes(`${name}.reason.txt`)) out.push(`failed/${name}`);
  return out;
}
