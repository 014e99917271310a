/**
 * Test support: runs the CLI in-process with captured output, and makes real key/certificate files
 * with the openssl CLI (passwords always through files, never argv).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import type { CliIo } from "../context.js";
import { runCli } from "../program.js";

/** How {@link run} sets up the run's surface. */
export interface RunOptions {
  readonly cwd: string;
  /** Piped stdin content (not a TTY). */
  readonly stdin?: string;
  /** Answers of the terminal prompt, in order; setting it makes stdin a TTY. */
  readonly prompts?: readonly string[];
  readonly env?: Record<string, string>;
  readonly now?: Date;
}

/** What a run printed and returned. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Questions the prompt was asked. */
  readonly asked: string[];
  /** stdout parsed as JSON (throws if it is not), typed as the caller expects it. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it asserts on
  json<T = Record<string, unknown>>(): T;
}

/**
 * Runs `ksef-certs argv` in-process with captured stdout/stderr, piped stdin or a scripted terminal prompt.
 * @param argv user arguments
 * @param options see {@link RunOptions}
 */
export async function run(argv: readonly string[], options: RunOptions): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const asked: string[] = [];
  const answers = [...(options.prompts ?? [])];
  const tty = options.prompts !== undefined;
  const stdin = tty ? new PassThrough() : Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin, "utf8")]);
  const io: CliIo = {
    stdin,
    stdinIsTTY: tty,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { COLUMNS: "120", ...options.env },
    cwd: options.cwd,
    prompt: (message: string) => {
      asked.push(message);
      const answer = answers.shift();
      return answer === undefined ? Promise.reject(new Error(`unexpected prompt: ${message}`)) : Promise.resolve(answer);
    },
    ...(options.now === undefined ? {} : { now: () => options.now as Date }),
  };
  const code = await runCli(argv, io);
  return {
    code,
    stdout,
    stderr,
    asked,
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- see RunResult.json
    json: <T>() => JSON.parse(stdout) as T,
  };
}

/** The system openssl (OpenSSL 3). */
export const OPENSSL = "/usr/bin/openssl";

/**
 * Runs openssl in `cwd` and returns its stdout as text (throws on a non-zero exit).
 * @param cwd working directory
 * @param args arguments (passwords only as `file:` references)
 * @param input stdin text
 */
export function openssl(cwd: string, args: readonly string[], input?: string): string {
  return execFileSync(OPENSSL, args, { cwd, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], ...(input === undefined ? {} : { input }) });
}

/** Public key (SPKI PEM) of a key or certificate file, as openssl sees it. */
/**
 * The SPKI PEM of a key or certificate file, as openssl reads it.
 * @param cwd working directory
 * @param file the file
 * @param kind key or certificate
 * @param passFile password file of an encrypted key
 */
export function publicKeyOf(cwd: string, file: string, kind: "key" | "cert", passFile?: string): string {
  if (kind === "cert") return openssl(cwd, ["x509", "-in", file, "-noout", "-pubkey"]);
  return openssl(cwd, ["pkey", "-in", file, "-pubout", ...(passFile === undefined ? [] : ["-passin", `file:${passFile}`])]);
}

/** A temp dir of openssl-made files; see {@link makeFixtures}. */
export interface Fixtures {
  readonly dir: string;
  /** The distinctive password used for every protected fixture. */
  readonly password: string;
  /** File holding {@link password}. */
  readonly passFile: string;
  cleanup(): void;
  read(name: string): Buffer;
  write(name: string, data: string | Uint8Array): string;
}

/**
 * A temp dir with: `plain.pem` (EC P-256 PKCS#8), `enc.key` (openssl PBES2 AES-256-CBC, 100 000 iterations),
 * `cert.crt` (KSeF-like self-signed Authentication certificate for plain.pem), `cert.der`, `other.pem`
 * (another key), `req.csr` (openssl CSR), `bundle.p12` (openssl PKCS#12 of cert + key), `notes.txt`.
 */
export function makeFixtures(): Fixtures {
  const dir = mkdtempSync(join(tmpdir(), "ksef-certs-cli-"));
  const password = "Zq7!Unique-Secret-Pw42";
  const passFile = join(dir, "pw.txt");
  writeFileSync(passFile, `${password}\n`);
  const o = (args: readonly string[]): string => openssl(dir, args);
  o(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "plain.pem"]);
  o(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.pem"]);
  o([
    "pkcs8",
    "-topk8",
    "-in",
    "plain.pem",
    "-out",
    "enc.key",
    "-v2",
    "aes-256-cbc",
    "-v2prf",
    "hmacWithSHA256",
    "-iter",
    "100000",
    "-passout",
    `file:${passFile}`,
  ]);
  o([
    "req",
    "-new",
    "-x509",
    "-key",
    "plain.pem",
    "-utf8",
    "-days",
    "730",
    "-out",
    "cert.crt",
    "-subj",
    "/C=PL/organizationIdentifier=VATPL-5265877635/O=Firma Zażółć/CN=Firma Zażółć (uwierzytelnienie)",
    "-addext",
    "keyUsage=critical,digitalSignature",
    "-addext",
    "basicConstraints=CA:FALSE",
  ]);
  o(["x509", "-in", "cert.crt", "-outform", "DER", "-out", "cert.der"]);
  o(["req", "-new", "-key", "plain.pem", "-utf8", "-subj", "/CN=Jan Kowalski/SN=Kowalski/GN=Jan/C=PL/serialNumber=PNOPL-44051401458", "-out", "req.csr"]);
  o(["pkcs12", "-export", "-inkey", "plain.pem", "-in", "cert.crt", "-out", "bundle.p12", "-passout", `file:${passFile}`]);
  writeFileSync(join(dir, "notes.txt"), "just some notes, not a key\n");
  return {
    dir,
    password,
    passFile,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
    read: (name) => readFileSync(join(dir, name)),
    write: (name, data) => {
      writeFileSync(join(dir, name), data);
      return join(dir, name);
    },
  };
}

/**
 * The outcome of an operation as a short string: `OK`, or the KsefCertsError code it rejected with
 * (any other error is re-thrown).
 * @param p the operation
 */
export async function outcomeCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    if (isKsefCertsError(e)) return e.code;
    throw e;
  }
}
