/**
 * The admin HTTP server (issue 5 §1): Hono on 127.0.0.1 by default, with
 * - `/trpc`: the tRPC API (httpBatch for queries and mutations, SSE for subscriptions), body ≤ 2 MiB;
 * - `/agent/v1`: the signer agent API (`createAgentApi`, its own limits and errors);
 * - `/healthz`: `{ ok: true }`;
 * - everything else: the built web app from `webRoot` (dist/web) with SPA fallback to index.html.
 * Every response carries strict security headers (CSP default-src 'self', X-Frame-Options DENY,
 * Referrer-Policy no-referrer, nosniff). Enrollments run in the background (`enrollments.ts`) with the
 * agent hand-off, and unfinished ones resume on start. Imports derive heavy keys on core's key-derivation
 * worker pool (`@ksef-certs/core/crypto`, `kdf-pool.ts`), away from libuv's threads where sign-in hashes
 * passwords; `close()` stops that pool.
 */
import { readFile, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { trpcServer } from "@hono/trpc-server";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import type { Logger } from "pino";
import { createAgentHandoff, createSigningRequestNotifier } from "@ksef-certs/core/agent";
import { closeKeyDerivationPool } from "@ksef-certs/core/crypto";
import { KsefCertsError } from "@ksef-certs/core/errors";
import { createKsefClient, type KsefEnvironment } from "@ksef-certs/core/ksef";
import type { Store } from "@ksef-certs/core/store";
import { createAgentApi } from "./agent/index.js";
import { contextForRequest } from "./context.js";
import { createEnrollmentRunner, type EnrollmentRunner } from "./enrollments.js";
import { findCoreError } from "./errors.js";
import { appRouter } from "./router.js";
import type { ServerServices } from "./services.js";

/** Default port of `ksef-certs serve`. */
export const DEFAULT_PORT = 8420;
/** Largest tRPC request body (bytes): a 256 KiB .p12 or a 1 MiB signed file as base64 fits. */
export const MAX_TRPC_BODY_BYTES = 2 * 1024 * 1024;

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
  /** The master key (sealed passwords, KSeF sessions of enrollments). */
  readonly masterKey?: Uint8Array;
  /** Run enrollments in this server (default true). */
  readonly runEnrollments?: boolean;
  /** Resume unfinished enrollments on start (default true). */
  readonly resumeEnrollments?: boolean;
  /** KSeF status poll tuning (tests). */
  readonly pollOptions?: { readonly intervalMs?: number; readonly timeoutMs?: number };
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
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger;
  const notifier = createSigningRequestNotifier();
  const clients = new Map<KsefEnvironment, ReturnType<typeof createKsefClient>>();
  const client = (environment: KsefEnvironment): ReturnType<typeof createKsefClient> => {
    let c = clients.get(environment);
    if (c === undefined) {
      const baseUrl = options.ksefUrlFor?.(environment);
      c = createKsefClient(baseUrl === undefined ? { environment } : { baseUrl });
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
          ...(options.masterKey === undefined ? {} : { masterKey: options.masterKey }),
          ...(logger === undefined ? {} : { logger }),
          ...(options.pollOptions === undefined ? {} : { pollOptions: options.pollOptions }),
        });
  const services: ServerServices & { notifier: typeof notifier } = {
    clock,
    notifier,
    ksefClient: client,
    ...(logger === undefined ? {} : { logger }),
    ...(options.masterKey === undefined ? {} : { masterKey: options.masterKey }),
    ...(enrollments === undefined ? {} : { enrollments }),
  };

  const app = new Hono();
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
  app.route("/agent/v1", createAgentApi({ db, notifier, now: clock, ...(logger === undefined ? {} : { logger }) }));
  app.use(
    "/trpc/*",
    bodyLimit({
      maxSize: MAX_TRPC_BODY_BYTES,
      onError: (c) => c.json({ error: { message: `The request body exceeds ${MAX_TRPC_BODY_BYTES} bytes.`, data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413 } } }, 413),
    }),
  );
  app.use(
    "/trpc/*",
    trpcServer({
      endpoint: "/trpc",
      router: appRouter,
      createContext: (opts, c) =>
        contextForRequest(db, services, {
          headers: c.req.raw.headers,
          clientAddress: remoteAddress(c),
          secure: new URL(c.req.url).protocol === "https:",
          setCookie: (h) => {
            opts.resHeaders.append("set-cookie", h);
          },
        }),
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR") logger?.error({ err: findCoreError(error.cause) ?? error.cause ?? error, path }, "procedure failed");
      },
    }),
  );
  if (options.webRoot !== undefined) {
    const root = resolve(options.webRoot);
    app.get("*", async (c) => {
      const path = decodeURIComponent(new URL(c.req.url).pathname);
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
  app.onError((err, c) => {
    const core = findCoreError(err);
    if (core === undefined || core.code === "INTERNAL") logger?.error({ err }, "request failed");
    return c.json({ error: core?.toJSON() ?? { code: "INTERNAL", message: "Internal error." } }, 500);
  });

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
          resolveListen({ url: `http://${shown}:${info.port}`, port: info.port });
        });
        s.once("error", (err: NodeJS.ErrnoException) => {
          reject(
            new KsefCertsError("IO", err.code === "EADDRINUSE" ? `Port ${options.port ?? DEFAULT_PORT} on ${host} is in use.` : `Cannot listen on ${host}: ${err.message}`, {
              ...(err.code === "EADDRINUSE" ? { hint: "Stop the other server or choose another --port." } : {}),
              cause: err,
            }),
          );
        });
        server = s;
      });
    },
    async close() {
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

function remoteAddress(c: Parameters<typeof getConnInfo>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? "local";
  } catch {
    return "local";
  }
}
