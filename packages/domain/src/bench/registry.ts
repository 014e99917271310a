/**
 * Registry benchmark: with 100 000 certificates in the store, on the embedded
 * PGlite (a temporary data folder, as the product opens it) and on PostgreSQL (a fresh database on
 * the server of `KSEF_CERTS_BENCH_DATABASE_URL` or `KSEF_CERTS_TEST_DATABASE_URL`, dropped afterwards;
 * skipped with a note when neither is set): `cert list` with a filter, resolution (`certificateFor`),
 * and the expiry report (`renewalWarnings`), each timed per call (median and p95) beside the same
 * query written as one raw SQL statement, in the same run, on the same inputs.
 *
 * Seeding uses batched raw INSERTs; the byte columns reuse four real certificates and encrypted key
 * files (certificate parsing is not what is measured). Before timing, every input is run through
 * both the use case and its raw SQL and the answers are compared, so what is timed is known to be
 * the same result. Not part of the tests: `BENCH_ONLY=registry pnpm bench`.
 *
 * Knobs: `BENCH_REGISTRY_CERTIFICATES` (default 100 000), `BENCH_REGISTRY_CALLS` (default 200 per
 * company-sized operation; the all-companies operations get a tenth of that, at least 10).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { generateKeyPair } from "@ksef-certs/ksef/crypto";
import { encryptPrivateKeyPem } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate } from "@ksef-certs/ksef/testing";
import { CERTIFICATE_TYPES, ENVIRONMENTS } from "@ksef-certs/ksef/vocabulary";
import { certificateFor } from "../registry/resolve.js";
import { listCertificates } from "../registry/certificates.js";
import { renewalWarnings } from "../registry/reports.js";
import type { Db } from "../store/db.js";
import { openStore, type Store } from "../store/open.js";
import { formatMs } from "@ksef-certs/ksef/testing";

const MS_PER_DAY = 86_400_000;
/** The bench clock: fixed, so every run sees the same states. */
const AT = new Date("2026-06-01T08:00:00.000Z");
const TYPES = CERTIFICATE_TYPES;
type Env = (typeof ENVIRONMENTS)[number];
type CertType = (typeof TYPES)[number];

/** One timed operation of {@link benchRegistry}: per-call figures of the use case and of its raw SQL. */
export interface RegistryBenchLine {
  /** Which database: `pglite` (data folder) or `postgres`. */
  readonly database: "pglite" | "postgres";
  /** The operation, e.g. `listCertificates(company, environment, type)`. */
  readonly operation: string;
  /** Timed calls per contender. */
  readonly calls: number;
  /** Median ms per call of the use case. */
  readonly medianMs: number;
  /** 95th percentile ms per call of the use case. */
  readonly p95Ms: number;
  /** Median ms per call of the raw SQL statement. */
  readonly rawMedianMs: number;
  /** 95th percentile ms per call of the raw SQL statement. */
  readonly rawP95Ms: number;
  /** Median over inputs of (use case time / raw SQL time) on the same input. */
  readonly ratio: number;
}

/** Sizes of {@link benchRegistry}. */
export interface RegistryBenchOptions {
  /** Certificates to seed (default `BENCH_REGISTRY_CERTIFICATES` or 100 000); the organisation scales with it. */
  readonly certificates?: number;
  /** Timed calls per company-sized operation (default `BENCH_REGISTRY_CALLS` or 200). */
  readonly calls?: number;
}

// ---------------------------------------------------------------------------------------------
// Seeding
// ---------------------------------------------------------------------------------------------

/** mulberry32: a seeded PRNG, so the data set has the same shape in every run and on both databases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded company (id, NIP). */
export interface Company {
  readonly id: string;
  readonly nip: string;
}
/** A seeded branch of a company (code `O01`…`O05`). */
export interface Branch {
  readonly id: string;
  readonly companyId: string;
  readonly code: string;
}
/** A seeded operator with the branches they work at (one or two). */
export interface Operator {
  readonly id: string;
  readonly companyId: string;
  readonly pesel: string;
  readonly branchIds: readonly string[];
}
interface Slot {
  readonly scopeType: "company" | "branch" | "operator";
  readonly companyId: string;
  readonly branchId: string | null;
  readonly operatorId: string | null;
  readonly identifier: readonly ["Nip" | "Pesel", string];
  readonly environment: Env;
  readonly certificateType: CertType;
  count: number;
}
/** Rows seeded; certificates split by state at the bench clock (current/queued = active, expired, revoked). */
export interface SeedCounts {
  companies: number;
  branches: number;
  operators: number;
  certificates: number;
  current: number;
  queued: number;
  expired: number;
  revoked: number;
}
/** What the seeding produced, for choosing inputs. */
export interface Organisation {
  readonly companies: readonly Company[];
  readonly branches: readonly Branch[];
  readonly operators: readonly Operator[];
  readonly counts: SeedCounts;
}

/** Certificates per slot by environment: production is used most, test least (mean about 1.03). */
const SLOT_COUNT_WEIGHTS: Record<Env, readonly number[]> = {
  production: [0.15, 0.35, 0.35, 0.15],
  demo: [0.3, 0.45, 0.2, 0.05],
  test: [0.5, 0.4, 0.1, 0],
};

const quote = (s: string | null): string => (s === null ? "NULL" : `'${s.replace(/'/g, "''")}'`);
const iso = (ms: number): string => new Date(ms).toISOString();

/** A handful of real certificate DERs and encrypted key files, reused for the byte columns. */
async function blobs(): Promise<{ der: string; key: string }[]> {
  const out: { der: string; key: string }[] = [];
  for (const certificateType of TYPES) {
    for (let i = 0; i < 2; i++) {
      const keys = await generateKeyPair("EC-P256");
      const { der } = await issueKsefLikeCertificate({
        certificateType,
        keys,
        enrollmentData: {
          commonName: `Operator Bench ${i}`,
          givenName: "Operator",
          surname: `Bench${i}`,
          serialNumber: "PNOPL-80010112345",
          countryName: "PL",
        },
      });
      const key = await encryptPrivateKeyPem(keys.privateKey, "Bench-Hasło-2026!");
      out.push({ der: Buffer.from(der).toString("hex"), key: Buffer.from(key, "utf8").toString("hex") });
    }
  }
  return out;
}

async function insertRows(db: Db, table: string, columns: string, rows: readonly string[], batch = 2000): Promise<void> {
  for (let i = 0; i < rows.length; i += batch) {
    await db.execute(sql.raw(`INSERT INTO ${table} (${columns}) VALUES ${rows.slice(i, i + batch).join(",")}`));
  }
}

/**
 * Seeds `total` certificates over ~total/100 companies × 5 branches × 10 operators (one company per
 * 100 certificates), every (scope, environment, type) slot holding a history: a current certificate
 * (expiring from 180 days ago to 2 years ahead; about 5 % revoked), sometimes a queued successor, and
 * older expired or revoked ones. The rules of the registry hold (one current active per slot, at most
 * two active, queued only beside an active current one, nothing due for promotion at {@link AT}).
 */
export async function seedRegistry(db: Db, total: number): Promise<Organisation> {
  const rnd = prng(4);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const nCompanies = Math.max(1, Math.round(total / 100));
  const companies: Company[] = [];
  const branches: Branch[] = [];
  const operators: Operator[] = [];
  let peselCounter = 0;
  for (let c = 0; c < nCompanies; c++) {
    const company = { id: randomUUID(), nip: String(1_000_000_000 + c * 7919) };
    companies.push(company);
    const own: Branch[] = [];
    for (let b = 1; b <= 5; b++) own.push({ id: randomUUID(), companyId: company.id, code: `O${String(b).padStart(2, "0")}` });
    branches.push(...own);
    for (let o = 0; o < 10; o++) {
      const first = pick(own);
      const second = rnd() < 0.3 ? pick(own.filter((b) => b !== first)) : undefined;
      operators.push({
        id: randomUUID(),
        companyId: company.id,
        pesel: String(80_000_000_000 + peselCounter++),
        branchIds: second === undefined ? [first.id] : [first.id, second.id],
      });
    }
  }

  const slots: Slot[] = [];
  const addSlots = (s: Omit<Slot, "environment" | "certificateType" | "count">): void => {
    for (const environment of ENVIRONMENTS) {
      for (const certificateType of TYPES) {
        const weights = SLOT_COUNT_WEIGHTS[environment];
        let r = rnd();
        let count = 0;
        while (count < weights.length - 1 && r >= (weights[count] ?? 0)) r -= weights[count++] ?? 0;
        slots.push({ ...s, environment, certificateType, count });
      }
    }
  };
  const nipOf = new Map(companies.map((c) => [c.id, c.nip]));
  for (const c of companies) addSlots({ scopeType: "company", companyId: c.id, branchId: null, operatorId: null, identifier: ["Nip", c.nip] });
  for (const b of branches)
    addSlots({ scopeType: "branch", companyId: b.companyId, branchId: b.id, operatorId: null, identifier: ["Nip", nipOf.get(b.companyId) ?? ""] });
  for (const o of operators) addSlots({ scopeType: "operator", companyId: o.companyId, branchId: null, operatorId: o.id, identifier: ["Pesel", o.pesel] });
  // Bring the sum to exactly `total` by random single steps (at most 3 per slot).
  let sum = slots.reduce((a, s) => a + s.count, 0);
  while (sum !== total) {
    const s = pick(slots);
    if (sum < total && s.count < 3) {
      s.count++;
      sum++;
    } else if (sum > total && s.count > 0) {
      s.count--;
      sum--;
    }
  }

  const counts: SeedCounts = {
    companies: companies.length,
    branches: branches.length,
    operators: operators.length,
    certificates: 0,
    current: 0,
    queued: 0,
    expired: 0,
    revoked: 0,
  };
  const blob = await blobs();
  const blobCte = `b(n, der, key) AS (VALUES ${blob.map((x, i) => `(${i}, '\\x${x.der}'::bytea, '\\x${x.key}'::bytea)`).join(",")})`;
  const atMs = AT.getTime();
  const validity = 730 * MS_PER_DAY;
  let serial = 0x1000_0000_0000;
  const certRows: string[] = [];
  const row = (s: Slot, mode: "current" | "queued", from: number, to: number, revokedAt: number | null): void => {
    serial++;
    const n = (s.certificateType === "Offline" ? 2 : 0) + (serial % 2);
    const status = revokedAt === null ? "active" : "revoked";
    certRows.push(
      `(${[
        quote(randomUUID()),
        quote(s.scopeType),
        quote(s.companyId),
        quote(s.branchId),
        quote(s.operatorId),
        quote(s.environment),
        quote(s.certificateType),
        quote(mode),
        quote(`Certyfikat ${s.scopeType} ${serial}`),
        quote(serial.toString(16).toUpperCase().padStart(16, "0")),
        quote(s.identifier[0]),
        quote(s.identifier[1]),
        quote(`CN=Bench ${serial}, C=PL`),
        quote(randomBytes(32).toString("hex").toUpperCase()),
        quote(iso(from)),
        quote(iso(to)),
        quote(status),
        quote(revokedAt === null ? null : iso(revokedAt)),
        quote(revokedAt === null ? null : "Superseded"),
        String(n),
        quote(iso(Math.min(from, atMs))),
      ].join(",")})`,
    );
    counts.certificates++;
    if (revokedAt !== null) counts.revoked++;
    else if (to <= atMs) counts.expired++;
    else if (mode === "queued") counts.queued++;
    else counts.current++;
  };
  for (const s of slots) {
    if (s.count === 0) continue;
    let left = s.count;
    // The newest current one: expiring from 180 days ago to 2 years ahead.
    const curTo = atMs + Math.round((-180 + rnd() * 910) * MS_PER_DAY);
    const curFrom = curTo - validity;
    const curRevoked = rnd() < 0.05 ? Math.min(atMs, curFrom + Math.round(rnd() * (atMs - curFrom))) : null;
    row(s, "current", curFrom, curTo, curRevoked);
    left--;
    if (left > 0 && curRevoked === null && curTo > atMs && rnd() < 0.4) {
      // A queued successor: mostly overlapping the current one's end, one in ten leaving a gap.
      const qFrom = curTo + Math.round((rnd() < 0.9 ? -rnd() * 14 : 1 + rnd() * 20) * MS_PER_DAY);
      // Not due for promotion at AT: the current one is still active, so the rule "queued needs current" holds.
      row(s, "queued", qFrom, qFrom + validity, null);
      left--;
    }
    let newerFrom = curFrom;
    while (left-- > 0) {
      const to = Math.min(newerFrom + Math.round(rnd() * 10 * MS_PER_DAY), atMs - MS_PER_DAY);
      const from = to - validity;
      row(s, "current", from, to, rnd() < 0.2 ? from + Math.round(rnd() * (to - from)) : null);
      newerFrom = from;
    }
  }

  await db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    await insertRows(
      t,
      "companies",
      "id, nip, name",
      companies.map((c) => `(${quote(c.id)}, ${quote(c.nip)}, ${quote(`Firma ${c.nip} sp. z o.o.`)})`),
    );
    await insertRows(
      t,
      "branches",
      "id, company_id, code, name, internal_id",
      branches.map(
        (b) =>
          `(${quote(b.id)}, ${quote(b.companyId)}, ${quote(b.code)}, ${quote(`Oddział ${b.code}`)}, ${quote(`${nipOf.get(b.companyId) ?? ""}-000${b.code.slice(2)}`)})`,
      ),
    );
    await insertRows(
      t,
      "operators",
      "id, company_id, name, pesel",
      operators.map((o) => `(${quote(o.id)}, ${quote(o.companyId)}, ${quote(`Operator ${o.pesel}`)}, ${quote(o.pesel)})`),
    );
    await insertRows(
      t,
      "operator_branches",
      "operator_id, branch_id",
      operators.flatMap((o) => o.branchIds.map((b) => `(${quote(o.id)}, ${quote(b)})`)),
    );
    const columns =
      "id, scope_type, company_id, branch_id, operator_id, environment, certificate_type, mode, name, serial_number, subject_identifier_type, subject_identifier_value, subject, fingerprint, valid_from, valid_to, status, revoked_at, revocation_reason, certificate_der, key_file, source, created_at, updated_at";
    const select =
      "v.id::uuid, v.scope_type::scope_type, v.company_id::uuid, v.branch_id::uuid, v.operator_id::uuid, v.environment::environment, v.certificate_type::certificate_type, v.mode::certificate_mode, v.name, v.serial_number, v.subject_identifier_type, v.subject_identifier_value, v.subject, v.fingerprint, v.valid_from::timestamptz, v.valid_to::timestamptz, v.status, v.revoked_at::timestamptz, v.revocation_reason, b.der, b.key, 'imported', v.created::timestamptz, v.created::timestamptz";
    const alias =
      "v(id, scope_type, company_id, branch_id, operator_id, environment, certificate_type, mode, name, serial_number, subject_identifier_type, subject_identifier_value, subject, fingerprint, valid_from, valid_to, status, revoked_at, revocation_reason, blob, created)";
    for (let i = 0; i < certRows.length; i += 2000) {
      await t.execute(
        sql.raw(
          `WITH ${blobCte} INSERT INTO certificates (${columns}) SELECT ${select} FROM (VALUES ${certRows.slice(i, i + 2000).join(",")}) AS ${alias} JOIN b ON b.n = v.blob::int`,
        ),
      );
    }
  });
  return { companies, branches, operators, counts };
}

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};

/** `db.execute` returns an array on postgres.js and `{ rows }` on PGlite. */
function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
}

/** One operation: the use case and its raw SQL over the same inputs (their answers are compared before timing). */
interface Operation<I> {
  readonly name: string;
  readonly raw: string;
  readonly inputs: readonly I[];
  readonly ours: (input: I) => Promise<readonly string[]>;
  readonly rawRun: (input: I) => Promise<readonly string[]>;
  /** Compare as sets (the use case sorts differently) or as sequences. */
  readonly ordered: boolean;
}

/**
 * Checks that both sides answer alike on every input, then times `calls` calls of each, alternating
 * which goes first, on inputs taken round-robin; returns per-call medians, p95 and the median ratio.
 */
async function timeOperation<I>(database: "pglite" | "postgres", op: Operation<I>, calls: number): Promise<RegistryBenchLine & { readonly rows: number }> {
  let rows = 0;
  for (const input of op.inputs) {
    const [a, b] = [await op.ours(input), await op.rawRun(input)];
    const norm = (xs: readonly string[]): string => (op.ordered ? xs : [...xs].sort()).join(",");
    if (norm(a) !== norm(b)) throw new Error(`benchRegistry: ${op.name} and its raw SQL disagree (${a.length} vs ${b.length} rows) on ${database}`);
    rows += a.length;
  }
  const ours: number[] = [];
  const raw: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < calls; i++) {
    const input = op.inputs[i % op.inputs.length] as I;
    const once = async (f: (x: I) => Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      await f(input);
      return performance.now() - t0;
    };
    let o: number;
    let r: number;
    if (i % 2 === 0) {
      o = await once(op.ours);
      r = await once(op.rawRun);
    } else {
      r = await once(op.rawRun);
      o = await once(op.ours);
    }
    ours.push(o);
    raw.push(r);
    ratios.push(o / r);
  }
  return {
    database,
    operation: op.name,
    calls,
    medianMs: quantile(ours, 0.5),
    p95Ms: quantile(ours, 0.95),
    rawMedianMs: quantile(raw, 0.5),
    rawP95Ms: quantile(raw, 0.95),
    ratio: quantile(ratios, 0.5),
    rows: rows / op.inputs.length,
  };
}

function printLine(name: string, median: number, p95: number, ratio: number): void {
  console.log(
    `  ${name.padEnd(58)} ${formatMs(median).padStart(10)} ${formatMs(p95).padStart(10)} ${(1000 / median).toFixed(1).padStart(9)} ${ratio.toFixed(2).padStart(6)}x`,
  );
}

// ---------------------------------------------------------------------------------------------
// The operations and their raw SQL
// ---------------------------------------------------------------------------------------------

const SUMMARY = `c.id, c.scope_type, c.company_id, c.branch_id, c.operator_id, c.environment, c.certificate_type, c.mode, c.name, c.serial_number,
  c.subject_identifier_type, c.subject_identifier_value, c.subject, c.fingerprint, c.valid_from, c.valid_to, c.status, c.revoked_at,
  c.revocation_reason, c.source, c.enrollment_id, c.created_at, c.updated_at, c.sealed_password IS NOT NULL AS password_sealed`;

function operations(db: Db, org: Organisation, calls: number): { op: Operation<never>; calls: number }[] {
  const rnd = prng(12);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const at = AT.toISOString();
  const ids = async (q: ReturnType<typeof sql>): Promise<string[]> => rowsOf<{ id: string }>(await db.execute(q)).map((r) => r.id);
  const n = Math.min(calls, 200);

  const listInputs = Array.from({ length: n }, () => ({ companyId: pick(org.companies).id, environment: pick(ENVIRONMENTS), certificateType: pick(TYPES) }));
  const list: Operation<(typeof listInputs)[number]> = {
    name: "listCertificates(company, environment, type)",
    raw: "raw SELECT by company, environment, type",
    inputs: listInputs,
    ordered: true,
    ours: async (i) => (await listCertificates(db, { ...i, at: AT })).map((r) => r.id),
    rawRun: (i) =>
      ids(sql`SELECT ${sql.raw(SUMMARY)} FROM certificates c
        WHERE c.company_id = ${i.companyId}::uuid AND c.environment = ${i.environment}::environment AND c.certificate_type = ${i.certificateType}::certificate_type
        ORDER BY c.valid_to, c.id`),
  };

  const expiringInputs = Array.from({ length: 8 }, (_, k) => ({ environment: ENVIRONMENTS[k % 3] as Env, days: 30 + 10 * k }));
  const expiring: Operation<(typeof expiringInputs)[number]> = {
    name: "listCertificates(environment, expiring ≤ N days), all",
    raw: "raw SELECT by environment, active, valid_to range",
    inputs: expiringInputs,
    ordered: true,
    ours: async (i) => (await listCertificates(db, { environment: i.environment, expiringWithinDays: i.days, at: AT })).map((r) => r.id),
    rawRun: (i) =>
      ids(sql`SELECT ${sql.raw(SUMMARY)} FROM certificates c
        WHERE c.environment = ${i.environment}::environment AND c.status = 'active' AND c.valid_to > ${at}::timestamptz
          AND c.valid_to <= ${new Date(AT.getTime() + i.days * MS_PER_DAY).toISOString()}::timestamptz
        ORDER BY c.valid_to, c.id`),
  };

  // Resolution: an operator at one of their branches, an operator alone, a branch alone, a company alone.
  type ResolveInput = { operatorId?: string; branchId?: string; companyId?: string; environment: Env; certificateType: CertType };
  const resolveInputs: ResolveInput[] = Array.from({ length: n }, (_, k) => {
    const environment = pick(ENVIRONMENTS);
    const certificateType = pick(TYPES);
    const o = pick(org.operators);
    switch (k % 4) {
      case 0:
      case 1:
        return { operatorId: o.id, branchId: pick(o.branchIds), environment, certificateType };
      case 2:
        return { operatorId: o.id, environment, certificateType };
      default:
        return k % 8 === 3
          ? { branchId: pick(org.branches).id, environment, certificateType }
          : { companyId: pick(org.companies).id, environment, certificateType };
    }
  });
  const resolve: Operation<ResolveInput> = {
    name: "certificateFor(operator → branch → company)",
    raw: "raw SELECT over 3 scopes ORDER BY rule LIMIT 1",
    inputs: resolveInputs,
    ordered: true,
    ours: async (i) => {
      const r = await certificateFor(db, { ...i, at: AT });
      return r.found ? [r.certificate.id] : [];
    },
    rawRun: (i) =>
      ids(sql`SELECT ${sql.raw(SUMMARY)} FROM certificates c
        WHERE c.environment = ${i.environment}::environment AND c.certificate_type = ${i.certificateType}::certificate_type
          AND c.mode = 'current' AND c.status = 'active' AND c.valid_from <= ${at}::timestamptz AND c.valid_to > ${at}::timestamptz
          AND ((c.scope_type = 'operator' AND c.operator_id = ${i.operatorId ?? null}::uuid)
            OR (c.scope_type = 'branch' AND c.branch_id = ${i.branchId ?? null}::uuid)
            OR (c.scope_type = 'company' AND c.company_id = coalesce(${i.companyId ?? null}::uuid,
                  (SELECT company_id FROM operators WHERE id = ${i.operatorId ?? null}::uuid),
                  (SELECT company_id FROM branches WHERE id = ${i.branchId ?? null}::uuid))))
        ORDER BY CASE c.scope_type WHEN 'operator' THEN 0 WHEN 'branch' THEN 1 ELSE 2 END, c.valid_to DESC
        LIMIT 1`),
  };

  // The expiry report: current certificates ending within 60 days without a queued successor that takes over in time.
  const until60 = new Date(AT.getTime() + 60 * MS_PER_DAY).toISOString();
  // Successors joined by slot (a queued one per slot at most, by rule); COALESCE makes the null scope columns joinable.
  const renewalSql = (companyId: string | null) => {
    const own = (t: string) => (companyId === null ? sql`` : sql`AND ${sql.raw(t)}.company_id = ${companyId}::uuid`);
    return sql`SELECT ${sql.raw(SUMMARY)}, q.id AS successor_id FROM certificates c
      LEFT JOIN (
        SELECT DISTINCT ON (q.scope_type, q.company_id, q.branch_id, q.operator_id, q.environment, q.certificate_type) q.id, q.scope_type, q.company_id,
          q.branch_id, q.operator_id, q.environment, q.certificate_type, q.valid_from, q.valid_to
        FROM certificates q
        WHERE q.mode = 'queued' AND q.status = 'active' AND q.valid_to > ${at}::timestamptz ${own("q")}) q
      ON q.scope_type = c.scope_type AND q.company_id = c.company_id
        AND coalesce(q.branch_id, q.company_id) = coalesce(c.branch_id, c.company_id) AND coalesce(q.operator_id, q.company_id) = coalesce(c.operator_id, c.company_id)
        AND q.environment = c.environment AND q.certificate_type = c.certificate_type
      WHERE c.mode = 'current' AND c.status = 'active' AND c.valid_to > ${at}::timestamptz AND c.valid_to <= ${until60}::timestamptz ${own("c")}
        AND (q.id IS NULL OR q.valid_from > c.valid_to OR q.valid_to <= c.valid_to)
      ORDER BY c.valid_to`;
  };
  const companyInputs = Array.from({ length: n }, () => pick(org.companies).id);
  const renewalCompany: Operation<string> = {
    name: "renewalWarnings(company, 60 days)",
    raw: "raw SELECT expiring current LEFT JOIN queued",
    inputs: companyInputs,
    ordered: false,
    ours: async (companyId) => (await renewalWarnings(db, { companyId, withinDays: 60, at: AT })).map((w) => w.certificate.id),
    rawRun: (companyId) => ids(renewalSql(companyId)),
  };
  const renewalAll: Operation<null> = {
    name: "renewalWarnings(all companies, 60 days)",
    raw: "raw same SELECT, all companies",
    inputs: [null],
    ordered: false,
    ours: async () => (await renewalWarnings(db, { withinDays: 60, at: AT })).map((w) => w.certificate.id),
    rawRun: () => ids(renewalSql(null)),
  };
  const wide = Math.max(10, Math.round(calls / 10));
  return [
    { op: list as unknown as Operation<never>, calls },
    { op: expiring as unknown as Operation<never>, calls: wide },
    { op: resolve as unknown as Operation<never>, calls },
    { op: renewalCompany as unknown as Operation<never>, calls },
    { op: renewalAll as unknown as Operation<never>, calls: wide },
  ];
}

// ---------------------------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------------------------

async function runOn(kind: "pglite" | "postgres", label: string, store: Store, total: number, calls: number): Promise<RegistryBenchLine[]> {
  const t0 = performance.now();
  const org = await seedRegistry(store.db, total);
  const seeded = performance.now() - t0;
  const t1 = performance.now();
  // A server's autovacuum would have analysed a table this size; PGlite has no autovacuum, so the bench does it on both.
  await store.db.execute(sql`ANALYZE`);
  const analysed = performance.now() - t1;
  const c = org.counts;
  console.log(`\nregistry on ${label}`);
  console.log(
    `  seeded ${c.companies} companies, ${c.branches} branches, ${c.operators} operators, ${c.certificates} certificates ` +
      `(${c.current} current, ${c.queued} queued, ${c.expired} expired, ${c.revoked} revoked) in ${(seeded / 1000).toFixed(1)} s; ANALYZE ${(analysed / 1000).toFixed(1)} s`,
  );
  console.log(`  ${"per call (use case, then its raw SQL)".padEnd(58)} ${"median".padStart(10)} ${"p95".padStart(10)} ${"ops/s".padStart(9)}  ratio`);
  const lines: RegistryBenchLine[] = [];
  for (const { op, calls: n } of operations(store.db, org, calls)) {
    const r = await timeOperation(kind, op, n);
    lines.push(r);
    printLine(`ours ${op.name}`, r.medianMs, r.p95Ms, r.ratio);
    printLine(`  ${op.raw}`, r.rawMedianMs, r.rawP95Ms, 1);
    console.log(`    ${n} calls, ${op.inputs.length} distinct inputs, ${r.rows.toFixed(1)} rows per answer`);
  }
  // The data set is consistent, so reading must not have promoted anything (each promotion writes an audit entry).
  const audit = rowsOf<{ n: number | string }>(await store.db.execute(sql`SELECT count(*) AS n FROM audit_log`))[0];
  if (Number(audit?.n ?? 0) !== 0) console.log(`  note: ${String(audit?.n)} promotions happened during the run (audit entries)`);
  return lines;
}

/**
 * Seeds 100 000 certificates (see {@link RegistryBenchOptions}) into a temporary PGlite data folder
 * and, when `KSEF_CERTS_BENCH_DATABASE_URL` or `KSEF_CERTS_TEST_DATABASE_URL` is set, into a fresh
 * database on that PostgreSQL server (created and dropped here), then times `listCertificates`,
 * `certificateFor` and `renewalWarnings` per call beside their raw SQL and prints one table per database.
 * @param options sizes
 * @returns one line per operation and database
 * @throws Error when a use case and its raw SQL disagree on an input (then the timing would be meaningless)
 */
export async function benchRegistry(options: RegistryBenchOptions = {}): Promise<RegistryBenchLine[]> {
  const total = options.certificates ?? Number(process.env.BENCH_REGISTRY_CERTIFICATES ?? 100_000);
  const calls = options.calls ?? Number(process.env.BENCH_REGISTRY_CALLS ?? 200);
  const lines: RegistryBenchLine[] = [];

  const dir = await mkdtemp(join(tmpdir(), "ksef-certs-bench-"));
  try {
    const store = await openStore({ dataDir: dir });
    try {
      lines.push(...(await runOn("pglite", "PGlite (temporary data folder)", store, total, calls)));
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const url = process.env.KSEF_CERTS_BENCH_DATABASE_URL ?? process.env.KSEF_CERTS_TEST_DATABASE_URL;
  if (url === undefined || url === "") {
    console.log("\nregistry on PostgreSQL: skipped (set KSEF_CERTS_BENCH_DATABASE_URL or KSEF_CERTS_TEST_DATABASE_URL)");
    return lines;
  }
  const name = `ksef_certs_bench_${randomBytes(6).toString("hex")}`;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
    try {
      const target = new URL(url);
      target.pathname = `/${name}`;
      const store = await openStore({ databaseUrl: target.toString() });
      try {
        const version = rowsOf<{ v: string }>(await store.db.execute(sql`SELECT current_setting('server_version') AS v`))[0]?.v ?? "?";
        lines.push(...(await runOn("postgres", `PostgreSQL ${version} (${target.host}, fresh database)`, store, total, calls)));
      } finally {
        await store.close();
      }
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
  return lines;
}
