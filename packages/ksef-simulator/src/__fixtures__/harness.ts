/**
 * Test harness: in-process simulators with a shared CA, a JSON/XML request helper, and sign-in with
 * real XAdES signatures (core's `signAuthTokenRequest`) verified by the simulator for real.
 */
import { type KeyPair, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { type NameAttributeInput } from "@ksef-certs/ksef/testing";
import { type TestCertificateAuthority, createTestCertificateAuthority, selfSignedCertificate } from "@ksef-certs/ksef/testing";
import { type Logger, pino } from "pino";
import { expect } from "vitest";
import { createSimulatorApp } from "../app.js";
import type { SimulatorApp, SimulatorOptions } from "../simulator.js";

let sharedCa: Promise<TestCertificateAuthority> | undefined;

/** One CA for every simulator of a test process (a CA keygen per test would be wasted time). */
export function sharedAuthority(): Promise<TestCertificateAuthority> {
  sharedCa ??= createTestCertificateAuthority();
  return sharedCa;
}

/** A response as tests read it. */
export interface CallResult {
  readonly status: number;
  readonly headers: Headers;
  readonly contentType: string;
  /** Parsed JSON, or undefined for an empty body. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
}

/** Options of {@link call}. */
export interface CallOptions {
  readonly token?: string;
  readonly json?: unknown;
  readonly xml?: Uint8Array | string;
  readonly headers?: Record<string, string>;
}

/**
 * One request to an in-process simulator.
 * @param sim the simulator
 * @param method HTTP method
 * @param path path under `/v2` (e.g. `/auth/challenge`) or absolute from `/`
 */
export async function call(sim: SimulatorApp, method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers["Authorization"] = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.xml !== undefined) {
    headers["Content-Type"] = "application/xml";
    body = options.xml;
  }
  const url = path.startsWith("/__") || path.startsWith("/v2") ? path : `/v2${path}`;
  const res = await sim.request(url, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    contentType: res.headers.get("content-type") ?? "",
    body: text === "" ? undefined : (JSON.parse(text) as unknown),
  };
}

/**
 * A simulator for tests: shared CA, responses validated against the OpenAPI document.
 * @param options simulator options
 */
export async function newSimulator(options: SimulatorOptions = {}): Promise<SimulatorApp> {
  return createSimulatorApp({ ca: await sharedAuthority(), validateResponses: true, ...options });
}

/** Asserts the simulator sent only responses that conform to the OpenAPI document. */
export function expectConformingResponses(sim: SimulatorApp): void {
  expect(sim.state.openApiViolations.response).toEqual([]);
}

/** A person's signing credential: key, certificate (DER) and subject. */
export interface Credential {
  readonly keys: KeyPair;
  readonly certificate: Uint8Array;
}

/**
 * A self-signed personal certificate as a qualified one looks (G, SN, serialNumber PNOPL-…, CN, C).
 * @param pesel 11 digits
 * @param keys an existing key pair, or a new EC P-256 one
 * @param extra further subject attributes
 * @param validFrom start of the certificate's 365 days; default the process clock (pass the simulator's clock when it is fixed)
 */
export async function personCredential(pesel: string, keys?: KeyPair, extra: readonly NameAttributeInput[] = [], validFrom?: Date): Promise<Credential> {
  const k = keys ?? (await generateKeyPair("EC-P256"));
  const validity = validFrom === undefined ? {} : { validFrom };
  const cert = await selfSignedCertificate(
    k,
    [
      { oid: "2.5.4.42", value: "Jan", stringType: "UTF8String" },
      { oid: "2.5.4.4", value: "Kowalski", stringType: "UTF8String" },
      { oid: "2.5.4.5", value: `PNOPL-${pesel}`, stringType: "PrintableString" },
      { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
      { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
      ...extra,
    ],
    validity,
  );
  return { keys: k, certificate: cert.der };
}

/** Signs an AuthTokenRequest with core's XAdES signer (loaded at run time: it lands in core separately). */
export async function signRequest(challenge: string, credential: Credential, contextNip = "5265877635"): Promise<Uint8Array> {
  const mod = (await import("@ksef-certs/ksef/xades")) as Record<string, unknown>;
  const sign = mod["signAuthTokenRequest"] as (input: unknown, signer: unknown) => Promise<Uint8Array>;
  return sign(
    { challenge, contextIdentifier: { type: "Nip", value: contextNip }, subjectIdentifierType: "certificateSubject" },
    { privateKey: credential.keys.privateKey, certificate: credential.certificate },
  );
}

/** Tokens of a completed sign-in. */
export interface Session {
  readonly referenceNumber: string;
  readonly authenticationToken: string;
  readonly accessToken: string;
  readonly refreshToken: string;
}

/**
 * The whole sign-in: challenge → signed request → status 200 → redeem. Fails the test on any other outcome.
 * @param sim the simulator
 * @param credential who signs
 * @param query extra query string for `/auth/xades-signature` (e.g. `?verifyCertificateChain=true`)
 */
export async function signIn(sim: SimulatorApp, credential: Credential, query = ""): Promise<Session> {
  const challenge = await call(sim, "POST", "/auth/challenge");
  expect(challenge.status).toBe(200);
  const signed = await signRequest((challenge.body as { challenge: string }).challenge, credential);
  const init = await call(sim, "POST", `/auth/xades-signature${query}`, { xml: signed });
  expect(init.status, JSON.stringify(init.body)).toBe(202);
  const started = init.body as { referenceNumber: string; authenticationToken: { token: string } };
  const authenticationToken = started.authenticationToken.token;
  const status = await call(sim, "GET", `/auth/${started.referenceNumber}`, { token: authenticationToken });
  expect((status.body as { status: { code: number } }).status.code, JSON.stringify(status.body)).toBe(200);
  const tokens = await call(sim, "POST", "/auth/token/redeem", { token: authenticationToken });
  expect(tokens.status).toBe(200);
  const pair = tokens.body as { accessToken: { token: string }; refreshToken: { token: string } };
  return { referenceNumber: started.referenceNumber, authenticationToken, accessToken: pair.accessToken.token, refreshToken: pair.refreshToken.token };
}

/** A logger that keeps what it is given, for tests that check what was logged. */
export function capturingLogger(): { logger: Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => entries.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, entries };
}

/**
 * A clock tests can move.
 * @param start where it starts; default the real time (signing certificates are valid from "now" unless told otherwise)
 */
export function movableClock(start?: Date): { now: () => Date; advance: (ms: number) => void } {
  let t = start?.getTime() ?? Date.now();
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
  };
}
