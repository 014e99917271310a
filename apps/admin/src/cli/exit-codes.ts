/**
 * The one place where core error codes become process exit codes (documented in README "Exit codes").
 * Scripts branch on these numbers, so they are part of the CLI's contract: change them only with a
 * major version.
 */
import { CLI_EXIT_CODES, type ErrorCode, type KsefCertsError } from "@ksef-certs/ksef/errors";

/** Exit code of a successful run. */
export const EXIT_OK = 0;
/** Exit code of a usage error (unknown option, missing argument); the same as `VALIDATION`. */
export const EXIT_USAGE = 2;
/** Exit code of an unexpected failure (a bug), the same as `INTERNAL`. */
export const EXIT_INTERNAL = 1;

/** Exit code per {@link ErrorCode} (core `CLI_EXIT_CODES`, shared with `ksef-signer`). */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = CLI_EXIT_CODES;

/**
 * The exit code for an error (or its code).
 * @param err a core error, or just its code
 * @returns 1..8, see {@link EXIT_CODES}
 */
export function exitCodeFor(err: KsefCertsError | ErrorCode): number {
  return EXIT_CODES[typeof err === "string" ? err : err.code];
}
