/**
 * The agent hand-off end to end: the KSeF simulator, the store, the core enrollment
 * service with `createAgentHandoff`, and the admin server's agent API (`createAgentApi`) over real HTTP. The
 * test plays the signer agent: it pairs, long-polls for the pending request, signs `auth.xml` as the person
 * would (XAdES with a PESEL certificate) and uploads it; the enrollment then finishes with the certificate
 * issued by the simulator. A second run lets the challenge expire first: the agent learns that its request was
 * replaced (`replacedBy`), an upload for the old one is 410, and the renewed one completes the enrollment.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAgentHandoff,
  createPairingCode,
  createSigningRequestNotifier,
  listSigningRequests,
  sha256Hex,
  type SigningRequestNotifier,
} from "@ksef-certs/domain/agent";
import { generateKeyPair, type KeyPair } from "@ksef-certs/ksef/crypto";
import { createEnrollmentService, type EnrollmentRunResult, type EnrollmentService } from "@ksef-certs/domain/enrollment";
import { createKsefClient } from "@ksef-certs/ksef/api";
import { listCertificates, type Operator } from "@ksef-certs/domain/registry";
import { openStore, verifyAuditLog, type Store } from "@ksef-certs/domain/store";
import { createScratchDatabase, type ScratchDatabase } from "@ksef-certs/testing/database";
import { createTestOrganisation } from "@ksef-certs/testing/organisation";
import { selfSignedCertificate } from "@ksef-certs/testing/certificates";
import { signXml } from "@ksef-certs/ksef/xades";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { createAgentApi } from "../../apps/admin/src/server/agent/index.js";

const NIP = "5265877635";
const PESEL = "44051401458";
/** Someone else (Ewa Lis), who must not be able to enroll Jan's certificate by signing his auth.xml. */
const OTHER_PESEL = "02070803628";
const PASSWORD = "Klucz-KSeF-2026-bezpieczny!";
const meta = { actor: "test:agent-e2e" };
const KINDS = process.env.KSEF_CERTS_TEST_DATABASE_URL ? (["pglite", "postgres"] as const) : (["pglite"] as const);

/** Real time plus an offset that `expire()` moves past a challenge's lifetime, waking the service's long sleeps. */
class Clock {
  private offset = 0;
  private readonly sleepers = new Set<() => void>();
  readonly now = (): Date => new Date(Date.now() + this.offset);
  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
      signal?.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          this.sleepers.delete(done);
          reject(new Error("aborted"));
        },
        { once: true },
      );
    });
  /** Ten minutes and a second pass: every challenge issued so far has expired. */
  expire(): void {
    this.offset += 10 * 60_000 + 1000;
    for (const wake of [...this.sleepers]) wake();
  }
}

/**
 * Serves a fetch handler on 127.0.0.1 (a free port) under `prefix`, as the admin server mounts the agent API
 * (this package does not depend on Hono's node adapter; the handler sees paths without the prefix).
 */
async function serveUnderPrefix(prefix: string, handle: (request: Request) => Response | Promise<Response>): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (!url.pathname.startsWith(`${prefix}/`)) {
        res.writeHead(404).end();
        return;
      }
      url.pathname = url.pathname.slice(prefix.length);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks);
      void Promise.resolve(handle(new Request(url, { method: req.method ?? "GET", headers, ...(body === undefined ? {} : { body }) }))).then(
        async (response) => {
          res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
          res.end(Buffer.from(await response.arrayBuffer()));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

interface WireRequest {
  id: string;
  enrollmentId: string | null;
  challenge: string;
  contextIdentifier: { type: string; value: string };
  fileName: string;
  xmlBase64: string;
  expiresAt: string;
  status: string;
  replacedBy?: string;
}

for (const kind of KINDS) {
  describe(`agent hand-off: enrollment, agent API and simulator [${kind}]`, () => {
    let sim: RunningSimulator;
    let store: Store;
    let scratch: ScratchDatabase | undefined;
    let server: Server;
    let base: string;
    let notifier: SigningRequestNotifier;
    let clock: Clock;
    let service: EnrollmentService;
    let jan: Operator;
    let workstationId: string;
    let auth: Record<string, string>;
    let person: { keys: KeyPair; certificate: Uint8Array };
    let otherPerson: { keys: KeyPair; certificate: Uint8Array };

    /** The agent's long poll. */
    async function poll(after: string | undefined, waitMs = 25_000): Promise<{ requests: WireRequest[]; cursor: string }> {
      const q = new URLSearchParams({ waitMs: String(waitMs), ...(after === undefined ? {} : { after }) });
      const res = await fetch(`${base}/requests?${q.toString()}`, { headers: auth });
      expect(res.status).toBe(200);
      return (await res.json()) as { requests: WireRequest[]; cursor: string };
    }

    /** Polls until a pending request of `enrollmentId` other than `not` arrives. */
    async function pendingOf(
      enrollmentId: string,
      cursor: string | undefined,
      not?: string,
    ): Promise<{ request: WireRequest; cursor: string; seen: WireRequest[] }> {
      const seen: WireRequest[] = [];
      for (let i = 0; i < 20; i++) {
        const answer = await poll(cursor);
        seen.push(...answer.requests);
        cursor = answer.cursor;
        const r = answer.requests.find((x) => x.enrollmentId === enrollmentId && x.status === "pending" && x.id !== not);
        if (r !== undefined) return { request: r, cursor, seen };
      }
      throw new Error("no pending request arrived");
    }

    function upload(id: string, bytes: Uint8Array): Promise<Response> {
      return fetch(`${base}/requests/${id}/signed`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/octet-stream", "X-Content-SHA256": sha256Hex(bytes) },
        body: bytes,
      });
    }

    async function requestEnrollment(name: string, scope: { type: "operator"; operatorId: string } | { type: "company"; companyId: string }): Promise<string> {
      const requested = await service.request(
        { scope, environment: "test", certificateType: "Authentication", mode: "current", name, authMethod: "handoff", workstationId, keyPassword: PASSWORD },
        meta,
      );
      return requested.id;
    }

    beforeAll(async () => {
      sim = await startSimulator({ enrollmentDelayMs: 100 });
      if (kind === "postgres") {
        scratch = await createScratchDatabase(process.env.KSEF_CERTS_TEST_DATABASE_URL ?? "");
        store = await openStore({ databaseUrl: scratch.url, env: {} });
      } else {
        store = await openStore({ dataDir: ":memory:", env: {} });
      }
      const org = await createTestOrganisation(
        store.db,
        {
          nip: NIP,
          name: "Hurtownia Testowa",
          // The folders are the workstation's, not the server's: the server never touches them in the agent hand-off.
          branches: [
            { code: "WAW", name: "Oddział Warszawa", workstations: [{ name: "kasa-1", outboxDir: "C:\\KSeF\\do-podpisu", inboxDir: "C:\\KSeF\\podpisane" }] },
          ],
          operators: [{ name: "Jan Kowalski", pesel: PESEL, branchCodes: ["WAW"] }],
        },
        meta,
      );
      jan = org.operators["Jan Kowalski"]!;
      workstationId = org.workstations["kasa-1"]!.id;

      clock = new Clock();
      notifier = createSigningRequestNotifier();
      service = createEnrollmentService({
        db: store.db,
        client: () => createKsefClient({ baseUrl: sim.url }),
        handoff: createAgentHandoff({ db: store.db, notifier, now: clock.now, pollIntervalMs: 500 }),
        now: clock.now,
        sleep: clock.sleep,
        pollOptions: { intervalMs: 100 },
      });
      server = await serveUnderPrefix("/agent/v1", createAgentApi({ db: store.db, notifier, now: clock.now }).fetch);
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent/v1`;

      const keys = await generateKeyPair("EC-P256");
      const cert = await selfSignedCertificate(keys, [
        { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
        { oid: "2.5.4.42", value: "Jan", stringType: "UTF8String" },
        { oid: "2.5.4.4", value: "Kowalski", stringType: "UTF8String" },
        { oid: "2.5.4.5", value: `PNOPL-${PESEL}`, stringType: "PrintableString" },
        { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
      ]);
      person = { keys, certificate: cert.der };
      const otherKeys = await generateKeyPair("EC-P256");
      const otherCert = await selfSignedCertificate(otherKeys, [
        { oid: "2.5.4.3", value: "Ewa Lis", stringType: "UTF8String" },
        { oid: "2.5.4.5", value: `PNOPL-${OTHER_PESEL}`, stringType: "PrintableString" },
        { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
      ]);
      otherPerson = { keys: otherKeys, certificate: otherCert.der };

      const { code } = await createPairingCode(store.db, { workstationId, actor: "user:admin", now: clock.now() });
      const paired = await fetch(`${base}/pair`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code, label: "kasa-1 e2e" }),
      });
      expect(paired.status).toBe(200);
      auth = { Authorization: `Bearer ${((await paired.json()) as { token: string }).token}` };
    }, 120_000);

    afterAll(async () => {
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await store.close();
      await scratch?.drop();
      await sim.close();
    });

    it("requests an Authentication certificate by hand-off; the agent gets it by long poll, signs, uploads; the certificate is issued", async () => {
      const enrollmentId = await requestEnrollment("Jan Kowalski logowanie", { type: "operator", operatorId: jan.id });
      const start = await poll(undefined, 0);
      const running = service.run(enrollmentId);
      const { request } = await pendingOf(enrollmentId, start.cursor);
      expect(request.contextIdentifier).toEqual({ type: "Nip", value: NIP });
      const xml = Buffer.from(request.xmlBase64, "base64");
      expect(xml.toString("utf8")).toContain(request.challenge);

      expect(request.fileName).toContain("-Jan-Kowalski-");

      // Signed by another person: refused before anything reaches KSeF (it would issue the certificate to her); the request stays pending.
      const byOther = await signXml(xml, { privateKey: otherPerson.keys.privateKey, certificate: otherPerson.certificate });
      const refused = await upload(request.id, byOther);
      expect(refused.status).toBe(400);
      const refusal = (await refused.json()) as { error: { reason: string; message: string } };
      expect(refusal.error.reason).toBe("wrong-signer");
      expect(refusal.error.message).toContain(`signed by PESEL ${OTHER_PESEL}, but this request is for Jan Kowalski (PESEL ${PESEL})`);
      expect(refusal.error.message).toContain(`Plik podpisał(a) PESEL ${OTHER_PESEL}`);
      expect(await listSigningRequests(store.db, { enrollmentId })).toMatchObject([{ id: request.id, status: "pending", signedSha256: null }]);

      const signed = await signXml(xml, { privateKey: person.keys.privateKey, certificate: person.certificate });
      const res = await upload(request.id, signed);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: "signed", signer: { identity: { type: "Pesel", value: PESEL } } });
      // The agent retries after a lost answer: no second submission.
      expect(await (await upload(request.id, signed)).json()).toEqual({ status: "duplicate" });

      const result: EnrollmentRunResult = await running;
      expect(result.outcome, result.message).toBe("completed");
      const [cert] = await listCertificates(store.db, { operatorId: jan.id });
      expect(cert).toMatchObject({
        id: result.enrollment.certificateId,
        certificateType: "Authentication",
        subjectIdentifierType: "Pesel",
        subjectIdentifierValue: PESEL,
      });
      const [stored] = await listSigningRequests(store.db, { enrollmentId });
      expect(stored).toMatchObject({ id: request.id, status: "submitted", signedSha256: sha256Hex(signed) });
      expect(sim.state.counters.certificatesIssued).toBe(1);
      expect((await verifyAuditLog(store.db)).ok).toBe(true);
    });

    it("the challenge expires unsigned: a renewed request replaces it (replacedBy), the old upload is 410, the new one completes", async () => {
      const enrollmentId = await requestEnrollment("Hurtownia logowanie", { type: "company", companyId: jan.companyId });
      const start = await poll(undefined, 0);
      const running = service.run(enrollmentId);
      const first = await pendingOf(enrollmentId, start.cursor);
      const lateSigned = await signXml(Buffer.from(first.request.xmlBase64, "base64"), { privateKey: person.keys.privateKey, certificate: person.certificate });

      clock.expire();
      const renewed = await pendingOf(enrollmentId, first.cursor, first.request.id);
      // The agent may first see the old request expired (its challenge ran out) and then, with the renewal, replaced.
      const sightings = renewed.seen.filter((r) => r.id === first.request.id);
      expect(sightings.at(-1)).toMatchObject({ status: "expired", replacedBy: renewed.request.id });
      expect(renewed.request.challenge).not.toBe(first.request.challenge);

      const refused = await upload(first.request.id, lateSigned);
      expect(refused.status).toBe(410);
      const body = (await refused.json()) as { error: { code: string; message: string }; replacedBy?: string };
      expect(body.error.code).toBe("CONFLICT");
      expect(body.replacedBy).toBe(renewed.request.id);

      const signed = await signXml(Buffer.from(renewed.request.xmlBase64, "base64"), { privateKey: person.keys.privateKey, certificate: person.certificate });
      expect((await upload(renewed.request.id, signed)).status).toBe(200);
      const result = await running;
      expect(result.outcome, result.message).toBe("completed");
      const all = await listSigningRequests(store.db, { enrollmentId });
      expect(all.map((r) => [r.id, r.status, r.replacedBy])).toEqual([
        [renewed.request.id, "submitted", undefined],
        [first.request.id, "expired", renewed.request.id],
      ]);
      expect(sim.state.counters.certificatesIssued).toBe(2);
    });
  });
}
