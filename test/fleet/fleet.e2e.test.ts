/**
 * Fleet simulation of autopilot renewal: 500 certificates across 50 companies with mixed renewal policies, run over
 * three simulated years against the KSeF simulator with its published rate limits on.
 *
 * - PostgreSQL (when KSEF_CERTS_TEST_DATABASE_URL is set): two built `ksef-certs serve` processes on one scratch
 *   database, their clocks moved by libfaketime through one shared virtual clock (`virtual-clock.ts`) that the
 *   simulator in this process reads too; one of them is killed with SIGKILL in the middle of the run and started
 *   again later.
 * - PGlite (always): the embedded database lives inside one process, so two schedulers run in this process on one
 *   PGlite with the product's own scheduler and enrollment service and an injected virtual clock; one is stopped
 *   mid-run without cleaning up its claims (as a crash leaves them) and a new one takes over.
 *
 * Time moves in steps of ten days; after each step the test waits until nothing due is left unclaimed. It then
 * asserts: no slot under an automatic policy is ever without a valid certificate; every renewal that needs a person
 * opened its signing request at least 30 days before expiry; no renewal enrolled twice and no key was enrolled
 * twice; the simulator never answered 429; every renewal is in the audit log.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_SYSTEM_PRINCIPAL } from "@ksef-certs/domain/access";
import { createAgentHandoff, createSigningRequestNotifier } from "@ksef-certs/domain/agent";
import { createEnrollmentService } from "@ksef-certs/domain/enrollment";
import { addBranch, addCompany, addOperator, addWorkstation, recordCertificate, sealedPasswordAad } from "@ksef-certs/domain/registry";
import { createSharedRateLimiter, renewalPlan, runDueRenewals, setRenewalPolicyAs, type RenewalPolicyPatch } from "@ksef-certs/domain/renewal";
import { bindAuditKey, openStore, type Db, type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { createScratchDatabase } from "@ksef-certs/testing/database";
import { unlockHeldCertificate, vaultFromMasterKey } from "@ksef-certs/domain/vault";
import { createKsefClient } from "@ksef-certs/ksef/api";
import { encryptPrivateKeyPem, generateKeyPair, parseCertificate, type EnrollmentData } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate } from "@ksef-certs/testing/certificates";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { startServe, type ServeProcess } from "../admin-web/browser.js";
import { createVirtualClock, DAY_MS, faketimeAvailable, removeFaketimeLeftovers, type VirtualClock } from "./virtual-clock.js";

const T0 = new Date("2027-01-04T09:00:00Z");
const YEARS = Number(process.env["FLEET_YEARS"] ?? 3);
const STEP_DAYS = 10;
const COMPANIES = Number(process.env["FLEET_COMPANIES"] ?? 50);
const SEED_KEY_PASSWORD = "Flota-Klucz-2027!ab";
const DATABASE_URL = process.env["KSEF_CERTS_TEST_DATABASE_URL"];
/** Companies by policy: the first 35 keep the defaults; then 5 renew 45 days ahead with RSA keys, 5 with generated passwords, 5 need a person. */
const POLICY_OF = (c: number): { readonly patch: RenewalPolicyPatch; readonly automatic: boolean } =>
  c < 35
    ? { patch: {}, automatic: true }
    : c < 40
      ? { patch: { renewBeforeDays: 45, keyAlgorithm: "RSA-2048" }, automatic: true }
      : c < 45
        ? { patch: { password: "generate" }, automatic: true }
        : { patch: { signing: "person" }, automatic: false };

const { certificates, renewals, auditLog, enrollments } = schema;

/** A valid NIP from a 9-digit stem (weights 6 5 7 2 3 4 5 6 7, mod 11; a stem whose check would be 10 is skipped). */
function nipOf(n: number): string {
  for (let stem = 526_000_000 + n * 37; ; stem++) {
    const d = String(stem).split("").map(Number);
    const check = [6, 5, 7, 2, 3, 4, 5, 6, 7].reduce((s, w, i) => s + w * (d[i] ?? 0), 0) % 11;
    if (check !== 10) return `${String(stem)}${String(check)}`;
  }
}

/** A valid PESEL of someone born in 1980 (weights 1 3 7 9 1 3 7 9 1 3). */
function peselOf(n: number): string {
  const stem = `800101${String(1000 + n).padStart(4, "0")}`;
  const d = stem.split("").map(Number);
  const sum = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3].reduce((s, w, i) => s + w * (d[i] ?? 0), 0);
  return `${stem}${String((10 - (sum % 10)) % 10)}`;
}

/** Deterministic spread of expiries: 20 to 720 days after T0. */
function expiryDays(i: number): number {
  return 20 + ((i * 7919) % 700);
}

interface Seeded {
  readonly automaticCompanyIds: ReadonlySet<string>;
  readonly certificateCount: number;
}

/**
 * The fleet: per company two branches (an operator in each), a workstation, and ten current certificates (company,
 * each branch and each operator: Authentication and Offline), issued by the simulator's CA and known to it as issued
 * earlier, with their passwords sealed.
 */
async function seed(db: Db, sim: RunningSimulator, masterKey: Uint8Array): Promise<Seeded> {
  const vault = vaultFromMasterKey(masterKey);
  const meta = { actor: "fleet-seed", at: T0 };
  const automatic = new Set<string>();
  let n = 0;
  for (let c = 0; c < COMPANIES; c++) {
    const nip = nipOf(c);
    const company = await addCompany(db, { nip, name: `Firma ${String(c)}` }, meta);
    const b1 = await addBranch(db, { companyId: company.id, code: "B1", name: "Oddział 1" }, meta);
    const b2 = await addBranch(db, { companyId: company.id, code: "B2", name: "Oddział 2" }, meta);
    const o1 = await addOperator(db, { companyId: company.id, name: `Operator ${String(c)}-1`, pesel: peselOf(c * 2), branchIds: [b1.id] }, meta);
    const o2 = await addOperator(db, { companyId: company.id, name: `Operator ${String(c)}-2`, pesel: peselOf(c * 2 + 1), branchIds: [b2.id] }, meta);
    const w = await addWorkstation(db, { branchId: b1.id, name: "kasa-1", outboxDir: join(tmpdir(), "fleet-out"), inboxDir: join(tmpdir(), "fleet-in") }, meta);
    const policy = POLICY_OF(c);
    await setRenewalPolicyAs(
      db,
      LOCAL_SYSTEM_PRINCIPAL,
      { companyId: company.id },
      { ...policy.patch, ...(policy.automatic ? {} : { workstationId: w.id }) },
      meta,
    );
    if (policy.automatic) automatic.add(company.id);
    const seal: EnrollmentData = {
      commonName: `Firma ${String(c)}`,
      countryName: "PL",
      organizationName: `Firma ${String(c)}`,
      organizationIdentifier: `VATPL-${nip}`,
    };
    const person = (p: string, name: string): EnrollmentData => ({
      commonName: name,
      countryName: "PL",
      givenName: name.split(" ")[0] ?? "Jan",
      surname: name.split(" ")[1] ?? "Kowalski",
      serialNumber: `PNOPL-${p}`,
    });
    const holders = [
      { scope: { type: "company" as const, companyId: company.id }, data: seal, identity: { type: "Nip" as const, value: nip } },
      { scope: { type: "branch" as const, branchId: b1.id }, data: seal, identity: { type: "Nip" as const, value: nip } },
      { scope: { type: "branch" as const, branchId: b2.id }, data: seal, identity: { type: "Nip" as const, value: nip } },
      {
        scope: { type: "operator" as const, operatorId: o1.id },
        data: person(o1.pesel ?? "", `Operator ${String(c)}`),
        identity: { type: "Pesel" as const, value: o1.pesel ?? "" },
      },
      {
        scope: { type: "operator" as const, operatorId: o2.id },
        data: person(o2.pesel ?? "", `Operator ${String(c)}`),
        identity: { type: "Pesel" as const, value: o2.pesel ?? "" },
      },
    ];
    for (const h of holders) {
      for (const type of ["Authentication", "Offline"] as const) {
        // The Offline certificate of a holder expires after its Authentication one, so that the Authentication
        // certificate (renewed first) can sign the Offline renewal.
        const expires = new Date(T0.getTime() + (expiryDays(n) + (type === "Offline" ? 5 : 0)) * DAY_MS);
        const validFrom = new Date(expires.getTime() - 730 * DAY_MS);
        const keys = await generateKeyPair("EC-P256");
        const issued = await issueKsefLikeCertificate({ certificateType: type, keys, enrollmentData: h.data, validFrom, validityDays: 730, issuer: sim.ca });
        const info = parseCertificate(issued.der);
        sim.state.certificates.set(info.serialNumber, {
          serialNumber: info.serialNumber,
          der: issued.der,
          info,
          name: h.data.commonName,
          type,
          commonName: h.data.commonName,
          identity: h.identity,
          enrollmentData: h.data,
          spkiHex: Buffer.from(keys.publicKey.export({ type: "spki", format: "der" })).toString("hex"),
          validFrom: new Date(info.validFrom),
          validTo: new Date(info.validTo),
          requestDate: validFrom,
          revokedAt: undefined,
          revocationReason: undefined,
          lastUseDate: undefined,
        });
        const id = randomUUID();
        await recordCertificate(
          db,
          {
            id,
            scope: h.scope,
            environment: "test",
            mode: "current",
            name: `${h.data.commonName} ${type === "Offline" ? "offline" : "logowanie"}`,
            certificateDer: issued.der,
            keyFile: new TextEncoder().encode(await encryptPrivateKeyPem(keys.privateKey, SEED_KEY_PASSWORD, { iterations: 1000 })),
            sealedPassword: vault.seal(new TextEncoder().encode(SEED_KEY_PASSWORD), sealedPasswordAad(id)),
            source: "imported",
          },
          { actor: "fleet-seed", at: validFrom },
        );
        n++;
      }
    }
  }
  return { automaticCompanyIds: automatic, certificateCount: n };
}

/** The schedulers under test: started, killed (a crash) and started again. */
interface Fleet {
  start(i: number): Promise<void>;
  kill(i: number): Promise<void>;
  stopAll(): Promise<void>;
}

/** Waits until everything due at `now` has been opened and nothing claimable or running is left. */
async function quiescent(db: Db, now: () => Date, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let stuckSince: number | undefined;
  for (;;) {
    const at = now();
    const plan = await renewalPlan(db, { at, vault: true, dueBy: at });
    const unopened = plan.filter((i) => (i.route === "automatic" || i.route === "person") && i.renewal === null).length;
    const open = (await db.select({ state: renewals.state, next: renewals.nextAttemptAt, until: renewals.claimedUntil }).from(renewals)).filter(
      (r) => r.state === "due" || r.state === "running",
    );
    const claimable = open.filter((r) => r.next.getTime() <= at.getTime() && (r.until === null || r.until.getTime() < at.getTime())).length;
    const running = open.filter((r) => r.until !== null && r.until.getTime() >= at.getTime()).length;
    if (unopened === 0 && claimable === 0 && running === 0) return;
    // Held by a scheduler that was killed: its lease runs out with the next step.
    if (unopened === 0 && claimable === 0) {
      stuckSince ??= Date.now();
      if (Date.now() - stuckSince > 15_000) return;
    } else stuckSince = undefined;
    if (Date.now() > deadline)
      throw new Error(`${what}: not settled in 120 s (unopened ${String(unopened)}, claimable ${String(claimable)}, running ${String(running)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the three years and asserts the fleet's promises. */
async function simulate(
  db: Db,
  sim: RunningSimulator,
  fleet: Fleet,
  clock: { now(): Date; advance(ms: number): Promise<void> },
  seeded: Seeded,
): Promise<void> {
  const steps = Math.ceil((YEARS * 365) / STEP_DAYS);
  const killAt = Math.floor(steps / 2);
  const started = Date.now();
  await fleet.start(0);
  await fleet.start(1);
  for (let s = 0; s < steps; s++) {
    if (s === killAt) {
      // Mid-run: wait (briefly) until a renewal is being worked on, then kill the second scheduler.
      for (let i = 0; i < 20; i++) {
        const busy = (await db.select({ state: renewals.state }).from(renewals)).some((r) => r.state === "running");
        if (busy) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await fleet.kill(1);
    }
    if (s === killAt + 10) await fleet.start(1);
    const t = Date.now();
    await quiescent(db, () => clock.now(), `step ${String(s)} (${clock.now().toISOString()})`);
    if (s % 30 === 0 || Date.now() - t > 5_000) {
      const rows = await db.select({ state: renewals.state }).from(renewals);
      console.warn(
        `fleet: step ${String(s)}/${String(steps)} ${clock.now().toISOString().slice(0, 10)} renewals ${String(rows.length)} completed ${String(rows.filter((r) => r.state === "completed").length)} settled in ${String(Date.now() - t)} ms, ${String(Math.round((Date.now() - started) / 1000))} s so far`,
      );
    }
    await clock.advance(STEP_DAYS * DAY_MS);
  }
  await quiescent(db, () => clock.now(), "the last step");
  const end = clock.now();
  await fleet.stopAll();

  // No 429 from KSeF, ever.
  expect(sim.state.counters.rateLimited).toBe(0);

  const all = await db.select().from(certificates);
  const renewalRows = await db.select().from(renewals);
  expect(all.length).toBeGreaterThan(seeded.certificateCount);
  const completed = renewalRows.filter((r) => r.state === "completed");
  // Every seed certificate under an automatic policy whose renewal fell due in the run was renewed.
  const renewalOf = new Map(renewalRows.map((r) => [r.certificateId, r]));
  const unrenewed = all
    .filter((c) => c.source === "imported" && seeded.automaticCompanyIds.has(c.companyId) && c.validTo.getTime() - 60 * DAY_MS <= end.getTime())
    .filter((c) => renewalOf.get(c.id)?.state !== "completed")
    .map((c) => `${c.name} (${c.validTo.toISOString()}): ${renewalOf.get(c.id)?.state ?? "no renewal"} ${renewalOf.get(c.id)?.reasonId ?? ""}`);
  expect(unrenewed).toEqual([]);

  // No slot under an automatic policy ever without a valid certificate, from T0 to the end.
  const slots = new Map<string, { from: number; to: number }[]>();
  for (const c of all) {
    if (!seeded.automaticCompanyIds.has(c.companyId) || c.status !== "active") continue;
    const key = [c.scopeType, c.companyId, c.branchId, c.operatorId, c.environment, c.certificateType].join("|");
    slots.set(key, [...(slots.get(key) ?? []), { from: c.validFrom.getTime(), to: c.validTo.getTime() }]);
  }
  expect(slots.size).toBe(seeded.automaticCompanyIds.size * 10);
  const gaps: string[] = [];
  for (const [key, spans] of slots) {
    let covered = T0.getTime();
    for (const s of spans.sort((a, b) => a.from - b.from)) {
      if (s.from > covered) break;
      covered = Math.max(covered, s.to);
    }
    if (covered < end.getTime()) gaps.push(`${key} uncovered from ${new Date(covered).toISOString()}`);
  }
  expect(gaps).toEqual([]);

  // Every renewal that needs a person asked for the signature at least 30 days before expiry.
  const personRenewals = renewalRows.filter((r) => r.route === "person");
  expect(personRenewals.length).toBeGreaterThan(0);
  const byId = new Map(all.map((c) => [c.id, c]));
  for (const r of personRenewals) {
    const cert = byId.get(r.certificateId);
    expect(r.signatureRequestedAt, r.id).not.toBeNull();
    expect((cert?.validTo.getTime() ?? 0) - (r.signatureRequestedAt?.getTime() ?? Infinity)).toBeGreaterThanOrEqual(30 * DAY_MS);
  }

  // One enrollment per completed renewal, no key enrolled twice.
  const done = (await db.select({ state: enrollments.state }).from(enrollments)).filter((e) => e.state === "completed");
  expect(done.length).toBe(completed.length);
  expect(new Set(completed.map((r) => r.successorId)).size).toBe(completed.length);
  const issuedBySimulator = [...sim.state.certificates.values()];
  expect(sim.state.counters.certificatesIssued).toBe(completed.length);
  const spkis = issuedBySimulator.map((c) => c.spkiHex);
  expect(new Set(spkis).size).toBe(spkis.length);

  // Every renewal in the audit log: opened, and finished (or waiting) with its reason.
  const audit = (
    await db.select({ action: auditLog.action, entityId: auditLog.entityId, entityType: auditLog.entityType }).from(auditLog).orderBy(auditLog.seq)
  ).filter((a) => a.entityType === "renewal");
  const actionsOf = new Map<string, string[]>();
  for (const a of audit) actionsOf.set(a.entityId ?? "", [...(actionsOf.get(a.entityId ?? "") ?? []), a.action]);
  for (const r of renewalRows) {
    expect(actionsOf.get(r.id)?.[0], r.id).toBe("renewal.open");
    if (r.state === "completed") expect(actionsOf.get(r.id), r.id).toContain("renewal.complete");
  }
}

describe("fleet simulation on PGlite: two schedulers in one process, one stopped mid-run without releasing its claims", () => {
  let sim: RunningSimulator;
  let store: Store;
  let offset = 0;
  const clock = {
    now: (): Date => new Date(Date.now() + offset),
    advance: (ms: number): Promise<void> => {
      offset += ms;
      return Promise.resolve();
    },
  };
  beforeAll(async () => {
    offset = T0.getTime() - Date.now();
    sim = await startSimulator({ now: clock.now });
    store = await openStore({ dataDir: ":memory:" });
  }, 120_000);
  afterAll(async () => {
    await store.close();
    await sim.close();
  });

  it("renews 500 certificates of 50 companies over three years: no gap under automatic policies, people asked 30 days ahead, nothing twice, no 429", async () => {
    const masterKey = randomBytes(32);
    bindAuditKey(store.db, masterKey);
    const seeded = await seed(store.db, sim, masterKey);
    const vault = vaultFromMasterKey(masterKey);
    const db = store.db;
    const notifier = createSigningRequestNotifier();
    const schedulers: { abort: AbortController; loop: Promise<void> }[] = [];
    const makeEnrollment = () =>
      createEnrollmentService({
        db,
        client: (environment) =>
          createKsefClient({ baseUrl: sim.url, rateLimiter: createSharedRateLimiter({ db, now: () => clock.now().getTime(), prefix: environment }) }),
        now: clock.now,
        vault,
        handoff: createAgentHandoff({ db, notifier, now: clock.now, actor: "system" }),
        signerFor: (id) => unlockHeldCertificate(db, LOCAL_SYSTEM_PRINCIPAL, id, vault, { hint: "fleet" }),
        pollOptions: { intervalMs: 20 },
      });
    const fleet: Fleet = {
      start(i) {
        const abort = new AbortController();
        setMaxListeners(0, abort.signal);
        const enrollment = makeEnrollment();
        const instanceId = `fleet-${String(i)}-${randomUUID().slice(0, 8)}`;
        const loop = (async () => {
          while (!abort.signal.aborted) {
            await runDueRenewals({ db, enrollment, vault, clock: clock.now, instanceId, signal: abort.signal, leaseMs: 60_000 }).catch(() => undefined);
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
        schedulers[i] = { abort, loop };
        return Promise.resolve();
      },
      async kill(i) {
        // Stopped where it stands: claims stay as they are, as after a crash.
        schedulers[i]?.abort.abort();
        await schedulers[i]?.loop;
      },
      async stopAll() {
        for (const s of schedulers) s.abort.abort();
        await Promise.all(schedulers.map((s) => s.loop));
      },
    };
    await simulate(db, sim, fleet, clock, seeded);
  }, 900_000);
});

const postgresReady = DATABASE_URL !== undefined && DATABASE_URL !== "" && faketimeAvailable();
if (!postgresReady) {
  if (process.env["CI"] !== undefined) throw new Error("fleet simulation on PostgreSQL needs KSEF_CERTS_TEST_DATABASE_URL and libfaketime in CI");
  console.warn("fleet simulation on PostgreSQL skipped: KSEF_CERTS_TEST_DATABASE_URL or libfaketime (apt-get install faketime) missing");
}

describe.skipIf(!postgresReady)("fleet simulation on PostgreSQL: two `ksef-certs serve` processes, one killed with SIGKILL mid-run", () => {
  let sim: RunningSimulator;
  let vclock: VirtualClock;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let store: Store;
  let work = "";
  beforeAll(async () => {
    vclock = createVirtualClock({ start: T0 });
    sim = await startSimulator({ now: () => vclock.now() });
    scratch = await createScratchDatabase(DATABASE_URL ?? "");
    store = await openStore({ env: { DATABASE_URL: scratch.url } });
    work = await mkdtemp(join(tmpdir(), "ksef-fleet-"));
  }, 120_000);
  afterAll(async () => {
    await store.close();
    await scratch.drop();
    await sim.close();
    await vclock.close();
    if (work !== "") await rm(work, { recursive: true, force: true });
  }, 60_000);

  it("renews 500 certificates of 50 companies over three years: no gap under automatic policies, people asked 30 days ahead, nothing twice, no 429", async () => {
    const masterKey = randomBytes(32);
    const keyFile = join(work, "master.key");
    await writeFile(keyFile, masterKey, { mode: 0o600 });
    await writeFile(join(work, "admin.pass"), "Haslo-Admina-Floty-2027\n", { mode: 0o600 });
    bindAuditKey(store.db, masterKey);
    const seeded = await seed(store.db, sim, masterKey);
    const servers: (ServeProcess<undefined> | undefined)[] = [];
    const env = {
      ...vclock.env,
      DATABASE_URL: scratch.url,
      KSEF_CERTS_MASTER_KEY_FILE: keyFile,
      KSEF_CERTS_KSEF_URL: sim.url,
      KSEF_CERTS_AUDIT_CHECKPOINT: join(work, "audit.checkpoint"),
    } as Record<string, string>;
    const fleet: Fleet = {
      async start(i) {
        servers[i] = await startServe(undefined, { env, args: ["--renewal-interval", "200", "--admin-password-file", join(work, "admin.pass")] });
      },
      async kill(i) {
        const s = servers[i];
        await s?.kill();
        // libfaketime leaves its shared-memory files behind a process killed by a signal.
        if (s !== undefined) await removeFaketimeLeftovers(s.pid);
        servers[i] = undefined;
      },
      async stopAll() {
        await Promise.all(servers.map((s) => s?.stop() ?? Promise.resolve()));
      },
    };
    try {
      await simulate(store.db, sim, fleet, vclock, seeded);
    } finally {
      await fleet.stopAll();
    }
  }, 1_500_000);
});
