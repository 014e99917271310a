/**
 * What the registry commands share: finding a company, branch or operator by the references people
 * type (NIP, branch code, operator id or PESEL), parsing day counts and dates, plain-text tables, and
 * the names shown for a certificate's scope.
 */
import { type Command, Option } from "commander";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import {
  type Branch,
  CERTIFICATE_TYPES,
  type CertificateSummary,
  type Company,
  ENVIRONMENTS,
  findCompanyByNip,
  listBranches,
  listCompanies,
  listOperators,
  type Operator,
  type Scope,
} from "@ksef-certs/domain/registry";
import type { Db } from "@ksef-certs/domain/store";

/**
 * The company with this NIP.
 * @param db the database
 * @param nip as typed (spaces, dashes or a `PL` prefix are accepted)
 * @throws {KsefCertsError} NOT_FOUND when no company has it
 */
export async function companyByNip(db: Db, nip: string): Promise<Company> {
  const company = await findCompanyByNip(db, nip);
  if (company === undefined) {
    throw new KsefCertsError("NOT_FOUND", msg("cli.registry.noCompany", { nip }), {
      hint: msg("cli.registry.noCompany.hint"),
      details: { entity: "company", nip },
    });
  }
  return company;
}

/**
 * The branch of `company` with this code.
 * @param db the database
 * @param company the company
 * @param code the branch code (exact)
 * @throws {KsefCertsError} NOT_FOUND when the company has no such branch
 */
export async function branchByCode(db: Db, company: Company, code: string): Promise<Branch> {
  const branch = (await listBranches(db, company.id)).find((b) => b.code === code.trim());
  if (branch === undefined) {
    throw new KsefCertsError("NOT_FOUND", msg("cli.registry.noBranch", { nip: company.nip, code: JSON.stringify(code) }), {
      hint: msg("cli.registry.noBranch.hint", { nip: company.nip }),
      details: { entity: "branch", nip: company.nip, code },
    });
  }
  return branch;
}

/** How an operator is named on the command line. */
export interface OperatorReference {
  /** `--operator ID`. */
  readonly operator?: string;
  /** `--operator-pesel PESEL`. */
  readonly operatorPesel?: string;
}

/**
 * The operator of `company` named by id or PESEL, or `undefined` when neither is given.
 * @param db the database
 * @param company the company the operator must belong to
 * @param ref `--operator` / `--operator-pesel`
 * @throws {KsefCertsError} VALIDATION when both are given; NOT_FOUND when the company has no such operator
 */
export async function operatorByReference(db: Db, company: Company, ref: OperatorReference): Promise<Operator | undefined> {
  if (ref.operator === undefined && ref.operatorPesel === undefined) return undefined;
  if (ref.operator !== undefined && ref.operatorPesel !== undefined) {
    throw new KsefCertsError("VALIDATION", msg("cli.registry.operatorBoth"));
  }
  const all = await listOperators(db, { companyId: company.id });
  const found = ref.operator !== undefined ? all.find((o) => o.id === ref.operator?.trim()) : all.find((o) => o.pesel === ref.operatorPesel?.trim());
  if (found === undefined) {
    const what =
      ref.operator !== undefined
        ? msg("cli.registry.noOperatorId", { nip: company.nip, id: ref.operator })
        : msg("cli.registry.noOperatorPesel", { nip: company.nip });
    throw new KsefCertsError("NOT_FOUND", what, {
      hint: msg("cli.registry.noOperator.hint", { nip: company.nip }),
      details: { entity: "operator", nip: company.nip },
    });
  }
  return found;
}

/**
 * Adds `--operator ID` and `--operator-pesel PESEL`.
 * @param cmd the command
 */
export function addOperatorReferenceOptions(cmd: Command): Command {
  return cmd
    .option("--operator <id>", "the operator by id (see `operator list`)")
    .option("--operator-pesel <pesel>", "the operator by PESEL, within --company");
}

/**
 * Adds `--environment` (choices test, demo, production).
 * @param cmd the command
 * @param required whether it must be given
 */
export function addEnvironmentOption(cmd: Command, required: boolean): Command {
  const option = new Option("--environment <environment>", "KSeF environment").choices(ENVIRONMENTS);
  if (required) option.makeOptionMandatory(true);
  return cmd.addOption(option);
}

/**
 * Adds `--type` (choices Authentication, Offline).
 * @param cmd the command
 * @param required whether it must be given
 */
export function addTypeOption(cmd: Command, required: boolean): Command {
  const option = new Option("--type <type>", "KSeF certificate type").choices(CERTIFICATE_TYPES);
  if (required) option.makeOptionMandatory(true);
  return cmd.addOption(option);
}

/**
 * Parses a number of days written as `60d` or `60`.
 * @param text as typed
 * @param option the option name, for the message
 * @returns whole days, 0..3650
 * @throws {KsefCertsError} VALIDATION for anything else
 */
export function parseDays(text: string, option: string): number {
  const m = /^\s*(\d{1,4})\s*d?\s*$/i.exec(text);
  const days = m?.[1] === undefined ? Number.NaN : Number(m[1]);
  if (!Number.isSafeInteger(days) || days > 3650) {
    throw new KsefCertsError("VALIDATION", msg("cli.registry.days", { option, text: JSON.stringify(text) }), {
      violations: [violation(option, "days.format")],
    });
  }
  return days;
}

/**
 * Parses a date (`2026-03-01`, taken as midnight UTC) or an ISO 8601 date-time with a zone.
 * @param text as typed
 * @param option the option name, for the message
 * @throws {KsefCertsError} VALIDATION when it is not one of those
 */
export function parseDate(text: string, option: string): Date {
  const t = text.trim();
  const ok = /^\d{4}-\d{2}-\d{2}$/.test(t) || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(t);
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t);
  if (!ok || Number.isNaN(date.getTime())) {
    throw new KsefCertsError("VALIDATION", msg("cli.registry.date", { option, text: JSON.stringify(text) }), {
      violations: [violation(option, "date.format")],
    });
  }
  return date;
}

/**
 * A plain-text table: a header row and columns padded to their widest cell.
 * @param headers column titles
 * @param rows cells, one array per row
 * @returns the lines (just the header when there are no rows)
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const width = headers.map((h, i) => Math.max(Array.from(h).length, ...rows.map((r) => Array.from(r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c + " ".repeat(Math.max(0, (width[i] ?? 0) - Array.from(c).length)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** Names to show for the scope of a certificate. */
export interface ScopeLabel {
  /** The company's NIP. */
  readonly companyNip: string;
  readonly companyName: string;
  /** For a branch scope: its code. */
  readonly branchCode?: string;
  /** For an operator scope: their name. */
  readonly operatorName?: string;
  /** One line: `company 5265877635`, `branch 5265877635/001`, `operator 5265877635/Jan Kowalski`. */
  readonly text: string;
}

/** Finds the NIP, branch code and operator name of certificate scopes, loading each company once. */
export class ScopeLabels {
  private readonly companies = new Map<string, { company: Company; branches: Map<string, Branch>; operators: Map<string, Operator> }>();

  /** @param db the database */
  constructor(private readonly db: Db) {}

  /**
   * The label of one certificate's scope.
   * @param row the certificate (scope columns)
   */
  async of(row: Pick<CertificateSummary, "scopeType" | "companyId" | "branchId" | "operatorId">): Promise<ScopeLabel> {
    const c = await this.load(row.companyId);
    const base = { companyNip: c?.company.nip ?? "?", companyName: c?.company.name ?? "?" };
    if (row.scopeType === "branch") {
      const code = (row.branchId === null ? undefined : c?.branches.get(row.branchId)?.code) ?? "?";
      return { ...base, branchCode: code, text: `branch ${base.companyNip}/${code}` };
    }
    if (row.scopeType === "operator") {
      const name = (row.operatorId === null ? undefined : c?.operators.get(row.operatorId)?.name) ?? "?";
      return { ...base, operatorName: name, text: `operator ${base.companyNip}/${name}` };
    }
    return { ...base, text: `company ${base.companyNip}` };
  }

  private async load(companyId: string): Promise<{ company: Company; branches: Map<string, Branch>; operators: Map<string, Operator> } | undefined> {
    const cached = this.companies.get(companyId);
    if (cached !== undefined) return cached;
    const company = (await listCompanies(this.db)).find((x) => x.id === companyId);
    if (company === undefined) return undefined;
    const entry = {
      company,
      branches: new Map((await listBranches(this.db, companyId)).map((b) => [b.id, b])),
      operators: new Map((await listOperators(this.db, { companyId })).map((o) => [o.id, o])),
    };
    this.companies.set(companyId, entry);
    return entry;
  }
}

/**
 * A certificate as the registry commands print it in JSON: the stored summary (no key, no password,
 * no DER) plus the scope's names.
 * @param c the summary from the core
 * @param label its scope's names
 */
export function certificateJson(c: CertificateSummary, label: ScopeLabel): Record<string, unknown> {
  const { text, ...names } = label;
  return { ...c, scope: { type: c.scopeType, ...names, label: text } };
}

/** Column titles of {@link certificateRow}. */
export const CERTIFICATE_COLUMNS = ["ID", "SCOPE", "TYPE", "ENV", "MODE", "SERIAL", "VALID TO", "DAYS", "STATE"] as const;

/**
 * One table row for a certificate: id, scope, type, environment, mode, serial, valid to (date),
 * days to expiry, state.
 * @param c the summary
 * @param label its scope's names
 */
export function certificateRow(c: CertificateSummary, label: ScopeLabel): string[] {
  return [c.id, label.text, c.certificateType, c.environment, c.mode, c.serialNumber, c.validTo.toISOString().slice(0, 10), String(c.daysToExpiry), c.state];
}

/**
 * Collects a repeatable option's values (`--branch A --branch B`).
 * @param value this occurrence
 * @param previous earlier ones
 */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** How a command names a scope: `--company NIP`, plus `--branch CODE` or an operator reference. */
export interface ScopeOptions extends OperatorReference {
  readonly company: string;
  readonly branch?: string;
}

/**
 * The registry scope a command's options name: a branch when `--branch` is given, else an operator when one is
 * referenced, else the company.
 * @param db the database
 * @param opts `--company`, `--branch`, `--operator`/`--operator-pesel`
 * @throws {KsefCertsError} NOT_FOUND for an unknown company, branch or operator
 */
export async function scopeFromOptions(db: Db, opts: ScopeOptions): Promise<Scope> {
  const company = await companyByNip(db, opts.company);
  if (opts.branch !== undefined) return { type: "branch", branchId: (await branchByCode(db, company, opts.branch)).id };
  const operator = await operatorByReference(db, company, opts);
  if (operator !== undefined) return { type: "operator", operatorId: operator.id };
  return { type: "company", companyId: company.id };
}
