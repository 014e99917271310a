/**
 * The server side the end-to-end suites run the agent against: the admin server's agent API (`createAgentApi`
 * from apps/admin/src/server/agent, over core `./agent` on an embedded PGlite store) mounted at `/agent/v1`,
 * with challenges issued by the KSeF simulator. A request's "submission" is the server accepting a signed file
 * (`signed`); {@link AgentBackend.authenticate} then posts the bytes the server stored to the simulator, which
 * must accept them as they are.
 */
import {
  createPairingCode,
  createSigningRequest,
  createSigningRequestNotifier,
  listWorkstationTokens,
  revokeWorkstationToken,
  type SigningRequestNotifier,
} from "@ksef-certs/domain/agent";
import { buildAuthTokenRequest, createKsefClient, type KsefClient } from "@ksef-certs/ksef/api";
import { openStore, type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { signAuthTokenRequest } from "@ksef-certs/ksef/xades";
import { startSimulator, type RunningSimulator } from "@ksef-certs/ksef-simulator";
import { createAgentApi } from "../../apps/admin/src/server/agent/index.js";
import { serveLocalApi } from "../../apps/signer-agent/src/local-api.js";
import { NIP, selfSignedPerson, type Signer } from "../ksef-protocol/fixtures.js";

/** A signing request as the suites see it. */
export interface BackendRequest {
  readonly id: string;
  readonly challenge: string;
  readonly xml: Uint8Array;
  readonly fileName: string;
}

/** What the suites need from the server side. */
export interface AgentBackend {
  /** The admin server's base URL (the agent appends `/agent/v1`). */
  readonly url: string;
  pairingCode(): Promise<string>;
  /** A new pending request for the workstation, with a fresh simulator challenge. */
  createRequest(): Promise<BackendRequest>;
  /** Expires a request by renewing it (a new challenge for the same enrollment); returns the renewal. */
  expire(id: string): Promise<BackendRequest>;
  /** The request's auth.xml signed as the person would. */
  sign(r: BackendRequest): Promise<Uint8Array>;
  /** How many signed files the server accepted for a request (0 or 1). */
  submissions(id: string): Promise<number>;
  /** The stored signed bytes, posted to the simulator's `POST /auth/xades-signature`: resolves when KSeF would log in with them. */
  authenticate(id: string): Promise<void>;
  revokeTokens(): Promise<void>;
  close(): Promise<void>;
}

let person: Signer | undefined;
let sim: RunningSimulator | undefined;
let ksef: KsefClient | undefined;
let shared: { store: Store; notifier: SigningRequestNotifier; companyId: string; branchId: string; url: string; close: () => Promise<void> } | undefined;
let seq = 0;

/** One store and one admin agent API per test file (opening PGlite and migrating takes seconds). */
async function sharedServer(): Promise<NonNullable<typeof shared>> {
  if (shared !== undefined) return shared;
  const store: Store = await openStore({ dataDir: ":memory:", env: {} });
  const [c] = await store.db.insert(schema.companies).values({ nip: NIP, name: "Hurtownia Testowa" }).returning();
  const [b] = await store.db
    .insert(schema.branches)
    .values({ companyId: c?.id ?? "", code: "WAW", name: "Oddział Warszawa" })
    .returning();
  const notifier: SigningRequestNotifier = createSigningRequestNotifier();
  const api = createAgentApi({ db: store.db, notifier, version: "e2e" });
  // Mount at /agent/v1 with the API's own Hono class (the test package does not depend on hono itself).
  const Root = api.constructor as new () => typeof api;
  const root = new Root();
  root.route("/agent/v1", api);
  const served = await serveLocalApi(root, 0);
  shared = { store, notifier, companyId: c?.id ?? "", branchId: b?.id ?? "", url: `http://127.0.0.1:${served.port}`, close: served.close };
  return shared;
}

/**
 * The server side for one test: a new workstation (and hand-off enrollment) on the file's shared admin agent API;
 * the simulator is shared by the file's tests too.
 * @param workstation the folders the workstation is configured with on the server
 */
export async function startBackend(workstation: { outboxDir: string; inboxDir: string }): Promise<AgentBackend> {
  person ??= await selfSignedPerson({ givenName: "Anna", surname: "Nowak" });
  sim ??= await startSimulator();
  ksef ??= createKsefClient({ baseUrl: sim.url });
  const signer = person;
  const client = ksef;
  const server = await sharedServer();
  const { notifier } = server;
  const db = server.store.db;
  const [w] = await db
    .insert(schema.workstations)
    .values({ branchId: server.branchId, name: `kasa-${++seq}`, ...workstation })
    .returning();
  const workstationId = w?.id ?? "";
  // One hand-off enrollment per request (a new request in the same enrollment replaces the older one).
  const newEnrollment = async (): Promise<string> => {
    const [e] = await db
      .insert(schema.enrollments)
      .values({
        scopeType: "company",
        companyId: server.companyId,
        environment: "test",
        certificateType: "Authentication",
        mode: "current",
        name: "e2e",
        state: "awaiting_signature",
        authMethod: "handoff",
        workstationId,
      })
      .returning({ id: schema.enrollments.id });
    return e?.id ?? "";
  };
  const enrollmentOf = new Map<string, string>();

  const input = (challenge: string): Parameters<typeof buildAuthTokenRequest>[0] => ({
    challenge,
    contextIdentifier: { type: "Nip", value: NIP },
    subjectIdentifierType: "certificateSubject",
  });
  const createRequest = async (enrollmentId?: string): Promise<BackendRequest> => {
    const enrollment = enrollmentId ?? (await newEnrollment());
    const { challenge } = await client.challenge();
    const xml = new TextEncoder().encode(buildAuthTokenRequest(input(challenge)));
    const view = await createSigningRequest(db, {
      workstationId,
      enrollmentId: enrollment,
      challenge,
      contextIdentifier: { type: "Nip", value: NIP },
      xml,
      expiresAt: new Date(Date.now() + 600_000),
      notifier,
    });
    enrollmentOf.set(view.id, enrollment);
    return { id: view.id, challenge, xml, fileName: view.fileName };
  };
  const row = async (id: string): Promise<typeof schema.signingRequests.$inferSelect | undefined> =>
    (await db.select().from(schema.signingRequests)).find((r) => r.id === id);
  return {
    url: server.url,
    pairingCode: async () => (await createPairingCode(db, { workstationId, actor: "e2e" })).code,
    createRequest: () => createRequest(),
    // Renewal in the same enrollment expires the older pending request with replacedBy (core createSigningRequest).
    expire: (id) => createRequest(enrollmentOf.get(id)),
    sign: (r) => signAuthTokenRequest(input(r.challenge), { privateKey: signer.keys.privateKey, certificate: signer.certificate }),
    submissions: async (id) => ((await row(id))?.signedSha256 == null ? 0 : 1),
    authenticate: async (id) => {
      const signed = (await row(id))?.signedXml;
      if (signed == null) throw new Error(`request ${id} has no signed file`);
      const init = await client.submitXadesSignature(signed);
      await client.waitForAuthentication(init.referenceNumber, init.authenticationToken.token, { intervalMs: 50 });
    },
    revokeTokens: async () => {
      for (const t of await listWorkstationTokens(db, workstationId))
        if (t.revokedAt === null) await revokeWorkstationToken(db, { tokenId: t.id, actor: "e2e" });
    },
    // The workstation's tokens are revoked so a leftover agent of this test stops; the server stays for the next test.
    close: async () => {
      for (const t of await listWorkstationTokens(db, workstationId))
        if (t.revokedAt === null) await revokeWorkstationToken(db, { tokenId: t.id, actor: "e2e" });
    },
  };
}

/** Stops the simulator shared by a file's tests (call in afterAll). */
export async function closeShared(): Promise<void> {
  await shared?.close();
  await shared?.store.close();
  shared = undefined;
  await sim?.close();
  sim = undefined;
  ksef = undefined;
}
