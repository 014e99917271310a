/**
 * Building and serving the simulator: {@link createSimulatorApp} (in-process, for `app.request()`
 * tests) and {@link startSimulator} (HTTP on @hono/node-server).
 */
import { serve, type ServerType } from "@hono/node-server";
import type { TestCertificateAuthority } from "@ksef-certs/ksef/testing";
import type { AddressInfo } from "node:net";
import { registerAuthRoutes } from "./routes/auth.js";
import { registerCertificateRoutes } from "./routes/certificates.js";
import { registerMiscRoutes } from "./routes/misc.js";
import { API_PREFIX, Simulator, type SimulatorApp, type SimulatorOptions } from "./simulator.js";
import type { Faults, SimulatorState } from "./state.js";

/**
 * Creates an in-process simulator (no socket). Requests go through `request()`/`fetch()` with paths
 * under `/v2`, e.g. `await sim.request("/v2/auth/challenge", { method: "POST" })`. In-process
 * requests have no client address: the first `X-Forwarded-For` entry stands in (default 127.0.0.1).
 * @param options see {@link SimulatorOptions}
 * @throws {KsefCertsError} when the OpenAPI document cannot be loaded
 */
export function createSimulatorApp(options: SimulatorOptions = {}): SimulatorApp {
  const sim = new Simulator(options, [registerAuthRoutes, registerCertificateRoutes, registerMiscRoutes]);
  return {
    app: sim.app,
    request: sim.app.request.bind(sim.app),
    fetch: sim.app.fetch.bind(sim.app),
    state: sim.state,
    setFaults: (faults) => {
      sim.setFaults(faults);
    },
    certificateAuthority: () => sim.certificateAuthority(),
    simulator: sim,
  };
}

/** Options of {@link startSimulator}: the simulator's plus where to listen. */
export interface StartSimulatorOptions extends SimulatorOptions {
  /** Interface to bind; default `127.0.0.1` (never all interfaces unless asked). */
  readonly host?: string;
  /** TCP port; default 0 = a free port chosen by the OS. */
  readonly port?: number;
}

/** A simulator listening on HTTP. */
export interface RunningSimulator {
  /** Base URL including `/v2`, e.g. `http://127.0.0.1:41234/v2` (give it to a KSeF client as the API base). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** State and counters. */
  readonly state: SimulatorState;
  /** The CA issuing the simulator's KSeF certificates (trust anchor for `verifyCertificateChain=true`). */
  readonly ca: TestCertificateAuthority;
  /** The in-process handles (same state). */
  readonly app: SimulatorApp;
  /** Replaces the active faults. */
  setFaults(faults: Faults): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Starts the simulator on HTTP.
 * @param options listening address and simulator options
 * @returns the running simulator once it listens
 * @throws {KsefCertsError} when the OpenAPI document cannot be loaded; the listen error (e.g. EADDRINUSE) otherwise
 */
export async function startSimulator(options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const app = createSimulatorApp(options);
  const ca = await app.certificateAuthority();
  const host = options.host ?? "127.0.0.1";
  const server: ServerType = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, () => {
      resolve(s);
    });
    s.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${String(port)}${API_PREFIX}`,
    port,
    host,
    state: app.state,
    ca,
    app,
    setFaults: (faults) => {
      app.setFaults(faults);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        const http = server as ServerType & { closeAllConnections?: () => void };
        server.close((err) => {
          if (err === undefined) resolve();
          else reject(err);
        });
        http.closeAllConnections?.();
      }),
  };
}
