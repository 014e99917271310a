import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { assertKeyMatchesCertificate, encryptPrivateKeyPem, generateKeyPair, parseCertificate, readPrivateKey, type KeyPair } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate } from "@ksef-certs/ksef/testing";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import { KsefApiError, KsefStatusError } from "@ksef-certs/ksef/api";
import { recordCertificate, sealedPasswordAad } from "../registry/certificates.js";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { unseal } from "@ksef-certs/ksef/crypto";
import { auditLog, branches, certificates, companies, enrollments, operators, workstations } from "../store/schema.js";
import { signXml } from "@ksef-certs/ksef/xades";
import { FAKE_ENROLLMENT_DATA, FakeKsef, statusError, type FakeOp } from "./__fixtures__/fake-ksef.js";
import {
  createEnrollmentService,
  createFolderHandoff,
  isEnrollmentProgressEvent,
  type EnrollmentDeps,
  type EnrollmentHandoff,
  type EnrollmentProgress,
  type EnrollmentProgressEvent,
  type EnrollmentRequestInput,
  type EnrollmentService,
} from "./index.js";
import { vaultFromMasterKey } from "../vault/index.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const DAY = 86_400_000;
const PASSWORD = "Klucz-Testowy-2026!";
const MASTER_KEY = randomBytes(32);
const vault = vaultFromMasterKey(MASTER_KEY);

/** The operator's own Authentication certificate (signs automatic logins) and its key. */
let person: { keys: KeyPair; der: Uint8Array; keyFile: Uint8Array };

beforeAll(async () => {
  const keys = await generateKeyPair("EC-P256");
  const cert = await issueKsefLikeCertificate({ certificateType: "Authentication", keys, enrollmentData: FAKE_ENROLLMENT_DATA, validFrom: new Date(T0 - DAY) });
  const keyFile = new TextEncoder().encode(await encryptPrivateKeyPem(keys.privateKey, PASSWORD, { iterations: 1000 }));
  person = { keys, der: cert.der, keyFile };
});

/** Test time: short sleeps advance it; long ones (a challenge's lifetime) wait for `expire()` or an abort. */
class Timers {
  t = T0;
  private pending: (() => void)[] = [];
  readonly now = (): Date => new Date(this.t);
  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    if (ms < 60_000) {
      this.t += Math.max(0, ms);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push(resolve);
      signal?.addEventListener(
        "abort",
        () => {
          reject(new Error("aborted"));
        },
        { once: true },
      );
    });
  };
  /** The challenge lifetime passes. */
  expire(): void {
    this.t += 10 * 60_000;
    const p = this.pending;
    this.pending = [];
    for (const resolve of p) resolve();
  }
}

/** The folder hand-off as a person at the workstation would use it. */
class FakeHandoff implements EnrollmentHandoff {
  readonly published: { challenge: string; xml: Uint8Array; file: string; expiresAt: Date }[] = [];
  private readonly waiting = new Map<string, (bytes: Uint8Array) => void>();
  publish(req: { enrollmentId: string; workstationId: string; challenge: string; xml: Uint8Array; expiresAt: Date }): Promise<{ file: string }> {
    const file = `/srv/outbox/auth-${this.published.length + 1}.xml`;
    this.published.push({ challenge: req.challenge, xml: req.xml, file, expiresAt: req.expiresAt });
    return Promise.resolve({ file });
  }
  signed(req: { enrollmentId: string; challenge: string; signal: AbortSignal }): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      this.waiting.set(req.challenge, resolve);
      req.signal.addEventListener(
        "abort",
        () => {
          if (this.waiting.get(req.challenge) === resolve) this.waiting.delete(req.challenge);
          reject(new Error("hand-off wait aborted"));
        },
        { once: true },
      );
    });
  }
  /** The person signs the published file of `challenge` and drops it in the inbox. */
  async sign(challenge: string): Promise<Uint8Array> {
    const entry = this.published.find((p) => p.challenge === challenge);
    const resolve = this.waiting.get(challenge);
    if (entry === undefined || resolve === undefined) throw new Error(`nothing waits for ${challenge}`);
    const signedBytes = await signXml(entry.xml, { privateKey: person.keys.privateKey, certificate: person.der });
    resolve(signedBytes);
    return signedBytes;
  }
}

interface World {
  db: Db;
  companyId: string;
  branchId: string;
  operatorId: string;
  workstationId: string;
  signingCertificateId: string;
}

async function world(db: Db): Promise<World> {
  const [company] = await db.insert(companies).values({ nip: "5265877635", name: "Firma" }).returning();
  if (company === undefined) throw new Error("no company");
  const [branch] = await db.insert(branches).values({ companyId: company.id, code: "WAW", name: "Warszawa" }).returning();
  if (branch === undefined) throw new Error("no branch");
  const [operator] = await db.insert(operators).values({ companyId: company.id, name: "Jan Kowalski", pesel: "44051401359" }).returning();
  if (operator === undefined) throw new Error("no operator");
  const [ws] = await db.insert(workstations).values({ branchId: branch.id, name: "Kasa 1", outboxDir: "/srv/outbox", inboxDir: "/srv/inbox" }).returning();
  if (ws === undefined) throw new Error("no workstation");
  const signing = await recordCertificate(
    db,
    {
      scope: { type: "operator", operatorId: operator.id },
      environment: "test",
      mode: "current",
      name: "Jan auth",
      certificateDer: person.der,
      keyFile: person.keyFile,
      source: "imported",
    },
    { actor: "admin", at: new Date(T0) },
  );
  return { db, companyId: company.id, branchId: branch.id, operatorId: operator.id, workstationId: ws.id, signingCertificateId: signing.id };
}

/** Every progress event and every run's stop reason of every test here, checked against the event table after them all. */
const reported: {
  readonly enrollmentId: string;
  readonly message: string;
  readonly event: EnrollmentProgressEvent | undefined;
  readonly from: "progress" | "run";
}[] = [];

afterAll(() => {
  expect(reported.length).toBeGreaterThan(0);
  const templates = new Map<string, Set<string>>();
  for (const r of reported) {
    const what = `${r.message} → ${JSON.stringify(r.event)}`;
    expect(isEnrollmentProgressEvent(r.event), what).toBe(true);
    if (r.event === undefined) continue;
    // The params are the values the English sentence states; each progress kind is one sentence whatever the values
    // (a run's `message` is the bare reason, so only progress sentences count as templates).
    let template = r.message.split(r.enrollmentId).join("{enrollmentId}");
    for (const [name, value] of Object.entries(r.event.params).sort(([, a], [, b]) => String(b).length - String(a).length)) {
      expect(template, what).toContain(String(value));
      template = template.split(String(value)).join(`{${name}}`);
    }
    if (r.from === "progress") templates.set(r.event.kind, (templates.get(r.event.kind) ?? new Set()).add(template));
  }
  for (const [kind, forms] of templates) expect([...forms], kind).toHaveLength(1);
  const sentences = [...templates.values()].map((forms) => [...forms][0]);
  expect(new Set(sentences).size).toBe(sentences.length);
  // The scenarios below take these steps; a kind missing here means a step lost its event.
  for (const kind of [
    "enrollment.requested",
    "key.generated",
    "handoff.published",
    "handoff.renewing",
    "ksef.authenticating",
    "ksef.authenticated",
    "ksef.enrollmentAccepted",
    "certificate.issued",
    "certificate.stored",
    "certificate.storeBlocked",
    "key.discarded",
    "ksef.enrollmentCancelled",
    "run.retrying",
    "enrollment.failed",
    "password.needed",
  ]) {
    expect(reported.map((r) => r.event?.kind)).toContain(kind);
  }
});

function service(w: World, fake: FakeKsef, timers: Timers, extra: Partial<EnrollmentDeps> = {}, events: EnrollmentProgress[] = []): EnrollmentService {
  const s = createEnrollmentService({
    db: w.db,
    client: () => fake,
    now: timers.now,
    sleep: timers.sleep,
    signerFor: (id) => {
      if (id !== w.signingCertificateId) throw new Error("unknown signing certificate");
      return Promise.resolve({ privateKey: person.keys.privateKey, certificate: person.der });
    },
    vault,
    reconcileGraceMs: 30_000,
    reconcilePollMs: 10_000,
    onProgress: (e) => {
      events.push(e);
      reported.push({ ...e, from: "progress" });
    },
    ...extra,
  });
  const stopped = (r: Awaited<ReturnType<EnrollmentService["run"]>>): void => {
    if (r.message !== undefined) reported.push({ enrollmentId: r.enrollment.id, message: r.message, event: r.event, from: "run" });
  };
  return {
    ...s,
    run: async (id, options) => {
      const r = await s.run(id, options);
      stopped(r);
      return r;
    },
    resumeAll: async (options) => {
      const rs = await s.resumeAll(options);
      rs.forEach(stopped);
      return rs;
    },
  };
}

function offlineForOperator(w: World, extra: Partial<EnrollmentRequestInput> = {}): EnrollmentRequestInput {
  return {
    scope: { type: "operator", operatorId: w.operatorId },
    environment: "test",
    certificateType: "Offline",
    mode: "current",
    name: "Jan Offline",
    authMethod: "certificate",
    signingCertificateId: w.signingCertificateId,
    keyPassword: PASSWORD,
    sealPassword: true,
    ...extra,
  };
}

/** What must hold after any enrollment that completed: one certificate, its key opens and matches, no key enrolled twice, audit intact. */
async function assertCompletedOnce(w: World, fake: FakeKsef, enrollmentId: string): Promise<typeof certificates.$inferSelect> {
  const rows = await w.db.select().from(certificates).where(eq(certificates.enrollmentId, enrollmentId));
  expect(rows).toHaveLength(1);
  const cert = rows[0];
  if (cert === undefined) throw new Error("no certificate");
  expect(fake.issued.has(cert.serialNumber)).toBe(true);
  const key = await readPrivateKey(cert.keyFile, { password: PASSWORD });
  assertKeyMatchesCertificate(key.key, cert.certificateDer);
  for (const [spki, n] of fake.enrollmentsPerKey()) expect(n, `key ${spki} enrolled ${n} times`).toBe(1);
  const [e] = await w.db.select().from(enrollments).where(eq(enrollments.id, enrollmentId));
  expect(e).toMatchObject({ state: "completed", certificateId: cert.id, certificateSerialNumber: cert.serialNumber });
  expect((await verifyAuditLog(w.db)).ok).toBe(true);
  return cert;
}

async function auditActions(db: Db, enrollmentId: string): Promise<string[]> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.entityType, "enrollment"), eq(auditLog.entityId, enrollmentId)))
    .orderBy(asc(auditLog.seq));
  return rows.map((r) => `${r.action}:${String((r.after as { state?: string } | null)?.state)}`);
}

describeEachDb("enrollment", (ctx) => {
  it("validates every input rule at once and stores nothing for a bad request", async () => {
    const w = await world(ctx().db);
    const s = service(w, new FakeKsef(() => new Date(T0)), new Timers());
    const err = await s
      .request(offlineForOperator(w, { name: "ab", keyPassword: "short", validFrom: "not a date" }), { actor: "admin" })
      .catch((e: unknown) => e);
    expect(isKsefCertsError(err, "VALIDATION")).toBe(true);
    const rules = (err as { violations: { rule: string }[] }).violations.map((v) => v.rule);
    expect(rules).toEqual(expect.arrayContaining(["certificateName.length", "password.length", "validFrom.date"]));
    expect(await w.db.select().from(enrollments)).toHaveLength(0);
  });

  it("refuses what the registry would refuse later: a queued one without a current one, a second current one, an Offline signer", async () => {
    const w = await world(ctx().db);
    const s = service(w, new FakeKsef(() => new Date(T0)), new Timers());
    await expect(s.request(offlineForOperator(w, { mode: "queued" }), { actor: "admin" })).rejects.toMatchObject({
      code: "CONFLICT",
      details: { rule: "queuedNeedsCurrent" },
    });
    // The operator already holds a current Authentication certificate.
    await expect(s.request(offlineForOperator(w, { certificateType: "Authentication" }), { actor: "admin" })).rejects.toMatchObject({
      code: "CONFLICT",
      details: { rule: "oneCurrent" },
    });
    const offline = await recordCertificate(
      w.db,
      {
        scope: { type: "company", companyId: w.companyId },
        environment: "test",
        mode: "current",
        name: "Offline",
        certificateDer: (
          await issueKsefLikeCertificate({ certificateType: "Offline", keys: person.keys, enrollmentData: FAKE_ENROLLMENT_DATA, validFrom: new Date(T0 - DAY) })
        ).der,
        keyFile: person.keyFile,
        source: "imported",
      },
      { actor: "admin", at: new Date(T0) },
    );
    await expect(s.request(offlineForOperator(w, { signingCertificateId: offline.id }), { actor: "admin" })).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(s.request(offlineForOperator(w, { environment: "demo" }), { actor: "admin" })).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(
      s.request(offlineForOperator(w, { scope: { type: "operator", operatorId: "00000000-0000-4000-8000-000000000000" } }), { actor: "admin" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await w.db.select().from(enrollments)).toHaveLength(0);
  });

  it("stores a requested enrollment with its audit entry, the password only sealed", async () => {
    const w = await world(ctx().db);
    const s = service(w, new FakeKsef(() => new Date(T0)), new Timers());
    const e = await s.request(offlineForOperator(w), { actor: "admin" });
    expect(e).toMatchObject({
      state: "requested",
      scopeType: "operator",
      operatorId: w.operatorId,
      companyId: w.companyId,
      passwordSealed: true,
      publicKeySha256: null,
    });
    const [row] = await w.db.select().from(enrollments).where(eq(enrollments.id, e.id));
    expect(Buffer.from(row?.sealedPassword ?? []).includes(Buffer.from(PASSWORD))).toBe(false);
    expect(await auditActions(w.db, e.id)).toEqual(["enrollment.request:requested"]);
    expect(JSON.stringify(await w.db.select().from(auditLog))).not.toContain(PASSWORD);
  });

  it("enrolls automatically with the held Authentication certificate, through every state, and records the certificate", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const events: EnrollmentProgress[] = [];
    const s = service(w, fake, timers, {}, events);
    const e = await s.request(offlineForOperator(w), { actor: "admin" });
    const result = await s.run(e.id, { actor: "admin" });
    expect(result.outcome).toBe("completed");
    const cert = await assertCompletedOnce(w, fake, e.id);
    expect(cert).toMatchObject({
      mode: "current",
      certificateType: "Offline",
      source: "enrolled",
      name: "Jan Offline",
      scopeType: "operator",
      operatorId: w.operatorId,
    });
    // The sealed password moved to the certificate row, bound to it.
    expect(new TextDecoder().decode(unseal(MASTER_KEY, cert.sealedPassword ?? new Uint8Array(), sealedPasswordAad(cert.id)))).toBe(PASSWORD);
    expect(await auditActions(w.db, e.id)).toEqual([
      "enrollment.request:requested",
      "enrollment.state:key_generated",
      "enrollment.state:authenticating",
      "enrollment.state:authenticating",
      "enrollment.state:authenticated",
      "enrollment.state:submitting",
      "enrollment.state:submitted",
      "enrollment.state:submitted",
      "enrollment.state:completed",
    ]);
    // The CSR carried KSeF's enrollment data, and the one KSeF request was for the stored key.
    expect(fake.enrollments).toHaveLength(1);
    expect(fake.challenges).toHaveLength(1);
    const [row] = await w.db.select().from(enrollments).where(eq(enrollments.id, e.id));
    expect(row?.sealedSession).toBeNull();
    const audit = JSON.stringify(await w.db.select().from(auditLog));
    for (const secret of [PASSWORD, "ENCRYPTED PRIVATE KEY"]) expect(audit).not.toContain(secret);
    // The fake's tokens are acc-/ref- and ten upper-case hex digits; a random UUID may hold "acc-" (…-4acc-…), never this.
    expect(audit).not.toMatch(/\b(?:acc|ref)-[0-9A-F]{10}\b/);
    expect(events.map((x) => x.message).join("\n")).not.toContain(PASSWORD);
    expect(await s.run(e.id)).toMatchObject({ outcome: "completed" });
    expect(fake.enrollments).toHaveLength(1);
  });

  it("hand-off: writes auth.xml, renews an expired challenge with a new file and a message, submits the signed bytes unchanged", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const handoff = new FakeHandoff();
    const events: EnrollmentProgress[] = [];
    const s = service(w, fake, timers, { handoff }, events);
    const e = await s.request(
      {
        scope: { type: "branch", branchId: w.branchId },
        environment: "test",
        certificateType: "Authentication",
        mode: "current",
        name: "Oddzial WAW",
        authMethod: "handoff",
        workstationId: w.workstationId,
        keyPassword: PASSWORD,
      },
      { actor: "admin" },
    );
    const running = s.run(e.id);
    await vi.waitFor(() => {
      expect(handoff.published).toHaveLength(1);
    });
    const first = handoff.published[0];
    expect(new TextDecoder().decode(first?.xml)).toContain(`<Challenge>${first?.challenge ?? "?"}</Challenge>`);
    expect(new TextDecoder().decode(first?.xml)).toContain("<Nip>5265877635</Nip>");
    await vi.waitFor(async () => {
      expect((await s.get(e.id)).handoffFile).toBe(first?.file);
    });
    expect((await s.get(e.id)).state).toBe("awaiting_signature");
    timers.expire();
    await vi.waitFor(() => {
      expect(handoff.published).toHaveLength(2);
    });
    const second = handoff.published[1];
    expect(second?.challenge).not.toBe(first?.challenge);
    expect(events.some((x) => /expired/.test(x.message))).toBe(true);
    await vi.waitFor(async () => {
      expect((await s.get(e.id)).handoffFile).toBe(second?.file);
    });
    const signedBytes = await handoff.sign(second?.challenge ?? "");
    const result = await running;
    expect(result.outcome).toBe("completed");
    expect(fake.submittedXml).toHaveLength(1);
    expect(Buffer.from(fake.submittedXml[0] ?? []).equals(Buffer.from(signedBytes))).toBe(true);
    const cert = await assertCompletedOnce(w, fake, e.id);
    expect(cert).toMatchObject({ scopeType: "branch", branchId: w.branchId, certificateType: "Authentication", sealedPassword: null });
  });

  it("hand-off: a restart while the person signs keeps waiting for the same file", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const handoff = new FakeHandoff();
    const s1 = service(w, fake, timers, { handoff });
    const e = await s1.request(
      {
        scope: { type: "branch", branchId: w.branchId },
        environment: "test",
        certificateType: "Authentication",
        mode: "current",
        name: "Oddzial WAW",
        authMethod: "handoff",
        workstationId: w.workstationId,
        keyPassword: PASSWORD,
        sealPassword: true,
      },
      { actor: "admin" },
    );
    const ac = new AbortController();
    const first = s1.run(e.id, { signal: ac.signal });
    await vi.waitFor(async () => {
      expect((await s1.get(e.id)).handoffFile).not.toBeNull();
    });
    ac.abort(new Error("Ctrl-C"));
    await expect(first).rejects.toThrow();
    expect((await s1.get(e.id)).state).toBe("awaiting_signature");
    const s2 = service(w, fake, timers, { handoff });
    const second = s2.run(e.id);
    await vi.waitFor(() => {
      expect(fake.challenges).toHaveLength(1);
    });
    // Give the resumed run time to (wrongly) publish a second file before the person signs.
    await new Promise((r) => setTimeout(r, 50));
    expect(handoff.published).toHaveLength(1);
    await vi.waitFor(() => handoff.sign(handoff.published[0]?.challenge ?? ""));
    expect((await second).outcome).toBe("completed");
    await assertCompletedOnce(w, fake, e.id);
  });

  it("folder hand-off: auth.xml lands in the workstation's outbox, a signed file under any name in the inbox is submitted unchanged", async () => {
    const w = await world(ctx().db);
    const root = await mkdtemp(join(tmpdir(), "ksef-enroll-"));
    try {
      const outboxDir = join(root, "outbox");
      const inboxDir = join(root, "inbox");
      await Promise.all([mkdir(outboxDir), mkdir(inboxDir)]);
      await w.db.update(workstations).set({ outboxDir, inboxDir }).where(eq(workstations.id, w.workstationId));
      const timers = new Timers();
      const fake = new FakeKsef(timers.now);
      const handoff = createFolderHandoff({ db: w.db, now: timers.now, stabilityMs: 50, pollIntervalMs: 20, rescanIntervalMs: 500 });
      const s = service(w, fake, timers, { handoff });
      const e = await s.request(
        {
          scope: { type: "branch", branchId: w.branchId },
          environment: "test",
          certificateType: "Authentication",
          mode: "current",
          name: "Oddzial WAW",
          authMethod: "handoff",
          workstationId: w.workstationId,
          keyPassword: PASSWORD,
        },
        { actor: "admin" },
      );
      const running = s.run(e.id);
      const names = await vi.waitFor(
        async () => {
          const found = (await readdir(outboxDir)).filter((n) => n.endsWith(".xml"));
          expect(found).toHaveLength(1);
          // The file is written before the row records it: wait for both, as a person's program would see them.
          expect((await s.get(e.id)).handoffFile).toBe(join(outboxDir, found[0] ?? ""));
          return found;
        },
        { timeout: 10_000 },
      );
      const published = await readFile(join(outboxDir, names[0] ?? ""));
      expect(published.toString("utf8")).toContain(`<Challenge>${fake.challenges[0] ?? "?"}</Challenge>`);
      expect((await s.get(e.id)).handoffFile).toBe(join(outboxDir, names[0] ?? ""));
      const signedBytes = await signXml(published, { privateKey: person.keys.privateKey, certificate: person.der });
      await writeFile(join(inboxDir, "podpisany przez Jana.xml"), signedBytes);
      const result = await running;
      expect(result.outcome, result.message).toBe("completed");
      expect(fake.submittedXml).toHaveLength(1);
      expect(Buffer.from(fake.submittedXml[0] ?? []).equals(Buffer.from(signedBytes))).toBe(true);
      await assertCompletedOnce(w, fake, e.id);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 30_000);

  const crashPoints: [FakeOp | "signer", "before" | "after"][] = [
    ["challenge", "before"],
    ["signer", "before"],
    ["submitXadesSignature", "before"],
    ["submitXadesSignature", "after"],
    ["waitForAuthentication", "before"],
    ["redeemToken", "after"],
    ["certificateLimits", "before"],
    ["enrollmentData", "before"],
    ["enrollCertificate", "before"],
    ["enrollCertificate", "after"],
    ["waitForEnrollment", "before"],
    ["retrieveCertificates", "before"],
    ["retrieveCertificates", "after"],
  ];
  it.each(crashPoints)("a crash at %s (%s) resumes in a new process without enrolling a key twice or losing the certificate", async (op, when) => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    let crashSigner = op === "signer";
    const s1 = service(w, fake, timers, {
      signerFor: () => {
        if (crashSigner) {
          crashSigner = false;
          throw new Error("simulated crash before signing");
        }
        return Promise.resolve({ privateKey: person.keys.privateKey, certificate: person.der });
      },
    });
    const e = await s1.request(offlineForOperator(w), { actor: "admin" });
    if (op !== "signer") fake.crash(op, when);
    await expect(s1.run(e.id)).rejects.toThrow(/simulated crash/);
    const stateAfterCrash = (await s1.get(e.id)).state;
    // A new process: nothing in memory, the password comes from the sealed copy.
    timers.t += 60_000;
    const s2 = service(w, fake, timers);
    const result = await s2.run(e.id);
    expect(result.outcome, result.message).toBe("completed");
    await assertCompletedOnce(w, fake, e.id);
    const actions = await auditActions(w.db, e.id);
    if (op === "enrollCertificate" && when === "before") {
      // KSeF never got it: reconciling finds nothing, the key is discarded and a new one enrolled once.
      expect(stateAfterCrash).toBe("submitting");
      expect(actions.filter((a) => a.startsWith("enrollment.key_discarded"))).toHaveLength(1);
      expect(fake.enrollments).toHaveLength(1);
    } else if (op === "enrollCertificate" && when === "after") {
      // KSeF got it but the reference was never stored: the issued certificate is found and adopted, nothing resent.
      expect(stateAfterCrash).toBe("submitting");
      expect(actions.some((a) => a.startsWith("enrollment.key_discarded"))).toBe(false);
      expect(fake.enrollments).toHaveLength(1);
    } else {
      expect(actions.some((a) => a.startsWith("enrollment.key_discarded"))).toBe(false);
      expect(fake.enrollments).toHaveLength(1);
    }
  });

  it("an unknown outcome of the enrollment request is reconciled on the next run, never resent", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const s = service(w, fake, timers);
    const e = await s.request(offlineForOperator(w), { actor: "admin" });
    fake.fail(
      "enrollCertificate",
      () =>
        new KsefApiError("IO", "KSeF failed while handling the enrollment (HTTP 502); KSeF may have processed it anyway.", {
          operation: "POST /certificates/enrollments",
          httpStatus: 502,
          outcomeUnknown: true,
          retryable: true,
        }),
      "after",
    );
    const first = await s.run(e.id);
    expect(first).toMatchObject({ outcome: "retry", enrollment: { state: "submitting", ksefReferenceNumber: null } });
    const second = await s.run(e.id);
    expect(second.outcome).toBe("completed");
    expect(fake.enrollments).toHaveLength(1);
    await assertCompletedOnce(w, fake, e.id);
  });

  it("reconciling waits the grace period for KSeF before discarding the key", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const s1 = service(w, fake, timers);
    const e = await s1.request(offlineForOperator(w), { actor: "admin" });
    fake.crash("enrollCertificate", "before");
    await expect(s1.run(e.id)).rejects.toThrow(/simulated crash/);
    const submittedAt = (await s1.get(e.id)).submittedAt?.getTime() ?? 0;
    let queries = 0;
    const original = fake.queryCertificates.bind(fake);
    fake.queryCertificates = (...args) => {
      queries++;
      return original(...args);
    };
    const s2 = service(w, fake, timers);
    expect((await s2.run(e.id)).outcome).toBe("completed");
    // 30 s grace, polled every 10 s: the first query at once, then until the grace ran out.
    expect(queries).toBeGreaterThanOrEqual(3);
    expect(timers.t).toBeGreaterThanOrEqual(submittedAt + 30_000);
  });

  it("keeps the KSeF code and a readable reason when KSeF rejects", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const s = service(w, fake, timers);
    const a = await s.request(offlineForOperator(w), { actor: "admin" });
    fake.fail("waitForEnrollment", () => statusError(400));
    const ra = await s.run(a.id);
    expect(ra).toMatchObject({ outcome: "failed", enrollment: { state: "failed", failureCode: 400 } });
    expect(ra.enrollment.failureReason).toMatch(/rejected/);
    expect(ra.enrollment.ksefReferenceNumber).not.toBeNull();

    const b = await s.request(offlineForOperator(w, { name: "Jan Offline 2" }), { actor: "admin" });
    fake.fail(
      "enrollCertificate",
      () =>
        new KsefApiError("VALIDATION", "KSeF refused the enrollment: 25003 Dane CSR niezgodne.", {
          operation: "POST /certificates/enrollments",
          httpStatus: 400,
          problem: { format: "problem-details", errors: [{ code: 25003, description: "Dane CSR niezgodne.", details: [] }] },
          retryable: false,
        }),
    );
    const rb = await s.run(b.id);
    expect(rb).toMatchObject({ outcome: "failed", enrollment: { state: "failed", failureCode: 25003 } });
    expect(rb.enrollment.failureReason).toContain("25003");
    expect(await w.db.select().from(certificates).where(eq(certificates.source, "enrolled"))).toHaveLength(0);
  });

  it("retryable faults leave the state for a later run; KSeF cancelling an enrollment (550) re-enrolls with a new key", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const s = service(w, fake, timers);
    const e = await s.request(offlineForOperator(w), { actor: "admin" });
    fake.fail(
      "waitForAuthentication",
      () =>
        new KsefStatusError("IO", "KSeF authentication failed: 550 Operacja anulowana.", {
          operation: "GET /auth/{referenceNumber}",
          referenceNumber: "x",
          statusCode: 550,
          statusDescription: "Anulowano",
          statusDetails: [],
        }),
    );
    expect(await s.run(e.id)).toMatchObject({ outcome: "retry", enrollment: { state: "authenticating" } });
    fake.fail("waitForEnrollment", () => statusError(550));
    expect((await s.run(e.id)).outcome).toBe("completed");
    expect(fake.enrollments).toHaveLength(2);
    expect(new Set(fake.enrollments.map((x) => x.spkiSha256)).size).toBe(2);
    expect((await auditActions(w.db, e.id)).filter((a) => a.startsWith("enrollment.key_discarded"))).toHaveLength(1);
    await assertCompletedOnce(w, fake, e.id);
  });

  it("resumes with the sealed KSeF session, and signs in again when KSeF ended it", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const s1 = service(w, fake, timers);
    const a = await s1.request(offlineForOperator(w), { actor: "admin" });
    fake.crash("enrollmentData", "before");
    await expect(s1.run(a.id)).rejects.toThrow(/simulated crash/);
    expect(fake.challenges).toHaveLength(1);
    expect((await service(w, fake, timers).run(a.id)).outcome).toBe("completed");
    expect(fake.challenges).toHaveLength(1);

    const b = await s1.request(offlineForOperator(w, { certificateType: "Authentication", mode: "queued", name: "Jan auth 2" }), { actor: "admin" });
    fake.crash("waitForEnrollment", "before");
    await expect(s1.run(b.id)).rejects.toThrow(/simulated crash/);
    fake.endSessions();
    const rb = await service(w, fake, timers).run(b.id);
    expect(rb.outcome).toBe("completed");
    expect(fake.challenges).toHaveLength(3);
    const cert = await assertCompletedOnce(w, fake, b.id);
    expect(cert.mode).toBe("queued");
  });

  it("waits for the key password when a new process has neither it nor a sealed copy", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const s1 = service(w, fake, timers);
    const e = await s1.request(offlineForOperator(w, { sealPassword: false }), { actor: "admin" });
    fake.crash("challenge", "before");
    await expect(s1.run(e.id)).rejects.toThrow(/simulated crash/);
    const s2 = service(w, fake, timers);
    expect(await s2.run(e.id)).toMatchObject({ outcome: "waiting", enrollment: { state: "key_generated" } });
    expect(fake.challenges).toHaveLength(0);
    expect(await s2.run(e.id, { keyPassword: "Zle-Haslo-123456!" })).toMatchObject({ outcome: "waiting" });
    expect((await s2.run(e.id, { keyPassword: PASSWORD })).outcome).toBe("completed");
    const cert = await assertCompletedOnce(w, fake, e.id);
    expect(cert.sealedPassword).toBeNull();
  });

  it("a registry rule that refuses the issued certificate blocks without losing it; it completes once the rule allows", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const s = service(w, fake, timers);
    const e = await s.request(offlineForOperator(w), { actor: "admin" });
    fake.crash("retrieveCertificates", "before");
    await expect(s.run(e.id)).rejects.toThrow(/simulated crash/);
    // Meanwhile someone imported a current Offline certificate for the same operator.
    const other = await recordCertificate(
      w.db,
      {
        scope: { type: "operator", operatorId: w.operatorId },
        environment: "test",
        mode: "current",
        name: "Imported",
        certificateDer: (
          await issueKsefLikeCertificate({ certificateType: "Offline", keys: person.keys, enrollmentData: FAKE_ENROLLMENT_DATA, validFrom: new Date(T0 - DAY) })
        ).der,
        keyFile: person.keyFile,
        source: "imported",
      },
      { actor: "admin", at: timers.now() },
    );
    const blocked = await s.run(e.id);
    expect(blocked).toMatchObject({ outcome: "blocked", enrollment: { state: "submitted" } });
    expect(blocked.enrollment.certificateSerialNumber).toMatch(/^[0-9A-F]{16}$/);
    expect(blocked.enrollment.failureReason).toMatch(/current/);
    await w.db.update(certificates).set({ status: "revoked", revokedAt: timers.now() }).where(eq(certificates.id, other.id));
    expect((await s.resumeAll()).map((r) => r.outcome)).toEqual(["completed"]);
    const cert = await assertCompletedOnce(w, fake, e.id);
    expect(cert.serialNumber).toBe(blocked.enrollment.certificateSerialNumber);
    expect(parseCertificate(cert.certificateDer).ksefType).toBe("Offline");
  });

  it("resumeAll carries every open enrollment on and leaves finished ones alone", async () => {
    const w = await world(ctx().db);
    const timers = new Timers();
    const fake = new FakeKsef(timers.now);
    const s1 = service(w, fake, timers);
    const a = await s1.request(offlineForOperator(w), { actor: "admin" });
    timers.t += 1000;
    const b = await s1.request(offlineForOperator(w, { scope: { type: "company", companyId: w.companyId }, name: "Firma Offline" }), { actor: "admin" });
    fake.crash("waitForEnrollment", "before");
    await expect(s1.run(a.id)).rejects.toThrow(/simulated crash/);
    const results = await service(w, fake, timers).resumeAll();
    expect(results.map((r) => [r.enrollment.id, r.outcome])).toEqual([
      [a.id, "completed"],
      [b.id, "completed"],
    ]);
    expect(await service(w, fake, timers).resumeAll()).toEqual([]);
    expect(fake.enrollments).toHaveLength(2);
  });
});
