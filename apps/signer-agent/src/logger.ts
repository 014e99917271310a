/**
 * The agent's logger: pino, JSON lines on stderr (journald and `systemctl --user status` pick them up),
 * `info` by default and `debug` with `--verbose`. Secrets never reach it: passwords and tokens are not
 * passed to log calls, and the redaction below removes them should a future call pass an object holding one.
 */
import { errorForLog } from "@ksef-certs/ksef/errors";
import { pino, type Logger } from "pino";

/** Paths pino removes from every log line (passwords, tokens, authorization headers, key material). */
export const REDACT_PATHS: readonly string[] = [
  "password",
  "*.password",
  "keyPassword",
  "*.keyPassword",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "privateKey",
  "*.privateKey",
  "code",
  "*.code",
];

/** The logger type the agent passes around. */
export type AgentLogger = Logger;

/**
 * Creates the agent's logger.
 * @param options `verbose` for debug lines; `destination` a writable stream (default stderr); `level` overrides both
 */
export function createLogger(options: { verbose?: boolean; level?: string; destination?: NodeJS.WritableStream } = {}): AgentLogger {
  return pino(
    {
      name: "ksef-signer",
      level: options.level ?? (options.verbose === true ? "debug" : "info"),
      redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
      base: { pid: process.pid },
      // Errors of failed requests may carry what was sent: only codes, messages and frames are logged.
      serializers: { err: errorForLog, error: errorForLog },
    },
    (options.destination ?? process.stderr) as Parameters<typeof pino>[1],
  );
}
