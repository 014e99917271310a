/**
 * Test-only: an in-process implementation of the agent HTTP contract (`apps/admin/src/server/agent`), so the
 * agent's unit tests run without the admin server. Signed files are verified with core `classifySignedFile`
 * like the real server does; every accepted upload is counted, so "exactly one submission" is checkable.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { generateKeyPair, type KeyPair } from "@ksef-certs/ksef/crypto";
import { classifySignedFile, handoffFileName, type PendingSignature } from "@ksef-certs/ksef/handoff";
import { buildAuthTokenRequest } from "@ksef-certs/ksef/api";
import { selfSignedCertificate } from "@ksef-certs/testing/certificates";
import { signAuthTokenRequest } from "@ksef-certs/ksef/xades";
import { AgentApiClient } from "../api.js";
import { saveConfig, saveToken, type AgentConfig } from "../config.js";

/** A NIP with a valid check digit. */
export const NIP = "5265877635";

/** A person's key and self-signed certificate (subject serialNumber TINPL-NIP). */
export interface Person {
  readonly keys: KeyPair;
  readonly certificate: Uint8Array;
}

/** Makes a signing person. */
export async function makePerson(): Promise<Person> {
  const keys = await generateKeyPair("EC-P256");
  const cert = await selfSignedCertificate(keys, [
    { oid: "2.5.4.42", value: "Anna", stringType: "UTF8String" },
    { oid: "2.5.4.4", value: "Nowak", stringType: "UTF8String" },
    { oid: "2.5.4.5", value: `TINPL-${NIP}`, stringType: "PrintableString" },
    { oid: "2.5.4.3", value: "Anna Nowak", stringType: "UTF8String" },
    { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
  ]);
  return { keys, certificate: cert.der };
}

/** A challenge of the XSD form. */
export function newChallenge(): string {
  const hex = (n: number): string => randomBytes(n).toString("hex").toUpperCase();
  return `20261130-CR-${hex(5)}-${hex(5)}-${hex(1)}`;
}

/** One signing request held by the fake. */
export interface FakeRequest {
  id: string;
  challenge: string;
  contextIdentifier: { type: "Nip"; value: string };
  fileName: string;
  xml: Uint8Array;
  expiresAt: Date;
  status: "pending" | "signed" | "submitted" | "expired" | "cancelled" | "failed";
  replacedBy?: string;
  version: number;
  signedSha256?: string;
  failedReason?: string;
}

/** The running fake. */
export interface FakeAgentServer {
  readonly url: string;
  /** A valid one-time pairing code (shown as XXXX-XXXX). */
  readonly code: string;
  readonly requests: Map<string, FakeRequest>;
  /** Accepted uploads (`signed` answers) per request id: the submissions. */
  readonly submissions: Map<string, number>;
  /** Every upload answer in order (`at`: `performance.now()` when the body had arrived). */
  readonly uploads: Array<{ id: string; status: number | "signed" | "duplicate"; at?: number }>;
  /** Adds a pending request. */
  addRequest(expiresInMs?: number): FakeRequest;
  /** Expires a request, optionally renewing it (the new request carries a new challenge); returns the new one. */
  expire(id: string, renew?: boolean): FakeRequest | undefined;
  /** Answers the next uploads with these HTTP statuses (an error body each) before judging any file. */
  failNextUploads(...statuses: number[]): void;
  /** Revokes every token (401 from then on). */
  revokeTokens(): void;
  /** How many long polls were answered. */
  polls(): number;
  close(): Promise<void>;
}

/**
 * Starts the fake on 127.0.0.1 (a free port).
 * @param workstation the folders the server describes
 */
export async function startFakeAgentServer(workstation: { outboxDir: string; inboxDir: string }): Promise<FakeAgentServer> {
  const code = "ABCD-EF12";
  const tokens = new Set<string>();
  const requests = new Map<string, FakeRequest>();
  const submissions = new Map<string, number>();
  const uploads: FakeAgentServer["uploads"] = [];
  const failures: number[] = [];
  let version = 0;
  let polls = 0;
  let codeUsed = false;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of waiters) w();
    waiters.clear();
  };
  const ws = { id: "ws-1", name: "kasa-1", branchId: "b-1", branchCode: "WAW", companyNip: NIP, companyName: "Hurtownia Testowa", ...workstation };

  const app = new Hono();
  app.post("/agent/v1/pair", async (c) => {
    const body = await c.req.json<{ code: string; label: string }>();
    const norm = (s: string): string => s.replace(/-/g, "").toUpperCase();
    if (codeUsed || norm(body.code) !== norm(code))
      return c.json({ error: { code: "NOT_FOUND", message: "The pairing code is wrong, expired or used." } }, 404);
    codeUsed = true;
    const token = randomBytes(32).toString("base64url");
    tokens.add(token);
    return c.json({ token, workstation: ws, server: { version: "fake" } });
  });
  app.use("/agent/v1/*", async (c, next) => {
    if (c.req.path === "/agent/v1/pair") return next();
    const token = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    if (token === undefined || !tokens.has(token)) {
      c.header("WWW-Authenticate", "Bearer");
      return c.json({ error: { code: "FORBIDDEN", message: "Unknown or revoked token." } }, 401);
    }
    return next();
  });
  app.get("/agent/v1/workstation", (c) => c.json(ws));
  const view = (r: FakeRequest): Record<string, unknown> => ({
    id: r.id,
    enrollmentId: null,
    challenge: r.challenge,
    contextIdentifier: r.contextIdentifier,
    fileName: r.fileName,
    xmlBase64: Buffer.from(r.xml).toString("base64"),
    expiresAt: r.expiresAt.toISOString(),
    status: r.status,
    ...(r.replacedBy === undefined ? {} : { replacedBy: r.replacedBy }),
  });
  const page = (after: number): { requests: Record<string, unknown>[]; cursor: string; fresh: boolean } => {
    const now = Date.now();
    const list = [...requests.values()].filter((r) => (r.status === "pending" && r.expiresAt.getTime() > now) || r.version > after);
    // Like the admin server: at once when something changed since `after` (without `after`: when anything is pending).
    const fresh = after < 0 ? list.length > 0 : list.some((r) => r.version > after);
    return { requests: list.map(view), cursor: String(version), fresh };
  };
  app.get("/agent/v1/requests", async (c) => {
    polls++;
    const waitMs = Math.min(30_000, Number(c.req.query("waitMs") ?? "0"));
    const after = Number(c.req.query("after") ?? "-1");
    let p = page(after);
    if (!p.fresh && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, waitMs);
        waiters.add(() => {
          clearTimeout(t);
          resolve();
        });
      });
      p = page(after);
    }
    return c.json({ requests: p.requests, cursor: p.cursor });
  });
  app.post("/agent/v1/requests/:id/signed", async (c) => {
    const r = requests.get(c.req.param("id"));
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const arrivedAt = performance.now();
    const answer = (status: number, body: unknown): Response => {
      uploads.push({ id: c.req.param("id"), status: status === 200 ? (body as { status: "signed" | "duplicate" }).status : status, at: arrivedAt });
      return c.json(body as object, status as 200);
    };
    const injected = failures.shift();
    if (injected !== undefined)
      return answer(injected, { error: { code: injected >= 500 || injected === 429 ? "IO" : "VALIDATION", message: `Injected answer ${injected}.` } });
    if (r === undefined) return answer(404, { error: { code: "NOT_FOUND", message: "No such request." } });
    const sha = createHash("sha256").update(bytes).digest("hex");
    if (c.req.header("x-content-sha256") !== sha) return answer(400, { error: { code: "VALIDATION", message: "X-Content-SHA256 does not match the body." } });
    if (r.signedSha256 !== undefined)
      return r.signedSha256 === sha
        ? answer(200, { status: "duplicate" })
        : answer(409, { error: { code: "CONFLICT", message: "Another signed file was accepted for this request." } });
    if (r.status === "expired" || r.expiresAt.getTime() <= Date.now()) {
      return answer(410, {
        error: { code: "CONFLICT", message: "the challenge expired; sign the renewed request" },
        ...(r.replacedBy === undefined ? {} : { replacedBy: r.replacedBy }),
      });
    }
    const pending: PendingSignature = { id: r.id, challenge: r.challenge, contextIdentifier: r.contextIdentifier, expiresAt: r.expiresAt };
    const verdict = await classifySignedFile(bytes, [pending]);
    if (verdict.kind !== "signed") return answer(400, { error: { code: "VALIDATION", message: `The signed file is refused: ${verdict.kind}.` } });
    r.signedSha256 = sha;
    r.status = "signed";
    r.version = ++version;
    submissions.set(r.id, (submissions.get(r.id) ?? 0) + 1);
    wake();
    return answer(200, { status: "signed", signer: { identity: verdict.verified.identity } });
  });
  app.post("/agent/v1/requests/:id/failed", async (c) => {
    const r = requests.get(c.req.param("id"));
    if (r === undefined) return c.json({ error: { code: "NOT_FOUND", message: "No such request." } }, 404);
    r.failedReason = (await c.req.json<{ reason: string }>()).reason;
    if (r.status === "pending") r.status = "failed";
    r.version = ++version;
    wake();
    return c.json({ status: r.status });
  });

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => {
      resolve(s);
    });
  });
  const port = (server.address() as AddressInfo).port;

  const addRequest = (expiresInMs = 600_000): FakeRequest => {
    const challenge = newChallenge();
    const xml = Buffer.from(
      buildAuthTokenRequest({ challenge, contextIdentifier: { type: "Nip", value: NIP }, subjectIdentifierType: "certificateSubject" }),
      "utf8",
    );
    const r: FakeRequest = {
      id: randomUUID(),
      challenge,
      contextIdentifier: { type: "Nip", value: NIP },
      fileName: handoffFileName({ context: NIP, operator: "Anna Nowak", challenge }),
      xml,
      expiresAt: new Date(Date.now() + expiresInMs),
      status: "pending",
      version: ++version,
    };
    requests.set(r.id, r);
    wake();
    return r;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    code,
    requests,
    submissions,
    uploads,
    addRequest,
    expire(id, renew = true) {
      const r = requests.get(id);
      if (r === undefined) return undefined;
      const next = renew ? addRequest() : undefined;
      r.status = "expired";
      r.expiresAt = new Date(Math.min(r.expiresAt.getTime(), Date.now() - 1));
      if (next !== undefined) r.replacedBy = next.id;
      r.version = ++version;
      wake();
      return next;
    },
    failNextUploads(...statuses) {
      failures.push(...statuses);
    },
    revokeTokens() {
      tokens.clear();
      wake();
    },
    polls: () => polls,
    close: () =>
      new Promise<void>((resolve) => {
        wake();
        server.close(() => {
          resolve();
        });
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/**
 * The signed version of a request's auth.xml, as a person would save it.
 * @param person the signer
 * @param r the request
 */
export function signFor(person: Person, r: { challenge: string }): Promise<Uint8Array> {
  return signAuthTokenRequest(
    { challenge: r.challenge, contextIdentifier: { type: "Nip", value: NIP }, subjectIdentifierType: "certificateSubject" },
    { privateKey: person.keys.privateKey, certificate: person.certificate },
  );
}

/** A temporary workstation paired with a fresh fake: folders, config folder with config.json and token. */
export interface PairedFake {
  readonly dir: string;
  readonly outbox: string;
  readonly inbox: string;
  readonly configDir: string;
  readonly server: FakeAgentServer;
  readonly config: AgentConfig;
  readonly token: string;
}

/**
 * Creates the folders in a new temp folder, starts a fake, pairs with it and saves the config and token.
 * @param prefix temp folder prefix
 */
export async function pairedFakeSetup(prefix: string): Promise<PairedFake> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const outbox = join(dir, "do-podpisu");
  const inbox = join(dir, "podpisane");
  await mkdir(outbox);
  await mkdir(inbox);
  const server = await startFakeAgentServer({ outboxDir: outbox, inboxDir: inbox });
  const paired = await new AgentApiClient(server.url).pair(server.code.toLowerCase().replace("-", ""), "test");
  const configDir = join(dir, "config");
  const config: AgentConfig = { version: 1, server: server.url, workstation: paired.workstation, pairedAt: new Date().toISOString(), autoSign: [] };
  await saveConfig(configDir, config);
  await saveToken(configDir, paired.token);
  return { dir, outbox, inbox, configDir, server, config, token: paired.token };
}
