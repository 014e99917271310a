/**
 * Exit codes of `ksef-signer`: the same numbers as the `ksef-certs` CLI (apps/admin/src/cli/exit-codes.ts) so
 * scripts treat both alike, plus 9 for "token revoked: pair again" (a service manager must not restart then).
 */
import type { ErrorCode } from "@ksef-certs/core/errors";

/** Success. */
export const EXIT_OK = 0;
/** Usage error (unknown option, missing argument); the same as `VALIDATION`. */
export const EXIT_USAGE = 2;
/** The server no longer accepts the workstation token: pair again. */
export const EXIT_TOKEN_REVOKED = 9;

/** Exit code per core error code: 1 internal, 2 validation, 3 damaged input, 4 password, 5 unsupported, 6 key mismatch, 7 not found/IO, 8 conflict. */
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
  FORBIDDEN: 7,
  IO: 7,
  CONFLICT: 8,
};
