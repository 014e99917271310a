/**
 * The one place where core error codes become process exit codes (documented in README "Exit codes").
 * Scripts branch on these numbers, so they are part of the CLI's contract: change them only with a
 * major version.
 */
import type { ErrorCode, KsefCertsError } from "@ksef-certs/core/errors";

/** Exit code of a successful run. */
export const EXIT_OK = 0;
/** Exit code of a usage error (unknown option, missing argument); the same as `VALIDATION`. */
export const EXIT_USAGE = 2;
/** Exit code of an unexpected failure (a bug), the same as `INTERNAL`. */
export const EXIT_INTERNAL = 1;

/**
 * Exit code per {@link ErrorCode}: 1 internal, 2 usage/validation, 3 damaged or oversized input,
 * 4 password missing or wrong, 5 unsupported scheme or algorithm, 6 key does not match the
 * certificate, 7 file missing, not accessible or I/O failure, 8 conflict (e.g. refusing to overwrite).
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  INTERNAL: 1,
  VALIDATION: 2,
  MALFORMED: 3,
  TOO_LARGE: 3,
  PASSWORD_REQUIRED: 4,
  WRONG_PASSWORD: 4,
  UNSUPPORTED: 5,
  KEY_MISMATCH: 6,
  NOT_FOUND: 7,
  // The CLI only meets FORBIDDEN as a file it may not read or write, so it groups with I/O.
  FORBIDDEN: 7,
  IO: 7,
  CONFLICT: 8,
};

/**
 * The exit code for an error (or its code).
 * @param err a core error, or just its code
 * @returns 1..8, see {@link EXIT_CODES}
 */
export function exitCodeFor(err: KsefCertsError | ErrorCode): number {
  return EXIT_CODES[typeof err === "string" ? err : err.code];
}
