/**
 * The agent's configuration folder: `--config-dir`, else `$XDG_CONFIG_HOME/ksef-signer`, else
 * `~/.config/ksef-signer` (`%APPDATA%\ksef-signer` on Windows). Everything in it is the user's only (0700/0600):
 *
 * - `config.json`: the server URL, the paired workstation (as the server described it), folder overrides,
 *   auto-sign settings. No secrets.
 * - `token`: the workstation token (bearer), written atomically with mode 0600. The server keeps only its SHA-256.
 * - `journal.json`: pending requests, uploaded hashes, in-flight uploads (see journal.ts).
 * - `agent.key`: the per-agent key that seals key passwords for automatic signing (see autosign.ts).
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { rm } from "node:fs/promises";
import { z } from "zod";
import { workstationSchema } from "@ksef-certs/ksef/agent-protocol";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { ensurePrivateDir, readIfExists, writeFileAtomic } from "./files.js";

/** Folder name under the XDG config home. */
export const CONFIG_DIR_NAME = "ksef-signer";
/** Config file name inside the config folder. */
export const CONFIG_FILE = "config.json";
/** Token file name inside the config folder (mode 0600). */
export const TOKEN_FILE = "token";
/** Journal file name inside the config folder. */
export const JOURNAL_FILE = "journal.json";
/** Largest config or journal file read, bytes (1 MiB). */
export const MAX_STATE_FILE_BYTES = 1_048_576;

/**
 * The configuration folder for a run.
 * @param explicit `--config-dir`, when given
 * @param env the environment (`XDG_CONFIG_HOME`, `APPDATA`, `HOME`)
 * @param cwd the working directory relative paths are resolved against
 * @returns an absolute folder path
 */
export function resolveConfigDir(explicit: string | undefined, env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  if (explicit !== undefined && explicit !== "") return isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
  const xdg = env["XDG_CONFIG_HOME"];
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, CONFIG_DIR_NAME);
  if (process.platform === "win32" && env["APPDATA"] !== undefined) return join(env["APPDATA"], CONFIG_DIR_NAME);
  return join(env["HOME"] ?? homedir(), ".config", CONFIG_DIR_NAME);
}

const contextSchema = z.object({ type: z.enum(["Nip", "InternalId", "NipVatUe", "PeppolId"]), value: z.string().min(1).max(64) });

/** Where a certificate's key password comes from for automatic signing. */
export type PasswordSource = "prompt" | "keyring" | "sealed";

const autoSignSchema = z.object({
  /** SHA-256 of the certificate DER, 64 uppercase hex: the setting's id. */
  fingerprint: z.string().regex(/^[0-9A-F]{64}$/),
  certPath: z.string().min(1).max(4096),
  keyPath: z.string().min(1).max(4096),
  /** Contexts the operator allowed this certificate to sign into; a request for another context is left to a person. */
  contexts: z.array(contextSchema).min(1).max(100),
  passwordSource: z.enum(["prompt", "keyring", "sealed"]),
  subject: z.string().max(1000),
  validTo: z.string().max(40),
  enabledAt: z.string().max(40),
});

/** One certificate the operator allowed the agent to sign with (`ksef-signer auto-sign enable`). */
export type AutoSignSetting = z.infer<typeof autoSignSchema>;

const configSchema = z.object({
  version: z.literal(1),
  server: z.url().max(2048),
  /** The workstation as the server described it at pairing (the agent protocol's `workstationSchema`, kept as it is). */
  workstation: workstationSchema,
  pairedAt: z.string().max(40),
  /** Local overrides of the server's folders (the same share may be mounted elsewhere on this computer). */
  outboxDir: z.string().max(4096).optional(),
  inboxDir: z.string().max(4096).optional(),
  autoSign: z.array(autoSignSchema).max(100).default([]),
});

/** `config.json`. */
export type AgentConfig = z.infer<typeof configSchema>;

/**
 * Reads `config.json`, or `undefined` when the agent was never paired here.
 * @param configDir the configuration folder
 * @throws {KsefCertsError} MALFORMED when the file is damaged; TOO_LARGE above {@link MAX_STATE_FILE_BYTES}; IO
 */
export async function loadConfig(configDir: string): Promise<AgentConfig | undefined> {
  const raw = await readIfExists(join(configDir, CONFIG_FILE));
  if (raw === undefined) return undefined;
  if (raw.byteLength > MAX_STATE_FILE_BYTES)
    throw new KsefCertsError("TOO_LARGE", msg("agent.config.tooLarge", { file: CONFIG_FILE, limit: MAX_STATE_FILE_BYTES }));
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch (cause) {
    throw new KsefCertsError("MALFORMED", msg("agent.config.notJson", { path: join(configDir, CONFIG_FILE) }), {
      hint: msg("agent.config.pairAgain.hint"),
      cause,
    });
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    throw new KsefCertsError("MALFORMED", msg("agent.config.badShape", { path: join(configDir, CONFIG_FILE) }), {
      hint: msg("agent.config.pairAgain.hint"),
      // One sentence per zod issue code (`rule.config.<code>`): zod's own wording is English only.
      violations: parsed.error.issues.map((i) => {
        const field = i.path.join(".") || "config";
        return violation(field, `config.${i.code}`, { field });
      }),
    });
  }
  return parsed.data;
}

/**
 * Like {@link loadConfig}, but a missing pairing is an error.
 * @param configDir the configuration folder
 * @throws {KsefCertsError} NOT_FOUND when not paired (hint: `ksef-signer pair`), and as {@link loadConfig}
 */
export async function requireConfig(configDir: string): Promise<AgentConfig> {
  const config = await loadConfig(configDir);
  if (config === undefined) {
    throw new KsefCertsError("NOT_FOUND", msg("agent.config.notPaired", { file: CONFIG_FILE, dir: configDir }), {
      hint: msg("agent.config.notPaired.hint"),
    });
  }
  return config;
}

/**
 * Writes `config.json` atomically (0600).
 * @param configDir the configuration folder (created 0700 when missing)
 * @param config the configuration
 * @throws {KsefCertsError} IO
 */
export async function saveConfig(configDir: string, config: AgentConfig): Promise<void> {
  await ensurePrivateDir(configDir);
  await writeFileAtomic(join(configDir, CONFIG_FILE), `${JSON.stringify(configSchema.parse(config), null, 2)}\n`, 0o600);
}

/**
 * Stores the workstation token (mode 0600, atomic).
 * @param configDir the configuration folder
 * @param token the bearer token from pairing
 * @throws {KsefCertsError} IO
 */
export async function saveToken(configDir: string, token: string): Promise<void> {
  await ensurePrivateDir(configDir);
  await writeFileAtomic(join(configDir, TOKEN_FILE), `${token}\n`, 0o600);
}

/**
 * Reads the workstation token.
 * @param configDir the configuration folder
 * @throws {KsefCertsError} NOT_FOUND when there is none (not paired); IO
 */
export async function loadToken(configDir: string): Promise<string> {
  const raw = await readIfExists(join(configDir, TOKEN_FILE));
  const token = raw?.toString("utf8").trim() ?? "";
  if (token === "") throw new KsefCertsError("NOT_FOUND", msg("agent.config.noToken"), { hint: msg("agent.config.noToken.hint") });
  return token;
}

/**
 * Forgets the pairing: removes the token, the config and the journal (not the folders or their files).
 * @param configDir the configuration folder
 */
export async function removePairing(configDir: string): Promise<void> {
  for (const name of [TOKEN_FILE, CONFIG_FILE, JOURNAL_FILE]) await rm(join(configDir, name), { force: true });
}

/**
 * The folders the agent uses: local overrides first, then the server's workstation settings.
 * @param config the configuration
 * @throws {KsefCertsError} VALIDATION when a folder is not configured anywhere
 */
export function foldersOf(config: AgentConfig): { outboxDir: string; inboxDir: string } {
  const outboxDir = config.outboxDir ?? config.workstation.outboxDir ?? undefined;
  const inboxDir = config.inboxDir ?? config.workstation.inboxDir ?? undefined;
  if (outboxDir === undefined || inboxDir === undefined || outboxDir === "" || inboxDir === "") {
    throw new KsefCertsError("VALIDATION", msg("agent.config.noFolders"), {
      hint: msg("agent.config.noFolders.hint"),
      violations: [
        ...(outboxDir === undefined || outboxDir === "" ? [violation("outboxDir", "workstation.outboxDir.required")] : []),
        ...(inboxDir === undefined || inboxDir === "" ? [violation("inboxDir", "workstation.inboxDir.required")] : []),
      ],
    });
  }
  return { outboxDir, inboxDir };
}
