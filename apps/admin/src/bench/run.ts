/**
 * Admin server benchmark: 100 000 certificates in an embedded PGlite store, the server
 * listening on 127.0.0.1, and load from a second process (autocannon, load.ts) on `certificates.list`
 * (a page of 50, and a filtered page) and `certificates.resolve`, as a super-admin and as a branch admin;
 * beside the same use case called in-process (sequentially) in the same run. Prints one line per case:
 * requests/s and p95 latency over HTTP, then the in-process ops/s and p95, and their ratio.
 *
 * Env: BENCH_CERTIFICATES (default 100000), BENCH_SECONDS (per HTTP scenario, default 10),
 * BENCH_CONNECTIONS (default 10).
 *
 * Also the renewal bench (`renewals.ts`). Arguments name the benches to run (`server`, `renewals`), default all:
 * `npm run bench -- renewals`.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { authenticate, createUser, listVisibleCertificates, type Principal } from "@ksef-certs/domain/access";
import { certificateFor } from "@ksef-certs/domain/registry";
import { openStore, type Db } from "@ksef-certs/domain/store";
import { createServer } from "../server/app.js";
import type { LoadResult, LoadScenario } from "./load.js";
import { renewalBench } from "./renewals.js";

const N = Number(process.env["BENCH_CERTIFICATES"] ?? 100_000);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 10);
const CONNECTIONS = Number(process.env["BENCH_CONNECTIONS"] ?? 10);
const COMPANIES = 100;
const BRANCHES_PER_COMPANY = 10;
const OPERATORS_PER_COMPANY = 20;

/** The PGlite client under drizzle (admin does not depend on drizzle-orm; raw SQL goes to the client). */
function client(db: Db): { exec(text: string): Promise<unknown>; query(text: string): Promise<{ rows: unknown[] }> } {
  return (db as unknown as { $client: ReturnType<typeof client> }).$client;
}

async function exec(db: Db, text: string): Promise<void> {
  await client(db).exec(text);
}

/** Bulk SQL seeding: companies, branches, operators (each at one branch), and N certificates spread over the three scopes. */
async function seed(db: Db): Promise<void> {
  await exec(db, `INSERT INTO companies (nip, name) SELECT lpad(i::text, 10, '0'), 'Firma ' || i FROM generate_series(1, ${COMPANIES}) i`);
  await exec(
    db,
    `INSERT INTO branches (company_id, code, name) SELECT c.id, 'B' || j, 'Oddział ' || j FROM companies c, generate_series(1, ${BRANCHES_PER_COMPANY}) j`,
  );
  await exec(db, `INSERT INTO operators (company_id, name) SELECT c.id, 'Operator ' || j FROM companies c, generate_series(1, ${OPERATORS_PER_COMPANY}) j`);
  await exec(
    db,
    `INSERT INTO operator_branches (operator_id, branch_id) SELECT o.id, b.id FROM operators o JOIN branches b ON b.company_id = o.company_id AND b.code = 'B' || ((substr(o.name, 10)::int % ${BRANCHES_PER_COMPANY}) + 1)`,
  );
  // Scope per row: i % 10 = 0 company, 1..3 branch, else operator; validity spread over two years around now.
  await exec(
    db,
    `WITH c AS (SELECT array_agg(id ORDER BY nip) AS ids FROM companies),
          b AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(company_id ORDER BY id) AS cids FROM branches),
          o AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(company_id ORDER BY id) AS cids FROM operators),
          g AS (SELECT i, i % 10 AS k FROM generate_series(1, ${N}) i)
     INSERT INTO certificates (scope_type, company_id, branch_id, operator_id, environment, certificate_type, mode, name, serial_number,
       subject_identifier_type, subject_identifier_value, subject, fingerprint, valid_from, valid_to, status, certificate_der, key_file, source)
     SELECT
       (CASE WHEN g.k = 0 THEN 'company' WHEN g.k <= 3 THEN 'branch' ELSE 'operator' END)::scope_type,
       CASE WHEN g.k = 0 THEN c.ids[1 + g.i % array_length(c.ids, 1)] WHEN g.k <= 3 THEN b.cids[1 + g.i % array_length(b.ids, 1)] ELSE o.cids[1 + g.i % array_length(o.ids, 1)] END,
       CASE WHEN g.k BETWEEN 1 AND 3 THEN b.ids[1 + g.i % array_length(b.ids, 1)] END,
       CASE WHEN g.k > 3 THEN o.ids[1 + g.i % array_length(o.ids, 1)] END,
       'test', (CASE WHEN g.i % 2 = 0 THEN 'Authentication' ELSE 'Offline' END)::certificate_type, 'current',
       'Certyfikat ' || g.i, upper(lpad(to_hex(g.i), 16, '0')), 'Pesel', lpad(g.i::text, 11, '0'), 'CN=Osoba ' || g.i,
       upper(md5(g.i::text) || md5(g.i::text || 'x')),
       now() - ((g.i % 700) || ' days')::interval, now() - ((g.i % 700) || ' days')::interval + interval '730 days',
       CASE WHEN g.i % 50 = 0 THEN 'revoked' ELSE 'active' END, '\\x00'::bytea, '\\x00'::bytea, 'imported'
     FROM g, c, b, o`,
  );
  await exec(db, "ANALYZE");
}

const p95 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] ?? NaN;
};

/** Calls `op` sequentially for `ms` milliseconds; ops/s and p95 ms. */
async function inProcess(op: () => Promise<unknown>, ms: number): Promise<{ opsPerSecond: number; p95Ms: number }> {
  for (let i = 0; i < 5; i++) await op();
  const times: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    await op();
    times.push(performance.now() - t0);
  }
  return { opsPerSecond: times.length / (times.reduce((a, b) => a + b, 0) / 1000), p95Ms: p95(times) };
}

function line(name: string, http: LoadResult, local: { opsPerSecond: number; p95Ms: number }): void {
  console.log(
    `  ${name.padEnd(50)} http ${http.requestsPerSecond.toFixed(0).padStart(6)} req/s  p95 ${http.p95Ms.toFixed(1).padStart(7)} ms   in-process ${local.opsPerSecond.toFixed(0).padStart(6)} op/s  p95 ${local.p95Ms.toFixed(1).padStart(7)} ms   ${(local.opsPerSecond / http.requestsPerSecond).toFixed(2).padStart(6)}x${http.non2xx + http.errors > 0 ? `  (${http.non2xx} non-2xx, ${http.errors} errors!)` : ""}`,
  );
}

/** The admin server bench (see the module comment). */
async function serverBench(): Promise<void> {
  const store = await openStore({ dataDir: ":memory:", env: {} });
  const t0 = performance.now();
  await seed(store.db);
  console.log(
    `admin server bench: ${N} certificates seeded in PGlite (in memory) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${SECONDS} s per HTTP case, ${CONNECTIONS} connections`,
  );
  const at = new Date();
  const [company] = (
    (await client(store.db).query(
      "SELECT c.id AS company_id, b.id AS branch_id, o.id AS operator_id FROM companies c JOIN branches b ON b.company_id = c.id JOIN operator_branches ob ON ob.branch_id = b.id JOIN operators o ON o.id = ob.operator_id ORDER BY c.nip, b.code LIMIT 1",
    )) as { rows: { company_id: string; branch_id: string; operator_id: string }[] }
  ).rows;
  if (company === undefined) throw new Error("seeding made no organisation");
  await createUser(store.db, { login: "bench", displayName: "Bench", password: "bench-password-long", role: { role: "super_admin" } }, { actor: "bench" });
  await createUser(
    store.db,
    { login: "bench-branch", displayName: "Bench branch", password: "bench-password-long", role: { role: "branch_admin", branchId: company.branch_id } },
    { actor: "bench" },
  );
  const superSession = await authenticate(store.db, { login: "bench", password: "bench-password-long", clientKey: "bench" });
  const branchSession = await authenticate(store.db, { login: "bench-branch", password: "bench-password-long", clientKey: "bench" });

  const server = createServer({ store, port: 0, runEnrollments: false });
  const { url } = await server.listen();
  const q = (path: string, input: unknown): string => `${url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
  const cases: { name: string; path: string; input: Record<string, unknown>; session: typeof superSession; local: (p: Principal) => Promise<unknown> }[] = [
    {
      name: "certificates.list page of 50 (super-admin)",
      path: "certificates.list",
      input: { limit: 50 },
      session: superSession,
      local: (p) => listVisibleCertificates(store.db, p, { limit: 50 }),
    },
    {
      name: "certificates.list filtered (type, expiring 90 d)",
      path: "certificates.list",
      input: { limit: 50, certificateType: "Offline", expiringWithinDays: 90 },
      session: superSession,
      local: (p) => listVisibleCertificates(store.db, p, { limit: 50, certificateType: "Offline", expiringWithinDays: 90 }),
    },
    {
      name: "certificates.list page of 50 (branch admin)",
      path: "certificates.list",
      input: { limit: 50 },
      session: branchSession,
      local: (p) => listVisibleCertificates(store.db, p, { limit: 50 }),
    },
    {
      name: "certificates.resolve (operator → branch → company)",
      path: "certificates.resolve",
      input: {
        companyId: company.company_id,
        branchId: company.branch_id,
        operatorId: company.operator_id,
        environment: "test",
        certificateType: "Authentication",
      },
      session: superSession,
      local: () =>
        certificateFor(store.db, {
          companyId: company.company_id,
          branchId: company.branch_id,
          operatorId: company.operator_id,
          environment: "test",
          certificateType: "Authentication",
        }),
    },
  ];
  const scenarios: LoadScenario[] = cases.map((c) => ({
    name: c.name,
    url: q(c.path, c.input),
    cookie: `ksef_certs_session=${c.session.token}`,
    connections: CONNECTIONS,
    durationSeconds: SECONDS,
  }));
  const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(new URL("./load.js", import.meta.url)), JSON.stringify(scenarios)], {
    maxBuffer: 1 << 20,
  });
  const results = stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as LoadResult);
  console.log(`\nadmin API over HTTP (second process, autocannon) beside the use case in-process (sequential), ${at.toISOString()}`);
  for (const c of cases) {
    const http = results.find((r) => r.name === c.name);
    if (http === undefined) throw new Error(`no HTTP result for ${c.name}`);
    const local = await inProcess(() => c.local(c.session.principal), Math.min(5000, SECONDS * 500));
    line(c.name, http, local);
  }
  await server.close();
  await store.close();
}

// Benches by name on the command line (`npm run bench -- renewals`); none named runs them all.
const BENCHES: Record<string, () => Promise<unknown>> = { server: serverBench, renewals: renewalBench };
const named = process.argv.slice(2);
const unknown = named.filter((n) => !(n in BENCHES));
if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(", ")}; choose from ${Object.keys(BENCHES).join(", ")}`);
let missed = false;
for (const name of named.length === 0 ? Object.keys(BENCHES) : named) {
  // A bench that reports a target (true/false) and misses it makes the run fail, without stopping the others.
  if ((await BENCHES[name]?.()) === false) missed = true;
}
if (missed) process.exitCode = 1;
