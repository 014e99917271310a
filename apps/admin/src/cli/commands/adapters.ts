/**
 * Placeholder registration (filled in by its issue's work): keeps program.ts stable while the command is built.
 */
import type { Command } from "commander";
import type { CommandEnv } from "../options.js";

/**
 * Registers the command group of this file.
 * @param _program the root command
 * @param _env the run's surface and state
 */
export function registerAdapterCommands(_program: Command, _env: CommandEnv): void {}
