/**
 * A small interleaved benchmark harness (not part of the tests: `pnpm bench`).
 *
 * Every implementation of a group runs in the same rounds, in rotated order, so that a noisy
 * neighbour on this 2-core machine slows all of them alike; the ratio to the group's baseline is
 * taken per round and then medianed (so one slow round, e.g. a GC pause, does not move the result).
 */
import { performance } from "node:perf_hooks";

/** One contender: `run` does one operation (awaited if it returns a promise). */
export interface Contender {
  readonly name: string;
  readonly run: () => unknown;
}

/** Options of {@link benchGroup}. */
export interface GroupOptions {
  /** Rounds per group (default from BENCH_ROUNDS or 7). */
  readonly rounds?: number;
  /** Target wall time of one sample in ms (default from BENCH_SAMPLE_MS or 250). */
  readonly sampleMs?: number;
  /**
   * Upper bound on a contender's per-round time ratio, printed as the target and checked: to the baseline
   * (the first contender), or to the contender named `relativeTo` (e.g. a peer library).
   */
  readonly target?: { readonly contender: string; readonly maxRatio: number; readonly relativeTo?: string };
}

/** Result of one contender: median ms per operation and median ratio to the baseline. */
export interface ContenderResult {
  readonly name: string;
  readonly msPerOp: number;
  readonly opsPerSec: number;
  readonly ratio: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};

async function sample(c: Contender, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await c.run();
  return (performance.now() - t0) / n;
}

async function calibrate(c: Contender, sampleMs: number): Promise<number> {
  const once = await sample(c, 1);
  const twice = await sample(c, 2);
  const per = Math.max(Math.min(once, twice), 0.0005);
  return Math.max(1, Math.min(100_000, Math.round(sampleMs / per)));
}

/**
 * Runs `contenders` interleaved; the first one is the baseline (ratio 1.00).
 * Prints one line per contender and returns the results.
 * @param title the group's name, printed as a heading
 * @param contenders baseline first
 * @param options rounds, sample length, target
 * @returns results in the given order, and whether the target (if any) was met
 */
export async function benchGroup(
  title: string,
  contenders: readonly Contender[],
  options: GroupOptions = {},
): Promise<{ results: ContenderResult[]; targetMet: boolean | undefined }> {
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 7);
  const sampleMs = options.sampleMs ?? Number(process.env.BENCH_SAMPLE_MS ?? 250);
  const sizes = [];
  for (const c of contenders) sizes.push(await calibrate(c, sampleMs));
  const times: number[][] = contenders.map(() => []);
  const ratios: number[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const round: number[] = new Array<number>(contenders.length).fill(0);
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + r) % contenders.length;
      round[i] = await sample(contenders[i]!, sizes[i]!);
    }
    round.forEach((t, i) => {
      times[i]!.push(t);
      ratios[i]!.push(t / round[0]!);
    });
  }
  const results = contenders.map((c, i) => {
    const msPerOp = median(times[i]!);
    return { name: c.name, msPerOp, opsPerSec: 1000 / msPerOp, ratio: median(ratios[i]!) };
  });
  let targetMet: boolean | undefined;
  const target = options.target;
  const relativeIndex = target?.relativeTo === undefined ? 0 : contenders.findIndex((c) => c.name === target.relativeTo);
  if (relativeIndex < 0) throw new Error(`benchGroup: no contender named ${target?.relativeTo ?? ""}`);
  console.log(`\n${title}`);
  for (const [index, r] of results.entries()) {
    const isTarget = target?.contender === r.name;
    let verdict = "";
    if (isTarget) {
      const ratio = relativeIndex === 0 ? r.ratio : median(times[index]!.map((t, round) => t / times[relativeIndex]![round]!));
      targetMet = ratio <= target.maxRatio;
      const of = relativeIndex === 0 ? "" : ` of "${target.relativeTo ?? ""}" (${ratio.toFixed(2)}x)`;
      verdict = `  target <= ${target.maxRatio.toFixed(2)}x${of}: ${targetMet ? "met" : "MISSED"}`;
    }
    console.log(
      `  ${r.name.padEnd(52)} ${formatMs(r.msPerOp).padStart(10)}/op ${r.opsPerSec.toFixed(1).padStart(10)} op/s ${r.ratio.toFixed(2).padStart(6)}x${verdict}`,
    );
  }
  return { results, targetMet };
}

/**
 * Formats a duration for the tables.
 * @param ms milliseconds
 */
export function formatMs(ms: number): string {
  return ms >= 10 ? `${ms.toFixed(1)} ms` : ms >= 0.1 ? `${ms.toFixed(3)} ms` : `${(ms * 1000).toFixed(1)} µs`;
}
