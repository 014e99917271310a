/**
 * The organisation tree: companies → branches → workstations, and each company's operators; forms to add them.
 */
import { useState, type SyntheticEvent, type ReactNode } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ksefErrorOf, trpc, type RouterOutputs } from "../api";
import { useTranslation } from "react-i18next";
import { byField, ErrorBox, Field } from "../ui";

type Company = RouterOutputs["org"]["tree"][number];

/** The organisation page. */
export function OrganisationPage(): ReactNode {
  const { t } = useTranslation();
  const tree = useQuery(trpc.org.tree.queryOptions());
  const companies = tree.data ?? [];
  return (
    <section aria-labelledby="org-heading">
      <h1 id="org-heading">{t("web.org.heading")}</h1>
      <ErrorBox error={tree.error} />
      {tree.isSuccess && companies.length === 0 && <p>{t("web.org.empty")}</p>}
      <ul role="tree" aria-labelledby="org-heading" className="tree">
        {companies.map((c) => (
          <CompanyNode key={c.id} company={c} />
        ))}
      </ul>
      <div className="forms">
        <AddCompanyForm />
        {companies.length > 0 && <AddBranchForm companies={companies} />}
        {companies.length > 0 && <AddOperatorForm companies={companies} />}
        {companies.some((c) => c.branches.length > 0) && <AddWorkstationForm companies={companies} />}
      </div>
    </section>
  );
}

function CompanyNode({ company }: { readonly company: Company }): ReactNode {
  const { t } = useTranslation();
  return (
    <li role="treeitem" aria-expanded="true" aria-selected="false" aria-label={`${company.name} (${company.nip})`}>
      <span className="node company">
        {company.name} <small>NIP {company.nip}</small>
      </span>
      <ul role="group" aria-label={t("web.org.branches")}>
        {company.branches.map((b) => (
          <li key={b.id} role="treeitem" aria-expanded="true" aria-selected="false" aria-label={`${b.code} – ${b.name}`}>
            <span className="node branch">
              {b.code} – {b.name} {b.internalId ? <small>{b.internalId}</small> : null}
            </span>
            {b.workstations.length > 0 && (
              <ul role="group" aria-label={t("web.org.workstations")}>
                {b.workstations.map((w) => (
                  <li key={w.id} role="treeitem" aria-selected="false" aria-label={w.name}>
                    <Link to={`/workstations/${w.id}`}>{w.name}</Link> <small>{w.paired ? t("web.org.paired") : t("web.org.notPaired")}</small>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
        {company.operators.length > 0 && (
          <li role="treeitem" aria-expanded="true" aria-selected="false" aria-label={t("web.org.operators")}>
            <span className="node">{t("web.org.operators")}</span>
            <ul role="group" aria-label={t("web.org.operators")}>
              {company.operators.map((o) => (
                <li key={o.id} role="treeitem" aria-selected="false" aria-label={o.name}>
                  {o.name} {o.pesel ? <small>PESEL {o.pesel}</small> : null}{" "}
                  <small>{o.branchIds.map((id) => company.branches.find((b) => b.id === id)?.code ?? "").join(", ")}</small>
                </li>
              ))}
            </ul>
          </li>
        )}
      </ul>
    </li>
  );
}

/** Refreshes the tree after an addition. */
function useRefreshTree(): () => Promise<void> {
  const qc = useQueryClient();
  return () => qc.invalidateQueries({ queryKey: trpc.org.tree.queryKey() });
}

/**
 * Violations of a failed mutation grouped by field.
 * @param error what the mutation failed with
 */
function fieldErrorsOf(error: unknown): ReturnType<typeof byField> {
  return byField(ksefErrorOf(error)?.violations ?? []);
}

function AddCompanyForm(): ReactNode {
  const { t } = useTranslation();
  const [nip, setNip] = useState("");
  const [name, setName] = useState("");
  const m = useMutation(trpc.org.addCompany.mutationOptions({ onSuccess: useRefreshTree() }));
  const fe = fieldErrorsOf(m.error);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    m.mutate({ nip, name });
  };
  return (
    <form onSubmit={submit} aria-label={t("web.org.addCompany")} className="card">
      <h2>{t("web.org.addCompany")}</h2>
      <Field label={t("web.field.nip")} errors={fe.nip}>
        {(p) => (
          <input
            {...p}
            value={nip}
            inputMode="numeric"
            onChange={(e) => {
              setNip(e.target.value);
            }}
          />
        )}
      </Field>
      <Field label={t("web.field.name")} errors={fe.name}>
        {(p) => (
          <input
            {...p}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
            }}
          />
        )}
      </Field>
      <ErrorBox error={m.error} />
      <button type="submit" disabled={m.isPending}>
        {t("web.org.addCompany")}
      </button>
    </form>
  );
}

function CompanySelect({
  companies,
  value,
  onChange,
}: {
  readonly companies: readonly Company[];
  readonly value: string;
  readonly onChange: (id: string) => void;
}): ReactNode {
  const { t } = useTranslation();
  return (
    <Field label={t("web.field.company")}>
      {(p) => (
        <select
          {...p}
          value={value}
          onChange={(e) => {
            onChange(e.target.value);
          }}
        >
          {companies.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function AddBranchForm({ companies }: { readonly companies: readonly Company[] }): ReactNode {
  const { t } = useTranslation();
  const [companyId, setCompanyId] = useState(companies[0]?.id ?? "");
  const [code, setCode] = useState("");
  const [name, setName] = useState("");
  const [internalId, setInternalId] = useState("");
  const m = useMutation(trpc.org.addBranch.mutationOptions({ onSuccess: useRefreshTree() }));
  const fe = fieldErrorsOf(m.error);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    m.mutate({ companyId: companyId || (companies[0]?.id ?? ""), code, name, ...(internalId ? { internalId } : {}) });
  };
  return (
    <form onSubmit={submit} aria-label={t("web.org.addBranch")} className="card">
      <h2>{t("web.org.addBranch")}</h2>
      <CompanySelect companies={companies} value={companyId} onChange={setCompanyId} />
      <Field label={t("web.field.code")} errors={fe.code}>
        {(p) => (
          <input
            {...p}
            value={code}
            onChange={(e) => {
              setCode(e.target.value);
            }}
          />
        )}
      </Field>
      <Field label={t("web.field.name")} errors={fe.name}>
        {(p) => (
          <input
            {...p}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
            }}
          />
        )}
      </Field>
      <Field label={t("web.field.internalId")} errors={fe.internalId}>
        {(p) => (
          <input
            {...p}
            value={internalId}
            onChange={(e) => {
              setInternalId(e.target.value);
            }}
          />
        )}
      </Field>
      <ErrorBox error={m.error} />
      <button type="submit" disabled={m.isPending}>
        {t("web.org.addBranch")}
      </button>
    </form>
  );
}

function AddOperatorForm({ companies }: { readonly companies: readonly Company[] }): ReactNode {
  const { t } = useTranslation();
  const [companyId, setCompanyId] = useState(companies[0]?.id ?? "");
  const [name, setName] = useState("");
  const [pesel, setPesel] = useState("");
  const [branchIds, setBranchIds] = useState<string[]>([]);
  const company = companies.find((c) => c.id === companyId) ?? companies[0];
  const m = useMutation(trpc.org.addOperator.mutationOptions({ onSuccess: useRefreshTree() }));
  const fe = fieldErrorsOf(m.error);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    m.mutate({ companyId: company?.id ?? "", name, ...(pesel ? { pesel } : {}), branchIds });
  };
  return (
    <form onSubmit={submit} aria-label={t("web.org.addOperator")} className="card">
      <h2>{t("web.org.addOperator")}</h2>
      <CompanySelect
        companies={companies}
        value={company?.id ?? ""}
        onChange={(id) => {
          setCompanyId(id);
          setBranchIds([]);
        }}
      />
      <Field label={t("web.field.name")} errors={fe.name}>
        {(p) => (
          <input
            {...p}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
            }}
          />
        )}
      </Field>
      <Field label={t("web.field.pesel")} errors={fe.pesel}>
        {(p) => (
          <input
            {...p}
            value={pesel}
            inputMode="numeric"
            onChange={(e) => {
              setPesel(e.target.value);
            }}
          />
        )}
      </Field>
      <fieldset>
        <legend>{t("web.org.operatorBranches")}</legend>
        {(company?.branches ?? []).map((b) => (
          <label key={b.id} className="check">
            <input
              type="checkbox"
              checked={branchIds.includes(b.id)}
              onChange={(e) => {
                setBranchIds(e.target.checked ? [...branchIds, b.id] : branchIds.filter((id) => id !== b.id));
              }}
            />
            {b.code} – {b.name}
          </label>
        ))}
      </fieldset>
      <ErrorBox error={m.error} />
      <button type="submit" disabled={m.isPending}>
        {t("web.org.addOperator")}
      </button>
    </form>
  );
}

function AddWorkstationForm({ companies }: { readonly companies: readonly Company[] }): ReactNode {
  const { t } = useTranslation();
  const branches = companies.flatMap((c) => c.branches.map((b) => ({ ...b, companyName: c.name })));
  const [branchId, setBranchId] = useState(branches[0]?.id ?? "");
  const [name, setName] = useState("");
  const [outboxDir, setOutboxDir] = useState("");
  const [inboxDir, setInboxDir] = useState("");
  const m = useMutation(trpc.org.addWorkstation.mutationOptions({ onSuccess: useRefreshTree() }));
  const fe = fieldErrorsOf(m.error);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    m.mutate({ branchId: branchId || (branches[0]?.id ?? ""), name, outboxDir, inboxDir });
  };
  return (
    <form onSubmit={submit} aria-label={t("web.org.addWorkstation")} className="card">
      <h2>{t("web.org.addWorkstation")}</h2>
      <Field label={t("web.field.branch")}>
        {(p) => (
          <select
            {...p}
            value={branchId}
            onChange={(e) => {
              setBranchId(e.target.value);
            }}
          >
            {branches.map((b) => (
              <option key={b.id} value={b.id}>
                {b.companyName}: {b.code} – {b.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t("web.field.name")} errors={fe.name}>
        {(p) => (
          <input
            {...p}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
            }}
          />
        )}
      </Field>
      <Field label={t("web.field.outboxDir")} errors={fe.outboxDir}>
        {(p) => (
          <input
            {...p}
            value={outboxDir}
            onChange={(e) => {
              setOutboxDir(e.target.value);
            }}
          />
        )}
      </Field>
      <Field label={t("web.field.inboxDir")} errors={fe.inboxDir}>
        {(p) => (
          <input
            {...p}
            value={inboxDir}
            onChange={(e) => {
              setInboxDir(e.target.value);
            }}
          />
        )}
      </Field>
      <ErrorBox error={m.error} />
      <button type="submit" disabled={m.isPending}>
        {t("web.org.addWorkstation")}
      </button>
    </form>
  );
}
