#!/usr/bin/env node
/**
 * The `ksef-signer` executable: wires the real process (streams, environment, terminal prompt, SIGINT/SIGTERM)
 * into the program and exits with its code.
 */
import password from "@inquirer/password";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { runCli, type CliIo } from "./program.js";

async function terminalPrompt(message: string): Promise<string> {
  try {
    return await password({ message }, { input: process.stdin, output: process.stderr });
  } catch (err) {
    if (err instanceof Error && err.name === "ExitPromptError") throw new KsefCertsError("PASSWORD_REQUIRED", msg("agent.cli.promptCancelled"), { cause: err });
    throw err;
  }
}

const stopSignal = new Promise<void>((resolve) => {
  process.once("SIGINT", () => {
    resolve();
  });
  process.once("SIGTERM", () => {
    resolve();
  });
});

// `ksef-signer status | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const io: CliIo = {
  stdin: process.stdin,
  stdinIsTTY: process.stdin.isTTY,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  prompt: terminalPrompt,
  stopSignal,
};

process.exitCode = await runCli(process.argv.slice(2), io);
// Open handles (a pending long poll's socket) must not keep a finished command alive.
process.exit();
