/**
 * The admin HTTP server: Hono on 127.0.0.1 by default, with
 * - `/trpc`: the tRPC API (httpBatch for queries and mutations, SSE for subscriptions), body ≤ 2 MiB;
 * - `/agent/v1`: the signer agent API (`createAgentApi`, its own limits and errors);
 * - `/healthz`: `{ ok: true }`;
 * - everything else: the built web app from `webRoot` (dist/web) with SPA fallback to index.html.
 * Every response carries strict security headers (CSP default-src 'self', X-Frame-Options DENY,
 * Referrer-Policy no-referrer, nosniff). Enrollments run in the background (`enrollments.ts`) with the
 * agent hand-off, and unfinished ones resume on start. Imports derive heavy keys on core's key-derivation
 * worker pool (`@ksef-certs/ksef/crypto`, `kdf-pool.ts`), away from libuv's threads where sign-in hashes
 * passwords; `close()` stops that pool.
 */
import { setMaxListeners } from "node:events";
import { readFile, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { trpcServer } from "@hono/trpc-server";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import type { Logger } from "pino";
import { createAgentHandoff, createSigningRequestNotifier } from "@ksef-certs/domain/agent";
import { closeKeyDerivationPool } from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, translate } from "@ksef-certs/ksef/messages";
import { createKsefClient, type KsefEnvironment } from "@ksef-certs/ksef/api";
import { promoteQueued } from "@ksef-certs/domain/registry";
import { bindAuditKey, type Store } from "@ksef-certs/domain/store";
import { AGENT_API_PREFIX } from "@ksef-certs/ksef/agent-protocol";
import { createAgentApi } from "./agent/index.js";
import { contextForRequest } from "./context.js";
import { createEnrollmentRunner, type EnrollmentRunner } from "./enrollments.js";
import { findCoreError } from "./errors.js";
import { appRouter } from "./router.js";
import { localizeViolations, requestLocale } from "./trpc.js";
import type { ServerServices } from "./services.js";
import { vaultFromMasterKey } from "@ksef-certs/domain/vault";
import { createSharedRateLimiter, renewalInstanceId, runDueRenewals, type RenewalEvent } from "@ksef-certs/domain/renewal";

/** Default port of `ksef-certs serve`. */
export const DEFAULT_PORT = 8420;
/** Largest tRPC request body (bytes): a 256 KiB .p12 or a 1 MiB signed file as base64 fits. */
export const MAX_TRPC_BODY_BYTES = 2 * 1024 * 1024;
/** Largest body of `adapters.import` (bytes): core's upload limit as base64 (4/3) with room for the JSON around it. */
export const MAX_UPLOAD_BODY_BYTES = 17 * 1024 * 1024;

/** Options of {@link createServer}. */
export interface CreateServerOptions {
  /** The open store (PGlite or PostgreSQL). */
  readonly store: Pick<Store, "db">;
  /** Interface to bind; default 127.0.0.1. */
  readonly host?: string;
  /** Port; default {@link DEFAULT_PORT}; 0 picks a free one. */
  readonly port?: number;
  /** The built web app (index.html + assets); without it only the API is served. */
  readonly webRoot?: string;
  /** KSeF API base URL of an environment; undefined → the official one. */
  readonly ksefUrlFor?: (environment: KsefEnvironment) => string | undefined;
  /** The clock; default `new Date()`. */
  readonly clock?: () => Date;
  readonly logger?: Logger;
  /** The master key (sealed passwords, KSeF sessions of enrollments; bound to the store's audit log here). */
  readonly masterKey?: Uint8Array;
  /** The audit head checkpoint file `audit.verify` compares the log with (core `auditCheckpointPath`). */
  readonly auditCheckpoint?: string;
  /** Run enrollments in this server (default true). */
  readonly runEnrollments?: boolean;
  /** Resume unfinished enrollments on start (default true). */
  readonly resumeEnrollments?: boolean;
  /** KSeF status poll tuning (tests). */
  readonly pollOptions?: { readonly intervalMs?: number; readonly timeoutMs?: number };
  /**
   * The origin people reach the server at through a reverse proxy, e.g. `https://ksef.biuro.example`: its host name
   * joins the `Host` allow-list ({@link allowedHostNames}).
   */
  readonly publicOrigin?: string;
  /**
   * How often the background job persists the takeovers of queued certificates that are due (ms; default 60 000; 0
   * turns it off). Readers never write them: resolution and reports already treat a due successor as current.
   */
  readonly takeoverIntervalMs?: number;
  /**
   * The renewal scheduler (`@ksef-certs/domain/renewal`): how often a pass runs (ms; default 60 000; 0 turns renewals
   * off and leaves only the takeovers), the claim lease, how many automatic renewals run at once, and this
   * server's name in claims (default host:pid:random). A pass also persists the takeovers, so it replaces that job.
   */
  readonly renewals?: { readonly intervalMs?: number; readonly leaseMs?: number; readonly concurrency?: number; readonly instanceId?: string };
  /** The checked export root (core `checkExportRoot`): export destinations live below it; undefined → downloads only. */
  readonly exportRoot?: string;
}

/** A created server. */
export interface AdminServer {
  /** The Hono app (usable with `app.request(...)` without listening). */
  readonly app: Hono;
  readonly services: ServerServices;
  /** Starts listening; resolves with the URL (`http://127.0.0.1:8420`). */
  listen(): Promise<{ readonly url: string; readonly port: number }>;
  /**
   * Stops accepting, ends running enrollments (state stays resumable), stops the key-derivation workers (an import still
   * deriving a heavy key fails with a retryable IO error) and closes connections.
   */
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Creates the server (not listening yet).
 * @param options store, address, web root, KSeF URLs, clock, logger, master key
 */
export function createServer(options: CreateServerOptions): AdminServer {
  const db = options.store.db;
  if (options.masterKey !== undefined) bindAuditKey(db, options.masterKey);
  // Built once: every seal, unseal and opened key of this server goes through it.
  const vault = options.masterKey === undefined ? undefined : vaultFromMasterKey(options.masterKey);
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger;
  const notifier = createSigningRequestNotifier();
  const clients = new Map<KsefEnvironment, ReturnType<typeof createKsefClient>>();
  const client = (environment: KsefEnvironment): ReturnType<typeof createKsefClient> => {
    let c = clients.get(environment);
    if (c === undefined) {
      const baseUrl = options.ksefUrlFor?.(environment);
      // One limiter per environment through the database: every server on it together stays under KSeF's limits.
      const rateLimiter = createSharedRateLimiter({ db, now: () => clock().getTime(), prefix: environment });
      c = createKsefClient(baseUrl === undefined ? { environment, rateLimiter } : { baseUrl, rateLimiter });
      clients.set(environment, c);
    }
    return c;
  };
  const enrollments: EnrollmentRunner | undefined =
    options.runEnrollments === false
      ? undefined
      : createEnrollmentRunner({
          db,
          client,
          handoff: createAgentHandoff({ db, notifier, now: clock, actor: "system" }),
          clock,
          ...(vault === undefined ? {} : { vault }),
          ...(logger === undefined ? {} : { logger }),
          ...(options.pollOptions === undefined ? {} : { pollOptions: options.pollOptions }),
        });
  const services: ServerServices & { notifier: typeof notifier } = {
    clock,
    notifier,
    ksefClient: client,
    ...(logger === undefined ? {} : { logger }),
    ...(options.masterKey === undefined ? {} : { masterKey: options.masterKey }),
    ...(vault === undefined ? {} : { vault }),
    ...(options.auditCheckpoint === undefined ? {} : { auditCheckpoint: options.auditCheckpoint }),
    ...(enrollments === undefined ? {} : { enrollments }),
    ...(options.exportRoot === undefined ? {} : { exportRoot: options.exportRoot }),
  };

  const app = new Hono();
  const hostNames = allowedHostNames(options.host ?? "127.0.0.1", options.publicOrigin);
  // DNS rebinding: a web page on evil.example whose name resolves to 127.0.0.1 reaches this server with
  // `Host: evil.example`; only names this server is known by are answered.
  app.use("*", async (c, next) => {
    const name = hostNameOf(c.req.header("host"));
    if (name === undefined || !hostNames.has(name)) {
      return c.json(
        {
          error: {
            code: "FORBIDDEN",
            message: translate("en", msg("server.host.refused")),
            messageId: "server.host.refused",
            hint: translate("en", msg("server.host.refused.hint")),
            hintId: "server.host.refused.hint",
          },
        },
        421,
      );
    }
    return next();
  });
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
      xFrameOptions: "DENY",
      referrerPolicy: "no-referrer",
      xContentTypeOptions: "nosniff",
      crossOriginResourcePolicy: "same-origin",
      crossOriginOpenerPolicy: "same-origin",
    }),
  );
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.route(AGENT_API_PREFIX, createAgentApi({ db, notifier, now: clock, ...(logger === undefined ? {} : { logger }) }));
  // An import upload (a folder of pairs, a bundle) may be larger than any other request; only that procedure, alone.
  const limitOf = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: (c) => c.json({ error: { message: `The request body exceeds ${maxSize} bytes.`, data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413 } } }, 413),
    });
  const uploadLimit = limitOf(MAX_UPLOAD_BODY_BYTES);
  const requestLimit = limitOf(MAX_TRPC_BODY_BYTES);
  const trpcBodyLimit: MiddlewareHandler = (c, next) => (new URL(c.req.url).pathname === "/trpc/adapters.import" ? uploadLimit : requestLimit)(c, next);
  app.use("/trpc/*", trpcBodyLimit);
  // Text that does not decode (invalid UTF-8 bytes, a broken %-escape) is refused as such, instead of being read
  // with replacement characters and stored changed.
  app.use("/trpc/*", async (c, next) => {
    const query = new URL(c.req.url).search.slice(1);
    let readable = true;
    try {
      for (const part of query === "" ? [] : query.split("&")) decodeURIComponent(part.replace(/\+/g, " "));
      if (c.req.method === "POST") new TextDecoder("utf-8", { fatal: true }).decode(await c.req.arrayBuffer());
    } catch {
      readable = false;
    }
    if (readable) return next();
    const message = "The request is not valid text (UTF-8 and %-escapes).";
    return c.json(
      {
        error: {
          message,
          code: -32600,
          data: {
            code: "BAD_REQUEST",
            httpStatus: 400,
            ksef: { code: "MALFORMED", message, hint: null, violations: [{ field: "input", rule: "input.encoding", message }] },
          },
        },
      },
      400,
    );
  });
  app.use(
    "/trpc/*",
    trpcServer({
      endpoint: "/trpc",
      router: appRouter,
      createContext: async (opts, c) => ({
        ...(await contextForRequest(db, services, {
          headers: c.req.raw.headers,
          clientAddress: remoteAddress(c),
          secure: new URL(c.req.url).protocol === "https:",
          setCookie: (h) => {
            opts.resHeaders.append("set-cookie", h);
          },
        })),
        locale: requestLocale(c.req.raw.headers),
      }),
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR") logger?.error({ err: findCoreError(error.cause) ?? error.cause ?? error, path }, "procedure failed");
      },
    }),
  );
  if (options.webRoot !== undefined) {
    const root = resolve(options.webRoot);
    app.get("*", async (c) => {
      let path: string;
      try {
        path = decodeURIComponent(new URL(c.req.url).pathname);
      } catch {
        return c.json({ error: { code: "MALFORMED", message: "The address is not valid URL encoding." } }, 400);
      }
      if (path.includes("\0")) return c.notFound();
      if (path.startsWith("/trpc") || path.startsWith("/agent/")) return c.notFound();
      const file = normalize(join(root, path));
      const inside = file === root || file.startsWith(root + sep);
      const found = inside && (await stat(file).catch(() => undefined))?.isFile() === true;
      // SPA fallback: client-side routes get index.html; a missing asset is a real 404.
      const target = found ? file : extname(path) === "" ? join(root, "index.html") : undefined;
      if (target === undefined) return c.notFound();
      const body = await readFile(target).catch(() => undefined);
      if (body === undefined) return c.text("The web app is not built (run the build first).", 404);
      const type = CONTENT_TYPES[extname(target)] ?? "application/octet-stream";
      const immutable = target.includes(`${sep}assets${sep}`);
      return c.body(new Uint8Array(body), 200, { "content-type": type, "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache" });
    });
  }
  app.notFound((c) => c.json({ error: { code: "NOT_FOUND", message: `Nothing here: ${c.req.method} ${c.req.path.slice(0, 200)}.` } }, 404));
  app.onError((err, c) => {
    const core = findCoreError(err);
    if (core === undefined || core.code === "INTERNAL") logger?.error({ err }, "request failed");
    // English with the message ids (toJSON), violations worded in the request's language as tRPC errors are.
    const body =
      core === undefined
        ? { code: "INTERNAL", message: "Internal error." }
        : { ...core.toJSON(), ...(core.violations.length === 0 ? {} : { violations: localizeViolations(core.violations, requestLocale(c.req.raw.headers)) }) };
    return c.json({ error: body }, 500);
  });

  // The background pass: the renewal scheduler when this server runs enrollments (it also persists the queued
  // successors' takeovers), else the takeovers alone. Readers never write takeovers: resolution and reports already
  // treat a due successor as current.
  const renewalsOn = enrollments !== undefined && (options.renewals?.intervalMs ?? 60_000) > 0;
  const instanceId = options.renewals?.instanceId ?? renewalInstanceId(hostname(), process.pid);
  const passAbort = new AbortController();
  // Every renewal run (people's signatures wait for days) listens to this one signal.
  setMaxListeners(0, passAbort.signal);
  const waitingForPeople = new Set<Promise<void>>();
  let passTimer: NodeJS.Timeout | undefined;
  let passRun: Promise<void> = Promise.resolve();
  const onRenewal = (e: RenewalEvent): void => {
    if (e.kind === "promoted") logger?.info({ certificateId: e.promotion.certificateId, replacedId: e.promotion.replacedId }, "queued certificate took over");
    else if (e.kind === "failed") logger?.error({ renewalId: e.renewalId, certificateId: e.certificateId, reason: e.message }, "renewal failed");
    else logger?.info({ renewal: e.kind, renewalId: e.renewalId, certificateId: e.certificateId }, "renewal");
  };
  const runPass = (): void => {
    passRun = passRun
      .then(async () => {
        if (passAbort.signal.aborted) return;
        if (!renewalsOn) {
          for (const p of await promoteQueued(db, { at: clock(), actor: "system" })) onRenewal({ kind: "promoted", promotion: p });
          return;
        }
        const done = await runDueRenewals({
          db,
          enrollment: enrollments.service,
          vault,
          clock,
          instanceId,
          signal: passAbort.signal,
          onEvent: onRenewal,
          ...(options.renewals?.leaseMs === undefined ? {} : { leaseMs: options.renewals.leaseMs }),
          ...(options.renewals?.concurrency === undefined ? {} : { concurrency: options.renewals.concurrency }),
        });
        for (const p of done.background) {
          waitingForPeople.add(p);
          void p.finally(() => waitingForPeople.delete(p));
        }
      })
      .catch((err: unknown) => {
        logger?.error({ err }, "renewal pass failed");
      });
  };
  const startPasses = (): void => {
    const every = renewalsOn ? (options.renewals?.intervalMs ?? 60_000) : (options.takeoverIntervalMs ?? 60_000);
    if (every <= 0 || passTimer !== undefined) return;
    runPass();
    passTimer = setInterval(runPass, every);
    passTimer.unref();
  };

  let server: ServerType | undefined;
  return {
    app,
    services,
    listen() {
      const host = options.host ?? "127.0.0.1";
      return new Promise((resolveListen, reject) => {
        const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? DEFAULT_PORT }, (info: AddressInfo) => {
          const shown = host.includes(":") ? `[${host}]` : host;
          if (options.resumeEnrollments !== false) enrollments?.resumeAll();
          startPasses();
          resolveListen({ url: `http://${shown}:${info.port}`, port: info.port });
        });
        s.once("error", (err: NodeJS.ErrnoException) => {
          reject(
            new KsefCertsError(
              "IO",
              err.code === "EADDRINUSE"
                ? msg("server.listen.portInUse", { port: options.port ?? DEFAULT_PORT, host })
                : msg("server.listen.failed", { host, reason: err.message }),
              {
                ...(err.code === "EADDRINUSE" ? { hint: msg("server.listen.portInUse.hint") } : {}),
                cause: err,
              },
            ),
          );
        });
        server = s;
      });
    },
    async close() {
      if (passTimer !== undefined) clearInterval(passTimer);
      passAbort.abort(new KsefCertsError("IO", msg("server.stopping"), { details: { reason: "aborted" } }));
      await passRun;
      await Promise.allSettled([...waitingForPeople]);
      await enrollments?.close();
      await closeKeyDerivationPool();
      const s = server;
      if (s === undefined) return;
      await new Promise<void>((done) => {
        s.close(() => {
          done();
        });
        (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}

/**
 * The host names this server answers to: loopback names always, the bound address, every local interface
 * address and the machine's name when bound to all interfaces, and the public origin's host.
 * @param host the bound address (`127.0.0.1`, `::`, `0.0.0.0`, a name)
 * @param publicOrigin a configured public origin, e.g. `https://ksef.example.pl`
 * @returns lower-case host names (IPv6 without brackets)
 * @throws {KsefCertsError} VALIDATION when `publicOrigin` is not an http(s) origin
 */
export function allowedHostNames(host: string, publicOrigin?: string): Set<string> {
  const names = new Set(["localhost", "127.0.0.1", "::1", host.toLowerCase().replace(/^\[|\]$/g, "")]);
  if (host === "0.0.0.0" || host === "::") {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address.toLowerCase());
    names.add(hostname().toLowerCase());
  }
  if (publicOrigin !== undefined && publicOrigin.trim() !== "") {
    let url: URL | undefined;
    try {
      url = new URL(publicOrigin);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") {
      throw new KsefCertsError("VALIDATION", msg("server.publicOrigin"), {
        violations: [{ field: "publicOrigin", rule: "publicOrigin.url", message: "Give an address such as https://ksef.example.pl." }],
      });
    }
    names.add(url.hostname.toLowerCase().replace(/^\[|\]$/g, ""));
  }
  return names;
}

/**
 * The host name of a `Host` header (lower case, IPv6 without brackets, no port); undefined when missing or malformed.
 * @param header the header value
 */
export function hostNameOf(header: string | undefined): string | undefined {
  if (header === undefined || header.length === 0 || header.length > 300) return undefined;
  try {
    const name = new URL(`http://${header}/`).hostname.toLowerCase();
    return name === "" ? undefined : name.replace(/^\[|\]$/g, "");
  } catch {
    return undefined;
  }
}

function remoteAddress(c: Parameters<typeof getConnInfo>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? "local";
  } catch {
    return "local";
  }
}
