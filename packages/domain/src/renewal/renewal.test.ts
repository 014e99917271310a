import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { rejection } from "@ksef-certs/ksef/testing";
import { LOCAL_SYSTEM_PRINCIPAL } from "../access/held.js";
import type { Principal } from "../access/rules.js";
import type { EnrollmentRequestInput, EnrollmentRunResult, EnrollmentSummary } from "../enrollment/model.js";
import { DAY, SEAL, testCertificate, testKey, type TestKey } from "../registry/__fixtures__/certs.js";
import { recordCertificate, sealedPasswordAad } from "../registry/certificates.js";
import { addBranch, addCompany, addOperator, addWorkstation } from "../registry/organisation.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { auditLog, ksefCallGrants, renewals } from "../store/schema.js";
import { vaultFromMasterKey } from "../vault/index.js";
import { createSharedRateLimiter } from "./pacing.js";
import { decideRenewal, type PlanCertificate, renewalPlan } from "./plan.js";
import { DEFAULT_RENEWAL_POLICY, effectivePolicy, getRenewalPolicyAs, setRenewalPolicyAs } from "./policy.js";
import { claimRenewals, MAX_RENEWAL_ATTEMPTS, runDueRenewals, type RenewalSchedulerDeps } from "./scheduler.js";
import { approveRenewalAs } from "./use-cases.js";

const T0 = new Date("2027-03-01T08:00:00Z");
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);
const META = { actor: "admin", at: T0 };
const vault = vaultFromMasterKey(randomBytes(32));
let key: TestKey;
beforeAll(async () => {
  key = await testKey();
});

async function organisation(db: Db) {
  const company = await addCompany(db, { nip: "5265877635", name: "Hurtownia" }, META);
  const b1 = await addBranch(db, { companyId: company.id, code: "WAW", name: "Warszawa" }, META);
  const b2 = await addBranch(db, { companyId: company.id, code: "KRK", name: "Kraków" }, META);
  const jan = await addOperator(db, { companyId: company.id, name: "Jan Kowalski", pesel: "44051401359", branchIds: [b1.id] }, META);
  const w1 = await addWorkstation(db, { branchId: b1.id, name: "kasa-1", outboxDir: "/tmp/o", inboxDir: "/tmp/i" }, META);
  return { company, b1, b2, jan, w1 };
}

/** A current company-seal certificate of `type` expiring `expiresInDays` after T0, its password sealed or not. */
async function current(
  db: Db,
  scope: Parameters<typeof recordCertificate>[1]["scope"],
  type: "Authentication" | "Offline",
  expiresInDays: number,
  sealed = true,
) {
  const id = crypto.randomUUID();
  const der = await testCertificate(key, type, at(expiresInDays - 730), 730, SEAL);
  return recordCertificate(
    db,
    {
      id,
      scope,
      environment: "test",
      mode: "current",
      name: `Pieczęć ${type}`,
      certificateDer: der,
      keyFile: key.keyFile,
      source: "imported",
      ...(sealed ? { sealedPassword: vault.seal(new TextEncoder().encode(key.password), sealedPasswordAad(id)) } : {}),
    },
    { actor: "admin", at: at(expiresInDays - 730) },
  );
}

/** An enrollment service double: records requests, completes each run by recording a queued successor. */
function fakeEnrollment(db: Db, behaviour: (n: number) => "complete" | "retry" | "fail" = () => "complete") {
  const requests: { input: EnrollmentRequestInput; id: string }[] = [];
  const states = new Map<string, { state: string; certificateId: string | null; failureReason: string | null }>();
  let runs = 0;
  const summary = (id: string): EnrollmentSummary => {
    const s = states.get(id);
    if (s === undefined) throw new KsefCertsError("NOT_FOUND", { id: "renewal.notFound" });
    return { id, state: s.state, certificateId: s.certificateId, failureReason: s.failureReason } as unknown as EnrollmentSummary;
  };
  const service: RenewalSchedulerDeps["enrollment"] = {
    request(input, meta) {
      const id = meta.enrollmentId ?? crypto.randomUUID();
      requests.push({ input, id });
      states.set(id, { state: "requested", certificateId: null, failureReason: null });
      return Promise.resolve(summary(id));
    },
    async run(id): Promise<EnrollmentRunResult> {
      runs++;
      const what = behaviour(runs);
      const req = requests.find((r) => r.id === id);
      if (req === undefined) throw new Error("unknown enrollment");
      if (what === "retry") {
        return {
          outcome: "retry",
          enrollment: summary(id),
          message: "KSeF 503",
          error: new KsefCertsError("IO", { id: "renewal.notFound" }, { retryable: true }),
        };
      }
      if (what === "fail") {
        states.set(id, { state: "failed", certificateId: null, failureReason: "refused" });
        return { outcome: "failed", enrollment: summary(id), message: "refused" };
      }
      const der = await testCertificate(key, req.input.certificateType, at(0), 730, SEAL);
      const cert = await recordCertificate(
        db,
        {
          scope: req.input.scope,
          environment: "test",
          mode: req.input.mode,
          name: req.input.name,
          certificateDer: der,
          keyFile: key.keyFile,
          source: "enrolled",
          enrollmentId: id,
        },
        { actor: "system", at: at(0) },
      );
      states.set(id, { state: "completed", certificateId: cert.id, failureReason: null });
      return { outcome: "completed", enrollment: summary(id) };
    },
    get: async (id) => Promise.resolve(summary(id)),
  };
  return { service, requests, runs: () => runs };
}

describe("decideRenewal (pure)", () => {
  const base: PlanCertificate = {
    id: "c1",
    name: "Pieczęć",
    scopeType: "company",
    companyId: "co",
    branchId: null,
    operatorId: null,
    environment: "test",
    certificateType: "Authentication",
    mode: "current",
    status: "active",
    validFrom: at(-671),
    validTo: at(59),
    passwordSealed: true,
  };
  const arbPolicy = fc.record({
    renewBeforeDays: fc.integer({ min: 1, max: 365 }),
    approval: fc.constantFrom("automatic" as const, "ask_first" as const),
    signing: fc.constantFrom("certificate" as const, "person" as const),
    workstationId: fc.option(fc.constant("w1"), { nil: null }),
    personLeadDays: fc.integer({ min: 1, max: 365 }),
    successorMode: fc.constantFrom("queued" as const, "current" as const),
    keyAlgorithm: fc.constantFrom("EC-P256" as const, "RSA-2048" as const),
    password: fc.constantFrom("reuse" as const, "generate" as const, "ask" as const),
  });
  it("never renews by itself what it cannot: automatic only with a vault, a signer valid on the due date with a sealed password, and no approval asked", () => {
    fc.assert(
      fc.property(
        arbPolicy,
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("Authentication" as const, "Offline" as const),
        fc.integer({ min: -30, max: 400 }),
        (values, vaultOn, sealed, type, expiresIn) => {
          const cert = { ...base, certificateType: type, validTo: at(expiresIn), passwordSealed: sealed };
          const d = decideRenewal(cert, {
            policy: effectivePolicy([["company", values]]),
            slot: [cert],
            holderAuthentication: [],
            at: T0,
            vault: vaultOn,
            approved: false,
          });
          if (d.route === "automatic") {
            expect(vaultOn).toBe(true);
            expect(values.approval).toBe("automatic");
            expect(values.password).not.toBe("ask");
            // An Offline certificate has no holder Authentication here: it can never sign itself.
            expect(type).toBe("Authentication");
            expect(d.signerCertificateId).toBe(cert.id);
            expect(cert.validTo.getTime()).toBeGreaterThan(Math.max(T0.getTime(), d.dueAt.getTime()));
          }
          if (d.route === "person") expect(d.workstationId).toBe("w1");
          // A person is asked at least the person lead ahead.
          if (d.signing === "person") expect(cert.validTo.getTime() - d.dueAt.getTime()).toBeGreaterThanOrEqual(values.personLeadDays * DAY);
          expect(cert.validTo.getTime() - d.dueAt.getTime()).toBeGreaterThanOrEqual(values.renewBeforeDays * DAY);
        },
      ),
    );
  });
  it("an Offline certificate is renewed with the holder's valid Authentication certificate; without one, by a person at the workstation", () => {
    const offline = { ...base, id: "off", certificateType: "Offline" as const };
    const auth = { ...base, id: "auth", validTo: at(400) };
    const policy = effectivePolicy([["company", { workstationId: "w1" }]]);
    const withAuth = decideRenewal(offline, { policy, slot: [offline], holderAuthentication: [auth], at: T0, vault: true, approved: false });
    expect(withAuth).toMatchObject({ route: "automatic", signerCertificateId: "auth" });
    const expiredAuth = decideRenewal(offline, {
      policy,
      slot: [offline],
      holderAuthentication: [{ ...auth, validTo: at(-1) }],
      at: T0,
      vault: true,
      approved: false,
    });
    expect(expiredAuth).toMatchObject({ route: "person", workstationId: "w1", signerCertificateId: null });
    // The person lead (30 days) is shorter than the 60-day lead: due 60 days ahead either way.
    expect(expiredAuth.dueAt).toEqual(at(59 - 60));
    const queued = { ...base, id: "next", mode: "queued" as const, validFrom: at(1), validTo: at(731) };
    expect(decideRenewal(base, { policy, slot: [base, queued], holderAuthentication: [], at: T0, vault: true, approved: false })).toMatchObject({
      route: "renewed",
      successorId: "next",
    });
  });
});

describeEachDb("renewal policies, the plan and the scheduler", (ctx) => {
  it("inherits each value company → branch → operator and says where it comes from; a bad value names its rule; a branch admin cannot set the company's", async () => {
    const db = ctx().db;
    const o = await organisation(db);
    await setRenewalPolicyAs(db, LOCAL_SYSTEM_PRINCIPAL, { companyId: o.company.id }, { renewBeforeDays: 90, password: "generate" }, META);
    await setRenewalPolicyAs(
      db,
      LOCAL_SYSTEM_PRINCIPAL,
      { companyId: o.company.id, branchId: o.b1.id },
      { approval: "ask_first", workstationId: o.w1.id },
      META,
    );
    await setRenewalPolicyAs(db, LOCAL_SYSTEM_PRINCIPAL, { companyId: o.company.id, operatorId: o.jan.id }, { renewBeforeDays: 45 }, META);
    const jan = await getRenewalPolicyAs(db, LOCAL_SYSTEM_PRINCIPAL, { companyId: o.company.id, operatorId: o.jan.id });
    expect(jan.own).toEqual({ renewBeforeDays: 45 });
    expect(jan.effective.values).toMatchObject({
      renewBeforeDays: 45,
      password: "generate",
      approval: "ask_first",
      workstationId: o.w1.id,
      keyAlgorithm: "EC-P256",
    });
    expect(jan.effective.sources).toMatchObject({ renewBeforeDays: "operator", password: "company", approval: "branch", keyAlgorithm: "default" });
    // Cleared: inherited again.
    const cleared = await setRenewalPolicyAs(db, LOCAL_SYSTEM_PRINCIPAL, { companyId: o.company.id, operatorId: o.jan.id }, { renewBeforeDays: null }, META);
    expect(cleared.effective.values.renewBeforeDays).toBe(90);
    const bad = await rejection(
      setRenewalPolicyAs(db, LOCAL_SYSTEM_PRINCIPAL, { companyId: o.company.id }, { renewBeforeDays: 0, approval: "sometimes" as never }, META),
    );
    expect(bad).toMatchObject({ code: "VALIDATION" });
    expect(bad.violations.map((v) => v.rule).sort()).toEqual(["policy.approval.known", "policy.days.range"]);
    const branchAdmin: Principal = {
      userId: "u",
      login: "b1",
      roles: [{ role: "branch_admin", companyId: o.company.id, branchId: o.b1.id }],
    } as unknown as Principal;
    expect(await rejection(setRenewalPolicyAs(db, branchAdmin, { companyId: o.company.id }, { renewBeforeDays: 10 }, META))).toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await rejection(setRenewalPolicyAs(db, branchAdmin, { companyId: o.company.id, branchId: o.b2.id }, { renewBeforeDays: 10 }, META))).toMatchObject({
      code: "NOT_FOUND",
    });
    const audit = await db.select().from(auditLog).where(eq(auditLog.action, "renewal.policy"));
    expect(audit).toHaveLength(4);
  });

  it("plans an automatic renewal 60 days ahead for a sealed certificate expiring in 59 days, and blocks one whose password is not sealed", async () => {
    const db = ctx().db;
    const o = await organisation(db);
    const sealed = await current(db, { type: "company", companyId: o.company.id }, "Authentication", 59);
    const unsealed = await current(db, { type: "branch", branchId: o.b2.id }, "Authentication", 100, false);
    const plan = await renewalPlan(db, { at: T0, vault: true });
    const byId = new Map(plan.map((i) => [i.certificate.id, i]));
    expect(byId.get(sealed.id)).toMatchObject({ route: "automatic", dueAt: at(-1), signerCertificateId: sealed.id, reason: null });
    expect(byId.get(unsealed.id)).toMatchObject({ route: "blocked", reason: { id: "renewal.blocked.passwordNotSealed" } });
    expect((await renewalPlan(db, { at: T0, vault: false })).every((i) => i.route === "blocked" && i.reason?.id === "renewal.blocked.noMasterKey")).toBe(true);
    expect(await renewalPlan(db, { at: T0, vault: true, dueBy: T0 })).toHaveLength(1);
  });

  it("renews a due certificate once: a queued successor, the renewal completed and audited; the next pass does nothing; the takeover is persisted at expiry", async () => {
    const db = ctx().db;
    const o = await organisation(db);
    const cert = await current(db, { type: "company", companyId: o.company.id }, "Authentication", 59);
    const fake = fakeEnrollment(db);
    const deps = { db, enrollment: fake.service, vault, clock: () => T0, instanceId: "a" };
    const first = await runDueRenewals(deps);
    expect(first).toMatchObject({ opened: 1, completed: 1, failed: 0 });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.input).toMatchObject({
      mode: "queued",
      authMethod: "certificate",
      signingCertificateId: cert.id,
      sealPassword: true,
      keyPassword: key.password,
      keyAlgorithm: "EC-P256",
    });
    const [r] = await db.select().from(renewals);
    expect(r).toMatchObject({ state: "completed", certificateId: cert.id, enrollmentsStarted: 1, claimedBy: null });
    expect(await runDueRenewals(deps)).toMatchObject({ opened: 0, claimed: 0, completed: 0 });
    expect(fake.requests).toHaveLength(1);
    const actions = (await db.select({ a: auditLog.action }).from(auditLog).where(eq(auditLog.entityType, "renewal"))).map((x) => x.a);
    expect(actions).toEqual(["renewal.open", "renewal.complete"]);
    // At expiry the pass persists the successor's takeover.
    const later = await runDueRenewals({ ...deps, clock: () => at(59) });
    expect(later.promoted).toBe(1);
  });

  it("retries a passing fault with backoff, then gives up after the attempt limit with the reason; a refused enrollment is started again with a new one", async () => {
    const db = ctx().db;
    const o = await organisation(db);
    await current(db, { type: "company", companyId: o.company.id }, "Authentication", 59);
    const fake = fakeEnrollment(db, (n) => (n === 1 ? "fail" : "retry"));
    let now = T0;
    const deps = { db, enrollment: fake.service, vault, clock: () => now, instanceId: "a", retryDelaysMs: [60_000] };
    await runDueRenewals(deps);
    let [r] = await db.select().from(renewals);
    expect(r).toMatchObject({ state: "due", attempts: 1, enrollmentId: null, reasonId: "renewal.retrying" });
    // Not before its time.
    expect(await runDueRenewals(deps)).toMatchObject({ claimed: 0 });
    for (let i = 0; i < MAX_RENEWAL_ATTEMPTS; i++) {
      now = new Date(now.getTime() + 61_000);
      await runDueRenewals(deps);
    }
    [r] = await db.select().from(renewals);
    expect(r).toMatchObject({ state: "failed", attempts: MAX_RENEWAL_ATTEMPTS, reasonId: "renewal.failed" });
    // One enrollment per refusal, the same one resumed across passing faults.
    expect(fake.requests).toHaveLength(2);
    expect(r?.enrollmentsStarted).toBe(2);
  });

  it("ask-first waits for an admin's approval; approving a renewal that does not wait is refused; with the password asked, it is sealed and used", async () => {
    const db = ctx().db;
    const o = await organisation(db);
    await setRenewalPolicyAs(db, LOCAL_SYSTEM_PRINCIPAL, { companyId: o.company.id }, { password: "ask" }, META);
    await current(db, { type: "company", companyId: o.company.id }, "Authentication", 59);
    const fake = fakeEnrollment(db);
    const deps = { db, enrollment: fake.service, vault, clock: () => T0, instanceId: "a" };
    expect(await runDueRenewals(deps)).toMatchObject({ opened: 1, completed: 0 });
    const [r] = await db.select().from(renewals);
    expect(r).toMatchObject({ state: "awaiting_approval", reasonId: "renewal.waiting.password" });
    expect(await rejection(approveRenewalAs(db, LOCAL_SYSTEM_PRINCIPAL, { renewalId: r?.id ?? "", vault }, META))).toMatchObject({ code: "VALIDATION" });
    expect(await rejection(approveRenewalAs(db, LOCAL_SYSTEM_PRINCIPAL, { renewalId: r?.id ?? "", keyPassword: "krotkie", vault }, META))).toMatchObject({
      code: "VALIDATION",
    });
    await approveRenewalAs(db, LOCAL_SYSTEM_PRINCIPAL, { renewalId: r?.id ?? "", keyPassword: "Nowe-Haslo-Klucza!2027", vault }, META);
    expect(await rejection(approveRenewalAs(db, LOCAL_SYSTEM_PRINCIPAL, { renewalId: r?.id ?? "", vault }, META))).toMatchObject({ code: "CONFLICT" });
    expect(await runDueRenewals(deps)).toMatchObject({ completed: 1 });
    expect(fake.requests[0]?.input.keyPassword).toBe("Nowe-Haslo-Klucza!2027");
    const [done] = await db.select().from(renewals);
    expect(done?.sealedPassword).toBeNull();
    // The audit entry of the approval never holds the password.
    const audit = await db.select().from(auditLog).where(eq(auditLog.action, "renewal.approve"));
    expect(JSON.stringify(audit)).not.toContain("Nowe-Haslo");
  });

  it("two schedulers never claim the same renewal; a lapsed lease is taken over and the stored enrollment id is resumed, not a new one", async () => {
    const db = ctx().db;
    const o = await organisation(db);
    for (let i = 0; i < 6; i++) {
      const b = await addBranch(db, { companyId: o.company.id, code: `B${String(i)}`, name: `Oddział ${String(i)}` }, META);
      await current(db, { type: "branch", branchId: b.id }, "Authentication", 10 + i);
    }
    const fake = fakeEnrollment(db);
    // Opened by one pass that claims nothing (no routes): six due renewals.
    await runDueRenewals({ db, enrollment: fake.service, vault, clock: () => T0, instanceId: "x", routes: [] });
    const [a, b] = await Promise.all([
      claimRenewals(db, { at: T0, instanceId: "a", leaseMs: 60_000, limit: 4 }),
      claimRenewals(db, { at: T0, instanceId: "b", leaseMs: 60_000, limit: 4 }),
    ]);
    const ids = [...a, ...b].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(6);
    // Instance "a" stored an enrollment id and died before creating the enrollment.
    const victim = a[0];
    if (victim === undefined) throw new Error("nothing claimed");
    await db.update(renewals).set({ enrollmentId: "3f9a8f0e-0d8c-4a55-9e51-8b2f6e1c7a10", state: "running" }).where(eq(renewals.id, victim.id));
    // Within the lease nobody else takes them; after it, the next pass does, and resumes that id.
    expect(await claimRenewals(db, { at: new Date(T0.getTime() + 30_000), instanceId: "c", leaseMs: 60_000, limit: 10 })).toEqual([]);
    const pass = await runDueRenewals({ db, enrollment: fake.service, vault, clock: () => new Date(T0.getTime() + 61_000), instanceId: "c" });
    expect(pass.completed).toBe(6);
    expect(fake.requests.map((r) => r.id)).toContain("3f9a8f0e-0d8c-4a55-9e51-8b2f6e1c7a10");
    expect(fake.requests).toHaveLength(6);
  });

  it("the shared KSeF rate limiter keeps two processes together under every window and waits out the rest", async () => {
    const db = ctx().db;
    let now = T0.getTime();
    const slept: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    };
    const windows = [
      { limit: 10, windowMs: 1_000 },
      { limit: 30, windowMs: 60_000 },
    ];
    const one = createSharedRateLimiter({ db, now: () => now, sleep, prefix: "test" });
    const two = createSharedRateLimiter({ db, now: () => now, sleep, prefix: "test" });
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      await (i % 2 === 0 ? one : two).acquire("POST /certificates/enrollments", windows);
      times.push(now);
    }
    const inWindow = (t: number, w: number): number => times.filter((x) => x > t - w && x <= t).length;
    for (const t of times) {
      expect(inWindow(t, 1_000)).toBeLessThanOrEqual(10);
      expect(inWindow(t, 60_000)).toBeLessThanOrEqual(30);
    }
    expect(slept.length).toBeGreaterThan(0);
    // Another environment has its own counters.
    const other = createSharedRateLimiter({ db, now: () => now, sleep, prefix: "demo" });
    const before = slept.length;
    await other.acquire("POST /certificates/enrollments", windows);
    expect(slept.length).toBe(before);
    expect((await db.select().from(ksefCallGrants)).length).toBe(41);
  });
});

it("the defaults are the ministry's advice: 60 days ahead, automatic, queued successor", () => {
  expect(DEFAULT_RENEWAL_POLICY).toMatchObject({ renewBeforeDays: 60, approval: "automatic", successorMode: "queued", personLeadDays: 30 });
});
