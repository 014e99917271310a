/**
 * The fleet's virtual clock (libfaketime): two child Node processes read the start time, both read start + 3 days
 * after one jump, a 200 ms setTimeout in a child still takes about 200 ms of real time after the jump, the clock keeps
 * running at real speed, and the parent's `now()` agrees with the children. Also passes when the whole run is under
 * `faketime -f +730d` (CI's second pass): the children must not inherit the parent's +730 days.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVirtualClock, DAY_MS, faketimeAvailable, FAKETIME_BINARY, LIBFAKETIME, removeFaketimeLeftovers, type VirtualClock } from "./virtual-clock.js";

// A fixed start: the suite must pass whatever the real date is.
const START = new Date("2031-03-14T09:26:53.589Z");
// Slack for the parent's skew measurement under faketime and for a busy 2-core box between two readings.
const AGREE_MS = 100;

/**
 * A child answering one line per request on stdin: `now` → its Date.now(); `timer <ms>` → after setTimeout(ms), the
 * real (monotonic, unfaked) ms elapsed and the Date.now() difference, space-separated.
 */
const CHILD = `
const rl = require("node:readline").createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const [cmd, arg] = line.split(" ");
  if (cmd === "now") process.stdout.write(Date.now() + "\\n");
  else if (cmd === "timer") {
    const t0 = process.hrtime.bigint();
    const d0 = Date.now();
    setTimeout(() => process.stdout.write(Number(process.hrtime.bigint() - t0) / 1e6 + " " + (Date.now() - d0) + "\\n"), Number(arg));
  } else process.stdout.write("unknown " + line + "\\n");
});
`;

/** A started child and a way to send it one request and await its one-line answer (requests are answered in order). */
interface Child {
  process: ChildProcessWithoutNullStreams;
  ask(request: string): Promise<string>;
  stderr(): string;
}

function startChild(clock: VirtualClock): Child {
  const child = spawn(process.execPath, ["-e", CHILD], { env: { ...process.env, ...clock.env } });
  let stderr = "";
  // libfaketime reports a bad offset file on stderr; keep it for the failure message.
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(line));
  return {
    process: child,
    ask: (request) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin.write(`${request}\n`);
      }),
    stderr: () => stderr,
  };
}

/**
 * Kills a child (SIGTERM, as a test ending mid-run would) and removes what libfaketime left in /dev/shm for it,
 * checking that it did leave something: a killed process does not run libfaketime's clean-up.
 */
async function stopChild(child: Child): Promise<void> {
  const pid = child.process.pid;
  if (pid === undefined) return;
  const exited = once(child.process, "exit");
  child.process.kill();
  await exited;
  expect(existsSync(`/dev/shm/faketime_shm_${String(pid)}`)).toBe(true);
  await removeFaketimeLeftovers(pid);
  expect(existsSync(`/dev/shm/faketime_shm_${String(pid)}`)).toBe(false);
  expect(existsSync(`/dev/shm/sem.faketime_sem_${String(pid)}`)).toBe(false);
}

/** Reads a child's clock between two readings of the parent's `now()`, in ms since the epoch. */
async function readBracketed(clock: VirtualClock, child: Child): Promise<{ before: number; child: number; after: number }> {
  const before = clock.now().getTime();
  const answer = await child.ask("now");
  const after = clock.now().getTime();
  expect(answer, `child answered ${answer}; stderr: ${child.stderr()}`).toMatch(/^\d+$/);
  return { before, child: Number(answer), after };
}

/** The child's reading lies within the parent's `now()` bracket, give or take {@link AGREE_MS}. */
function expectAgrees(reading: { before: number; child: number; after: number }): void {
  expect(reading.child).toBeGreaterThanOrEqual(reading.before - AGREE_MS);
  expect(reading.child).toBeLessThanOrEqual(reading.after + AGREE_MS);
}

const run = faketimeAvailable() || process.env.CI !== undefined;
if (!run) {
  // Outside CI only: CI installs faketime and must run this suite.
  process.stderr.write(
    `virtual clock suite skipped: ${FAKETIME_BINARY} or ${LIBFAKETIME} is missing (apt-get install faketime libfaketime) and CI is not set\n`,
  );
}

describe.skipIf(!run)("a virtual clock shared by child processes (libfaketime)", () => {
  let clock: VirtualClock;
  let children: Child[] = [];

  beforeAll(() => {
    clock = createVirtualClock({ start: START });
    children = [startChild(clock), startChild(clock)];
  });

  afterAll(async () => {
    await Promise.all(children.map((child) => stopChild(child)));
    await clock.close();
  });

  it("both children start at the start time, and now() agrees with them", async () => {
    for (const child of children) {
      const reading = await readBracketed(clock, child);
      // Only the children's start-up has passed since the clock was created.
      expect(reading.child - START.getTime()).toBeGreaterThanOrEqual(-AGREE_MS);
      expect(reading.child - START.getTime()).toBeLessThan(20_000);
      expectAgrees(reading);
    }
  });

  it("keeps running at real speed, not frozen", async () => {
    const [child] = children;
    if (child === undefined) throw new Error("no child");
    const first = Number(await child.ask("now"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = Number(await child.ask("now"));
    expect(second - first).toBeGreaterThanOrEqual(290);
    expect(second - first).toBeLessThan(3_000);
  });

  it("after advance(3 days) both children read start + 3 days, and now() agrees", async () => {
    const beforeJump = clock.now().getTime();
    await clock.advance(3 * DAY_MS);
    for (const child of children) {
      const reading = await readBracketed(clock, child);
      const sinceStart = reading.child - START.getTime();
      expect(sinceStart).toBeGreaterThanOrEqual(3 * DAY_MS);
      expect(sinceStart).toBeLessThan(3 * DAY_MS + 30_000);
      // The jump is exactly 3 days on top of the time that had run on.
      expect(reading.child).toBeGreaterThanOrEqual(beforeJump + 3 * DAY_MS - AGREE_MS);
      expectAgrees(reading);
    }
  });

  it("a 200 ms setTimeout in a child still takes about 200 ms of real time after the jump", async () => {
    await clock.advance(2 * DAY_MS);
    const answers = await Promise.all(children.map((child) => child.ask("timer 200")));
    for (const answer of answers) {
      const [real, wall] = answer.split(" ").map(Number);
      // Not fired at once by the 2-day jump, and not stretched: timers run on the unfaked monotonic clock.
      expect(real).toBeGreaterThanOrEqual(195);
      expect(real).toBeLessThan(1_500);
      // The virtual wall clock moved along with real time during the wait.
      expect(wall).toBeGreaterThanOrEqual(190);
      expect(wall).toBeLessThan(1_500);
    }
    for (const child of children) expectAgrees(await readBracketed(clock, child));
  });

  it("refuses a negative jump", async () => {
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});

describe.skipIf(!run)("a virtual clock with libfaketime's cache (cacheDurationS)", () => {
  it("advance() resolves only once a child holding the cached offset reads the jump", async () => {
    const cached = createVirtualClock({ start: START, cacheDurationS: 1 });
    const child = startChild(cached);
    try {
      // The first reading fills the child's cache with the old offset.
      expectAgrees(await readBracketed(cached, child));
      await cached.advance(DAY_MS);
      const reading = await readBracketed(cached, child);
      expect(reading.child - START.getTime()).toBeGreaterThanOrEqual(DAY_MS);
      expectAgrees(reading);
    } finally {
      await stopChild(child);
      await cached.close();
    }
  });
});
