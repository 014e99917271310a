/**
 * The local API: an ERP on the same workstation asks the agent for a hand-off of its own
 * AuthTokenRequest. Bound to 127.0.0.1 only; every request carries the workstation token
 * (`Authorization: Bearer <token>`, the one in the config folder's `token` file, compared in constant time).
 *
 * - `POST /local/v1/handoffs` body = the unsigned AuthTokenRequest (`application/xml`, ≤ 64 KiB), optional
 *   `?ttlMs=` (default 600 000) → 201 `{ id, fileName, expiresAt }`: auth.xml is in the outbox (or signed at once
 *   by an auto-sign certificate).
 * - `GET /local/v1/handoffs/:id` → `{ id, status: pending|signed|expired, fileName, expiresAt }`.
 * - `GET /local/v1/handoffs/:id/signed` → 200 the signed file's bytes exactly (`application/xml`) once signed;
 *   409 while pending; 410 when expired. The ERP submits them to KSeF itself.
 * Errors: `{ error: { code, message, hint? } }` with the statuses of the agent contract.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { KsefCertsError, type ErrorCode } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Agent } from "./agent.js";
import { MAX_UNSIGNED_REQUEST_BYTES } from "./request-xml.js";

/** Path prefix of the local API. */
export const LOCAL_API_PREFIX = "/local/v1";

const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  VALIDATION: 400,
  MALFORMED: 400,
  TOO_LARGE: 413,
  PASSWORD_REQUIRED: 400,
  WRONG_PASSWORD: 400,
  UNSUPPORTED: 400,
  KEY_MISMATCH: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FORBIDDEN: 403,
  IO: 503,
  INTERNAL: 500,
};

/**
 * The local API as a Hono app (mount or serve it).
 * @param agent the running agent
 * @param token the workstation token requests must carry
 */
export function createLocalApi(agent: Pick<Agent, "startLocalHandoff" | "localHandoff">, token: string): Hono {
  const expected = createHash("sha256").update(token).digest();
  const app = new Hono();
  app.use(`${LOCAL_API_PREFIX}/*`, async (c, next) => {
    const presented = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
    if (!timingSafeEqual(createHash("sha256").update(presented).digest(), expected)) {
      c.header("WWW-Authenticate", "Bearer");
      return c.json({ error: { code: "FORBIDDEN", message: "A valid workstation token is required (Authorization: Bearer …)." } }, 401);
    }
    return next();
  });
  app.post(`${LOCAL_API_PREFIX}/handoffs`, async (c) => {
    const length = Number(c.req.header("content-length") ?? "0");
    if (length > MAX_UNSIGNED_REQUEST_BYTES)
      return fail(c, new KsefCertsError("TOO_LARGE", msg("agent.localApi.tooLarge", { limit: MAX_UNSIGNED_REQUEST_BYTES })));
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.byteLength > MAX_UNSIGNED_REQUEST_BYTES)
      return fail(c, new KsefCertsError("TOO_LARGE", msg("agent.localApi.tooLarge", { limit: MAX_UNSIGNED_REQUEST_BYTES })));
    const ttl = c.req.query("ttlMs");
    try {
      const started = await agent.startLocalHandoff(body, ttl === undefined ? undefined : Number(ttl));
      return c.json(started, 201);
    } catch (error) {
      return fail(c, error);
    }
  });
  app.get(`${LOCAL_API_PREFIX}/handoffs/:id`, async (c) => {
    try {
      const s = await agent.localHandoff(c.req.param("id"));
      return c.json({ id: s.id, status: s.status, fileName: s.fileName, expiresAt: s.expiresAt });
    } catch (error) {
      return fail(c, error);
    }
  });
  app.get(`${LOCAL_API_PREFIX}/handoffs/:id/signed`, async (c) => {
    try {
      const s = await agent.localHandoff(c.req.param("id"));
      if (s.signed !== undefined)
        return c.body(new Uint8Array(s.signed), 200, {
          "content-type": "application/xml",
          "x-content-sha256": createHash("sha256").update(s.signed).digest("hex"),
        });
      if (s.status === "expired") return c.json({ error: { code: "CONFLICT", message: "The hand-off expired before a signed file arrived." } }, 410);
      return c.json({ error: { code: "CONFLICT", message: "Not signed yet." } }, 409);
    } catch (error) {
      return fail(c, error);
    }
  });
  return app;
}

function fail(c: Context, error: unknown): Response {
  const e = error instanceof KsefCertsError ? error : new KsefCertsError("INTERNAL", msg("agent.unexpected"), { cause: error });
  return c.json({ error: { code: e.code, message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }) } }, HTTP_STATUS[e.code] as 400);
}

/** Anything with a fetch handler (a Hono app). */
export interface FetchApp {
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

/**
 * Serves the local API (or another fetch handler) on 127.0.0.1 only.
 * @param app from {@link createLocalApi}
 * @param port the TCP port (0: any free one)
 * @returns the port bound and a close function
 */
export async function serveLocalApi(app: FetchApp, port: number): Promise<{ port: number; close: () => Promise<void> }> {
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: (request, env) => app.fetch(request, env), hostname: "127.0.0.1", port }, () => {
      resolve(s);
    });
    s.once("error", reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        // Long polls hold connections open; close them so shutdown does not wait for their timeout.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
