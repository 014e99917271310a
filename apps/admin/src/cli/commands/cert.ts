/**
 * `ksef-certs cert import|enroll|list|show|resolve|expiring|gaps|export|revoke`: the certificates the registry
 * holds per scope (company, branch, operator), environment and type.
 *
 * Secrets: the stored key is only ever the encrypted PKCS#8 file; passwords come from the usual
 * sources (terminal prompt, `--password-file`, `--password-stdin`), are never printed, and are stored
 * only when `--seal-password` seals them under the master key (AES-256-GCM, core `src/store/seal.ts`).
 */
import { mkdir } from "node:fs/promises";
import { type Command, Option } from "commander";
import {
  assertKeyMatchesCertificate,
  encodePem,
  exportPkcs12,
  inspectPrivateKey,
  MAX_OBJECT_BYTES,
  MAX_PKCS12_BYTES,
  parseCertificate,
  readPrivateKey,
} from "@ksef-certs/ksef/crypto";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import {
  assertKsefCertificateFits,
  type CertificateSummary,
  type CertificateTypeName,
  coverageGaps,
  type Environment,
  getCertificate,
  getCertificateSecrets,
  importCertificatePair,
  importPkcs12,
  promoteQueued,
  renewalWarnings,
  REVOCATION_REASONS,
  type RevocationReason,
  revokeCertificate,
} from "@ksef-certs/domain/registry";
import { listVisibleCertificates, LOCAL_SYSTEM_PRINCIPAL, resolveCertificateAs } from "@ksef-certs/domain/access";
import { type Db } from "@ksef-certs/domain/store";
import type { Vault } from "@ksef-certs/domain/vault";
import { resolvePath } from "../context.js";
import { checkOutputs, fsError, readInput, writeOutputs, type OutputFile } from "../files.js";
import { addForceOption, addPasswordOptions, type CommandEnv, examples, type InputPasswordOptions } from "../options.js";
import { formatFields, Output } from "../output.js";
import { Passwords } from "../password.js";
import { addStoreOptions, cliActor, nowOf, vaultOf, type StoreOptions, withStore } from "../store.js";
import { addKsefUrlOption, describeKsefTarget, ksefClients, ksefTargetOf, type KsefTargetOptions } from "../ksef.js";
import { addSigningPasswordOption, registerEnroll, SigningKeys } from "./enroll.js";
import {
  addEnvironmentOption,
  addOperatorReferenceOptions,
  addTypeOption,
  branchByCode,
  CERTIFICATE_COLUMNS,
  certificateJson,
  certificateRow,
  companyByNip,
  operatorByReference,
  type OperatorReference,
  parseDate,
  parseDays,
  ScopeLabels,
  scopeFromOptions,
  type ScopeOptions,
  table,
} from "./registry-common.js";

/** Scope options of `cert import` and `cert resolve`. */
/** Options of `cert import`. */
export interface CertImportOptions extends StoreOptions, InputPasswordOptions, ScopeOptions {
  readonly environment: Environment;
  readonly mode: "current" | "queued";
  readonly name?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly p12?: string;
  readonly sealPassword?: boolean;
}

/** Options of `cert list`. */
export interface CertListOptions extends StoreOptions, OperatorReference {
  readonly company?: string;
  readonly branch?: string;
  readonly environment?: Environment;
  readonly type?: CertificateTypeName;
  readonly status?: "active" | "expired" | "revoked";
  readonly expiringWithin?: string;
}

/** Options of `cert resolve`. */
export interface CertResolveOptions extends StoreOptions, ScopeOptions {
  readonly environment: Environment;
  readonly type: CertificateTypeName;
  readonly at?: string;
}

/** Options of `cert expiring` and `cert gaps`. */
export interface CertReportOptions extends StoreOptions {
  readonly company?: string;
  readonly environment?: Environment;
  readonly type?: CertificateTypeName;
  readonly within?: string;
  readonly on?: string;
}

/** Options of `cert export`. */
export interface CertExportOptions extends StoreOptions, InputPasswordOptions {
  readonly outDir: string;
  readonly p12?: boolean;
  readonly fileName?: string;
  readonly force?: boolean;
}

/** Options of `cert revoke`. */
export interface CertRevokeOptions extends StoreOptions, KsefTargetOptions {
  readonly reason: string;
  readonly local?: boolean;
  readonly withCertificate?: string;
  readonly signingPasswordFile?: string;
}

/**
 * Registers the `cert` command group.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerCert(program: Command, env: CommandEnv): void {
  const group = program
    .command("cert")
    .summary("import, enroll, list, resolve, export and revoke registry certificates")
    .description("Certificates held for companies, branches and operators, per environment and type.");
  registerImport(group, env);
  registerEnroll(group, env);
  registerList(group, env);
  registerShow(group, env);
  registerResolve(group, env);
  registerExpiring(group, env);
  registerGaps(group, env);
  registerTakeover(group, env);
  registerExport(group, env);
  registerRevoke(group, env);
}

// ------------------------------------------------------------------------------------------------
// import
// ------------------------------------------------------------------------------------------------

function registerImport(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("import")
    .summary("import a .crt/.key pair or a .p12 for a company, branch or operator")
    .description(
      "Import a certificate someone already holds: a .crt with its .key (and the key's password), or a .p12 (and its\n" +
        "password). Type, serial, validity and subject are read from the certificate. A key that does not belong to the\n" +
        "certificate is refused (KEY_MISMATCH, exit 6) and nothing is stored. An encrypted PKCS#8 key is stored byte for\n" +
        "byte; any other key is stored re-encrypted in the KSeF web app format under the password. The scope is the\n" +
        "company, or --branch CODE, or an operator (--operator ID / --operator-pesel PESEL). --seal-password also stores\n" +
        "the password sealed under the master key (KSEF_CERTS_MASTER_KEY, KSEF_CERTS_MASTER_KEY_FILE or <data dir>/master.key)\n" +
        "for unattended use; without a master key it is refused.",
    )
    .requiredOption("--company <nip>", "the company's NIP")
    .option("--branch <code>", "hold it for this branch of the company");
  addOperatorReferenceOptions(cmd);
  addEnvironmentOption(cmd, true);
  cmd
    .addOption(
      new Option("--mode <mode>", "current, or queued (takes over when the current one expires or is revoked)")
        .choices(["current", "queued"])
        .default("current"),
    )
    .option("--name <name>", "name in the registry (default: the certificate's CN without the KSeF type suffix)")
    .option("--cert <file>", "the certificate (.crt, PEM or DER)")
    .option("--key <file>", "its private key (.key)")
    .option("--p12 <file>", "a PKCS#12 file (.p12/.pfx) instead of --cert/--key")
    .option("--seal-password", "store the password sealed under the master key for unattended use");
  addPasswordOptions(cmd, "the key or .p12");
  addStoreOptions(cmd).addHelpText(
    "after",
    examples([
      "ksef-certs cert import --company 5265877635 --environment test --cert jan.crt --key jan.key",
      "ksef-certs cert import --company 5265877635 --operator-pesel 44051401458 --environment production --p12 jan.p12 --password-file p12.pass",
      "ksef-certs cert import --company 5265877635 --branch 001 --environment demo --mode queued --cert new.crt --key new.key --seal-password",
    ]),
  );
  cmd.action(async (opts: CertImportOptions) => {
    await certImport(env, opts);
  });
}

/**
 * Runs `cert import`: reads the files and the password (checking the pair) before the store is
 * opened, then records the certificate for the scope.
 * @param env the run's surface and state
 * @param opts parsed options
 * @throws {KsefCertsError} VALIDATION for a wrong option combination, no master key with `--seal-password`, or a registry rule;
 *   KEY_MISMATCH for a key of another certificate; PASSWORD_REQUIRED/WRONG_PASSWORD; NOT_FOUND for an unknown company, branch or operator;
 *   CONFLICT when the registry rules forbid it (limit, second current, queued without current, duplicate serial)
 */
export async function certImport(env: CommandEnv, opts: CertImportOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const pair = opts.cert !== undefined || opts.key !== undefined;
  if (pair === (opts.p12 !== undefined) || (pair && (opts.cert === undefined || opts.key === undefined))) {
    throw new KsefCertsError("VALIDATION", msg("cli.certImport.source"), { hint: msg("cli.certImport.source.hint") });
  }
  if (opts.branch !== undefined && (opts.operator !== undefined || opts.operatorPesel !== undefined)) {
    throw new KsefCertsError("VALIDATION", msg("cli.certImport.branchOrOperator"));
  }
  let sealer: Vault | undefined;
  if (opts.sealPassword === true) {
    sealer = await vaultOf(io, opts);
    if (sealer === undefined) {
      throw new KsefCertsError("VALIDATION", msg("cli.certImport.sealNeedsMasterKey"), {
        hint: msg("cli.certImport.sealNeedsMasterKey.hint"),
        violations: [violation("--seal-password", "masterKey.required")],
      });
    }
  }
  const passwords = new Passwords(io, { input: { file: opts.passwordFile, stdin: opts.passwordStdin } });
  let material: { kind: "pair"; crt: Uint8Array; key: Uint8Array; password: string } | { kind: "p12"; p12: Uint8Array; password: string };
  if (opts.p12 !== undefined) {
    const p12 = await readInput(io, opts.p12, MAX_PKCS12_BYTES, "PKCS#12 file");
    material = { kind: "p12", p12, password: await passwords.existing(`the PKCS#12 file ${opts.p12}`) };
  } else {
    const certPath = opts.cert ?? "";
    const keyPath = opts.key ?? "";
    const crt = await readInput(io, certPath, MAX_OBJECT_BYTES, "certificate file");
    const info = parseCertificate(crt);
    // What KSeF never issued is refused before a password is asked for or a key derived.
    assertKsefCertificateFits(info, opts.environment);
    const key = await readInput(io, keyPath, MAX_OBJECT_BYTES, "private key file");
    let password: string;
    if (inspectPrivateKey(key).encrypted) {
      password = await passwords.existing(`the key ${keyPath}`);
    } else {
      // A plain key is stored encrypted under a new password: ask for one (twice on a terminal).
      const fresh = new Passwords(io, {
        output: { file: opts.passwordFile, stdin: opts.passwordStdin, names: { file: "--password-file", stdin: "--password-stdin" } },
        profile: "ksef-app",
      });
      password = await fresh.fresh(`the stored key of ${certPath}`);
    }
    // Checked here too, before the store is opened: a mismatched pair never gets near the database.
    assertKeyMatchesCertificate((await readPrivateKey(key, { password })).key, info);
    material = { kind: "pair", crt, key, password };
  }
  const at = nowOf(io);
  const { summary, label } = await withStore(env, opts, async (s) => {
    const scope = await scopeFromOptions(s.db, opts);
    const common = {
      scope,
      environment: opts.environment,
      mode: opts.mode,
      password: material.password,
      ...(opts.name === undefined ? {} : { name: opts.name }),
      ...(sealer === undefined ? {} : { sealPassword: sealer }),
    };
    const meta = { actor: cliActor(io), at };
    const row =
      material.kind === "p12"
        ? await importPkcs12(s.db, { ...common, p12: material.p12 }, meta)
        : await importCertificatePair(s.db, { ...common, crt: material.crt, key: material.key }, meta);
    const { certificateDer: _der, ...stored } = await getCertificate(s.db, row.id, at);
    return { summary: stored, label: await new ScopeLabels(s.db).of(stored) };
  });
  out.result({ certificate: certificateJson(summary, label) }, ["imported certificate", ...formatFields(certificateFields(summary, label.text))]);
}

function certificateFields(c: CertificateSummary, scope: string): [string, string | number | undefined][] {
  return [
    ["id", c.id],
    ["name", c.name],
    ["scope", scope],
    ["type", c.certificateType],
    ["environment", c.environment],
    ["mode", c.mode],
    ["serial", c.serialNumber],
    ["subject", c.subject],
    ["identifier", `${c.subjectIdentifierType} ${c.subjectIdentifierValue}`],
    ["valid from", c.validFrom.toISOString()],
    ["valid to", c.validTo.toISOString()],
    ["days to expiry", c.daysToExpiry],
    ["state", c.state],
    ["password sealed", c.passwordSealed ? "yes" : "no"],
    ["revoked", c.revokedAt === null ? undefined : `${c.revokedAt.toISOString()} (${c.revocationReason ?? ""})`],
  ];
}

// ------------------------------------------------------------------------------------------------
// list, show
// ------------------------------------------------------------------------------------------------

function registerList(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("list")
    .summary("list certificates with days to expiry")
    .description(
      "List certificates, soonest expiry first: scope, type, environment, mode, serial, valid to, days to expiry and state.\nWith --json: an array. --branch and the operator options need --company.",
    )
    .option("--company <nip>", "only this company's certificates")
    .option("--branch <code>", "only this branch's own certificates");
  addOperatorReferenceOptions(cmd);
  addEnvironmentOption(cmd, false);
  addTypeOption(cmd, false);
  cmd
    .addOption(new Option("--status <status>", "active (not revoked, not expired), expired or revoked").choices(["active", "expired", "revoked"]))
    .option("--expiring-within <days>", "only active certificates expiring within this many days, e.g. 60d");
  addStoreOptions(cmd).addHelpText(
    "after",
    examples([
      "ksef-certs cert list",
      "ksef-certs cert list --company 5265877635 --environment production --type Offline",
      "ksef-certs cert list --expiring-within 60d --json",
    ]),
  );
  cmd.action(async (opts: CertListOptions) => {
    const out = new Output(env.io, opts.json === true);
    const at = nowOf(env.io);
    const within = opts.expiringWithin === undefined ? undefined : parseDays(opts.expiringWithin, "--expiring-within");
    if (opts.company === undefined && (opts.branch !== undefined || opts.operator !== undefined || opts.operatorPesel !== undefined)) {
      throw new KsefCertsError("VALIDATION", msg("cli.certList.companyNeeded"));
    }
    const rows = await withStore(env, opts, async (s) => {
      let ids: { companyId?: string; branchId?: string; operatorId?: string } = {};
      if (opts.company !== undefined) {
        const company = await companyByNip(s.db, opts.company);
        ids = { companyId: company.id };
        if (opts.branch !== undefined) ids = { ...ids, branchId: (await branchByCode(s.db, company, opts.branch)).id };
        const operator = await operatorByReference(s.db, company, opts);
        if (operator !== undefined) ids = { ...ids, operatorId: operator.id };
      }
      // The web's list, as the local system: `--status active` has always meant "not expired" (not-yet-valid included).
      const { items: list } = await listVisibleCertificates(s.db, LOCAL_SYSTEM_PRINCIPAL, {
        ...ids,
        ...(opts.environment === undefined ? {} : { environment: opts.environment }),
        ...(opts.type === undefined ? {} : { certificateType: opts.type }),
        ...(opts.status === undefined ? {} : { state: opts.status === "active" ? "notExpired" : opts.status }),
        ...(within === undefined ? {} : { expiringWithinDays: within }),
        at,
        allPages: true,
      });
      const labels = new ScopeLabels(s.db);
      // The CLI's shape: the summary, with the scope labelled as every other `cert` command labels it.
      return Promise.all(list.map(async ({ scope: _scope, ...c }) => ({ c, label: await labels.of(c) })));
    });
    out.result(
      rows.map(({ c, label }) => certificateJson(c, label)),
      rows.length === 0
        ? ["no certificates match"]
        : table(
            CERTIFICATE_COLUMNS,
            rows.map(({ c, label }) => certificateRow(c, label)),
          ),
    );
  });
}

function registerShow(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("show")
    .summary("show one certificate")
    .description("Show one certificate of the registry (never its key or password).")
    .argument("<id>", "the certificate id (see `cert list`)");
  addStoreOptions(cmd).addHelpText("after", examples(["ksef-certs cert show 0b8e…", "ksef-certs cert show 0b8e… --json"]));
  cmd.action(async (id: string, opts: StoreOptions) => {
    const out = new Output(env.io, opts.json === true);
    const at = nowOf(env.io);
    const { summary, der, label } = await withStore(env, opts, async (s) => {
      const { certificateDer, ...rest } = await getCertificate(s.db, id, at);
      return { summary: rest, der: certificateDer, label: await new ScopeLabels(s.db).of(rest) };
    });
    const info = parseCertificate(der);
    out.result({ certificate: { ...certificateJson(summary, label), issuer: info.issuerText, certificatePem: encodePem("CERTIFICATE", der) } }, [
      ...formatFields([...certificateFields(summary, label.text), ["issuer", info.issuerText], ["fingerprint", summary.fingerprint]], 0),
    ]);
  });
}

// ------------------------------------------------------------------------------------------------
// resolve
// ------------------------------------------------------------------------------------------------

function registerResolve(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("resolve")
    .summary("which certificate an operator/branch/company uses")
    .description(
      "Resolve the certificate to use: the operator's current valid certificate, else the branch's, else the company's\n" +
        "(as ERP adapters do). Prints the certificate and the rule that matched, or fails with NOT_FOUND (exit 7)\n" +
        "listing the rules tried.",
    )
    .requiredOption("--company <nip>", "the company's NIP")
    .option("--branch <code>", "the branch the operator works at");
  addOperatorReferenceOptions(cmd);
  addEnvironmentOption(cmd, true);
  addTypeOption(cmd, true);
  cmd.option("--at <date>", "the moment it must be valid at (YYYY-MM-DD or ISO date-time; default now)");
  addStoreOptions(cmd).addHelpText(
    "after",
    examples([
      "ksef-certs cert resolve --company 5265877635 --branch 001 --operator-pesel 44051401458 --environment production --type Authentication",
      "ksef-certs cert resolve --company 5265877635 --environment test --type Offline --at 2026-03-01 --json",
    ]),
  );
  cmd.action(async (opts: CertResolveOptions) => {
    const out = new Output(env.io, opts.json === true);
    const at = opts.at === undefined ? nowOf(env.io) : parseDate(opts.at, "--at");
    const { resolution, label } = await withStore(env, opts, async (s) => {
      const company = await companyByNip(s.db, opts.company);
      const branch = opts.branch === undefined ? undefined : await branchByCode(s.db, company, opts.branch);
      const operator = await operatorByReference(s.db, company, opts);
      const r = await resolveCertificateAs(s.db, LOCAL_SYSTEM_PRINCIPAL, {
        companyId: company.id,
        ...(branch === undefined ? {} : { branchId: branch.id }),
        ...(operator === undefined ? {} : { operatorId: operator.id }),
        environment: opts.environment,
        certificateType: opts.type,
        at,
      });
      return { resolution: r, label: r.found ? await new ScopeLabels(s.db).of(r.certificate) : undefined };
    });
    if (!resolution.found || label === undefined) {
      throw new KsefCertsError(
        "NOT_FOUND",
        msg("cli.certResolve.none", { type: opts.type, environment: opts.environment, at: at.toISOString(), tried: resolution.tried.join(", ") }),
        {
          hint: msg("cli.certResolve.none.hint"),
          details: { tried: resolution.tried.join(","), environment: opts.environment, certificateType: opts.type, at: at.toISOString() },
        },
      );
    }
    out.result({ rule: resolution.rule, tried: resolution.tried, certificate: certificateJson(resolution.certificate, label) }, [
      `matched rule: ${resolution.rule} (tried ${resolution.tried.join(" → ")})`,
      ...formatFields(certificateFields(resolution.certificate, label.text)),
    ]);
  });
}

// ------------------------------------------------------------------------------------------------
// expiring, gaps
// ------------------------------------------------------------------------------------------------

async function companyIdOf(db: Db, nip: string | undefined): Promise<{ companyId?: string }> {
  return nip === undefined ? {} : { companyId: (await companyByNip(db, nip)).id };
}

function reportFilter(opts: CertReportOptions): { environment?: Environment; certificateType?: CertificateTypeName } {
  return { ...(opts.environment === undefined ? {} : { environment: opts.environment }), ...(opts.type === undefined ? {} : { certificateType: opts.type }) };
}

function registerExpiring(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("expiring")
    .summary("renewal warnings: current certificates expiring soon without a successor")
    .description(
      "Current certificates that expire within --within days and have no queued successor taking over in time.\nWith --json: an array of { certificate, reason, successor }.",
    )
    .option("--within <days>", "the warning window, e.g. 60d", "60d")
    .option("--company <nip>", "only this company");
  addEnvironmentOption(cmd, false);
  addTypeOption(cmd, false);
  addStoreOptions(cmd).addHelpText(
    "after",
    examples(["ksef-certs cert expiring --within 60d", "ksef-certs cert expiring --within 30d --company 5265877635 --json"]),
  );
  cmd.action(async (opts: CertReportOptions) => {
    const out = new Output(env.io, opts.json === true);
    const at = nowOf(env.io);
    const withinDays = parseDays(opts.within ?? "60d", "--within");
    const rows = await withStore(env, opts, async (s) => {
      const warnings = await renewalWarnings(s.db, { at, withinDays, ...(await companyIdOf(s.db, opts.company)), ...reportFilter(opts) });
      const labels = new ScopeLabels(s.db);
      return Promise.all(warnings.map(async (w) => ({ w, label: await labels.of(w.certificate) })));
    });
    out.result(
      rows.map(({ w, label }) => ({ certificate: certificateJson(w.certificate, label), reason: w.reason, successor: w.successor })),
      rows.length === 0
        ? [`no current certificate expires within ${withinDays} days without a successor`]
        : table(
            [...CERTIFICATE_COLUMNS, "WHY"],
            rows.map(({ w, label }) => [...certificateRow(w.certificate, label), w.reason === "noSuccessor" ? "no successor" : "successor starts later"]),
          ),
    );
  });
}

function registerGaps(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("gaps")
    .summary("coverage gaps: scopes without a valid certificate on a date")
    .description(
      "Every scope (company, branch, operator) that will have no valid certificate of a type on --on, per environment\n" +
        "and type, with the certificate that ended before it and what resolution would fall back to. With --json: an array.",
    )
    .requiredOption("--on <date>", "the date to check (YYYY-MM-DD or ISO date-time)")
    .option("--company <nip>", "only this company");
  addEnvironmentOption(cmd, false);
  addTypeOption(cmd, false);
  addStoreOptions(cmd).addHelpText(
    "after",
    examples(["ksef-certs cert gaps --on 2026-07-01 --environment production", "ksef-certs cert gaps --on 2026-07-01 --type Offline --json"]),
  );
  cmd.action(async (opts: CertReportOptions) => {
    const out = new Output(env.io, opts.json === true);
    const on = parseDate(opts.on ?? "", "--on");
    const at = nowOf(env.io);
    const gaps = await withStore(env, opts, async (s) => coverageGaps(s.db, { on, at, ...(await companyIdOf(s.db, opts.company)), ...reportFilter(opts) }));
    const scopeText = (g: (typeof gaps)[number]): string =>
      g.scope.type === "company"
        ? `company ${g.label.companyNip}`
        : g.scope.type === "branch"
          ? `branch ${g.label.companyNip}/${g.label.branchCode ?? "?"}`
          : `operator ${g.label.companyNip}/${g.label.operatorName ?? "?"}`;
    out.result(
      gaps,
      gaps.length === 0
        ? [`every scope has a valid certificate on ${on.toISOString().slice(0, 10)}`]
        : table(
            ["SCOPE", "ENV", "TYPE", "LAST CERTIFICATE", "FALLBACK"],
            gaps.map((g) => [
              scopeText(g),
              g.environment,
              g.certificateType,
              g.endedCertificate === null
                ? "-"
                : `${g.endedCertificate.serialNumber} (${g.endedCertificate.state}, to ${g.endedCertificate.validTo.toISOString().slice(0, 10)})`,
              g.fallback ?? "none",
            ]),
          ),
    );
  });
}

function registerTakeover(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("takeover")
    .summary("persist the takeovers of queued certificates that are due")
    .description(
      "A queued certificate takes over its slot once the current one has expired or was revoked. Resolution and reports\n" +
        "already treat it so (they never write); this records the takeover in the registry with its audit entry, as a\n" +
        "running `ksef-certs serve` does by itself every minute. For cron or a systemd timer when no server runs.",
    );
  addStoreOptions(cmd).addHelpText("after", examples(["ksef-certs cert takeover", "ksef-certs cert takeover --json"]));
  cmd.action(async (opts: StoreOptions) => {
    const out = new Output(env.io, opts.json === true);
    const done = await withStore(env, opts, (s) => promoteQueued(s.db, { at: nowOf(env.io), actor: cliActor(env.io) }));
    out.result(
      done,
      done.length === 0
        ? ["no takeover is due"]
        : done.map((p) => `${p.certificateId} is now current${p.replacedId === null ? "" : ` (replaces ${p.replacedId})`}`),
    );
  });
}

// ------------------------------------------------------------------------------------------------
// export
// ------------------------------------------------------------------------------------------------

/**
 * A file name from a certificate name: letters, digits, `.`, `_` and `-` kept, runs of anything else
 * become `_`, no leading dot; the serial when nothing is left.
 * @param name the certificate name
 * @param serial its serial, the fallback
 */
export function exportBaseName(name: string, serial: string): string {
  const base = name
    .normalize("NFC")
    .replace(/[^\p{L}\p{N}._-]+/gu, "_")
    .replace(/^[._]+/, "")
    .replace(/_+$/, "");
  return Array.from(base).slice(0, 100).join("") || serial;
}

function registerExport(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("export")
    .summary("write a certificate's .crt and .key (or a .p12)")
    .description(
      "Write NAME.crt (PEM) and NAME.key (the stored encrypted key, byte for byte, mode 0600) into --out-dir, or with --p12\n" +
        "one NAME.p12 (mode 0600) protected by the key's password. The .p12 needs the key's password: the sealed one when\n" +
        "it was stored with --seal-password and a master key is configured, else asked (or --password-file/--password-stdin).\n" +
        "Files are written atomically; existing files are not replaced without --force.",
    )
    .argument("<id>", "the certificate id (see `cert list`)")
    .requiredOption("--out-dir <dir>", "the folder to write into")
    .option("--p12", "write a PKCS#12 file instead of the .crt/.key pair")
    .option("--file-name <base>", "base name of the files (default: the certificate name)");
  addPasswordOptions(cmd, "the key (for --p12)");
  addForceOption(cmd);
  addStoreOptions(cmd).addHelpText(
    "after",
    examples(["ksef-certs cert export 0b8e… --out-dir ./out", "ksef-certs cert export 0b8e… --out-dir ./out --p12 --password-stdin < key.pass"]),
  );
  cmd.action(async (id: string, opts: CertExportOptions) => {
    await certExport(env, id, opts);
  });
}

/**
 * Runs `cert export`.
 * @param env the run's surface and state
 * @param id the certificate id
 * @param opts parsed options
 * @throws {KsefCertsError} NOT_FOUND for an unknown id; CONFLICT when a target exists without `--force`;
 *   PASSWORD_REQUIRED/WRONG_PASSWORD for `--p12`; FORBIDDEN when the sealed password does not open with the master key; file-system codes
 */
export async function certExport(env: CommandEnv, id: string, opts: CertExportOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  const at = nowOf(io);
  const { summary, secrets } = await withStore(env, opts, async (s) => {
    const { certificateDer: _der, ...rest } = await getCertificate(s.db, id, at);
    return { summary: rest, secrets: await getCertificateSecrets(s.db, id) };
  });
  const base = opts.fileName ?? exportBaseName(summary.name, summary.serialNumber);
  if (base.includes("/") || base.includes("\\") || base === "" || base === "." || base === "..") {
    throw new KsefCertsError("VALIDATION", msg("cli.certExport.fileName"), { hint: msg("cli.certExport.fileName.hint") });
  }
  const join = (ext: string): string => `${opts.outDir.replace(/[/\\]+$/, "")}/${base}.${ext}`;
  const force = opts.force === true;
  let files: OutputFile[];
  if (opts.p12 === true) {
    await checkOutputs(io, [join("p12")], force);
    let password: string | undefined;
    if (secrets.sealedPassword !== null) {
      const vault = await vaultOf(io, opts);
      if (vault !== undefined) password = new TextDecoder().decode(vault.unseal(secrets.sealedPassword, secrets.sealedPasswordAad));
    }
    password ??= await new Passwords(io, { input: { file: opts.passwordFile, stdin: opts.passwordStdin } }).existing(
      `the key of certificate ${summary.serialNumber}`,
    );
    const key = await readPrivateKey(secrets.keyFile, { password });
    const p12 = await exportPkcs12({ certificate: secrets.certificateDer, privateKey: key.key, password, friendlyName: summary.name });
    files = [{ path: join("p12"), data: p12, mode: 0o600 }];
  } else {
    files = [
      { path: join("crt"), data: encodePem("CERTIFICATE", secrets.certificateDer), mode: 0o644 },
      { path: join("key"), data: secrets.keyFile, mode: 0o600 },
    ];
  }
  // The ERP's import folder may not exist yet; created private (the .key is encrypted, but the folder says whose it is).
  try {
    await mkdir(resolvePath(io, opts.outDir), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fsError(error, opts.outDir, "create the folder");
  }
  const written = await writeOutputs(io, files, force);
  out.result(
    { certificateId: summary.id, serialNumber: summary.serialNumber, files: written },
    written.map((p) => `wrote ${p}`),
  );
}

// ------------------------------------------------------------------------------------------------
// revoke
// ------------------------------------------------------------------------------------------------

function registerRevoke(group: Command, env: CommandEnv): void {
  const cmd = group
    .command("revoke")
    .summary("revoke a certificate in KSeF and in the registry (or only here: --local)")
    .description(
      "Revoke a certificate in KSeF, then mark it revoked in the registry; its queued successor, if any, becomes\n" +
        "current. KSeF lets a person revoke only their own certificates, after signing in with a certificate: give\n" +
        "--with-certificate ID, a held Authentication certificate of the same person (same PESEL/NIP), and the sign-in\n" +
        "happens automatically (its key's password: sealed, --signing-password-file or asked). When KSeF says the\n" +
        "certificate is already revoked (25009), it is still marked revoked here, and the output says so. --local only\n" +
        "marks it revoked here (after revoking it elsewhere, e.g. in the KSeF web app). The KSeF used is printed first:\n" +
        "--ksef-url, else $KSEF_CERTS_KSEF_URL, else the official one of the certificate's environment.",
    )
    .argument("<id>", "the certificate id (see `cert list`)")
    .addOption(new Option("--reason <reason>", "why (KSeF's revocation reasons)").choices(REVOCATION_REASONS).default("Unspecified"))
    .option("--local", "only mark it revoked in this registry, without calling KSeF")
    .option("--with-certificate <id>", "sign in to KSeF with this held Authentication certificate of the same person");
  addSigningPasswordOption(cmd);
  addKsefUrlOption(cmd);
  addStoreOptions(cmd).addHelpText(
    "after",
    examples(["ksef-certs cert revoke 0b8e… --reason Superseded --with-certificate 7c1d…", "ksef-certs cert revoke 0b8e… --reason KeyCompromise --local"]),
  );
  cmd.action(async (id: string, opts: CertRevokeOptions) => {
    await certRevoke(env, id, opts);
  });
}

/**
 * Runs `cert revoke`: in KSeF first (signed in with the held Authentication certificate), then locally.
 * @param env the run's surface and state
 * @param id the certificate id
 * @param opts parsed options
 * @throws {KsefCertsError} VALIDATION for `--local` with `--with-certificate` (or neither), a signing certificate that is not an
 *   active Authentication certificate of the same environment and person; NOT_FOUND for an unknown id; CONFLICT when already
 *   revoked here; PASSWORD_REQUIRED/WRONG_PASSWORD for the signing key; a KSeF refusal (other than 25009) with KSeF's code in the message
 */
export async function certRevoke(env: CommandEnv, id: string, opts: CertRevokeOptions): Promise<void> {
  const { io } = env;
  const out = new Output(io, opts.json === true);
  if ((opts.local === true) === (opts.withCertificate !== undefined)) {
    throw new KsefCertsError("VALIDATION", msg("cli.certRevoke.where"), {
      hint: msg("cli.certRevoke.where.hint"),
      violations: [violation("--with-certificate", "revoke.where")],
    });
  }
  const at = nowOf(io);
  const actor = cliActor(io);
  const vault = opts.local === true ? undefined : await vaultOf(io, opts);
  const target = opts.local === true ? undefined : ksefTargetOf(io, opts);
  const { result, label, ksef } = await withStore(env, opts, async (s) => {
    const signingKeys = new SigningKeys(io, s.db, vault, opts.signingPasswordFile);
    const r = await revokeCertificate({
      db: s.db,
      certificateId: id.trim(),
      reason: opts.reason as RevocationReason,
      actor,
      at,
      onProgress: (line) => io.stderr.write(`${line}\n`),
      ...(target === undefined || opts.withCertificate === undefined
        ? {}
        : {
            ksef: {
              signingCertificateId: opts.withCertificate.trim(),
              signingField: "--with-certificate",
              signer: (signing) => signingKeys.signer(signing.id),
              client: (environment) => {
                io.stderr.write(`${describeKsefTarget(target, environment)}\n`);
                return ksefClients(target)(environment);
              },
            },
          }),
    });
    return { result: r, label: await new ScopeLabels(s.db).of(r.certificate), ksef: r.ksef };
  });
  const ksefLine = ksef === "revoked" ? "in KSeF and " : ksef === "already-revoked" ? "here (KSeF had already revoked it: 25009) and " : "";
  out.result({ certificate: certificateJson(result.certificate, label), ksef, promoted: result.promoted ?? null }, [
    ksef === "not-called"
      ? `revoked ${result.certificate.serialNumber} locally (${opts.reason}); KSeF was not called`
      : `revoked ${result.certificate.serialNumber} ${ksefLine}locally (${opts.reason})`,
    ...(result.promoted === undefined ? [] : [`queued certificate ${result.promoted.certificateId} is now current`]),
  ]);
}
