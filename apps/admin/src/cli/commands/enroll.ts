/**
 * `ksef-certs cert enroll`: a new KSeF certificate for a company, branch or operator, through core's
 * persisted enrollment (ksef-docs `uwierzytelnianie.md`, `certyfikaty-KSeF.md`): the key is generated and stored
 * encrypted before anything is sent, the person authenticates automatically with a held Authentication
 * certificate (`--with-certificate`) or by signing `auth.xml` through a workstation's folders
 * (`--workstation`), and the certificate is retrieved, paired and recorded as current or queued.
 *
 * Also what `enrollment resume` and `cert revoke` share with it: unlocking held signing keys
 * ({@link SigningKeys}), the service wiring ({@link enrollmentServiceFor}), Ctrl-C handling
 * ({@link interruptible}) and the mapping of an enrollment outcome to an error ({@link outcomeError}).
 *
 * Secrets: the new key's password comes from the terminal (asked twice), `--password-file` or
 * `--password-stdin`; a signing key's password from its sealed copy (master key), `--signing-password-file`
 * or the terminal. None is printed; progress lines (stderr) come from the service, which never puts
 * secrets in them.
 */
import { type Command, Option } from "commander";
import {
  createEnrollmentService,
  createFolderHandoff,
  type EnrollmentProgress,
  type EnrollmentRunResult,
  type EnrollmentService,
  type EnrollmentSummary,
} from "@ksef-certs/domain/enrollment";
import { type ErrorCode, isKsefCertsError, KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg, translate } from "@ksef-certs/ksef/messages";
import {
  type CertificateSummary,
  type CertificateTypeName,
  type Environment,
  getCertificate,
  listWorkstations,
  type Workstation,
} from "@ksef-certs/domain/registry";
import { type Db } from "@ksef-certs/domain/store";
import { LOCAL_SYSTEM_PRINCIPAL } from "@ksef-certs/domain/access";
import { unlockHeldCertificate, type Vault } from "@ksef-certs/domain/vault";
import type { XadesSigner } from "@ksef-certs/ksef/xades";
import type { CliIo } from "../context.js";
import { addKsefUrlOption, describeKsefTarget, ksefClients, ksefTargetOf, type KsefTarget, type KsefTargetOptions } from "../ksef.js";
import { addPasswordOptions, type CommandEnv, examples, type InputPasswordOptions, helpText } from "../options.js";
import { formatFields, Output } from "../output.js";
import { Passwords, readPasswordFile } from "../password.js";
import { addStoreOptions, cliActor, nowOf, vaultOf, type StoreOptions, withStore } from "../store.js";
import {
  addEnvironmentOption,
  addOperatorReferenceOptions,
  addTypeOption,
  branchByCode,
  certificateJson,
  companyByNip,
  type OperatorReference,
  parseDate,
  ScopeLabels,
  scopeFromOptions,
} from "./registry-common.js";

/** Options of `cert enroll`. */
export interface CertEnrollOptions extends StoreOptions, InputPasswordOptions, OperatorReference, KsefTargetOptions {
  readonly company: string;
  readonly branch?: string;
  readonly environment: Environment;
  readonly type: CertificateTypeName;
  readonly name: string;
  readonly mode: "current" | "queued";
  readonly validFrom?: string;
  readonly withCertificate?: string;
  readonly workstation?: string;
  readonly workstationBranch?: string;
  readonly sealPassword?: boolean;
  readonly signingPasswordFile?: string;
}

/**
 * Adds `--signing-password-file FILE`.
 * @param cmd the command
 */
export function addSigningPasswordOption(cmd: Command): Command {
  return cmd.option(
    "--signing-password-file <file>",
    "password of the held Authentication certificate's key (--with-certificate), when it is not sealed under the master key (default: asked on the terminal)",
  );
}

/**
 * Opens the keys of held Authentication certificates for automatic sign-in, each once per run. The
 * password is the sealed one (when a master key is configured), else the first line of
 * `--signing-password-file`, else asked on the terminal. Only the unlocked `KeyObject` is kept, in memory.
 */
export class SigningKeys {
  private readonly signers = new Map<string, Promise<XadesSigner>>();

  /**
   * @param io the run's surface (terminal prompt, password file)
   * @param db the open store
   * @param vault the master key's vault, when one is configured
   * @param passwordFile `--signing-password-file`
   */
  constructor(
    private readonly io: CliIo,
    private readonly db: Db,
    private readonly vault: Vault | undefined,
    private readonly passwordFile: string | undefined,
  ) {}

  /**
   * The signer (unlocked key and certificate) of a held certificate.
   * @param certificateId the certificate's id
   * @throws {KsefCertsError} NOT_FOUND for an unknown id; PASSWORD_REQUIRED when no password source exists;
   *   WRONG_PASSWORD when the password does not open the key; FORBIDDEN when the sealed password does not open with the master key
   */
  signer(certificateId: string): Promise<XadesSigner> {
    let signer = this.signers.get(certificateId);
    if (signer === undefined) {
      signer = this.unlock(certificateId);
      // A failure is not cached: the next call (e.g. a resume with the right file) tries again.
      signer.catch(() => this.signers.delete(certificateId));
      this.signers.set(certificateId, signer);
    }
    return signer;
  }

  private unlock(certificateId: string): Promise<XadesSigner> {
    // The CLI is the local operator: the vault's one key-opening path, with the file or prompt as the fallback.
    return unlockHeldCertificate(this.db, LOCAL_SYSTEM_PRINCIPAL, certificateId, this.vault, {
      hint: msg("cli.enroll.signingPassword.hint"),
      fallbackPassword: async ({ sealed }) => {
        if (this.passwordFile !== undefined) return readPasswordFile(this.io, this.passwordFile);
        if (this.io.stdinIsTTY) return this.io.prompt(translate(this.io.locale ?? "en", msg("cli.prompt.signingKeyPassword", { certificateId })));
        throw new KsefCertsError("PASSWORD_REQUIRED", msg("cli.enroll.signingPassword", { certificateId }), {
          hint: sealed ? msg("cli.enroll.signingPassword.sealed.hint") : msg("cli.enroll.signingPassword.hint"),
          details: { certificateId },
        });
      },
    });
  }
}

/**
 * One progress line for stderr: `[state] message`.
 * @param event the service's progress event
 */
export function progressLine(event: EnrollmentProgress): string {
  return `[${event.state}] ${event.message}`;
}

/**
 * The enrollment service of one CLI run: the run's KSeF target, the folder hand-off (problems with
 * dropped files reported on stderr), sealing under the master key when one is configured (the key
 * password with `--seal-password`, and always the KSeF session so a resume can continue it), the held
 * signing keys, and progress lines on stderr (in `--json` mode too: the hand-off instructions are
 * needed whatever the output format).
 * @param io the run's surface
 * @param db the open store
 * @param target where KSeF calls go
 * @param vault the master key's vault, when one is configured
 * @param signingKeys unlocks held Authentication certificates
 * @param clients the KSeF client per environment (default: {@link ksefClients} of `target`)
 */
export function enrollmentServiceFor(
  io: CliIo,
  db: Db,
  target: KsefTarget,
  vault: Vault | undefined,
  signingKeys: SigningKeys,
  clients: ReturnType<typeof ksefClients> = ksefClients(target),
): EnrollmentService {
  const print = (line: string): void => {
    io.stderr.write(`${line}\n`);
  };
  return createEnrollmentService({
    db,
    client: clients,
    now: () => nowOf(io),
    handoff: createFolderHandoff({
      db,
      onProblem: (p) => {
        print(`hand-off: ${p.file}: ${p.en}${p.movedTo === undefined ? "" : ` (moved to ${p.movedTo})`}`);
      },
    }),
    ...(vault === undefined ? {} : { vault }),
    signerFor: (certificateId) => signingKeys.signer(certificateId),
    onProgress: (event) => {
      print(progressLine(event));
    },
  });
}

/** Thrown by {@link interruptible} work when Ctrl-C stopped it. */
export class Interrupted extends Error {
  override readonly name = "Interrupted";
}

/**
 * Runs `work` with an abort signal fired by the first Ctrl-C (SIGINT). A second Ctrl-C gets the
 * default behaviour (the store's lock handler releases the data folder and the process ends).
 * @param work the long operation
 * @returns what `work` returns
 * @throws {Interrupted} when Ctrl-C aborted it (whatever `work` threw then is the `cause`); else what `work` throws
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = (): void => {
    controller.abort(new Interrupted("Interrupted (Ctrl-C)."));
  };
  process.once("SIGINT", onSigint);
  try {
    return await work(controller.signal);
  } catch (err) {
    if (controller.signal.aborted) throw new Interrupted("Interrupted (Ctrl-C).", { cause: err });
    throw err;
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

/**
 * The error an interrupted enrollment ends the command with: IO (exit 7), naming the state kept and
 * the resume command.
 * @param enrollment the enrollment as stored after the interruption
 */
export function interruptedError(enrollment: EnrollmentSummary): KsefCertsError {
  return new KsefCertsError("IO", msg("cli.enroll.interrupted", { id: enrollment.id, state: enrollment.state }), {
    hint: msg("cli.enroll.resume.hint", { id: enrollment.id }),
    details: { enrollmentId: enrollment.id, state: enrollment.state, aborted: true },
  });
}

/**
 * The error for an enrollment run that did not complete, or `undefined` when it completed. KSeF's code
 * and description are in the underlying error's message (the client quotes them); the exit code is
 * that error's code's, else: `waiting` for a password → PASSWORD_REQUIRED, other `waiting`/`retry` → IO,
 * `blocked` → CONFLICT, `failed` → INTERNAL.
 * @param result what `run` returned
 */
export function outcomeError(result: EnrollmentRunResult): KsefCertsError | undefined {
  const { outcome, enrollment: e } = result;
  if (outcome === "completed") return undefined;
  const message = result.message ?? e.failureReason ?? "";
  const fallback: ErrorCode =
    outcome === "failed" ? "INTERNAL" : outcome === "blocked" ? "CONFLICT" : outcome === "waiting" && /password/i.test(message) ? "PASSWORD_REQUIRED" : "IO";
  const code = result.error?.code ?? fallback;
  const what =
    outcome === "failed"
      ? e.failureCode === null
        ? msg("cli.enroll.failed", { id: e.id, message })
        : msg("cli.enroll.failedWithCode", { id: e.id, code: e.failureCode, message })
      : msg("cli.enroll.stopped", { id: e.id, state: e.state, outcome, message });
  return new KsefCertsError(code, what, {
    hint: outcome === "failed" ? msg("cli.enroll.failed.hint") : msg("cli.enroll.stopped.hint", { id: e.id }),
    ...(result.error === undefined ? {} : { cause: result.error, violations: result.error.violations }),
    details: { enrollmentId: e.id, state: e.state, outcome, failureCode: e.failureCode, ...(result.error === undefined ? {} : { ksef: result.error.details }) },
    retryable: outcome === "retry",
  });
}

/**
 * The fields people see for an enrollment.
 * @param e the enrollment (no secrets)
 * @param scope its scope's label
 */
export function enrollmentFields(e: EnrollmentSummary, scope: string): [string, string | number | undefined][] {
  const iso = (d: Date | null): string | undefined => (d === null ? undefined : d.toISOString());
  return [
    ["enrollment", e.id],
    ["state", e.state],
    ["name", e.name],
    ["scope", scope],
    ["type", e.certificateType],
    ["environment", e.environment],
    ["mode", e.mode],
    ["valid from (requested)", iso(e.validFrom)],
    [
      "authentication",
      e.authMethod === "certificate" ? `automatic with certificate ${e.signingCertificateId ?? "?"}` : `hand-off at workstation ${e.workstationId ?? "?"}`,
    ],
    ["password sealed", e.passwordSealed ? "yes" : "no"],
    ["auth.xml", e.handoffFile ?? undefined],
    ["challenge expires", iso(e.challengeExpiresAt)],
    ["KSeF reference", e.ksefReferenceNumber ?? undefined],
    ["certificate serial", e.certificateSerialNumber ?? undefined],
    ["certificate id", e.certificateId ?? undefined],
    ["failure", e.failureReason === null ? undefined : `${e.failureCode === null ? "" : `${e.failureCode}: `}${e.failureReason}`],
    ["attempts", e.attempts],
    ["created", e.createdAt.toISOString()],
    ["updated", e.updatedAt.toISOString()],
  ];
}

/**
 * Registers `cert enroll` in the `cert` group.
 * @param group the `cert` command
 * @param env the run's surface and state
 */
export function registerEnroll(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("enroll")
    .summary(helpText(env.io, msg("cli.help.cert.enroll")))
    .description(
      "Enroll a new certificate in KSeF and hold it in the registry. A new EC P-256 key is generated and stored\n" +
        "encrypted (the .key format of the KSeF web app) under the password you give (asked twice; ksef-app rules:\n" +
        "15-32 characters, A-Z a-z 0-9 and one of !@#$%^&*()-_+=) before anything is sent. The person then signs in to\n" +
        "KSeF either automatically with a held Authentication certificate (--with-certificate ID: same person), or by\n" +
        "signing auth.xml (--workstation NAME): the file is written into the workstation's outbox folder, the person\n" +
        "signs it on the gov.pl page (Profil Zaufany) and drops the signed file into the inbox folder; a challenge\n" +
        "lasts 10 minutes and is renewed with a new file. The certificate is retrieved, checked against the key and\n" +
        "recorded as current or queued. Progress goes to stderr. Ctrl-C stops it, and\n" +
        "`ksef-certs enrollment resume ID` carries on from where it stopped (no key is ever enrolled twice).\n" +
        "The KSeF used is printed first: --ksef-url, else $KSEF_CERTS_KSEF_URL, else the official one of --environment.",
    )
    .requiredOption("--company <nip>", "the company's NIP (the KSeF context to sign in to)")
    .option("--branch <code>", "hold it for this branch of the company");
  addOperatorReferenceOptions(cmd);
  addEnvironmentOption(cmd, true);
  addTypeOption(cmd, true);
  cmd
    .requiredOption("--name <name>", "KSeF certificate name (5-100 characters)")
    .addOption(
      new Option("--mode <mode>", "current, or queued (takes over when the current one expires or is revoked)")
        .choices(["current", "queued"])
        .default("current"),
    )
    .option("--valid-from <date>", "requested start of validity (YYYY-MM-DD or ISO date-time; default: from issuance)")
    .option("--with-certificate <id>", "sign in automatically with this held Authentication certificate (see `cert list`)")
    .option("--workstation <name>", "sign in through this workstation's hand-off folders (auth.xml signed by the person)")
    .option("--workstation-branch <code>", "the branch of --workstation, when several branches have one of that name")
    .option("--seal-password", "store the new key's password sealed under the master key for unattended use");
  addPasswordOptions(cmd, "the new key");
  addSigningPasswordOption(cmd);
  addKsefUrlOption(cmd);
  addStoreOptions(cmd).addHelpText(
    "after",
    examples([
      "ksef-certs cert enroll --company 5265877635 --operator-pesel 44051401458 --environment test --type Authentication --name 'Jan Kowalski logowanie' --workstation kasa-1",
      "ksef-certs cert enroll --company 5265877635 --operator-pesel 44051401458 --environment test --type Offline --name 'Jan Kowalski offline' --with-certificate 0b8e… --password-file new.pass",
      "ksef-certs cert enroll --company 5265877635 --branch 001 --environment production --type Authentication --name 'Oddział 001' --mode queued --valid-from 2026-09-01 --with-certificate 0b8e…",
      "ksef-certs cert enroll … --ksef-url http://127.0.0.1:8090/v2   # the simulator of `npm run simulator`",
    ]),
  );
  cmd.action(async (opts: CertEnrollOptions) => {
    await certEnroll(env, opts);
  });
}

async function workstationOf(db: Db, opts: CertEnrollOptions): Promise<Workstation> {
  const company = await companyByNip(db, opts.company);
  const name = (opts.workstation ?? "").trim();
  let found = (await listWorkstations(db, { companyId: company.id })).filter((w) => w.name === name);
  if (opts.workstationBranch !== undefined) {
    const branch = await branchByCode(db, company, opts.workstationBranch);
    found = found.filter((w) => w.branchId === branch.id);
  }
  const [only, ...more] = found;
  if (only === undefined) {
    throw new KsefCertsError(
      "NOT_FOUND",
      opts.workstationBranch === undefined
        ? msg("cli.enroll.noWorkstation", { nip: company.nip, name: JSON.stringify(name) })
        : msg("cli.enroll.noWorkstationAtBranch", { nip: company.nip, name: JSON.stringify(name), branch: opts.workstationBranch }),
      {
        hint: msg("cli.enroll.noWorkstation.hint", { nip: company.nip }),
        details: { entity: "workstation", nip: company.nip },
      },
    );
  }
  if (more.length > 0) {
    throw new KsefCertsError("VALIDATION", msg("cli.enroll.workstationAmbiguous", { nip: company.nip, name: JSON.stringify(name) }), {
      hint: msg("cli.enroll.workstationAmbiguous.hint"),
      violations: [violation("--workstation-branch", "workstation.ambiguous")],
    });
  }
  return only;
}

/**
 * Runs `cert enroll`: checks the options and reads the new key's password before the store is opened,
 * opens the signing key up front (a wrong password stops it before anything is stored), requests the
 * enrollment and drives it to the end (or until Ctrl-C).
 * @param env the run's surface and state
 * @param opts parsed options
 * @throws {KsefCertsError} VALIDATION for a wrong option combination, a password breaking the ksef-app rules (every violation), a
 *   bad name or date; NOT_FOUND for an unknown company, branch, operator, workstation or signing certificate; PASSWORD_REQUIRED /
 *   WRONG_PASSWORD for a password; CONFLICT when the registry rules forbid the certificate; IO when interrupted (resumable);
 *   a KSeF refusal with its code's mapping and KSeF's code and description in the message
 */
export async function certEnroll(env: CommandEnv, opts: CertEnrollOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  if ((opts.withCertificate === undefined) === (opts.workstation === undefined)) {
    throw new KsefCertsError("VALIDATION", msg("cli.enroll.authMethod"), {
      hint: msg("cli.enroll.authMethod.hint"),
      violations: [violation("--with-certificate", "authMethod.one")],
    });
  }
  if (opts.workstationBranch !== undefined && opts.workstation === undefined) throw new KsefCertsError("VALIDATION", msg("cli.enroll.workstationBranchAlone"));
  if (opts.branch !== undefined && (opts.operator !== undefined || opts.operatorPesel !== undefined)) {
    throw new KsefCertsError("VALIDATION", msg("cli.enroll.holderBoth"));
  }
  const validFrom = opts.validFrom === undefined ? undefined : parseDate(opts.validFrom, "--valid-from");
  const vault = await vaultOf(io, opts);
  if (opts.sealPassword === true && vault === undefined) {
    throw new KsefCertsError("VALIDATION", msg("cli.enroll.sealNoMasterKey"), {
      hint: msg("cli.enroll.sealNoMasterKey.hint"),
      violations: [{ field: "--seal-password", rule: "masterKey.required", message: "No master key is configured." }],
    });
  }
  const target = ksefTargetOf(io, opts);
  const keyPassword = await new Passwords(io, {
    output: { file: opts.passwordFile, stdin: opts.passwordStdin, names: { file: "--password-file", stdin: "--password-stdin" } },
    profile: "ksef-app",
  }).fresh(`the new key of "${opts.name}"`);
  io.stderr.write(`${describeKsefTarget(target, opts.environment)}\n`);
  const at = nowOf(io);
  const actor = cliActor(io);
  const done = await withStore(env, opts, async (s) => {
    const scope = await scopeFromOptions(s.db, opts);
    const signingKeys = new SigningKeys(io, s.db, vault, opts.signingPasswordFile);
    let auth: { authMethod: "certificate"; signingCertificateId: string } | { authMethod: "handoff"; workstationId: string };
    if (opts.withCertificate !== undefined) {
      const signing = await getCertificate(s.db, opts.withCertificate.trim(), at);
      // Opened now: a missing or wrong password must stop the command before an enrollment exists.
      await signingKeys.signer(signing.id);
      auth = { authMethod: "certificate", signingCertificateId: signing.id };
    } else {
      const w = await workstationOf(s.db, opts);
      io.stderr.write(`hand-off: auth.xml goes to ${w.outboxDir}; the signed file is taken from ${w.inboxDir}\n`);
      auth = { authMethod: "handoff", workstationId: w.id };
    }
    const service = enrollmentServiceFor(io, s.db, target, vault, signingKeys);
    const requested = await service.request(
      {
        scope,
        environment: opts.environment,
        certificateType: opts.type,
        mode: opts.mode,
        name: opts.name,
        ...(validFrom === undefined ? {} : { validFrom }),
        ...auth,
        keyPassword,
        sealPassword: opts.sealPassword === true,
      },
      { actor },
    );
    io.stderr.write(`enrollment ${requested.id}: Ctrl-C stops it; \`ksef-certs enrollment resume ${requested.id}\` continues it\n`);
    let result: EnrollmentRunResult;
    try {
      result = await interruptible((signal) => service.run(requested.id, { signal, actor }));
    } catch (err) {
      if (err instanceof Interrupted) throw interruptedError(await service.get(requested.id));
      throw err;
    }
    // The clock after the run: the certificate was issued meanwhile.
    return finish(s.db, result, nowOf(io));
  });
  const failure = outcomeError(done.result);
  if (failure !== undefined) throw failure;
  out.result(completedJson(done), completedLines(done));
}

/** A run's result with its certificate (when completed) and scope label, read before the store closes. */
export interface FinishedEnrollment {
  readonly result: EnrollmentRunResult;
  readonly scope: string;
  readonly certificate?: { readonly summary: CertificateSummary; readonly json: Record<string, unknown> };
}

/**
 * Reads what a finished run's output shows: the recorded certificate and the scope's label.
 * @param db the open store
 * @param result what `run` returned
 * @param at the clock for the certificate's state and days to expiry
 */
export async function finish(db: Db, result: EnrollmentRunResult, at: Date): Promise<FinishedEnrollment> {
  const labels = new ScopeLabels(db);
  const scope = (await labels.of(result.enrollment)).text;
  const id = result.enrollment.certificateId;
  if (result.outcome !== "completed" || id === null) return { result, scope };
  const { certificateDer: _der, ...summary } = await getCertificate(db, id, at);
  return { result, scope, certificate: { summary, json: certificateJson(summary, await labels.of(summary)) } };
}

/**
 * The JSON of a finished enrollment: `{ outcome, enrollment, certificate }`.
 * @param f the finished run
 */
export function completedJson(f: FinishedEnrollment): Record<string, unknown> {
  return {
    outcome: f.result.outcome,
    enrollment: f.result.enrollment,
    certificate: f.certificate?.json ?? null,
    ...(f.result.message === undefined ? {} : { message: f.result.message }),
  };
}

/**
 * The human lines of a completed enrollment: the certificate (id, serial, validity) and the enrollment.
 * @param f the finished run
 */
export function completedLines(f: FinishedEnrollment): string[] {
  const c = f.certificate?.summary;
  return [
    c === undefined ? `enrollment ${f.result.enrollment.id}: ${f.result.outcome}` : `enrolled certificate ${c.serialNumber}`,
    ...formatFields([
      ["certificate id", c?.id],
      ["serial", c?.serialNumber],
      ["valid from", c?.validFrom.toISOString()],
      ["valid to", c?.validTo.toISOString()],
      ["days to expiry", c?.daysToExpiry],
      ["state", c?.state],
      ["mode", c?.mode ?? f.result.enrollment.mode],
      ["type", f.result.enrollment.certificateType],
      ["environment", f.result.enrollment.environment],
      ["scope", f.scope],
      ["enrollment", f.result.enrollment.id],
    ]),
  ];
}

/**
 * Whether an error is the one a missing password source raises (used to run on without that password).
 * @param err anything caught
 */
export function isPasswordRequired(err: unknown): boolean {
  return isKsefCertsError(err, "PASSWORD_REQUIRED");
}
