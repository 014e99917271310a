#!/usr/bin/env node
/**
 * The `ksef-certs` executable: wires the real process (stdin/stdout/stderr, environment, working
 * directory, terminal prompt) into the program and exits with its code.
 */
import password from "@inquirer/password";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { CliIo } from "./context.js";
import { runCli } from "./program.js";

/**
 * Asks for a password on the terminal with @inquirer/password: no echo, prompt on stderr so stdout
 * stays clean for results. Ctrl+C becomes `PASSWORD_REQUIRED` (nothing was entered).
 * @param message the question
 * @throws {KsefCertsError} `PASSWORD_REQUIRED` when the prompt is cancelled
 */
async function terminalPrompt(message: string): Promise<string> {
  try {
    return await password({ message }, { input: process.stdin, output: process.stderr });
  } catch (err) {
    if (err instanceof Error && err.name === "ExitPromptError") throw new KsefCertsError("PASSWORD_REQUIRED", msg("cli.prompt.cancelled"), { cause: err });
    throw err;
  }
}

// `ksef-certs cert list | head` closes the pipe early: that is the reader's choice, not a failure (as in `ls | head`).
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
};

process.exitCode = await runCli(process.argv.slice(2), io);
