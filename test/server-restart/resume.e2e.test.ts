/**
 * The server resumes unfinished enrollments when it starts again. The built `ksef-certs serve` runs as a child
 * process on a temporary data folder (the embedded database with its own master key, or a scratch PostgreSQL
 * database when KSEF_CERTS_TEST_DATABASE_URL is set), against a KSeF simulator that lives in the test process, so
 * it outlives the server. An admin imports an operator's Authentication certificate
 * with its password sealed and asks for an Offline certificate signed in with it; the server is killed with
 * SIGKILL mid-enrollment, then started again on the same data folder and database. Killed while KSeF is still issuing the
 * certificate, or after KSeF recorded the request but before its answer reached the server (a proxy in front of
 * the simulator holds that one answer back), the enrollment must finish by itself, exactly once: one enrollment in
 * KSeF, one certificate in the registry, and an audit trail that goes through each step once.
 *
 * Both processes use the real clock (the server's challenge, KSeF's timestamps and the certificates' validity
 * must agree), so moving the process clock with faketime moves both.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it, onTestFinished } from "vitest";
import { encryptPrivateKeyPem, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { createScratchDatabase } from "@ksef-certs/testing/database";
import { issueKsefLikeCertificate } from "@ksef-certs/testing/certificates";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { startServe, type ServeProcess } from "../admin-web/browser.js";
import { pollUntil, signInAdmin, type AdminApi, type EnrollmentView } from "../signer-agent/admin-api.js";

const NIP = "5265877635";
const PESEL = "44051401458";
const ADMIN_PASSWORD = "Haslo-Admina-Restart-2026";
const HELD_KEY_PASSWORD = "Klucz-Logowania-2026!";
const NEW_KEY_PASSWORD = "Klucz-Offline-2026-bezpieczny!";
/** How long KSeF keeps the enrollment at status 100: the window the server is killed in. */
const KSEF_ISSUING_MS = 6_000;
const DAY_MS = 86_400_000;

let sim: RunningSimulator;
let ksef: KsefProxy;
let work = "";
let server: ServeProcess<string> | undefined;

beforeAll(async () => {
  sim = await startSimulator({ enrollmentDelayMs: KSEF_ISSUING_MS });
  ksef = await startProxy(sim.url);
  work = await mkdtemp(join(tmpdir(), "ksef-resume-"));
  await writeFile(join(work, "admin.pass"), `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  try {
    await server?.stop();
  } finally {
    await ksef.close();
    await sim.close();
    if (work !== "") await rm(work, { recursive: true, force: true });
  }
}, 30_000);

/** KSeF as the server sees it: the simulator behind a proxy that can hold back the answer to one enrollment request. */
interface KsefProxy {
  /** The base URL to give the server (`…/v2`). */
  readonly url: string;
  /** The next `POST /certificates/enrollments` reaches the simulator, but its answer is never sent; resolves once the simulator answered. */
  holdNextEnrollmentAnswer(): Promise<void>;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<KsefProxy> {
  const origin = new URL(target).origin;
  let hold: (() => void) | undefined;
  const held = new Set<ServerResponse>();
  const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && !["host", "connection", "content-length"].includes(k)) headers.set(k, v);
    const method = req.method ?? "GET";
    const answer = await fetch(`${origin}${req.url ?? "/"}`, { method, headers, ...(chunks.length === 0 ? {} : { body: Buffer.concat(chunks) }) });
    const body = Buffer.from(await answer.arrayBuffer());
    if (hold !== undefined && method === "POST" && (req.url ?? "").endsWith("/certificates/enrollments")) {
      // KSeF has the request (and answered); the server never learns the outcome.
      held.add(res);
      hold();
      hold = undefined;
      return;
    }
    const out: Record<string, string> = {};
    answer.headers.forEach((v, k) => {
      if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(k)) out[k] = v;
    });
    res.writeHead(answer.status, out).end(body);
  };
  const proxy = createServer((req, res) => {
    forward(req, res).catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  if (address === null || typeof address !== "object") throw new Error("the proxy has no port");
  return {
    url: `http://127.0.0.1:${String(address.port)}${new URL(target).pathname}`,
    holdNextEnrollmentAnswer: () => new Promise<void>((resolve) => (hold = resolve)),
    close: async () => {
      for (const res of held) res.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) =>
        proxy.close(() => {
          resolve();
        }),
      );
    },
  };
}

/** `ksef-certs serve` on a data folder, or the database `env` names, pointed at KSeF (the proxy) for every environment. */
async function serve(dataDir: string | undefined, env: Readonly<Record<string, string>>): Promise<ServeProcess<string>> {
  return startServe(dataDir, {
    args: ["--admin-password-file", join(work, "admin.pass")],
    env: { ...env, KSEF_CERTS_KSEF_URL: ksef.url, KSEF_CERTS_LOG_LEVEL: "info" },
    // The database it opened, as it prints it: the data folder, or the PostgreSQL URL without a password.
    ready: (stdout) => /^ksef-certs admin: \S+ {2}\(database: (.+)\)$/m.exec(stdout)?.[1],
  });
}

/**
 * The store of one run: the embedded database in the data folder (its master key made by the first start), or a
 * scratch PostgreSQL database with the master key in the environment, as an installation on PostgreSQL runs.
 */
async function storeFor(
  kind: "pglite" | "postgres",
): Promise<{ dataDir: string | undefined; printed: RegExp; env: Record<string, string>; drop: () => Promise<void> }> {
  if (kind === "pglite") {
    const dataDir = await mkdtemp(join(work, "data-"));
    return { dataDir, printed: new RegExp(`^${dataDir}`), env: {}, drop: () => Promise.resolve() };
  }
  const scratch = await createScratchDatabase(DATABASE_URL ?? "");
  // No --data-dir: it would win over DATABASE_URL.
  // The audit checkpoint goes beside the test's own files, never into this user's data folder.
  const env = {
    DATABASE_URL: scratch.url,
    KSEF_CERTS_MASTER_KEY: randomBytes(32).toString("base64"),
    KSEF_CERTS_AUDIT_CHECKPOINT: join(await mkdtemp(join(work, "pg-")), "audit-head.json"),
  };
  return { dataDir: undefined, printed: /^postgres:\/\//, env, drop: () => scratch.drop() };
}

/** Waits for an enrollment to reach a state, with the server's log in the failure message. */
function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  return pollUntil(what, read, done, { timeoutMs, intervalMs: 100, logs: () => `server:\n${server?.stderr().slice(-4000) ?? ""}` });
}

interface AuditEntry {
  seq: number;
  actor: string;
  action: string;
  before: { state?: string } | null;
  after: { state?: string } | null;
}

/**
 * Where the server dies: the state it is killed in, and whether KSeF's answer to the enrollment request is held back
 * (then nothing tells the server whether KSeF got the request: it must find the certificate of its key and adopt it).
 */
const KILL_POINTS = [
  { what: "while KSeF issues the certificate", state: "submitted", hold: false },
  { what: "after KSeF recorded the request, before its answer reached the server", state: "submitting", hold: true },
] as const;

const DATABASE_URL = process.env["KSEF_CERTS_TEST_DATABASE_URL"];
const CASES = (DATABASE_URL === undefined || DATABASE_URL === "" ? (["pglite"] as const) : (["pglite", "postgres"] as const)).flatMap((kind) =>
  KILL_POINTS.map((point) => ({ kind, ...point })),
);

/** Rejects after `ms` unless `p` settles first. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => {
        reject(new Error(`${what} did not happen within ${String(ms)} ms`));
      }, ms).unref(),
    ),
  ]);
}

it.each(CASES)(
  "[$kind] an automatic enrollment killed (SIGKILL) $what completes exactly once after the server starts again",
  async (point) => {
    const store = await storeFor(point.kind);
    onTestFinished(async () => {
      await server?.stop();
      await store.drop();
    });
    const before = { ...sim.state.counters };
    server = await serve(store.dataDir, store.env);
    expect(server.printed).toMatch(store.printed);
    let admin: AdminApi = await signInAdmin(server.url, "admin", ADMIN_PASSWORD);
    const company = await admin.mutation<{ id: string }>("org.addCompany", { nip: NIP, name: "Hurtownia Testowa" });
    const operator = await admin.mutation<{ id: string }>("org.addOperator", { companyId: company.id, name: "Jan Kowalski", pesel: PESEL });
    const scope = { companyId: company.id, operatorId: operator.id };

    // Jan's Authentication certificate, held with its password sealed: the server signs in with it unattended.
    const keys = await generateKeyPair("EC-P256");
    const held = await issueKsefLikeCertificate({
      certificateType: "Authentication",
      keys,
      enrollmentData: { commonName: "Jan Kowalski", countryName: "PL", givenName: "Jan", surname: "Kowalski", serialNumber: `PNOPL-${PESEL}` },
      validFrom: new Date(Date.now() - DAY_MS),
      validityDays: 365,
    });
    const keyPem = await encryptPrivateKeyPem(keys.privateKey, HELD_KEY_PASSWORD);
    const signing = await admin.mutation<{ id: string }>("certificates.importPair", {
      scope,
      environment: "test",
      mode: "current",
      name: "Jan Kowalski logowanie",
      certificateBase64: Buffer.from(held.der).toString("base64"),
      keyBase64: Buffer.from(keyPem).toString("base64"),
      password: HELD_KEY_PASSWORD,
      sealPassword: true,
    });

    const answerHeld = point.hold ? ksef.holdNextEnrollmentAnswer() : undefined;
    const { enrollmentId } = await admin.mutation<{ enrollmentId: string }>("enrollments.request", {
      scope,
      environment: "test",
      certificateType: "Offline",
      mode: "current",
      name: "Jan Kowalski offline",
      authMethod: "certificate",
      signingCertificateId: signing.id,
      keyPassword: NEW_KEY_PASSWORD,
      sealPassword: true,
    });
    const get = (api: AdminApi) => () => api.query<EnrollmentView>("enrollments.get", { id: enrollmentId });
    if (answerHeld !== undefined) await within(answerHeld, 60_000, "the enrollment request reaching KSeF");
    const reached = await until("the kill point", get(admin), (e) => e.state === point.state || e.state === "completed" || e.state === "failed", 60_000);
    expect(reached.state, JSON.stringify(reached)).toBe(point.state);
    // KSeF has the request and has not issued the certificate yet: the server dies now, mid-enrollment.
    await server.kill();
    const created = (): number[] => [
      sim.state.counters.enrollmentsCreated - before.enrollmentsCreated,
      sim.state.counters.certificatesIssued - before.certificatesIssued,
    ];
    expect(created()).toEqual([1, 0]);

    // The same data folder, a new process: nothing in memory, the key passwords and the KSeF session are sealed.
    server = await serve(store.dataDir, store.env);
    expect(server.printed).toMatch(store.printed);
    admin = await signInAdmin(server.url, "admin", ADMIN_PASSWORD);
    const done = await until("the resumed enrollment to finish", get(admin), (e) => e.state === "completed" || e.state === "failed", 90_000);
    expect(done.state, done.failureReason ?? "").toBe("completed");

    // Exactly once: one enrollment and one certificate in KSeF, one enrollment and one new certificate here.
    expect(created()).toEqual([1, 1]);
    expect(sim.state.certificates.has(done.certificateSerialNumber ?? "")).toBe(true);
    expect((await admin.query<EnrollmentView[]>("enrollments.list", {})).map((e) => [e.id, e.state])).toEqual([[enrollmentId, "completed"]]);
    const listed = await admin.query<{ items: { id: string; certificateType: string; serialNumber: string }[] }>("certificates.list", {
      operatorId: operator.id,
    });
    expect(listed.items.filter((c) => c.certificateType === "Offline")).toEqual([
      expect.objectContaining({ id: done.certificateId, serialNumber: done.certificateSerialNumber }),
    ]);
    expect(listed.items.map((c) => c.id).sort()).toEqual([signing.id, done.certificateId].sort());

    // The enrollment's audit trail: one unbroken chain of states, each entered once, the last ones by the resumed server.
    const trail = (await admin.query<{ entries: AuditEntry[] }>("audit.list", { entityId: enrollmentId, limit: 500 })).entries.sort((a, b) => a.seq - b.seq);
    expect(trail[0]?.action).toBe("enrollment.request");
    for (let i = 1; i < trail.length; i++) expect([i, trail[i]?.before?.state]).toEqual([i, trail[i - 1]?.after?.state]);
    const killedAt = ["requested", "key_generated", "authenticating", "authenticated", "submitting", "submitted"];
    const byAdmin = killedAt.slice(0, killedAt.indexOf(point.state) + 1).map((state) => ["user:admin", state]);
    const entered = trail.filter((e) => e.before?.state !== e.after?.state).map((e) => [e.actor, e.after?.state]);
    expect(entered).toEqual([...byAdmin, ["system", "completed"]]);
    expect(trail.map((e) => e.action)).not.toContain("enrollment.key_discarded");
    const recorded = (await admin.query<{ entries: AuditEntry[] }>("audit.list", { entityId: done.certificateId ?? "" })).entries;
    expect(recorded.map((e) => e.action)).toEqual(["certificate.record"]);
    const verified = await admin.query<{ ok: boolean }>("audit.verify");
    expect(verified.ok, JSON.stringify(verified)).toBe(true);
  },
  240_000,
);
