/**
 * Test support: a scripted KSeF stand-in on `node:http`, bound to 127.0.0.1 on a free port. Routes answer
 * from a queue (the last reply repeats); every request is recorded with its exact body bytes.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One request as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path below the `/v2` prefix, without query (e.g. `/certificates/query`). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What a route answers. */
export type MockReply =
  | {
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly json?: unknown;
      readonly text?: string;
      readonly contentType?: string;
    }
  /** Close the socket without answering (a reset after the request was received). */
  | { readonly destroy: true }
  /** Never answer (for client timeouts); released when the server closes. */
  | { readonly hang: true };

/** A reply, or a function computing it from the request. */
export type MockAnswer = MockReply | ((req: RecordedRequest) => MockReply);

interface Route {
  readonly method: string;
  readonly path: string | RegExp;
  readonly answers: MockAnswer[];
}

/** A running mock server. */
export interface MockServer {
  /** `http://127.0.0.1:<port>/v2`. */
  readonly baseUrl: string;
  readonly port: number;
  /** Every request in arrival order. */
  readonly requests: RecordedRequest[];
  /** Adds a route; requests take the answers in order, the last one repeats. */
  route(method: string, path: string | RegExp, ...answers: MockAnswer[]): void;
  /** Requests that matched `method` and `path` exactly. */
  requestsTo(method: string, path: string): RecordedRequest[];
  /** Stops listening (port free, connections dropped). */
  close(): Promise<void>;
  /** Listens again on the same port (after {@link close}). */
  reopen(): Promise<void>;
}

/** Problem Details 400 body as KSeF sends it (spec `BadRequestProblemDetails`). */
export function problem400(code: number, description: string, details: string[] = []): MockReply {
  return {
    status: 400,
    contentType: "application/problem+json",
    json: {
      title: "Bad Request",
      status: 400,
      instance: "/v2/x",
      detail: "Żądanie jest nieprawidłowe.",
      errors: [{ code, description, details }],
      timestamp: "2026-01-01T00:00:00Z",
      traceId: "673843e023c432286660bc0501a3af44",
    },
  };
}

/**
 * Starts a mock server.
 * @throws Error when it cannot bind
 */
export async function startMockServer(): Promise<MockServer> {
  const routes: Route[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();

  const reply = (res: ServerResponse, r: MockReply): void => {
    if ("destroy" in r) {
      res.socket?.destroy();
      return;
    }
    if ("hang" in r) {
      hanging.add(res);
      return;
    }
    const headers: Record<string, string> = { ...r.headers };
    let body = "";
    if (r.json !== undefined) {
      body = JSON.stringify(r.json);
      headers["content-type"] = r.contentType ?? "application/json";
    } else if (r.text !== undefined) {
      body = r.text;
      headers["content-type"] = r.contentType ?? "text/plain";
    }
    res.writeHead(r.status, headers);
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const path = url.pathname.replace(/^\/v2/, "");
      const rec: RecordedRequest = { method: req.method ?? "", path, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(rec);
      const route = routes.find((r) => r.method === rec.method && (typeof r.path === "string" ? r.path === path : r.path.test(path)));
      if (route === undefined) {
        reply(res, { status: 599, json: { title: `mock: no route for ${rec.method} ${path}` } });
        return;
      }
      const answer = route.answers.length > 1 ? route.answers.shift() : route.answers[0];
      if (answer === undefined) throw new Error("route without answers");
      reply(res, typeof answer === "function" ? answer(rec) : answer);
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);

  return {
    baseUrl: `http://127.0.0.1:${port}/v2`,
    port,
    requests,
    route(method, path, ...answers) {
      if (answers.length === 0) throw new Error("route needs at least one answer");
      routes.push({ method, path, answers });
    },
    requestsTo(method, path) {
      return requests.filter((r) => r.method === method && r.path === path);
    },
    close() {
      for (const h of hanging) h.destroy();
      hanging.clear();
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
    async reopen() {
      await listen(port);
    },
  };
}
