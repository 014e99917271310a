#!/usr/bin/env node
/**
 * The `ksef-simulator` command: starts the simulator on HTTP, prints its base URL (or one JSON line
 * with `--json`), and stops cleanly on SIGINT/SIGTERM.
 *
 *   ksef-simulator [--port 8090] [--host 127.0.0.1] [--enrollment-delay-ms 1000] [--no-rate-limits] [--json]
 */
import { Command, InvalidArgumentError } from "commander";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type RunningSimulator, startSimulator } from "./app.js";

/** Where the command writes: stdout/stderr by default, replaceable in tests. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${String(min)} to ${String(max)}`);
    return n;
  };
}

/**
 * Parses the arguments and starts the simulator.
 * @param argv arguments after the program name (e.g. `["--port", "0", "--json"]`)
 * @param io output sinks
 * @returns the running simulator, or undefined when only help/version was printed or the arguments were wrong (exit code set)
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<RunningSimulator | undefined> {
  const program = new Command("ksef-simulator")
    .description("A local KSeF API 2.0 (challenge, XAdES sign-in, certificate enrollment, limits) for tests and offline trials.")
    .option("--port <port>", "TCP port (0 = any free port)", integer(0, 65535), 8090)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--enrollment-delay-ms <ms>", "time an enrollment stays at status 100", integer(0, 3_600_000), 1000)
    .option("--no-rate-limits", "do not enforce the published rate limits")
    .option("--json", "print one JSON line {url, port, host} instead of text")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => {
        io.out(s.trimEnd());
      },
      writeErr: (s) => {
        io.err(s.trimEnd());
      },
    });
  try {
    program.parse([...argv], { from: "user" });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode ?? 2;
    process.exitCode = code === 0 ? 0 : 2;
    return undefined;
  }
  const o = program.opts<{ port: number; host: string; enrollmentDelayMs: number; rateLimits: boolean; json?: boolean }>();
  const sim = await startSimulator({
    port: o.port,
    host: o.host,
    enrollmentDelayMs: o.enrollmentDelayMs,
    rateLimits: o.rateLimits ? "published" : "off",
    // A long-running process would collect violations forever; they are for tests.
    validateResponses: false,
  });
  if (o.json === true) io.out(JSON.stringify({ url: sim.url, port: sim.port, host: sim.host }));
  else {
    io.out(`KSeF simulator listening at ${sim.url}`);
    io.out(`Faults: POST http://${sim.host.includes(":") ? `[${sim.host}]` : sim.host}:${String(sim.port)}/__simulator/faults  (Ctrl+C stops)`);
  }
  return sim;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const io: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };
  runCli(process.argv.slice(2), io).then(
    (sim) => {
      if (sim === undefined) return;
      const stop = (): void => {
        sim.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (err: unknown) => {
      io.err(`ksef-simulator: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
