/**
 * `ksef-certs renew`: autopilot renewal from the command line (docs/renewal.md). `--plan` shows when each
 * certificate falls due and by which route, `--due` runs one scheduler pass (what a cron job or a systemd timer
 * calls), `policy show|set` reads and changes the renewal policy of a company, branch or operator, and `approve`
 * lets a renewal that waits for an admin go on.
 *
 * The CLI is the local system principal: everything goes through the domain's use cases (`…As`), so the rules
 * (authorization, validation, audit) are the ones the web app follows. Secrets: the new key's password of an
 * approval comes from the terminal (asked twice) or `--password-stdin`, never from argv; `--due` opens sealed
 * passwords with the master key and asks nobody.
 */
import { hostname } from "node:os";
import type { Command } from "commander";
import { LOCAL_SYSTEM_PRINCIPAL } from "@ksef-certs/domain/access";
import { type Environment } from "@ksef-certs/domain/registry";
import {
  approveRenewalAs,
  createSharedRateLimiter,
  getRenewalPolicyAs,
  RENEWAL_POLICY_FIELDS,
  renewalInstanceId,
  renewalPlanAs,
  type RenewalEvent,
  type RenewalPlanItem,
  type RenewalPolicyField,
  type RenewalPolicyPatch,
  type RenewalPolicyView,
  runDueRenewals,
  setRenewalPolicyAs,
} from "@ksef-certs/domain/renewal";
import type { Db } from "@ksef-certs/domain/store";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { type MessageId, type MessageRef, msg } from "@ksef-certs/ksef/messages";
import { exitCodeFor } from "../exit-codes.js";
import { addKsefUrlOption, describeKsefTarget, ksefClients, ksefTargetOf, type KsefTargetOptions } from "../ksef.js";
import { type CommandEnv, examples, helpText } from "../options.js";
import { Output } from "../output.js";
import { Passwords } from "../password.js";
import { addStoreOptions, cliActor, nowOf, type StoreOptions, vaultOf, withStore } from "../store.js";
import { enrollmentServiceFor, interruptible, SigningKeys } from "./enroll.js";
import { addEnvironmentOption, branchByCode, collect, companyByNip, table } from "./registry-common.js";

/** Options of `renew` itself (`--plan`, `--due`). */
export interface RenewOptions extends StoreOptions, KsefTargetOptions {
  readonly plan?: boolean;
  readonly due?: boolean;
  readonly company?: string;
  readonly branch?: string;
  readonly environment?: Environment;
  readonly withHandoff?: boolean;
}

/** How `renew policy show|set` names a scope: the company, and a branch or an operator in it. */
export interface RenewPolicyScopeOptions extends StoreOptions {
  readonly company?: string;
  readonly branch?: string;
  readonly operator?: string;
}

/** Options of `renew policy set`: a value per policy field, and the fields to clear (inherit again). */
export interface RenewPolicySetOptions extends RenewPolicyScopeOptions {
  readonly renewBeforeDays?: string;
  readonly approval?: string;
  readonly signing?: string;
  readonly workstation?: string;
  readonly personLeadDays?: string;
  readonly successorMode?: string;
  readonly keyAlgorithm?: string;
  readonly passwordPolicy?: string;
  readonly clear?: string[];
}

/** Options of `renew approve`. */
export interface RenewApproveOptions extends StoreOptions {
  readonly passwordStdin?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The company id of `--company`: an id as printed by `company list`, or a NIP. */
async function companyIdOf(db: Db, ref: string): Promise<string> {
  return UUID.test(ref.trim()) ? ref.trim() : (await companyByNip(db, ref)).id;
}

/** The branch id of `--branch`: an id, or a branch code within `--company`. */
async function branchIdOf(db: Db, companyRef: string | undefined, ref: string): Promise<string> {
  if (UUID.test(ref.trim())) return ref.trim();
  if (companyRef === undefined) throw new KsefCertsError("VALIDATION", msg("renewal.cli.branchNeedsCompany"));
  return (await branchByCode(db, await companyByNip(db, companyRef), ref)).id;
}

/**
 * A reason the domain gives by id (`renewal.blocked.*`, `renewal.waiting.*`) as a message reference: the ids come
 * from the same catalogue, stored as text on the renewal.
 * @param reason the reason's id and parameters
 */
function reasonRef(reason: { readonly id: string; readonly params: Readonly<Record<string, string | number>> }): MessageRef {
  return { id: reason.id as MessageId, params: reason.params };
}

/**
 * The route of a plan line in words: automatic, a person's signature at a workstation, approval, blocked with its
 * reason, or renewed with the successor's id.
 * @param out the run's output (language)
 * @param item the plan line
 */
export function routeText(out: Output, item: RenewalPlanItem): string {
  switch (item.route) {
    case "automatic":
      return out.t(msg("renewal.cli.route.automatic"));
    case "person":
      return out.t(
        msg("renewal.cli.route.person", {
          operator: item.operatorName ?? out.t(msg("renewal.cli.someone")),
          workstation: item.workstationName ?? item.workstationId ?? "?",
        }),
      );
    case "approval":
      return out.t(msg("renewal.cli.route.approval"));
    case "blocked":
      return out.t(msg("renewal.cli.route.blocked", { reason: item.reason === null ? out.t(msg("renewal.blocked")) : out.t(reasonRef(item.reason)) }));
    case "renewed":
      return out.t(msg("renewal.cli.route.renewed", { successor: item.successorId ?? "?" }));
  }
}

/** The scope column of a plan line. */
function scopeText(out: Output, item: RenewalPlanItem): string {
  const c = item.certificate;
  if (c.scopeType === "branch") return out.t(msg("renewal.cli.scope.branch", { name: item.branchName ?? c.branchId ?? "?" }));
  if (c.scopeType === "operator") return out.t(msg("renewal.cli.scope.operator", { name: item.operatorName ?? c.operatorId ?? "?" }));
  return out.t(msg("renewal.cli.scope.company"));
}

/**
 * One progress line (stderr) for a scheduler event.
 * @param out the run's output (language)
 * @param e the event
 */
export function eventLine(out: Output, e: RenewalEvent): string {
  switch (e.kind) {
    case "opened":
      return out.t(msg("renewal.cli.event.opened", { renewal: e.renewalId, certificate: e.certificateId, due: e.dueAt.toISOString() }));
    case "started":
      return out.t(msg("renewal.cli.event.started", { renewal: e.renewalId, enrollment: e.enrollmentId, route: e.route }));
    case "completed":
      return out.t(msg("renewal.cli.event.completed", { renewal: e.renewalId, successor: e.successorId ?? "?" }));
    case "waiting":
      return out.t(msg("renewal.cli.event.waiting", { renewal: e.renewalId, reason: out.t(reasonRef(e.reason)) }));
    case "retry":
      return out.t(msg("renewal.cli.event.retry", { renewal: e.renewalId, at: e.nextAttemptAt.toISOString(), attempts: e.attempts, message: e.message }));
    case "failed":
      // The scheduler names some failures by message id (e.g. `renewal.failed.gone`); others are already sentences.
      return out.t(
        msg("renewal.cli.event.failed", {
          renewal: e.renewalId,
          message: e.message.startsWith("renewal.") ? out.t(reasonRef({ id: e.message, params: {} })) : e.message,
        }),
      );
    case "promoted":
      return out.t(msg("renewal.cli.event.promoted", { successor: e.promotion.certificateId, certificate: e.promotion.replacedId ?? "?" }));
  }
}

/**
 * Registers `renew` with `--plan`, `--due`, `policy show|set` and `approve`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerRenew(program: Command, env: CommandEnv): void {
  const cmd = program
    .command("renew")
    .summary(helpText(env.io, msg("renewal.cli.help.renew")))
    .description(
      `${helpText(env.io, msg("renewal.cli.help.renew"))}.\n` +
        `--plan: ${helpText(env.io, msg("renewal.cli.help.plan"))}.\n` +
        `--due: ${helpText(env.io, msg("renewal.cli.help.due"))}.`,
    )
    .option("--plan", helpText(env.io, msg("renewal.cli.help.plan")))
    .option("--due", helpText(env.io, msg("renewal.cli.help.due")))
    .option("--company <id|nip>", "only this company (--plan)")
    .option("--branch <id|code>", "only this branch (--plan; a code needs --company)")
    .option("--with-handoff", "--due: also renewals a person signs through a workstation's folders (waits for the signature)");
  addEnvironmentOption(cmd, false);
  addKsefUrlOption(cmd);
  addStoreOptions(cmd).addHelpText(
    "after",
    examples([
      "ksef-certs renew --plan",
      "ksef-certs renew --plan --company 5265877635 --environment production --json",
      "ksef-certs renew --due",
      "ksef-certs renew policy show --company 5265877635",
      "ksef-certs renew policy set --company 5265877635 --renew-before-days 45 --approval ask_first",
      "ksef-certs renew approve 0b8e…",
    ]),
  );
  cmd.action(async (opts: RenewOptions) => {
    const out = new Output(env.io, opts.json === true);
    if (opts.plan === true && opts.due === true) throw new KsefCertsError("VALIDATION", msg("renewal.cli.modeBoth"));
    if (opts.plan === true) return plan(env, out, opts);
    if (opts.due === true) return due(env, out, opts);
    throw new KsefCertsError("VALIDATION", msg("renewal.cli.mode"));
  });
  registerPolicy(cmd, env);
  registerApprove(cmd, env);
}

async function plan(env: CommandEnv, out: Output, opts: RenewOptions): Promise<void> {
  const vault = await vaultOf(env.io, opts);
  const items = await withStore(env, opts, async (s) => {
    const companyId = opts.company === undefined ? undefined : await companyIdOf(s.db, opts.company);
    const branchId = opts.branch === undefined ? undefined : await branchIdOf(s.db, opts.company, opts.branch);
    return renewalPlanAs(s.db, LOCAL_SYSTEM_PRINCIPAL, {
      at: nowOf(env.io),
      vault: vault !== undefined,
      ...(companyId === undefined ? {} : { companyId }),
      ...(branchId === undefined ? {} : { branchId }),
      ...(opts.environment === undefined ? {} : { environment: opts.environment }),
    });
  });
  const day = (d: Date): string => d.toISOString().slice(0, 10);
  out.result(
    { vault: vault !== undefined, items: items.map((i) => ({ ...i, routeText: routeText(out, i) })) },
    items.length === 0
      ? [out.t(msg("renewal.cli.plan.empty"))]
      : table(
          (
            [
              "renewal.cli.col.certificate",
              "renewal.cli.col.company",
              "renewal.cli.col.scope",
              "renewal.cli.col.environment",
              "renewal.cli.col.type",
              "renewal.cli.col.expires",
              "renewal.cli.col.due",
              "renewal.cli.col.route",
              "renewal.cli.col.state",
            ] as const
          ).map((id) => out.t(msg(id))),
          items.map((i) => [
            i.certificate.name,
            `${i.companyName} (${i.companyNip})`,
            scopeText(out, i),
            i.certificate.environment,
            i.certificate.certificateType,
            day(i.certificate.validTo),
            day(i.dueAt),
            routeText(out, i),
            i.renewal?.state ?? "",
          ]),
        ),
  );
}

async function due(env: CommandEnv, out: Output, opts: RenewOptions): Promise<void> {
  const { io } = env;
  const vault = await vaultOf(io, opts);
  const target = ksefTargetOf(io, opts);
  const print = (line: string): void => {
    io.stderr.write(`${line}\n`);
  };
  const result = await withStore(env, opts, (s) =>
    interruptible(async (signal) => {
      // One limiter per environment, counted in the database: passes in several processes share KSeF's limits.
      const clients = ksefClients(target, (environment) => {
        print(describeKsefTarget(target, environment));
        return createSharedRateLimiter({ db: s.db, now: () => nowOf(io).getTime(), prefix: environment });
      });
      // Unattended: a signing key opens only with its sealed password (no file, and a prompt only on a terminal).
      const enrollment = enrollmentServiceFor(io, s.db, target, vault, new SigningKeys(io, s.db, vault, undefined), clients);
      const pass = await runDueRenewals({
        db: s.db,
        enrollment,
        vault,
        clock: () => nowOf(io),
        instanceId: renewalInstanceId(hostname(), process.pid),
        routes: opts.withHandoff === true ? ["certificate", "person"] : ["certificate"],
        signal,
        onEvent: (e) => {
          print(eventLine(out, e));
        },
      });
      // Person-route runs wait for a signature in the background; the store must stay open until they settle.
      await Promise.all(pass.background);
      const { background: _settled, ...counts } = pass;
      return counts;
    }),
  );
  out.result({ ...result }, [out.t(msg("renewal.cli.due.summary", result))]);
  if (result.failed > 0 || result.retrying > 0) {
    // The same mapping as an enrollment's outcome: given up → INTERNAL, to be retried → IO.
    const err = new KsefCertsError(
      result.failed > 0 ? "INTERNAL" : "IO",
      msg("renewal.cli.due.failures", { failed: result.failed, retrying: result.retrying }),
      {
        hint: msg("renewal.cli.due.failures.hint"),
      },
    );
    if (!out.json) out.note(msg("renewal.cli.due.failures", { failed: result.failed, retrying: result.retrying }));
    env.state.exitCode = exitCodeFor(err);
  }
}

const POLICY_OPTIONS: readonly (readonly [RenewalPolicyField, keyof RenewPolicySetOptions, "number" | "text"])[] = [
  ["renewBeforeDays", "renewBeforeDays", "number"],
  ["approval", "approval", "text"],
  ["signing", "signing", "text"],
  ["workstationId", "workstation", "text"],
  ["personLeadDays", "personLeadDays", "number"],
  ["successorMode", "successorMode", "text"],
  ["keyAlgorithm", "keyAlgorithm", "text"],
  ["password", "passwordPolicy", "text"],
];

/** The scope reference (ids) of `--company`, `--branch`, `--operator`. */
async function scopeRefOf(db: Db, opts: RenewPolicyScopeOptions): Promise<{ companyId: string; branchId?: string; operatorId?: string }> {
  // Checked here, not by commander: the option may arrive on `renew` (see `policy show`).
  if (opts.company === undefined) throw new KsefCertsError("VALIDATION", msg("renewal.cli.companyNeeded"));
  const companyId = await companyIdOf(db, opts.company);
  return {
    companyId,
    ...(opts.branch === undefined ? {} : { branchId: await branchIdOf(db, opts.company, opts.branch) }),
    ...(opts.operator === undefined ? {} : { operatorId: opts.operator.trim() }),
  };
}

/** The lines of a policy view: the scope, then one row per field with its own value, the effective one and its source. */
function policyLines(out: Output, view: RenewalPolicyView, title: MessageRef): string[] {
  return [
    out.t(title),
    ...table(
      (["renewal.cli.policy.col.field", "renewal.cli.policy.col.own", "renewal.cli.policy.col.effective", "renewal.cli.policy.col.source"] as const).map((id) =>
        out.t(msg(id)),
      ),
      RENEWAL_POLICY_FIELDS.map((f) => {
        const own = view.own[f];
        const effective = view.effective.values[f];
        return [
          f,
          own === undefined || own === null ? out.t(msg("renewal.cli.policy.inherited")) : String(own),
          effective === null ? out.t(msg("renewal.cli.policy.none")) : String(effective),
          out.t(msg(`renewal.cli.policy.source.${view.effective.sources[f]}`)),
        ];
      }),
    ),
  ];
}

function addPolicyScopeOptions(cmd: Command): Command {
  return cmd
    .option("--company <id|nip>", "the company (id or NIP; required)")
    .option("--branch <id|code>", "a branch of the company (id or code)")
    .option("--operator <id>", "an operator of the company (id)");
}

function registerPolicy(parent: Command, env: CommandEnv): void {
  const group = parent
    .command("policy")
    .summary(helpText(env.io, msg("renewal.cli.help.policy")))
    .description(helpText(env.io, msg("renewal.cli.help.policy")));

  const show = addPolicyScopeOptions(
    group
      .command("show")
      .summary(helpText(env.io, msg("renewal.cli.help.policy.show")))
      .description(helpText(env.io, msg("renewal.cli.help.policy.show"))),
  );
  addStoreOptions(show).addHelpText("after", examples(["ksef-certs renew policy show --company 5265877635 --branch 001 --json"]));
  // Options merged with `renew`'s: commander gives an option both declare (`--company`, `--branch`, `--json`,
  // `--data-dir`) to `renew` even when it is typed after the subcommand.
  show.action(async (_own: unknown, self: Command) => {
    const opts = self.optsWithGlobals<RenewPolicyScopeOptions>();
    const out = new Output(env.io, opts.json === true);
    const view = await withStore(env, opts, async (s) => getRenewalPolicyAs(s.db, LOCAL_SYSTEM_PRINCIPAL, await scopeRefOf(s.db, opts)));
    out.result(view, policyLines(out, view, msg("renewal.cli.policy.title", { scope: view.scopeKey })));
  });

  const set = addPolicyScopeOptions(
    group
      .command("set")
      .summary(helpText(env.io, msg("renewal.cli.help.policy.set")))
      .description(
        `${helpText(env.io, msg("renewal.cli.help.policy.set"))}.\n` +
          "Values not given are left as they are; --clear FIELD makes the scope inherit FIELD again.\n" +
          `Fields: ${RENEWAL_POLICY_FIELDS.join(", ")}.`,
      ),
  )
    .option("--renew-before-days <n>", "start renewing N days before expiry (1-365)")
    .option("--approval <mode>", "automatic or ask_first")
    .option("--signing <how>", "certificate (the certificate signs its own renewal) or person")
    .option("--workstation <id>", "the workstation where a person signs (id)")
    .option("--person-lead-days <n>", "a person's signing request opens at least N days before expiry (1-365)")
    .option("--successor-mode <mode>", "queued or current")
    .option("--key-algorithm <algorithm>", "EC-P256 or RSA-2048")
    // Not `--password`: the program refuses anything spelt like a password on argv, before commander sees it.
    .option("--password-policy <policy>", "the new key's password: reuse, generate or ask")
    .option("--clear <field...>", `inherit these fields again (${RENEWAL_POLICY_FIELDS.join(", ")})`, collect);
  addStoreOptions(set).addHelpText(
    "after",
    examples([
      "ksef-certs renew policy set --company 5265877635 --renew-before-days 45",
      "ksef-certs renew policy set --company 5265877635 --branch 001 --signing person --workstation 7c1d…",
      "ksef-certs renew policy set --company 5265877635 --clear approval password",
    ]),
  );
  set.action(async (_own: unknown, self: Command) => {
    const opts = self.optsWithGlobals<RenewPolicySetOptions>();
    const out = new Output(env.io, opts.json === true);
    const patch: Record<string, unknown> = {};
    for (const [field, option, kind] of POLICY_OPTIONS) {
      const value = opts[option];
      // Numbers are passed as typed (NaN for "abc"): the domain's own rule refuses them, in the reader's language.
      if (typeof value === "string") patch[field] = kind === "number" ? (/^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN) : value.trim();
    }
    for (const f of (opts.clear ?? []).flatMap((x) => x.split(",")).map((x) => x.trim())) {
      if (!(RENEWAL_POLICY_FIELDS as readonly string[]).includes(f)) {
        throw new KsefCertsError("VALIDATION", msg("renewal.cli.policy.clearUnknown", { field: f, fields: RENEWAL_POLICY_FIELDS.join(", ") }));
      }
      if (patch[f] !== undefined) throw new KsefCertsError("VALIDATION", msg("renewal.cli.policy.clearAndSet", { field: f }));
      patch[f] = null;
    }
    if (Object.keys(patch).length === 0) throw new KsefCertsError("VALIDATION", msg("renewal.cli.policy.nothing"));
    const view = await withStore(env, opts, async (s) =>
      setRenewalPolicyAs(s.db, LOCAL_SYSTEM_PRINCIPAL, await scopeRefOf(s.db, opts), patch as RenewalPolicyPatch, {
        actor: cliActor(env.io),
        at: nowOf(env.io),
      }),
    );
    out.result(view, policyLines(out, view, msg("renewal.cli.policy.saved", { scope: view.scopeKey })));
  });
}

function registerApprove(parent: Command, env: CommandEnv): void {
  const cmd = parent
    .command("approve")
    .summary(helpText(env.io, msg("renewal.cli.help.approve")))
    .description(
      `${helpText(env.io, msg("renewal.cli.help.approve"))}.\n` +
        "When the policy asks an admin for the new key's password, it is asked twice on the terminal, or read from the\n" +
        "first line of stdin with --password-stdin (ksef-app rules), and stored only sealed under the master key.",
    )
    .argument("<renewal-id>", "the renewal's id (see `renew --plan --json`)")
    .option("--password-stdin", "read the new key's password from the first line of stdin");
  addStoreOptions(cmd).addHelpText("after", examples(["ksef-certs renew approve 0b8e…", "ksef-certs renew approve 0b8e… --password-stdin < pw.txt"]));
  cmd.action(async (renewalId: string, _own: unknown, self: Command) => {
    const opts = self.optsWithGlobals<RenewApproveOptions>();
    const out = new Output(env.io, opts.json === true);
    const vault = await vaultOf(env.io, opts);
    const passwords = new Passwords(env.io, {
      output: { stdin: opts.passwordStdin === true, names: { file: "--password-stdin", stdin: "--password-stdin" } },
      profile: "ksef-app",
    });
    const approved = await withStore(env, opts, async (s) => {
      const at = nowOf(env.io);
      // The password is asked only when this renewal waits for one (the plan says why it waits).
      const waiting = (await renewalPlanAs(s.db, LOCAL_SYSTEM_PRINCIPAL, { at, vault: vault !== undefined })).find((i) => i.renewal?.id === renewalId);
      const asks = waiting?.renewal?.state === "awaiting_approval" && waiting.renewal.reason?.id === "renewal.waiting.password";
      const keyPassword =
        asks || opts.passwordStdin === true ? await passwords.fresh(out.t(msg("renewal.cli.approve.what", { renewal: renewalId }))) : undefined;
      return approveRenewalAs(s.db, LOCAL_SYSTEM_PRINCIPAL, { renewalId, keyPassword, vault }, { actor: cliActor(env.io), at });
    });
    out.result(approved, [out.t(msg("renewal.cli.approved", { renewal: approved.renewalId, certificate: approved.certificateId }))]);
  });
}
