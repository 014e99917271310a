/**
 * Automatic signing: with the operator's consent, per certificate (`ksef-signer auto-sign enable`),
 * the agent signs an AuthTokenRequest itself with a locally held KSeF Authentication certificate, when the
 * request's ContextIdentifier is one the operator allowed for that certificate and the certificate is valid.
 *
 * The key stays an encrypted PKCS#8 file where the operator keeps it; its password comes from (per setting):
 * - `prompt`: asked on the terminal when `ksef-signer run` starts (not stored anywhere);
 * - `keyring`: the OS keyring through `secret-tool` (libsecret, Linux), when installed;
 * - `sealed`: sealed with core `seal` (AES-256-GCM) under a random per-agent key in `agent.key` (0600), in
 *   `auto-sign/<fingerprint>.sealed` (0600) — protects against copying the config folder without the key file,
 *   not against the user's own account.
 * Passwords are never logged (they are not passed to the logger; pino redaction backs that up) nor put in argv.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, translate, type Locale } from "@ksef-certs/ksef/messages";
import { assertKeyMatchesCertificate, parseCertificate, readPrivateKey, type CertificateInfo } from "@ksef-certs/ksef/crypto";
import { prepareXadesSigner, signAuthTokenRequest, type PreparedXadesSigner } from "@ksef-certs/ksef/xades";
import type { AutoSignSetting, PasswordSource } from "./config.js";
import { readIfExists, writeFileAtomic } from "./files.js";
import type { AgentLogger } from "./logger.js";
import { readUnsignedRequest } from "./request-xml.js";

/** The per-agent sealing key file in the config folder (32 random bytes, base64, mode 0600). */
export const AGENT_KEY_FILE = "agent.key";
/** Folder of sealed passwords in the config folder. */
export const SEALED_DIR = "auto-sign";
/** `secret-tool` attribute pair under which keyring passwords are stored. */
const KEYRING_SERVICE = "ksef-signer";
/** Largest certificate or key file read, bytes. */
const MAX_KEY_FILE_BYTES = 65_536;

/** A certificate ready to sign: the setting and the unlocked key (memory only). */
export interface AutoSigner {
  readonly setting: AutoSignSetting;
  readonly signer: PreparedXadesSigner;
}

/** Asks for a password without echo. */
export type PasswordPrompt = (message: string) => Promise<string>;

/**
 * Reads a certificate and its encrypted key and checks they belong together and can sign a KSeF login
 * (EC P-256 or RSA ≥ 2048, not an Offline certificate).
 * @param certPath the `.crt` (PEM or DER)
 * @param keyPath the `.key` (encrypted PKCS#8, as the KSeF web app writes it)
 * @param password the key's password
 * @returns the prepared signer and the parsed certificate
 * @throws {KsefCertsError} WRONG_PASSWORD, KEY_MISMATCH, UNSUPPORTED, VALIDATION (Offline certificate), MALFORMED, NOT_FOUND
 */
export async function unlockSigner(
  certPath: string,
  keyPath: string,
  password: string,
): Promise<{ signer: PreparedXadesSigner; certificate: CertificateInfo }> {
  const certBytes = await readSmall(certPath, "certificate");
  const keyBytes = await readSmall(keyPath, "key");
  const certificate = parseCertificate(certBytes);
  const { key } = await readPrivateKey(keyBytes, { password });
  assertKeyMatchesCertificate(key, certificate);
  return { signer: prepareXadesSigner({ privateKey: key, certificate: certificate.der }), certificate };
}

/**
 * The signer allowed to sign for a context now, if any.
 * @param signers the unlocked auto-sign certificates
 * @param context the request's ContextIdentifier
 * @param now the moment validity is judged at
 */
export function autoSignerFor(signers: readonly AutoSigner[], context: { type: string; value: string }, now: Date): AutoSigner | undefined {
  return signers.find(
    (s) =>
      s.setting.contexts.some((c) => c.type === context.type && c.value === context.value) &&
      Date.parse(s.signer.certificate.validFrom) <= now.getTime() &&
      now.getTime() < Date.parse(s.signer.certificate.validTo),
  );
}

/**
 * Signs an unsigned AuthTokenRequest (the bytes the server sent) with core `signAuthTokenRequest` (XAdES-BES enveloped).
 * @param signer the auto-sign certificate
 * @param unsignedXml the request as written into auth.xml
 * @returns the signed document, to be uploaded unchanged
 * @throws {KsefCertsError} VALIDATION when the bytes are not an unsigned AuthTokenRequest; as `signAuthTokenRequest`
 */
export async function signWith(signer: AutoSigner, unsignedXml: Uint8Array): Promise<Uint8Array> {
  const fields = readUnsignedRequest(unsignedXml);
  return signAuthTokenRequest(fields, signer.signer);
}

/**
 * Stores a key password for a setting in its source (`sealed` or `keyring`; `prompt` stores nothing).
 * @param configDir the configuration folder
 * @param fingerprint the certificate's fingerprint (64 uppercase hex)
 * @param source where to keep it
 * @param password the password (never logged)
 * @throws {KsefCertsError} UNSUPPORTED when `keyring` is asked for and `secret-tool` is missing; IO
 */
export async function storeKeyPassword(configDir: string, fingerprint: string, source: PasswordSource, password: string): Promise<void> {
  if (source === "sealed") {
    const { seal } = await import("@ksef-certs/ksef/crypto");
    const key = await agentKey(configDir, true);
    if (key === undefined) throw new KsefCertsError("INTERNAL", msg("agent.autoSign.agentKeyNotCreated"));
    await writeFileAtomic(join(configDir, SEALED_DIR, `${fingerprint}.sealed`), seal(key, password, aadOf(fingerprint)), 0o600);
  } else if (source === "keyring") {
    await secretTool(
      ["store", "--label", `ksef-signer key password ${fingerprint.slice(0, 16)}`, "service", KEYRING_SERVICE, "fingerprint", fingerprint],
      password,
    );
  }
}

/**
 * Removes a stored key password (sealed file or keyring entry); missing entries are fine.
 * @param configDir the configuration folder
 * @param setting the setting being disabled
 */
export async function forgetKeyPassword(configDir: string, setting: AutoSignSetting): Promise<void> {
  if (setting.passwordSource === "sealed") await rm(join(configDir, SEALED_DIR, `${setting.fingerprint}.sealed`), { force: true });
  if (setting.passwordSource === "keyring") await secretTool(["clear", "service", KEYRING_SERVICE, "fingerprint", setting.fingerprint]).catch(() => undefined);
}

/**
 * The key password of a setting, from its source.
 * @param configDir the configuration folder
 * @param setting the auto-sign setting
 * @param prompt the terminal prompt (for `prompt`), when there is a terminal
 * @param locale the language the prompt asks in
 * @throws {KsefCertsError} PASSWORD_REQUIRED when it cannot be had (no terminal, no keyring entry, no sealed file)
 */
export async function loadKeyPassword(configDir: string, setting: AutoSignSetting, prompt: PasswordPrompt | undefined, locale: Locale = "en"): Promise<string> {
  if (setting.passwordSource === "sealed") {
    const sealed = await readIfExists(join(configDir, SEALED_DIR, `${setting.fingerprint}.sealed`));
    const key = await agentKey(configDir, false);
    if (sealed === undefined || key === undefined) throw passwordRequired(setting, "sealedMissing");
    const { unseal } = await import("@ksef-certs/ksef/crypto");
    return Buffer.from(unseal(key, sealed, aadOf(setting.fingerprint))).toString("utf8");
  }
  if (setting.passwordSource === "keyring") {
    const found = await secretTool(["lookup", "service", KEYRING_SERVICE, "fingerprint", setting.fingerprint]).catch(() => undefined);
    if (found === undefined || found === "") throw passwordRequired(setting, "notInKeyring");
    return found.replace(/\n$/, "");
  }
  if (prompt === undefined) throw passwordRequired(setting, "noTerminal");
  return prompt(
    translate(locale, msg("agent.autoSign.keyPasswordPrompt", { subject: setting.subject.slice(0, 80), fingerprint: setting.fingerprint.slice(0, 16) })),
  );
}

/**
 * Unlocks every auto-sign certificate for `run`. A certificate that cannot be unlocked is skipped with a
 * warning: its requests go to a person through the outbox as usual.
 * @param configDir the configuration folder
 * @param settings the enabled settings
 * @param prompt the terminal prompt, when there is a terminal
 * @param logger where warnings go (never the password)
 * @param locale the language password prompts ask in
 */
export async function prepareAutoSigners(
  configDir: string,
  settings: readonly AutoSignSetting[],
  prompt: PasswordPrompt | undefined,
  logger: AgentLogger,
  locale: Locale = "en",
): Promise<AutoSigner[]> {
  const out: AutoSigner[] = [];
  for (const setting of settings) {
    try {
      const password = await loadKeyPassword(configDir, setting, prompt, locale);
      const { signer } = await unlockSigner(setting.certPath, setting.keyPath, password);
      out.push({ setting, signer });
      logger.info({ fingerprint: setting.fingerprint, contexts: setting.contexts }, "automatic signing ready");
    } catch (error) {
      logger.warn(
        { fingerprint: setting.fingerprint, error: describe(error) },
        "automatic signing unavailable for this certificate; its requests go to a person",
      );
    }
  }
  return out;
}

/**
 * Whether `secret-tool` (libsecret) can be run here.
 */
export async function keyringAvailable(): Promise<boolean> {
  return secretTool(["--version"]).then(
    () => true,
    () => false,
  );
}

async function agentKey(configDir: string, create: boolean): Promise<Uint8Array | undefined> {
  const path = join(configDir, AGENT_KEY_FILE);
  const raw = await readIfExists(path);
  if (raw !== undefined) {
    const key = Buffer.from(raw.toString("utf8").trim(), "base64");
    if (key.byteLength !== 32)
      throw new KsefCertsError("MALFORMED", msg("agent.autoSign.agentKeyDamaged", { path }), { hint: msg("agent.autoSign.agentKeyDamaged.hint") });
    return key;
  }
  if (!create) return undefined;
  const key = randomBytes(32);
  await writeFileAtomic(path, `${key.toString("base64")}\n`, 0o600);
  return key;
}

const aadOf = (fingerprint: string): string => `ksef-signer:auto-sign:${fingerprint}`;

function passwordRequired(setting: AutoSignSetting, why: "sealedMissing" | "notInKeyring" | "noTerminal"): KsefCertsError {
  return new KsefCertsError("PASSWORD_REQUIRED", msg(`agent.autoSign.noPassword.${why}`, { fingerprint: setting.fingerprint.slice(0, 16) }), {
    hint: msg("agent.autoSign.noPassword.hint"),
  });
}

async function readSmall(path: string, what: "certificate" | "key"): Promise<Buffer> {
  const data = await readIfExists(path);
  if (data === undefined) throw new KsefCertsError("NOT_FOUND", msg(`agent.autoSign.${what}Missing`, { path }));
  if (data.byteLength > MAX_KEY_FILE_BYTES) throw new KsefCertsError("TOO_LARGE", msg(`agent.autoSign.${what}TooLarge`, { path, limit: MAX_KEY_FILE_BYTES }));
  return data;
}

/** Runs secret-tool with the secret (if any) on stdin; resolves with stdout. */
function secretTool(args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn("secret-tool", args, { stdio: ["pipe", "pipe", "ignore"] });
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.on("error", (error) => {
      reject(
        new KsefCertsError("UNSUPPORTED", msg("agent.keyring.unavailable"), {
          hint: msg("agent.keyring.otherSource.hint"),
          cause: error,
        }),
      );
    });
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new KsefCertsError("IO", msg("agent.keyring.failed", { command: args[0] ?? "", exitCode: String(code) })));
    });
    child.stdin.end(stdin ?? "");
  });
}

/**
 * A loggable description of an error: code and message, never a cause's content.
 * @param error anything thrown
 */
export function describe(error: unknown): { code?: string; message: string } {
  if (error instanceof KsefCertsError) return { code: error.code, message: error.message };
  return { message: error instanceof Error ? error.message : String(error) };
}
