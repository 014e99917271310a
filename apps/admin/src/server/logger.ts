/**
 * The admin server's logger: pino, JSON lines. Secrets never reach a line: errors go through core
 * `errorForLog` (query parameters, PostgreSQL `detail` and other value-bearing fields dropped, also in
 * causes), and redaction removes password, token, cookie and key fields should a call ever pass one.
 */
import { errorForLog } from "@ksef-certs/ksef/errors";
import { pino, type DestinationStream, type Logger } from "pino";

/** Fields a log line must never carry (pino `redact`): passwords, tokens, cookies, keys, hashes. */
export const LOG_REDACT_PATHS = [
  "password",
  "*.password",
  "keyPassword",
  "*.keyPassword",
  "passwordHash",
  "*.passwordHash",
  "sealedPassword",
  "*.sealedPassword",
  "keyFile",
  "*.keyFile",
  "privateKey",
  "*.privateKey",
  "token",
  "*.token",
  "csrfToken",
  "*.csrfToken",
  "cookie",
  "*.cookie",
  "headers.cookie",
  "req.headers.cookie",
  "req.headers.authorization",
  "headers.authorization",
  "authorization",
  "*.authorization",
];

/**
 * Creates the server's logger.
 * @param options `level` (default `info`); `destination` (default stderr)
 * @returns a pino logger whose `err` / `error` fields are serialised by `errorForLog`
 */
export function createServerLogger(options: { readonly level?: string; readonly destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      redact: { paths: LOG_REDACT_PATHS, censor: "[redacted]" },
      serializers: { err: errorForLog, error: errorForLog },
    },
    options.destination ?? pino.destination(2),
  );
}
