import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { acquireDataDirLock, readDataDirLock } from "./lock.js";
import { lockFilePath } from "./paths.js";

const LOCK_MODULE = fileURLToPath(new URL("./lock.ts", import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL("../../", import.meta.url));

/** A second, real process that takes the lock and reports on stdout; "release\n" on stdin releases it and exits. */
const children: ChildProcessWithoutNullStreams[] = [];
function holder(dataDir: string): ChildProcessWithoutNullStreams {
  const code = `
    const { acquireDataDirLock } = await import(${JSON.stringify(LOCK_MODULE)});
    try {
      const lock = await acquireDataDirLock(${JSON.stringify(dataDir)});
      process.stdout.write(JSON.stringify({ locked: process.pid }) + "\\n");
      process.stdin.on("data", async (d) => { if (String(d).includes("release")) { await lock.release(); process.exit(0); } });
    } catch (err) {
      process.stdout.write(JSON.stringify({ code: err.code, message: err.message }) + "\\n");
      process.exit(3);
    }`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: PACKAGE_DIR });
  children.push(child);
  return child;
}

async function firstLine(child: ChildProcessWithoutNullStreams): Promise<Record<string, unknown>> {
  let buf = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  for await (const chunk of child.stdout) {
    buf += String(chunk);
    const nl = buf.indexOf("\n");
    if (nl >= 0) return JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
  }
  throw new Error(`child ended without output: ${err}`);
}

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ["-e", ""]);
  await once(c, "exit");
  if (c.pid === undefined) throw new Error("no pid");
  return c.pid;
}

async function conflictOf(p: Promise<unknown>): Promise<KsefCertsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KsefCertsError);
  expect((err as KsefCertsError).code).toBe("CONFLICT");
  return err as KsefCertsError;
}

describe("data folder lock", () => {
  let root: string;
  let n = 0;
  const fresh = async () => {
    const d = join(root, `d${n++}`);
    await mkdir(d);
    return d;
  };
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "ksef-certs-lock-"));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await rm(root, { recursive: true, force: true });
  });

  it("writes {pid, hostname, startedAt} with mode 0600, refuses a second open in the same process, and releases only once", async () => {
    const dir = await fresh();
    const lock = await acquireDataDirLock(dir);
    const st = await stat(lockFilePath(dir));
    expect(st.mode & 0o777).toBe(0o600);
    const info = JSON.parse(await readFile(lockFilePath(dir), "utf8")) as Record<string, unknown>;
    expect(info).toMatchObject({ pid: process.pid, hostname: hostname(), token: lock.info.token });
    expect(Date.parse(String(info.startedAt))).toBeGreaterThan(Date.now() - 60_000);
    expect(await readDataDirLock(dir)).toEqual(lock.info);
    const err = await conflictOf(acquireDataDirLock(dir));
    expect(err.message).toContain(`held by this process (${process.pid})`);
    await lock.release();
    await expect(stat(lockFilePath(dir))).rejects.toThrow();
    expect(await readDataDirLock(dir)).toBeUndefined();
    // A second release must not remove a lock someone else has taken since.
    const again = await acquireDataDirLock(dir);
    await lock.release();
    expect(await readDataDirLock(dir)).toEqual(again.info);
    await again.release();
  });

  it("refuses while another process holds it, and succeeds after that process releases", async () => {
    const dir = await fresh();
    const child = holder(dir);
    const first = await firstLine(child);
    expect(first.locked).toBe(child.pid);
    const err = await conflictOf(acquireDataDirLock(dir));
    expect(err.message).toContain(`is in use by process ${child.pid} since `);
    expect(err.hint).toMatch(/Stop the other ksef-certs process.*DATABASE_URL/);
    expect(err.details).toMatchObject({ pid: child.pid, hostname: hostname() });
    child.stdin.write("release\n");
    const [exitCode] = (await once(child, "exit")) as [number];
    expect(exitCode).toBe(0);
    const lock = await acquireDataDirLock(dir);
    // …and the other way round: a second process is refused while we hold it.
    const second = holder(dir);
    expect(await firstLine(second)).toMatchObject({ code: "CONFLICT", message: expect.stringContaining(`is in use by process ${process.pid}`) as unknown });
    await once(second, "exit");
    await lock.release();
  });

  it("removes the lock when its holder gets SIGTERM; a SIGKILLed holder's lock is taken over as stale", async () => {
    const dir = await fresh();
    const a = holder(dir);
    await firstLine(a);
    a.kill("SIGTERM");
    const [, signal] = (await once(a, "exit")) as [number | null, string | null];
    expect(signal).toBe("SIGTERM");
    expect(await readDataDirLock(dir)).toBeUndefined();

    const b = holder(dir);
    await firstLine(b);
    b.kill("SIGKILL");
    await once(b, "exit");
    expect((await readDataDirLock(dir)) as { pid: number }).toMatchObject({ pid: b.pid });
    const progress: string[] = [];
    const lock = await acquireDataDirLock(dir, { onProgress: (m) => progress.push(m) });
    expect(progress).toEqual([expect.stringContaining(`left by process ${b.pid} (no longer running)`)]);
    await lock.release();
  });

  it("takes over locks of dead processes, earlier boots and an earlier process with our pid; refuses other hosts and fresh unreadable locks", async () => {
    const dir = await fresh();
    const path = lockFilePath(dir);
    const write = (o: object | string) => writeFile(path, typeof o === "string" ? o : JSON.stringify(o), { mode: 0o600 });
    const base = { hostname: hostname(), startedAt: new Date().toISOString(), token: "t0" };
    const take = async (expected: RegExp) => {
      const progress: string[] = [];
      const lock = await acquireDataDirLock(dir, { onProgress: (m) => progress.push(m) });
      expect(progress.join("\n")).toMatch(expected);
      await lock.release();
    };

    await write({ ...base, pid: await deadPid() });
    await take(/no longer running/);

    // A live pid (our parent) recorded under another boot id: the pid was reused after a restart.
    const bootId = (await readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "")).trim();
    if (bootId !== "") {
      await write({ ...base, pid: process.ppid, bootId: "00000000-0000-0000-0000-000000000000" });
      await take(/before this machine last started/);
      await write({ ...base, pid: process.ppid, bootId });
      expect((await conflictOf(acquireDataDirLock(dir))).message).toContain(`in use by process ${process.ppid}`);
    }
    await write({ ...base, pid: process.ppid, startedAt: "2000-01-01T00:00:00.000Z" });
    await take(/before this machine last started/);

    await write({ ...base, pid: process.pid, token: "not-ours" });
    await take(/earlier process with the same pid/);

    await write({ ...base, pid: process.ppid, hostname: "other-host.example" });
    const other = await conflictOf(acquireDataDirLock(dir));
    expect(other.message).toContain("on host other-host.example");
    expect(other.hint).toContain(`delete ${path}`);

    await write("");
    const partial = await conflictOf(acquireDataDirLock(dir));
    expect(partial.retryable).toBe(true);
    // A minute older by the file system's clock, the one that stamped it (this process's may be set elsewhere).
    const old = new Date((await stat(path)).mtimeMs - 60_000);
    await utimes(path, old, old);
    await take(/left unreadable/);
  });

  it("lets exactly one of several concurrent openers take over a stale lock", async () => {
    const dir = await fresh();
    await writeFile(lockFilePath(dir), JSON.stringify({ pid: await deadPid(), hostname: hostname(), startedAt: new Date().toISOString(), token: "x" }));
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => acquireDataDirLock(dir)));
    const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof acquireDataDirLock>>> => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect((r.reason as KsefCertsError).code).toBe("CONFLICT");
    expect(await readDataDirLock(dir)).toEqual(won[0]?.value.info);
    await won[0]?.value.release();
  });
});
