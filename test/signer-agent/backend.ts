/**
 * The server side the end-to-end suites run the agent against. Until the admin server's agent API is
 * available this is the in-process fake of the contract from apps/signer-agent (verifying signed files with
 * core like the server does).
 */
import { makePerson, signFor, startFakeAgentServer, type Person } from "../../apps/signer-agent/src/__fixtures__/fake-server.js";

/** A signing request as the suites see it. */
export interface BackendRequest {
  readonly id: string;
  readonly challenge: string;
  readonly xml: Uint8Array;
  readonly fileName: string;
}

/** What the suites need from the server side. */
export interface AgentBackend {
  readonly url: string;
  pairingCode(): Promise<string>;
  createRequest(): Promise<BackendRequest>;
  /** Expires a request and returns its renewal. */
  expire(id: string): Promise<BackendRequest>;
  /** The request's auth.xml signed as the person would. */
  sign(r: BackendRequest): Promise<Uint8Array>;
  /** How many signed files were accepted (submitted) for a request. */
  submissions(id: string): Promise<number>;
  revokeTokens(): Promise<void>;
  close(): Promise<void>;
}

let person: Person | undefined;

/**
 * Starts the server side for one test.
 * @param workstation the folders the workstation is configured with
 */
export async function startBackend(workstation: { outboxDir: string; inboxDir: string }): Promise<AgentBackend> {
  person ??= await makePerson();
  const p = person;
  const fake = await startFakeAgentServer(workstation);
  return {
    url: fake.url,
    pairingCode: () => Promise.resolve(fake.code),
    createRequest: () => Promise.resolve(fake.addRequest()),
    expire: (id) => {
      const next = fake.expire(id);
      if (next === undefined) throw new Error(`no request ${id}`);
      return Promise.resolve(next);
    },
    sign: (r) => signFor(p, r),
    submissions: (id) => Promise.resolve(fake.submissions.get(id) ?? 0),
    revokeTokens: () => {
      fake.revokeTokens();
      return Promise.resolve();
    },
    close: () => fake.close(),
  };
}
