/**
 * Server-wide services handed to every request's context: the clock, the logger, and (when the server
 * runs them) the background enrollment runner. Tests and the benchmark build their own.
 */
import type { Logger } from "pino";
import type { EnrollmentRunner } from "./enrollments.js";

/** What procedures need beyond the database. */
export interface ServerServices {
  /** The clock (tests inject a fixed or moving one). */
  readonly clock: () => Date;
  /** The server's logger (redacts secrets), or undefined in tests. */
  readonly logger?: Logger;
  /** Runs enrollments in the background and fans out their progress; undefined when the server runs none (tests of other routers). */
  readonly enrollments?: EnrollmentRunner;
}
