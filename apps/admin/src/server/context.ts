/**
 * Building the per-request {@link Context}: the session from the cookie, the CSRF header, the client
 * address; and a context for in-process callers (tests, benchmark).
 */
import { sessionFromToken, type ActiveSession } from "@ksef-certs/domain/access";
import type { Db } from "@ksef-certs/domain/store";
import type { ServerServices } from "./services.js";
import { CSRF_HEADER, SESSION_COOKIE, type Context } from "./trpc.js";

/**
 * The value of one cookie in a `Cookie` header.
 * @param header the `Cookie` header (or null)
 * @param name cookie name
 */
export function readCookie(header: string | null | undefined, name: string): string | null {
  if (typeof header !== "string") return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** What the HTTP layer knows about a request. */
export interface RequestFacts {
  readonly headers: Headers;
  /** The peer address (throttling key). */
  readonly clientAddress: string;
  readonly secure: boolean;
  readonly setCookie: (header: string) => void;
}

/**
 * The context of an HTTP request.
 * @param db the database
 * @param services server services
 * @param req request facts
 */
export async function contextForRequest(db: Db, services: ServerServices, req: RequestFacts): Promise<Context> {
  const token = readCookie(req.headers.get("cookie"), SESSION_COOKIE);
  const session: ActiveSession | undefined = token === null ? undefined : await sessionFromToken(db, token, services.clock());
  return {
    db,
    services,
    principal: session?.principal ?? null,
    session: session ?? null,
    sessionToken: token,
    csrfHeader: req.headers.get(CSRF_HEADER),
    clientKey: req.clientAddress,
    secure: req.secure,
    setCookie: req.setCookie,
  };
}
