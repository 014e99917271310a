/**
 * `ksef-certs company|branch|operator|workstation add|list`: the organisation certificates are held
 * for (docs/GLOSSARY.md). People name things the way they know them: a
 * company by NIP, a branch by `--company NIP --branch CODE`, an operator by id or PESEL within the
 * company. Ids are printed so scripts can keep them.
 */
import type { Command } from "commander";
import { addBranchAs, addCompanyAs, addOperatorAs, addWorkstationAs, LOCAL_SYSTEM_PRINCIPAL } from "@ksef-certs/domain/access";
import {
  type Branch,
  type Company,
  listBranches,
  listCompanies,
  listOperators,
  listWorkstations,
  type Operator,
  type Workstation,
} from "@ksef-certs/domain/registry";
import type { Db } from "@ksef-certs/domain/store";
import { resolvePath } from "../context.js";
import { type CommandEnv, examples } from "../options.js";
import { formatFields, Output } from "../output.js";
import { addStoreOptions, cliActor, nowOf, type StoreOptions, withStore } from "../store.js";
import { branchByCode, collect, companyByNip, table } from "./registry-common.js";

/** Options of `company add`. */
export interface CompanyAddOptions extends StoreOptions {
  readonly nip: string;
  readonly name: string;
}

/** Options of `branch add`. */
export interface BranchAddOptions extends StoreOptions {
  readonly company: string;
  readonly code: string;
  readonly name: string;
  readonly internalId?: string;
}

/** Options of `operator add`. */
export interface OperatorAddOptions extends StoreOptions {
  readonly company: string;
  readonly name: string;
  readonly pesel?: string;
  readonly nip?: string;
  readonly branch?: string[];
}

/** Options of `workstation add`. */
export interface WorkstationAddOptions extends StoreOptions {
  readonly company: string;
  readonly branch: string;
  readonly name: string;
  readonly outbox: string;
  readonly inbox: string;
}

/** Options of `branch list`, `operator list` and `workstation list`. */
export interface CompanyListOptions extends StoreOptions {
  readonly company: string;
  readonly branch?: string;
}

const companyFields = (c: Company): [string, string][] => [
  ["id", c.id],
  ["NIP", c.nip],
  ["name", c.name],
];

/**
 * Registers `company add|list`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerCompany(program: Command, env: CommandEnv): void {
  const group = program
    .command("company")
    .summary("add or list companies (by NIP)")
    .description("Companies whose certificates the registry holds, identified by NIP.");
  const add = group
    .command("add")
    .summary("add a company")
    .description("Add a company. The NIP may be typed with spaces, dashes or a PL prefix; it is stored as 10 digits and its check digit is verified.")
    .requiredOption("--nip <nip>", "the company's NIP")
    .requiredOption("--name <name>", "the company's name (1-200 characters)");
  addStoreOptions(add).addHelpText(
    "after",
    examples(["ksef-certs company add --nip 5265877635 --name 'Firma Sp. z o.o.'", "ksef-certs company add --nip 526-587-76-35 --name Firma --json"]),
  );
  add.action(async (opts: CompanyAddOptions) => {
    const out = new Output(env.io, opts.json === true);
    const company = await withStore(env, opts, (s) =>
      addCompanyAs(s.db, LOCAL_SYSTEM_PRINCIPAL, { nip: opts.nip, name: opts.name }, { actor: cliActor(env.io), at: nowOf(env.io) }),
    );
    out.result({ company }, ["added company", ...formatFields(companyFields(company))]);
  });

  const list = group.command("list").summary("list companies").description("List the companies, by name. With --json: an array.");
  addStoreOptions(list).addHelpText("after", examples(["ksef-certs company list", "ksef-certs company list --json"]));
  list.action(async (opts: StoreOptions) => {
    const out = new Output(env.io, opts.json === true);
    const companies = await withStore(env, opts, (s) => listCompanies(s.db));
    out.result(
      companies,
      companies.length === 0
        ? ["no companies yet (add one with `ksef-certs company add`)"]
        : table(
            ["ID", "NIP", "NAME"],
            companies.map((c) => [c.id, c.nip, c.name]),
          ),
    );
  });
}

/**
 * Registers `branch add|list`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerBranch(program: Command, env: CommandEnv): void {
  const group = program
    .command("branch")
    .summary("add or list branches (oddziały) of a company")
    .description("Branches (oddziały) of a company, identified by their code within the company.");
  const add = group
    .command("add")
    .summary("add a branch")
    .description("Add a branch to a company. The optional KSeF InternalId (NIP-NNNNN) must start with the company's NIP.")
    .requiredOption("--company <nip>", "the company's NIP")
    .requiredOption("--code <code>", "the branch code as the ERP knows it (unique within the company)")
    .requiredOption("--name <name>", "the branch name")
    .option("--internal-id <id>", "the branch's KSeF InternalId, e.g. 5265877635-00001");
  addStoreOptions(add).addHelpText(
    "after",
    examples([
      "ksef-certs branch add --company 5265877635 --code 001 --name 'Oddział Kraków'",
      "ksef-certs branch add --company 5265877635 --code 002 --name Gdańsk --internal-id 5265877635-00002",
    ]),
  );
  add.action(async (opts: BranchAddOptions) => {
    const out = new Output(env.io, opts.json === true);
    const { company, branch } = await withStore(env, opts, async (s) => {
      const c = await companyByNip(s.db, opts.company);
      const b = await addBranchAs(
        s.db,
        LOCAL_SYSTEM_PRINCIPAL,
        { companyId: c.id, code: opts.code, name: opts.name, ...(opts.internalId === undefined ? {} : { internalId: opts.internalId }) },
        { actor: cliActor(env.io), at: nowOf(env.io) },
      );
      return { company: c, branch: b };
    });
    out.result({ branch, company: { id: company.id, nip: company.nip } }, ["added branch", ...formatFields(branchFields(branch, company))]);
  });

  const list = group
    .command("list")
    .summary("list the branches of a company")
    .description("List a company's branches, by code. With --json: an array.")
    .requiredOption("--company <nip>", "the company's NIP");
  addStoreOptions(list).addHelpText("after", examples(["ksef-certs branch list --company 5265877635"]));
  list.action(async (opts: CompanyListOptions) => {
    const out = new Output(env.io, opts.json === true);
    const rows = await withStore(env, opts, async (s) => listBranches(s.db, (await companyByNip(s.db, opts.company)).id));
    out.result(
      rows,
      rows.length === 0
        ? ["no branches"]
        : table(
            ["ID", "CODE", "NAME", "INTERNAL ID"],
            rows.map((b) => [b.id, b.code, b.name, b.internalId ?? "-"]),
          ),
    );
  });
}

function branchFields(b: Branch, c: Company): [string, string | undefined][] {
  return [
    ["id", b.id],
    ["company", `${c.nip} (${c.name})`],
    ["code", b.code],
    ["name", b.name],
    ["InternalId", b.internalId ?? undefined],
  ];
}

/**
 * Registers `operator add|list`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerOperator(program: Command, env: CommandEnv): void {
  const group = program
    .command("operator")
    .summary("add or list operators (people) of a company")
    .description("Operators: people who work with KSeF for a company, at some of its branches.");
  const add = group
    .command("add")
    .summary("add an operator")
    .description("Add an operator to a company, optionally working at branches (repeat --branch). PESEL and NIP are checked (date, check digit).")
    .requiredOption("--company <nip>", "the company's NIP")
    .requiredOption("--name <name>", "the person's name")
    .option("--pesel <pesel>", "the person's PESEL (unique within the company)")
    .option("--nip <nip>", "the person's own NIP (sole trader)")
    .option("--branch <code>", "a branch code the operator works at (repeatable)", collect);
  addStoreOptions(add).addHelpText(
    "after",
    examples([
      "ksef-certs operator add --company 5265877635 --name 'Jan Kowalski' --pesel 44051401458 --branch 001 --branch 002",
      "ksef-certs operator add --company 5265877635 --name 'Anna Nowak' --json",
    ]),
  );
  add.action(async (opts: OperatorAddOptions) => {
    const out = new Output(env.io, opts.json === true);
    const { operator, branches } = await withStore(env, opts, async (s) => {
      const c = await companyByNip(s.db, opts.company);
      const bs: Branch[] = [];
      for (const code of opts.branch ?? []) bs.push(await branchByCode(s.db, c, code));
      const o = await addOperatorAs(
        s.db,
        LOCAL_SYSTEM_PRINCIPAL,
        {
          companyId: c.id,
          name: opts.name,
          ...(opts.pesel === undefined ? {} : { pesel: opts.pesel }),
          ...(opts.nip === undefined ? {} : { nip: opts.nip }),
          branchIds: bs.map((b) => b.id),
        },
        { actor: cliActor(env.io), at: nowOf(env.io) },
      );
      return { operator: o, branches: bs };
    });
    out.result({ operator: { ...operator, branchCodes: branches.map((b) => b.code) } }, [
      "added operator",
      ...formatFields(operatorFields(operator, branches)),
    ]);
  });

  const list = group
    .command("list")
    .summary("list the operators of a company or branch")
    .description("List a company's operators (or only those working at --branch), by name. With --json: an array.")
    .requiredOption("--company <nip>", "the company's NIP")
    .option("--branch <code>", "only operators working at this branch");
  addStoreOptions(list).addHelpText(
    "after",
    examples(["ksef-certs operator list --company 5265877635", "ksef-certs operator list --company 5265877635 --branch 001 --json"]),
  );
  list.action(async (opts: CompanyListOptions) => {
    const out = new Output(env.io, opts.json === true);
    const { rows, codes } = await withStore(env, opts, async (s) => {
      const c = await companyByNip(s.db, opts.company);
      const filter = opts.branch === undefined ? { companyId: c.id } : { branchId: (await branchByCode(s.db, c, opts.branch)).id };
      const all = await listBranches(s.db, c.id);
      return { rows: await listOperators(s.db, filter), codes: new Map(all.map((b) => [b.id, b.code])) };
    });
    const withCodes = rows.map((o) => ({ ...o, branchCodes: o.branchIds.map((id) => codes.get(id) ?? id) }));
    out.result(
      withCodes,
      withCodes.length === 0
        ? ["no operators"]
        : table(
            ["ID", "NAME", "PESEL", "NIP", "BRANCHES"],
            withCodes.map((o) => [o.id, o.name, o.pesel ?? "-", o.nip ?? "-", o.branchCodes.join(",") || "-"]),
          ),
    );
  });
}

function operatorFields(o: Operator, branches: readonly Branch[]): [string, string | undefined][] {
  return [
    ["id", o.id],
    ["name", o.name],
    ["PESEL", o.pesel ?? undefined],
    ["NIP", o.nip ?? undefined],
    ["branches", branches.length === 0 ? undefined : branches.map((b) => b.code).join(", ")],
  ];
}

/**
 * Registers `workstation add|list`.
 * @param program the root command
 * @param env the run's surface and state
 */
export function registerWorkstation(program: Command, env: CommandEnv): void {
  const group = program
    .command("workstation")
    .summary("add or list workstations (hand-off folders) of a branch")
    .description("Workstations: a branch's computers where people sign auth.xml, with their outbox and inbox folders.");
  const add = group
    .command("add")
    .summary("add a workstation")
    .description(
      "Add a workstation to a branch. --outbox (where auth.xml is written) and --inbox (where the signed file is dropped) are resolved against the working directory and must be different folders, neither inside the other.",
    )
    .requiredOption("--company <nip>", "the company's NIP")
    .requiredOption("--branch <code>", "the branch code")
    .requiredOption("--name <name>", "the workstation's name (unique within the branch)")
    .requiredOption("--outbox <dir>", "folder where auth.xml is written")
    .requiredOption("--inbox <dir>", "folder where the signed file is dropped");
  addStoreOptions(add).addHelpText(
    "after",
    examples(["ksef-certs workstation add --company 5265877635 --branch 001 --name kasa-1 --outbox /srv/ksef/kasa-1/out --inbox /srv/ksef/kasa-1/in"]),
  );
  add.action(async (opts: WorkstationAddOptions) => {
    const out = new Output(env.io, opts.json === true);
    const workstation = await withStore(env, opts, async (s) => {
      const c = await companyByNip(s.db, opts.company);
      const b = await branchByCode(s.db, c, opts.branch);
      return addWorkstationAs(
        s.db,
        LOCAL_SYSTEM_PRINCIPAL,
        { branchId: b.id, name: opts.name, outboxDir: resolvePath(env.io, opts.outbox), inboxDir: resolvePath(env.io, opts.inbox) },
        { actor: cliActor(env.io), at: nowOf(env.io) },
      );
    });
    out.result({ workstation }, ["added workstation", ...formatFields(workstationFields(workstation, opts.branch))]);
  });

  const list = group
    .command("list")
    .summary("list the workstations of a company or branch")
    .description("List the workstations of every branch of a company, or of --branch, by name. With --json: an array.")
    .requiredOption("--company <nip>", "the company's NIP")
    .option("--branch <code>", "only this branch's workstations");
  addStoreOptions(list).addHelpText("after", examples(["ksef-certs workstation list --company 5265877635 --branch 001"]));
  list.action(async (opts: CompanyListOptions) => {
    const out = new Output(env.io, opts.json === true);
    const { rows, codes } = await withStore(env, opts, async (s) => listWorkstationsOf(s.db, opts));
    const withCodes = rows.map((w) => ({ ...w, branchCode: codes.get(w.branchId) ?? w.branchId }));
    out.result(
      withCodes,
      withCodes.length === 0
        ? ["no workstations"]
        : table(
            ["ID", "BRANCH", "NAME", "OUTBOX", "INBOX"],
            withCodes.map((w) => [w.id, w.branchCode, w.name, w.outboxDir, w.inboxDir]),
          ),
    );
  });
}

async function listWorkstationsOf(db: Db, opts: CompanyListOptions): Promise<{ rows: Workstation[]; codes: Map<string, string> }> {
  const c = await companyByNip(db, opts.company);
  const filter = opts.branch === undefined ? { companyId: c.id } : { branchId: (await branchByCode(db, c, opts.branch)).id };
  const all = await listBranches(db, c.id);
  return { rows: await listWorkstations(db, filter), codes: new Map(all.map((b) => [b.id, b.code])) };
}

function workstationFields(w: Workstation, branchCode: string): [string, string][] {
  return [
    ["id", w.id],
    ["branch", branchCode],
    ["name", w.name],
    ["outbox", w.outboxDir],
    ["inbox", w.inboxDir],
  ];
}
