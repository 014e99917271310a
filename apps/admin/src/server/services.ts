/**
 * Server-wide services handed to every request's context: the clock, the logger, the master key and
 * (when the server runs them) the background enrollment runner, and the KSeF client per environment. Tests and the benchmark build their own.
 */
import type { KsefEnvironment } from "@ksef-certs/ksef/api";
import type { RevokeKsefClient } from "@ksef-certs/domain/registry";
import type { Logger } from "pino";
import type { Vault } from "@ksef-certs/domain/vault";
import type { EnrollmentRunner } from "./enrollments.js";

/** What procedures need beyond the database. */
export interface ServerServices {
  /** The clock (tests inject a fixed or moving one). */
  readonly clock: () => Date;
  /** The server's logger (redacts secrets), or undefined in tests. */
  readonly logger?: Logger;
  /** The master key (keys the audit log); undefined when none is configured. Sealing and opening keys go through {@link ServerServices.vault}. */
  readonly masterKey?: Uint8Array;
  /** The vault of the master key (seals key passwords, opens held keys); undefined when no master key is configured. */
  readonly vault?: Vault;
  /** The audit head checkpoint file (`audit.verify` compares the log with it); undefined when there is none. */
  readonly auditCheckpoint?: string;
  /** Runs enrollments in the background; undefined when the server runs none (tests of other routers). */
  readonly enrollments?: EnrollmentRunner;
  /** The real path of the export root (server folders exports may go to, by destination name); undefined → downloads only. */
  readonly exportRoot?: string;
  /** The KSeF client of an environment (official URL, or the simulator's), for calls made within a request such as revocation; undefined → none. */
  readonly ksefClient?: (environment: KsefEnvironment) => RevokeKsefClient;
}
