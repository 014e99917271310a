/**
 * `importWithAdapter`: reads pairs with an adapter and records them in the registry.
 * Every pair is checked before anything is written: the certificate must be one KSeF issues for
 * that environment (its key EC P-256 or RSA-2048, its issuer that environment's CA: checked first, before
 * the password is asked for), the key is decrypted with its password (PBKDF2 off the event loop, several
 * keys at once: the sync path stops near one core; see crypto/kdf-pool.ts for where heavy ones run) and
 * must belong to the certificate; the certificate's KSeF type must be what the adapter said.
 * Then either one transaction records them all (`atomic: true`: any failure leaves the registry as it
 * was) or each pair is recorded in its own transaction and reported (`atomic: "per-pair"`).
 */
import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import { assertKeyMatchesCertificate, encryptPrivateKeyPem, inspectPrivateKey, parseCertificate, readPrivateKey } from "@ksef-certs/ksef/crypto";
import { KsefCertsError, isKsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import {
  assertKsefCertificateFits,
  defaultCertificateName,
  recordCertificate,
  recordCertificates,
  sealedPasswordAad,
  type CertificateRuleOptions,
  type RecordCertificateInput,
  type Scope,
} from "../registry/certificates.js";
import type { Vault } from "../vault/index.js";
import { inTransaction, type CertificateTypeName, type Environment } from "../registry/internal.js";
import { findCompanyByNip, listBranches, listOperators } from "../registry/organisation.js";
import type { Db } from "../store/db.js";
import {
  mapConcurrent,
  type AdapterContext,
  type AdapterFailure,
  type AdapterScope,
  type AdapterSource,
  type CertificateAdapter,
  type ImportedPair,
} from "@ksef-certs/ksef/adapters";

/** Progress of a batch: which phase, and how many of how many pairs are done in it. */
export interface BatchProgress {
  readonly phase: "read" | "verify" | "record" | "write";
  readonly done: number;
  readonly total: number;
}

/** Input of {@link importWithAdapter}. */
export interface ImportWithAdapterInput {
  readonly db: Db;
  readonly adapter: CertificateAdapter;
  readonly source: AdapterSource;
  /** Passwords (`key` for each key file, `file` for a protected source) and an optional logger. */
  readonly ctx: AdapterContext;
  /** `true`: all pairs or none (one transaction). `"per-pair"`: each pair on its own, reported. */
  readonly atomic: true | "per-pair";
  /** Who imports (audit actor), and the clock (default now). */
  readonly actor: string;
  readonly at?: Date;
  /** Hold every pair for this scope instead of the scope the source names (needed when the format names none). */
  readonly scope?: Scope;
  /** Environment for pairs whose source does not say; required when the format does not carry it. */
  readonly environment?: Environment;
  /** Mode for pairs whose source does not say; default `current`. */
  readonly mode?: "current" | "queued";
  /** Seal each key password under the master key for unattended use. */
  readonly sealPassword?: Pick<Vault, "seal">;
  /** Registry rule: most active certificates per slot (default 2). */
  readonly maxActive?: number;
  /** Registry rule: record production certificates of a CA other than KSeF's (default false; see `CertificateRuleOptions`). */
  readonly allowUnknownIssuer?: boolean;
  /** Keys decrypted at once; default 2 × `os.availableParallelism()` (set `UV_THREADPOOL_SIZE` at least that high to use all cores). */
  readonly concurrency?: number;
  readonly onProgress?: (progress: BatchProgress) => void;
}

/** One pair recorded. */
export interface ImportedCertificate {
  readonly ref: string;
  readonly certificateId: string;
  readonly serialNumber: string;
  readonly certificateType: CertificateTypeName;
  readonly environment: Environment;
}

/** What {@link importWithAdapter} did. */
export interface ImportReport {
  readonly adapterId: string;
  readonly atomic: true | "per-pair";
  /** Recorded pairs, in source order. */
  readonly imported: readonly ImportedCertificate[];
  /** Pairs not recorded (always empty for a successful atomic import). */
  readonly failed: readonly AdapterFailure[];
}

interface VerifiedPair {
  readonly ref: string;
  readonly certificateDer: Uint8Array;
  readonly keyFile: Uint8Array;
  readonly serialNumber: string;
  readonly certificateType: CertificateTypeName;
  readonly environment: Environment;
  readonly mode: "current" | "queued";
  readonly name: string;
  readonly scope: AdapterScope | undefined;
  readonly password: string;
}

function asError(err: unknown): KsefCertsError {
  return isKsefCertsError(err) ? err : new KsefCertsError("INTERNAL", msg("import.unexpected"), { cause: err });
}

async function verifyPair(pair: ImportedPair, input: ImportWithAdapterInput): Promise<VerifiedPair> {
  const info = parseCertificate(pair.certificateDer);
  if (info.ksefType !== pair.metadata.certificateType) {
    const declared = pair.metadata.certificateType;
    throw new KsefCertsError(
      "MALFORMED",
      info.ksefType === undefined
        ? msg("import.typeUnknown", { ref: pair.ref, declared })
        : msg("import.typeMismatch", { ref: pair.ref, actual: info.ksefType, declared }),
      { details: { ref: pair.ref } },
    );
  }
  const environment = pair.metadata.environment ?? input.environment;
  if (environment === undefined) {
    throw new KsefCertsError("VALIDATION", msg("import.environmentMissing", { ref: pair.ref }), {
      hint: msg("import.environmentMissing.hint"),
      violations: [violation("environment", "environment.required")],
    });
  }
  // Before the password is asked for: a certificate KSeF would never accept costs no key derivation.
  assertKsefCertificateFits(info, environment, rules(input));
  const password = await input.ctx.password({ purpose: "key", ref: pair.ref });
  const key = await readPrivateKey(pair.keyFile, { password });
  assertKeyMatchesCertificate(key.key, info);
  // A plain or legacy key never reaches the registry as it is: it is stored re-encrypted (KSeF layout) under the password.
  const keyFile =
    inspectPrivateKey(pair.keyFile).format === "pkcs8-encrypted" ? pair.keyFile : new TextEncoder().encode(await encryptPrivateKeyPem(key.key, password));
  return {
    ref: pair.ref,
    certificateDer: info.der,
    keyFile,
    serialNumber: info.serialNumber,
    certificateType: info.ksefType,
    environment,
    mode: pair.metadata.mode ?? input.mode ?? "current",
    name: pair.metadata.name ?? defaultCertificateName(info),
    scope: pair.metadata.scope,
    password,
  };
}

/** Finds registry scopes by NIP / branch code / PESEL, loading each company's branches and operators once. */
class ScopeFinder {
  private readonly cache = new Map<string, Promise<{ companyId: string; branches: Map<string, string>; operators: Map<string, string> }>>();

  constructor(private readonly db: Db) {}

  async find(scope: AdapterScope | undefined, ref: string): Promise<Scope> {
    if (scope === undefined) {
      throw new KsefCertsError("VALIDATION", msg("import.scopeMissing", { ref }), {
        hint: msg("import.scopeMissing.hint"),
        violations: [violation("scope", "scope.required")],
      });
    }
    let entry = this.cache.get(scope.companyNip);
    if (entry === undefined) {
      entry = this.load(scope.companyNip);
      this.cache.set(scope.companyNip, entry);
    }
    const c = await entry;
    if (scope.branchCode !== undefined) {
      const id = c.branches.get(scope.branchCode);
      if (id === undefined)
        throw new KsefCertsError("NOT_FOUND", msg("import.branchMissing", { ref, nip: scope.companyNip, code: JSON.stringify(scope.branchCode) }), {
          hint: msg("import.branchMissing.hint"),
          details: { ref },
        });
      return { type: "branch", branchId: id };
    }
    if (scope.operatorPesel !== undefined) {
      const id = c.operators.get(scope.operatorPesel);
      if (id === undefined)
        throw new KsefCertsError("NOT_FOUND", msg("import.operatorMissing", { ref, nip: scope.companyNip }), {
          hint: msg("import.operatorMissing.hint"),
          details: { ref },
        });
      return { type: "operator", operatorId: id };
    }
    return { type: "company", companyId: c.companyId };
  }

  private async load(nip: string): Promise<{ companyId: string; branches: Map<string, string>; operators: Map<string, string> }> {
    const company = await findCompanyByNip(this.db, nip);
    if (company === undefined)
      throw new KsefCertsError("NOT_FOUND", msg("import.companyMissing", { nip }), {
        hint: msg("import.companyMissing.hint"),
        details: { nip },
      });
    const branches = new Map((await listBranches(this.db, company.id)).map((b) => [b.code, b.id]));
    const operators = new Map((await listOperators(this.db, { companyId: company.id })).flatMap((o) => (o.pesel === null ? [] : [[o.pesel, o.id] as const])));
    return { companyId: company.id, branches, operators };
  }
}

/** What the registry records for a verified pair (a fresh id; the password sealed to it when asked). */
function recordInputOf(pair: VerifiedPair, scope: Scope, input: ImportWithAdapterInput): RecordCertificateInput {
  const id = randomUUID();
  const sealedPassword = input.sealPassword === undefined ? undefined : input.sealPassword.seal(new TextEncoder().encode(pair.password), sealedPasswordAad(id));
  return {
    id,
    scope,
    environment: pair.environment,
    mode: pair.mode,
    name: pair.name,
    certificateDer: pair.certificateDer,
    keyFile: pair.keyFile,
    ...(sealedPassword === undefined ? {} : { sealedPassword }),
    source: "imported",
  };
}

function rules(input: ImportWithAdapterInput): CertificateRuleOptions {
  return {
    ...(input.maxActive === undefined ? {} : { maxActive: input.maxActive }),
    ...(input.allowUnknownIssuer === true ? { allowUnknownIssuer: true } : {}),
  };
}

/** One pair on its own (the fallback when a batch is refused as a whole). */
async function recordVerified(tx: Db, pair: VerifiedPair, scope: Scope, input: ImportWithAdapterInput, at: Date): Promise<ImportedCertificate> {
  const row = await recordCertificate(tx, recordInputOf(pair, scope, input), { actor: input.actor, at }, rules(input));
  return { ref: pair.ref, certificateId: row.id, serialNumber: row.serialNumber, certificateType: row.certificateType, environment: row.environment };
}

function batchFailure(failures: readonly AdapterFailure[], total: number): KsefCertsError {
  const first = failures[0];
  if (first === undefined) return new KsefCertsError("INTERNAL", msg("import.noFailure"));
  // The first failure's sentence is passed in English: a parameter is text, not a message to render again.
  const hint = first.error.hintRef ?? (first.error.hint === undefined ? undefined : msg("error.legacy", { text: first.error.hint }));
  return new KsefCertsError(
    first.error.code,
    msg("import.nothingImported", { failed: failures.length, count: total, ref: first.ref, reason: first.error.message }),
    {
      ...(hint === undefined ? {} : { hint }),
      violations: first.error.violations,
      retryable: first.error.retryable,
      details: { failures: failures.map((f) => ({ ref: f.ref, code: f.error.code, message: f.error.message })) },
      cause: first.error,
    },
  );
}

/** Pairs per recording batch (one transaction each in `"per-pair"` mode): big enough for multi-row inserts, small enough to start early. */
const RECORD_CHUNK = 250;

interface ScopedPair {
  readonly pair: VerifiedPair;
  readonly scope: Scope;
}

/** Finds each pair's registry scope (`input.scope` when given); a pair whose scope is unknown fails alone. */
async function scopePairs(
  pairs: readonly VerifiedPair[],
  scopes: ScopeFinder,
  input: ImportWithAdapterInput,
): Promise<{ scoped: ScopedPair[]; failed: AdapterFailure[] }> {
  const scoped: ScopedPair[] = [];
  const failed: AdapterFailure[] = [];
  for (const pair of pairs) {
    try {
      scoped.push({ pair, scope: input.scope ?? (await scopes.find(pair.scope, pair.ref)) });
    } catch (err) {
      failed.push({ ref: pair.ref, error: asError(err) });
    }
  }
  return { scoped, failed };
}

/**
 * Records scoped pairs with one {@link recordCertificates} batch (passwords sealed when asked).
 * @returns the recorded pairs and the refused ones, both in the order given
 */
async function recordBatch(
  tx: Db,
  scoped: readonly ScopedPair[],
  input: ImportWithAdapterInput,
  at: Date,
): Promise<{ imported: ImportedCertificate[]; failed: AdapterFailure[] }> {
  const records = scoped.map((s) => recordInputOf(s.pair, s.scope, input));
  const outcomes = await recordCertificates(tx, records, { actor: input.actor, at }, rules(input));
  const imported: ImportedCertificate[] = [];
  const failed: AdapterFailure[] = [];
  outcomes.forEach((o, i) => {
    const ref = scoped[i]?.pair.ref ?? "";
    if (o.ok)
      imported.push({ ref, certificateId: o.row.id, serialNumber: o.row.serialNumber, certificateType: o.row.certificateType, environment: o.row.environment });
    else failed.push({ ref, error: o.error });
  });
  return { imported, failed };
}

/**
 * Imports every pair an adapter reads from `source` into the registry.
 *
 * Order: the adapter reads the source; every pair is verified (key decrypted with `ctx.password({ purpose: "key" })`,
 * key matches certificate, type as the source says) with `concurrency` decryptions at once; pairs are recorded
 * with the registry's batch path ({@link recordCertificates}: the rules of {@link recordCertificate}, a few
 * set-wise queries and multi-row inserts per batch), current ones before queued ones (so a queued successor finds
 * its current one), each in source order, with the scope the source names (company NIP, branch code, operator PESEL)
 * unless `scope` is given. `"per-pair"`: batches of current pairs are recorded while later keys are still being
 * decrypted (the thread pool stays busy), each batch in a transaction of its own (a batch the database refuses
 * as a whole is recorded pair by pair). `true`: one transaction after every key is verified, so the registry
 * is never locked while keys are decrypted. Passwords are used and forgotten (sealed only with `sealPassword`).
 * @param input see {@link ImportWithAdapterInput}
 * @returns the pairs recorded (in source order) and, for `"per-pair"`, the ones that failed with their typed errors
 * @throws {KsefCertsError} with `atomic: true`, the first failure's code (details.failures lists every failed pair) and nothing is recorded;
 *   in both modes, what the adapter throws for an unusable source (NOT_FOUND, FORBIDDEN, WRONG_PASSWORD, MALFORMED, IO…)
 */
export async function importWithAdapter(input: ImportWithAdapterInput): Promise<ImportReport> {
  const at = input.at ?? new Date();
  if (!input.adapter.capabilities.import)
    throw new KsefCertsError("UNSUPPORTED", msg("import.notImporter", { adapterId: input.adapter.id }), { details: { adapterId: input.adapter.id } });
  input.onProgress?.({ phase: "read", done: 0, total: 1 });
  const read = await input.adapter.import(input.source, input.ctx);
  const total = read.pairs.length + read.failures.length;
  input.onProgress?.({ phase: "read", done: 1, total: 1 });
  const failures: AdapterFailure[] = [...read.failures];
  const imported: ImportedCertificate[] = [];
  let recorded = 0;
  const recordedSome = (count: number): void => {
    for (let i = 0; i < count; i++) input.onProgress?.({ phase: "record", done: ++recorded, total: read.pairs.length });
  };

  // "per-pair": the verified prefix (source order) feeds recording batches while later keys are being decrypted.
  const perPair = input.atomic === "per-pair";
  const scopes = new ScopeFinder(input.db);
  const done = new Array<VerifiedPair | null | undefined>(read.pairs.length);
  const currents: VerifiedPair[] = [];
  const queued: VerifiedPair[] = [];
  let prefix = 0;
  let recording = Promise.resolve();
  const recordPerPair = (pairs: VerifiedPair[]): void => {
    if (pairs.length === 0) return;
    recording = recording.then(async () => {
      // Scopes are looked up before the transaction: PGlite runs one connection, which the transaction holds.
      const { scoped, failed } = await scopePairs(pairs, scopes, input);
      failures.push(...failed);
      let result: { imported: ImportedCertificate[]; failed: AdapterFailure[] };
      try {
        result = await inTransaction(input.db, (tx) => recordBatch(tx, scoped, input, at));
      } catch {
        // The database refused the batch as a whole (a concurrent writer, a lost connection): each pair on its own.
        result = { imported: [], failed: [] };
        for (const { pair, scope } of scoped) {
          try {
            result.imported.push(await inTransaction(input.db, (tx) => recordVerified(tx, pair, scope, input, at)));
          } catch (err) {
            result.failed.push({ ref: pair.ref, error: asError(err) });
          }
        }
      }
      imported.push(...result.imported);
      failures.push(...result.failed);
      recordedSome(pairs.length);
    });
  };
  const advance = (final: boolean): void => {
    while (prefix < done.length && done[prefix] !== undefined) {
      const v = done[prefix++];
      if (v) (v.mode === "current" ? currents : queued).push(v);
    }
    if (!perPair) return;
    if (currents.length >= RECORD_CHUNK || final) recordPerPair(currents.splice(0));
    if (final) for (let i = 0; i < queued.length; i += RECORD_CHUNK) recordPerPair(queued.slice(i, i + RECORD_CHUNK));
  };

  let verifiedCount = 0;
  await mapConcurrent(read.pairs, input.concurrency ?? availableParallelism() * 2, async (pair, index) => {
    try {
      done[index] = await verifyPair(pair, input);
    } catch (err) {
      failures.push({ ref: pair.ref, error: asError(err) });
      done[index] = null;
    } finally {
      input.onProgress?.({ phase: "verify", done: ++verifiedCount, total: read.pairs.length });
      advance(false);
    }
  });
  if (input.atomic === true && failures.length > 0) throw batchFailure(failures, total);
  input.onProgress?.({ phase: "record", done: recorded, total: read.pairs.length });
  advance(true);
  if (perPair) {
    await recording;
  } else {
    const ordered = [...currents, ...queued];
    await inTransaction(input.db, async (tx) => {
      const { scoped, failed } = await scopePairs(ordered, new ScopeFinder(tx), input);
      const result = await recordBatch(tx, scoped, input, at);
      // The failure a one-by-one recording would have stopped at: the earliest in recording order.
      const position = new Map(ordered.map((p, i) => [p.ref, i]));
      const first = [...failed, ...result.failed].sort((a, b) => (position.get(a.ref) ?? 0) - (position.get(b.ref) ?? 0))[0];
      if (first !== undefined) throw batchFailure([first], total);
      imported.push(...result.imported);
    });
    recordedSome(ordered.length);
  }
  const order = new Map(read.pairs.map((p, i) => [p.ref, i]));
  imported.sort((a, b) => (order.get(a.ref) ?? 0) - (order.get(b.ref) ?? 0));
  return { adapterId: input.adapter.id, atomic: input.atomic, imported, failed: failures };
}
