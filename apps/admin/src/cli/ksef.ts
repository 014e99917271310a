/**
 * Which KSeF a command talks to, said out loud: `--ksef-url URL`, else the
 * environment variable `KSEF_CERTS_KSEF_URL`, else the official API base URL of the certificate's
 * environment (`KSEF_ENDPOINTS`, ksef-docs `srodowiska.md`). The target is printed on stderr before anything is
 * sent, so nobody enrolls on production by mistake (nor on a simulator believing it is production).
 */
import type { Command } from "commander";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { createKsefClient, KSEF_ENDPOINTS, type KsefClient, type KsefEnvironment, type KsefRateLimiter } from "@ksef-certs/ksef/api";
import type { CliIo } from "./context.js";

/** The environment variable naming a KSeF API base URL when `--ksef-url` is not given. */
export const KSEF_URL_ENV = "KSEF_CERTS_KSEF_URL";

/** Longest `--ksef-url` accepted, in characters. */
const MAX_URL_CHARS = 2048;

/** Options of commands that talk to KSeF. */
export interface KsefTargetOptions {
  /** `--ksef-url`: an API base URL such as `http://127.0.0.1:8090/v2` (the simulator of `npm run simulator`). */
  readonly ksefUrl?: string;
}

/** Where KSeF calls go, and why. */
export interface KsefTarget {
  /** `undefined`: the official URL of each certificate's environment. */
  readonly baseUrl: string | undefined;
  /** Which rule chose it. */
  readonly source: "--ksef-url" | typeof KSEF_URL_ENV | "environment";
  /** Whether `baseUrl` is a loopback host (a local simulator). */
  readonly loopback: boolean;
}

/**
 * Adds `--ksef-url URL`.
 * @param cmd the command
 */
export function addKsefUrlOption(cmd: Command): Command {
  return cmd.option(
    "--ksef-url <url>",
    `KSeF API base URL, e.g. http://127.0.0.1:8090/v2 for the simulator (default: $${KSEF_URL_ENV}, else the official URL of --environment)`,
  );
}

/**
 * The KSeF target of a run (see the module comment). The URL itself is checked by the client
 * (`https:`, or `http:` on a loopback host only).
 * @param io the run's surface (for the environment variable)
 * @param opts the command's options
 * @throws {KsefCertsError} VALIDATION for a URL that cannot be parsed or is longer than 2048 characters
 */
export function ksefTargetOf(io: CliIo, opts: KsefTargetOptions): KsefTarget {
  const fromEnv = io.env[KSEF_URL_ENV];
  const [raw, source]: [string | undefined, KsefTarget["source"]] =
    opts.ksefUrl !== undefined
      ? [opts.ksefUrl, "--ksef-url"]
      : fromEnv !== undefined && fromEnv.trim() !== ""
        ? [fromEnv, KSEF_URL_ENV]
        : [undefined, "environment"];
  if (raw === undefined) return { baseUrl: undefined, source, loopback: false };
  const text = raw.trim();
  let url: URL;
  try {
    if (text.length > MAX_URL_CHARS) throw new Error("too long");
    url = new URL(text);
  } catch {
    throw new KsefCertsError("VALIDATION", msg("cli.ksefUrl.invalid", { source }), {
      hint: msg("cli.ksefUrl.invalid.hint"),
      violations: [violation(source, "ksefUrl.format")],
    });
  }
  return { baseUrl: text.replace(/\/+$/, ""), source, loopback: ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname) };
}

/**
 * One line saying where KSeF calls for `environment` go, e.g.
 * `KSeF test: http://127.0.0.1:8090/v2 (from --ksef-url; a local server, not MF's KSeF)`.
 * @param target the run's target
 * @param environment the certificate's environment
 */
export function describeKsefTarget(target: KsefTarget, environment: KsefEnvironment): string {
  if (target.baseUrl === undefined) return `KSeF ${environment}: ${KSEF_ENDPOINTS[environment].apiBaseUrl} (the official ${environment} environment)`;
  const official = Object.values(KSEF_ENDPOINTS).some((e) => e.apiBaseUrl === target.baseUrl);
  const note = target.loopback ? "; a local server, not MF's KSeF" : official ? "" : "; not an official KSeF address";
  const mismatch =
    environment === "production" && target.baseUrl !== KSEF_ENDPOINTS.production.apiBaseUrl
      ? " — the certificate is recorded as production, but this is not the production KSeF"
      : environment !== "production" && target.baseUrl === KSEF_ENDPOINTS.production.apiBaseUrl
        ? ` — this is the PRODUCTION KSeF, while the certificate is recorded as ${environment}`
        : "";
  return `KSeF ${environment}: ${target.baseUrl} (from ${target.source}${note})${mismatch}`;
}

/**
 * A KSeF client factory per environment for the run's target; one client per environment, so that
 * its rate limiter is shared by every call of the run.
 * @param target the run's target
 * @param rateLimiterFor a limiter per environment in place of the client's own (`renew --due` shares one through
 *   the database, so that passes in several processes together stay under KSeF's limits)
 * @returns `client(environment)`
 * @throws {KsefCertsError} VALIDATION (when called) for a URL the client refuses, e.g. `http:` on a non-loopback host
 */
export function ksefClients(
  target: KsefTarget,
  rateLimiterFor?: (environment: KsefEnvironment) => KsefRateLimiter,
): (environment: KsefEnvironment) => KsefClient {
  const clients = new Map<KsefEnvironment, KsefClient>();
  return (environment) => {
    let client = clients.get(environment);
    if (client === undefined) {
      const rateLimiter = rateLimiterFor?.(environment);
      client = createKsefClient({
        ...(target.baseUrl === undefined ? { environment } : { baseUrl: target.baseUrl }),
        ...(rateLimiter === undefined ? {} : { rateLimiter }),
      });
      clients.set(environment, client);
    }
    return client;
  };
}
