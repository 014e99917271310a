/**
 * Renewal throughput bench: the autopilot scheduler (`runDueRenewals`) renewing {@link RENEWALS} certificates of one
 * company against the KSeF simulator with its published rate limits on, beside the most renewals those limits admit
 * in the same wall time (computed in the same run). Target: at least {@link TARGET_RATIO} of the allowed rate with
 * zero 429s from the simulator.
 *
 * All certificates are company seals of one NIP, so every call counts against one KSeF subject: the simulator's
 * per-subject windows bind exactly as our shared limiter's per-environment ones. Real time throughout (the limiter
 * sleeps on the wall clock); expect a little over two minute-windows.
 *
 * Env: BENCH_RENEWALS (default 60), BENCH_DEBUG (print every scheduler event).
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { LOCAL_SYSTEM_PRINCIPAL } from "@ksef-certs/domain/access";
import { createEnrollmentService } from "@ksef-certs/domain/enrollment";
import { addBranch, addCompany, recordCertificate, sealedPasswordAad } from "@ksef-certs/domain/registry";
import { createSharedRateLimiter, renewalInstanceId, runDueRenewals } from "@ksef-certs/domain/renewal";
import { openStore, type Db } from "@ksef-certs/domain/store";
import { unlockHeldCertificate, vaultFromMasterKey } from "@ksef-certs/domain/vault";
import { createKsefClient, KSEF_OPERATIONS, type KsefRateLimiter, type RateWindow } from "@ksef-certs/ksef/api";
import { encryptPrivateKeyPem, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { selfSignedCertificate } from "@ksef-certs/ksef/testing";
import { startSimulator } from "@ksef-certs/ksef-simulator";

/** Renewals in the run: two minute-windows of the certificate operations (30/min each). */
export const RENEWALS = Number(process.env["BENCH_RENEWALS"] ?? 60);
/** Share of the allowed rate the scheduler must reach. */
export const TARGET_RATIO = 0.95;
const NIP = "5265877635";
const DAY_MS = 86_400_000;

/**
 * The most calls of one operation KSeF's windows admit in `[0, durationMs]` from empty counters: a greedy oracle
 * that sends each call at the earliest instant every window has room (no safety margin; a call fits a window when
 * fewer than `limit` calls lie in `(t − windowMs, t]`, as the simulator counts). Greedy is optimal here: sending
 * earlier never leaves less room later in a sliding window.
 * @param windows the operation's published windows
 * @param durationMs the time span, ms
 * @returns the number of calls, and the instant of each (ms from the start)
 */
export function admittedCalls(windows: readonly RateWindow[], durationMs: number): { count: number; times: number[] } {
  const times: number[] = [];
  let t = 0;
  for (;;) {
    let wait = 0;
    for (const w of windows) {
      const inWindow = times.filter((x) => x > t - w.windowMs);
      if (inWindow.length >= w.limit) wait = Math.max(wait, (inWindow[inWindow.length - w.limit] ?? t) + w.windowMs - t);
    }
    t += wait;
    if (t > durationMs) return { count: times.length, times };
    times.push(t);
  }
}

/** The client's grants and the bench's own marks, on `performance.now()`. */
interface Marks {
  firstCall: number | undefined;
  readonly grants: Map<string, number[]>;
  readonly completedAt: number[];
}

/** Wraps the shared limiter to note when each call was let through (the first KSeF call starts the clock). */
function observed(limiter: KsefRateLimiter, marks: Marks): KsefRateLimiter {
  return {
    async acquire(key, windows, signal) {
      await limiter.acquire(key, windows, signal);
      const at = performance.now();
      marks.firstCall ??= at;
      const list = marks.grants.get(key) ?? [];
      list.push(at);
      marks.grants.set(key, list);
    },
    block(key, untilMs) {
      limiter.block(key, untilMs);
    },
  };
}

/** Raw SQL through the PGlite client under drizzle (admin does not depend on drizzle-orm). */
async function query<T>(db: Db, text: string): Promise<T[]> {
  return ((await (db as unknown as { $client: { query(t: string): Promise<{ rows: unknown[] }> } }).$client.query(text)) as { rows: T[] }).rows;
}

/**
 * One company with {@link RENEWALS} branches, each holding a current self-signed Authentication seal (VATPL-NIP) for
 * `test` that expires 30 days after `now`, its password sealed in the vault. KSeF TEST (and the simulator) accept
 * self-signed seals for XAdES sign-in, so each seal signs its own renewal.
 */
async function seed(db: Db, vault: ReturnType<typeof vaultFromMasterKey>, now: Date): Promise<void> {
  const meta = { actor: "bench", at: now };
  const company = await addCompany(db, { nip: NIP, name: "Hurtownia Testowa" }, meta);
  const utf8 = (oid: string, value: string) => ({ oid, value, stringType: "UTF8String" as const });
  const subject = [
    utf8("2.5.4.3", "Hurtownia Testowa"),
    utf8("2.5.4.10", "Hurtownia Testowa"),
    utf8("2.5.4.97", `VATPL-${NIP}`),
    { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" as const },
  ];
  for (let i = 1; i <= RENEWALS; i++) {
    const code = `B${String(i).padStart(2, "0")}`;
    const branch = await addBranch(db, { companyId: company.id, code, name: `Oddział ${code}` }, meta);
    const keys = await generateKeyPair("EC-P256");
    const cert = await selfSignedCertificate(keys, subject, {
      validFrom: new Date(now.getTime() - 335 * DAY_MS),
      validityDays: 365,
      keyUsage: "Authentication",
    });
    // Renewals reuse this password for the new key, so it must pass KSeF's key-password policy (a digit, a capital, …).
    const password = `Haslo-${randomBytes(8).toString("hex")}-7!`;
    // The seed keys only: a low PBKDF2 count keeps seeding short; the renewals' new keys use the real default.
    const keyFile = new TextEncoder().encode(await encryptPrivateKeyPem(keys.privateKey, password, { iterations: 1000 }));
    const id = crypto.randomUUID();
    await recordCertificate(
      db,
      {
        id,
        scope: { type: "branch", branchId: branch.id },
        environment: "test",
        mode: "current",
        name: `Pieczęć ${code}`,
        certificateDer: cert.der,
        keyFile,
        sealedPassword: vault.seal(new TextEncoder().encode(password), sealedPasswordAad(id)),
        source: "imported",
      },
      meta,
    );
  }
}

const fmt = (n: number, d = 1): string => n.toFixed(d);

/**
 * Runs the renewal bench and prints its lines (cold seeding, measured rate, allowed rate, ratio and verdict).
 * @returns whether the target was met
 */
export async function renewalBench(): Promise<boolean> {
  const sim = await startSimulator({ rateLimits: "published", enrollmentDelayMs: 0 });
  const store = await openStore({ dataDir: ":memory:", env: {} });
  const { db } = store;
  try {
    const vault = vaultFromMasterKey(randomBytes(32));
    const clock = (): Date => new Date();
    const t0 = performance.now();
    await seed(db, vault, clock());
    console.log(
      `renewal bench: ${String(RENEWALS)} self-signed seals of one NIP seeded in PGlite (in memory) in ${fmt((performance.now() - t0) / 1000)} s (cold, once); simulator with published limits at ${sim.url}`,
    );

    const marks: Marks = { firstCall: undefined, grants: new Map(), completedAt: [] };
    let retries = 0;
    const clients = new Map<string, ReturnType<typeof createKsefClient>>();
    const enrollment = createEnrollmentService({
      db,
      now: clock,
      vault,
      // One client (and one limiter) per environment, as the server builds them.
      client: (env) => {
        let c = clients.get(env);
        if (c === undefined) {
          const limiter = createSharedRateLimiter({ db, now: () => clock().getTime(), prefix: env });
          c = createKsefClient({
            baseUrl: sim.url,
            rateLimiter: observed(limiter, marks),
            onRetry: () => {
              retries++;
            },
          });
          clients.set(env, c);
        }
        return c;
      },
      signerFor: (id) => unlockHeldCertificate(db, LOCAL_SYSTEM_PRINCIPAL, id, vault, { hint: "bench: the seal's password is sealed" }),
      pollOptions: { intervalMs: 100, timeoutMs: 60_000 },
    });

    const instanceId = renewalInstanceId("bench", process.pid);
    const outcomes = { failed: 0, retrying: 0, waiting: 0 };
    let passes = 0;
    const deadline = performance.now() + 10 * 60_000;
    while (marks.completedAt.length < RENEWALS && performance.now() < deadline) {
      passes++;
      const pass = await runDueRenewals({
        db,
        enrollment,
        vault,
        clock,
        instanceId,
        concurrency: 10,
        onEvent: (e) => {
          if (e.kind === "completed" && e.successorId !== null) marks.completedAt.push(performance.now());
          if (process.env["BENCH_DEBUG"] !== undefined) console.log(((performance.now() - t0) / 1000).toFixed(1), JSON.stringify(e));
        },
      });
      outcomes.failed += pass.failed;
      outcomes.retrying += pass.retrying;
      outcomes.waiting += pass.waiting;
      // A pass that did nothing while renewals remain would spin: stop and report what happened.
      if (pass.claimed === 0) break;
    }

    const completed = marks.completedAt.length;
    const first = marks.firstCall ?? t0;
    const durationMs = (marks.completedAt[RENEWALS - 1] ?? performance.now()) - first;
    const minutes = durationMs / 60_000;
    // Every renewal makes one call of each certificate operation (limits, data, enroll, retrieve), each with its own
    // 10/s, 30/min, 120/h counters: the allowed renewals are the calls one such operation admits.
    const windows = KSEF_OPERATIONS.enrollCertificate.rateLimits;
    const allowed = admittedCalls(windows, durationMs);
    const allowedRenewals = Math.min(allowed.count, RENEWALS);
    const rate = completed / minutes;
    const allowedRate = allowedRenewals / minutes;
    const ratio = rate / allowedRate;
    const limited = sim.state.counters.rateLimited;
    const [queued] = await query<{ n: number }>(db, "SELECT count(*)::int AS n FROM certificates WHERE mode = 'queued' AND source = 'enrolled'");
    // The finer figure (the ratio above is whole renewals): when our last enrollment call went out, and the earliest
    // instant KSeF's windows admit it; the gap is what our margins and the steps before it cost.
    const oracleLast = allowed.times[RENEWALS - 1];
    const enroll = KSEF_OPERATIONS.enrollCertificate;
    const oursLast = marks.grants.get(`${enroll.method} ${enroll.path}`)?.[RENEWALS - 1];

    console.log(`\nrenewals against the simulator (published limits: 10/s, 30/min, 120/h per certificate operation), ${new Date().toISOString()}`);
    console.log(
      `  ${"renewals completed (scheduler, concurrency 10)".padEnd(50)} ${String(completed).padStart(3)} in ${fmt(durationMs / 1000)} s  ${fmt(rate).padStart(6)} /min  (${String(passes)} pass(es), ${String(queued?.n ?? 0)} successors recorded queued)`,
    );
    console.log(
      `  ${"allowed by KSeF's windows in the same time".padEnd(50)} ${String(allowedRenewals).padStart(3)} in ${fmt(durationMs / 1000)} s  ${fmt(allowedRate).padStart(6)} /min  (greedy oracle, no margin, empty counters)`,
    );
    console.log(
      `  ${"ratio".padEnd(50)} ${fmt(ratio * 100).padStart(5)} %  (target ≥ ${String(TARGET_RATIO * 100)} %; simulator 429s: ${String(limited)}, client retries: ${String(retries)}, failed: ${String(outcomes.failed)}, retrying: ${String(outcomes.retrying)}, waiting: ${String(outcomes.waiting)})`,
    );
    if (oracleLast !== undefined && oursLast !== undefined) {
      console.log(
        `  ${`${String(RENEWALS)}th enrollment call sent`.padEnd(50)} ours at ${fmt((oursLast - first) / 1000)} s after the first call, KSeF's windows admit it at ${fmt(oracleLast / 1000)} s at the earliest (${fmt((oracleLast / (oursLast - first)) * 100)} %)`,
      );
    }
    const pass = completed === RENEWALS && ratio >= TARGET_RATIO && limited === 0 && (queued?.n ?? 0) === RENEWALS;
    console.log(
      pass
        ? `  PASS  ${fmt(rate)} /min = ${fmt(ratio * 100)} % of the allowed ${fmt(allowedRate)} /min, 0 429s`
        : `  MISS  ${String(completed)}/${String(RENEWALS)} completed, ${fmt(rate)} /min = ${fmt(ratio * 100)} % of the allowed ${fmt(allowedRate)} /min, ${String(limited)} 429s, ${String(queued?.n ?? 0)} queued successors`,
    );
    return pass;
  } finally {
    await sim.close();
    await store.close();
  }
}
