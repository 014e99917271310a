/**
 * `ksef-certs enrollment list|show|resume`: the persisted enrollments of `cert enroll`:
 * what state each is in, and carrying on one (or every unfinished one) after Ctrl-C, a crash, a missing
 * password or a KSeF fault. Resuming never enrolls a key twice (core `src/enrollment/service.ts`).
 *
 * Output never holds secrets: enrollments are shown through core's summary (no key, password or session).
 */
import { type Command, Option } from "commander";
import {
  ENROLLMENT_STATES,
  FINAL_ENROLLMENT_STATES,
  STATES_NEEDING_KEY_PASSWORD,
  type EnrollmentRunResult,
  type EnrollmentState,
  type EnrollmentSummary,
} from "@ksef-certs/domain/enrollment";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { exitCodeFor } from "../exit-codes.js";
import { addKsefUrlOption, describeKsefTarget, ksefTargetOf, type KsefTargetOptions } from "../ksef.js";
import { addPasswordOptions, type CommandEnv, examples, type InputPasswordOptions, helpText } from "../options.js";
import { formatFields, Output } from "../output.js";
import { Passwords } from "../password.js";
import { addStoreOptions, cliActor, nowOf, vaultOf, type StoreOptions, withStore } from "../store.js";
import {
  addSigningPasswordOption,
  completedJson,
  enrollmentFields,
  enrollmentServiceFor,
  finish,
  type FinishedEnrollment,
  interruptedError,
  Interrupted,
  interruptible,
  isPasswordRequired,
  outcomeError,
  SigningKeys,
} from "./enroll.js";
import { ScopeLabels, table } from "./registry-common.js";

/** Options of `enrollment list`. */
export interface EnrollmentListOptions extends StoreOptions {
  readonly state?: EnrollmentState;
}

/** Options of `enrollment resume`. */
export interface EnrollmentResumeOptions extends StoreOptions, InputPasswordOptions, KsefTargetOptions {
  readonly signingPasswordFile?: string;
}

/** States in which KSeF may hold the request already: a sign-in problem there only blocks, never fails, the enrollment. */
const SENT_STATES: readonly string[] = ["submitting", "submitted"];

/**
 * Registers the `enrollment` command group.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerEnrollment(program: Command, env: CommandEnv): void {
  const group = program
    .command("enrollment")
    .summary(helpText(env.io, msg("cli.help.enrollment")))
    .description(helpText(env.io, msg("cli.help.enrollment.description")));
  registerList(group, env);
  registerShow(group, env);
  registerResume(group, env);
}

function registerList(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("list")
    .summary(helpText(env.io, msg("cli.help.enrollment.list")))
    .description("List enrollments, newest first: id, state, scope, type, environment, mode, name, last change and failure.\nWith --json: an array.")
    .addOption(new Option("--state <state>", "only enrollments in this state").choices(ENROLLMENT_STATES));
  addStoreOptions(cmd).addHelpText("after", examples(["ksef-certs enrollment list", "ksef-certs enrollment list --state failed --json"]));
  cmd.action(async (opts: EnrollmentListOptions) => {
    const out = new Output(env.io, opts.json === true);
    const rows = await withStore(env, opts, async (s) => {
      const service = readOnlyService(env, s.db);
      const list = await service.list(opts.state === undefined ? {} : { states: [opts.state] });
      const labels = new ScopeLabels(s.db);
      return Promise.all(list.map(async (e) => ({ e, scope: (await labels.of(e)).text })));
    });
    out.result(
      rows.map(({ e, scope }) => ({ ...e, scope })),
      rows.length === 0
        ? [opts.state === undefined ? "no enrollments" : `no enrollments in state ${opts.state}`]
        : table(
            ["ID", "STATE", "SCOPE", "TYPE", "ENV", "MODE", "NAME", "UPDATED", "FAILURE"],
            rows.map(({ e, scope }) => [
              e.id,
              e.state,
              scope,
              e.certificateType,
              e.environment,
              e.mode,
              e.name,
              e.updatedAt.toISOString().slice(0, 19).replace("T", " "),
              e.failureReason === null ? "" : `${e.failureCode === null ? "" : `${e.failureCode} `}${Array.from(e.failureReason).slice(0, 60).join("")}`,
            ]),
          ),
    );
  });
}

function registerShow(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("show")
    .summary(helpText(env.io, msg("cli.help.enrollment.show")))
    .description(helpText(env.io, msg("cli.help.enrollment.show.description")));
  cmd.argument("<id>", "the enrollment id (see `enrollment list`)");
  addStoreOptions(cmd).addHelpText("after", examples(["ksef-certs enrollment show 3f2a…", "ksef-certs enrollment show 3f2a… --json"]));
  cmd.action(async (id: string, opts: StoreOptions) => {
    const out = new Output(env.io, opts.json === true);
    const { e, scope } = await withStore(env, opts, async (s) => {
      const found = await readOnlyService(env, s.db).get(id.trim());
      return { e: found, scope: (await new ScopeLabels(s.db).of(found)).text };
    });
    out.result({ enrollment: { ...e, scope } }, formatFields(enrollmentFields(e, scope), 0));
  });
}

/** The service for list/show: no KSeF call is made, so no target is printed. */
function readOnlyService(env: CommandEnv, db: Parameters<typeof enrollmentServiceFor>[1]): ReturnType<typeof enrollmentServiceFor> {
  return enrollmentServiceFor(
    env.io,
    db,
    { baseUrl: undefined, source: "environment", loopback: false },
    undefined,
    new SigningKeys(env.io, db, undefined, undefined),
  );
}

function registerResume(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("resume")
    .summary(helpText(env.io, msg("cli.help.enrollment.resume")))
    .description(
      "Carry on an enrollment from the state it was left in (Ctrl-C, a crash, a KSeF fault, a missing password): polling\n" +
        "continues, an issued certificate is retrieved and stored, a key is never enrolled twice. Without ID, every\n" +
        "enrollment not completed or failed is resumed, oldest first, hand-offs (which wait for a person) last.\n" +
        "The new key's password is needed until the request reached KSeF, unless it was sealed (--seal-password):\n" +
        "asked on the terminal, or --password-file/--password-stdin (the same password for all). The held\n" +
        "Authentication certificate of an automatic sign-in needs its password likewise (sealed, --signing-password-file\n" +
        "or asked). With --json: { results: [{ outcome, enrollment, certificate, message }] }; the exit code is that\n" +
        "of the first enrollment that did not complete.",
    )
    .argument("[id]", "the enrollment id (default: every unfinished enrollment)");
  addPasswordOptions(cmd, "the new key");
  addSigningPasswordOption(cmd);
  addKsefUrlOption(cmd);
  addStoreOptions(cmd).addHelpText(
    "after",
    examples([
      "ksef-certs enrollment resume 3f2a…",
      "ksef-certs enrollment resume --password-file new.pass --ksef-url http://127.0.0.1:8090/v2",
      "ksef-certs enrollment resume --json",
    ]),
  );
  cmd.action(async (id: string | undefined, opts: EnrollmentResumeOptions) => {
    await enrollmentResume(env, id, opts);
  });
}

/**
 * Runs `enrollment resume [ID]`.
 * @param env the run's surface and state
 * @param id one enrollment, or `undefined` for every unfinished one
 * @param opts parsed options
 * @throws {KsefCertsError} NOT_FOUND for an unknown id; IO when interrupted (the state is kept); for a single enrollment that
 *   did not complete, the error of its outcome (see `outcomeError`); PASSWORD_REQUIRED when a signing key's password is missing
 *   before the request reached KSeF
 */
export async function enrollmentResume(env: CommandEnv, id: string | undefined, opts: EnrollmentResumeOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const vault = await vaultOf(io, opts);
  const target = ksefTargetOf(io, opts);
  const passwords = new Passwords(io, { input: { file: opts.passwordFile, stdin: opts.passwordStdin } });
  const actor = cliActor(io);
  const finished = await withStore(env, opts, async (s) => {
    const signingKeys = new SigningKeys(io, s.db, vault, opts.signingPasswordFile);
    const service = enrollmentServiceFor(io, s.db, target, vault, signingKeys);
    let todo: EnrollmentSummary[];
    if (id !== undefined) {
      todo = [await service.get(id.trim())];
    } else {
      const open = (await service.list()).filter((e) => !FINAL_ENROLLMENT_STATES.includes(e.state as EnrollmentState)).reverse();
      // As core's resumeAll: oldest first, hand-offs (waiting for a person) last.
      todo = [...open.filter((e) => e.authMethod !== "handoff"), ...open.filter((e) => e.authMethod === "handoff")];
    }
    const printed = new Set<string>();
    const results: FinishedEnrollment[] = [];
    for (const e of todo) {
      if (!printed.has(e.environment) && !FINAL_ENROLLMENT_STATES.includes(e.state as EnrollmentState)) {
        io.stderr.write(`${describeKsefTarget(target, e.environment)}\n`);
        printed.add(e.environment);
      }
      const skipped = await unlockSigningKey(e, signingKeys, id !== undefined);
      if (skipped !== undefined) {
        results.push(await finish(s.db, skipped, nowOf(io)));
        continue;
      }
      let keyPassword: string | undefined;
      if (!(e.passwordSealed && vault !== undefined) && (STATES_NEEDING_KEY_PASSWORD as readonly string[]).includes(e.state)) {
        try {
          keyPassword = await passwords.existing(`the new key of enrollment ${e.id} ("${e.name}")`);
        } catch (err) {
          // No source: run without it; the service stops with "waiting" and says the password is needed.
          if (!isPasswordRequired(err)) throw err;
        }
      }
      let result: EnrollmentRunResult;
      try {
        result = await interruptible((signal) => service.run(e.id, { signal, actor, ...(keyPassword === undefined ? {} : { keyPassword }) }));
      } catch (err) {
        if (err instanceof Interrupted) throw interruptedError(await service.get(e.id));
        throw err;
      }
      results.push(await finish(s.db, result, nowOf(io)));
    }
    return results;
  });
  const firstFailure = finished.map((f) => outcomeError(f.result)).find((err) => err !== undefined);
  if (id !== undefined && firstFailure !== undefined) throw firstFailure;
  if (firstFailure !== undefined) env.state.exitCode = exitCodeFor(firstFailure);
  out.result(
    { results: finished.map(completedJson) },
    finished.length === 0
      ? ["no unfinished enrollments"]
      : finished.map((f) => {
          const e = f.result.enrollment;
          const c = f.certificate?.summary;
          const tail =
            c !== undefined ? `certificate ${c.serialNumber} (${c.id}), valid to ${c.validTo.toISOString()}` : (f.result.message ?? e.failureReason ?? "");
          return `${e.id}  ${f.result.outcome}  [${e.state}] ${e.name}: ${tail}`;
        }),
  );
}

/**
 * Opens the signing key of an automatic enrollment before it runs: a signer failing inside the run
 * would end the enrollment as failed. Returns a `waiting` result (without running) when the password
 * is missing and KSeF does not hold the request yet; throws it instead for a single named enrollment.
 */
async function unlockSigningKey(e: EnrollmentSummary, keys: SigningKeys, single: boolean): Promise<EnrollmentRunResult | undefined> {
  if (e.authMethod !== "certificate" || e.signingCertificateId === null || FINAL_ENROLLMENT_STATES.includes(e.state as EnrollmentState)) return undefined;
  try {
    await keys.signer(e.signingCertificateId);
    return undefined;
  } catch (err) {
    // Once KSeF holds the request the stored session usually suffices, and a failed sign-in there only blocks.
    if (SENT_STATES.includes(e.state) && isPasswordRequired(err)) return undefined;
    if (single || !(err instanceof KsefCertsError)) throw err;
    return { outcome: "waiting", enrollment: e, message: err.message, error: err };
  }
}
