/**
 * Exit codes of `ksef-signer`: the same numbers as the `ksef-certs` CLI (apps/admin/src/cli/exit-codes.ts) so
 * scripts treat both alike, plus 9 for "token revoked: pair again" (a service manager must not restart then).
 */
import { CLI_EXIT_CODES, type ErrorCode } from "@ksef-certs/ksef/errors";

/** Success. */
export const EXIT_OK = 0;
/** Usage error (unknown option, missing argument); the same as `VALIDATION`. */
export const EXIT_USAGE = 2;
/** The server no longer accepts the workstation token: pair again. */
export const EXIT_TOKEN_REVOKED = 9;

/** Exit code per core error code (core `CLI_EXIT_CODES`, the same numbers as `ksef-certs`). */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = CLI_EXIT_CODES;
