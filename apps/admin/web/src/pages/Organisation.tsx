/**
 * The organisation tree: companies → branches → workstations, and each company's operators; forms to add them.
 */
import { useState, type ReactNode } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { trpc, type RouterOutputs } from "../api";
import { useTranslation } from "react-i18next";
import { branchText, CardForm, CheckField, ErrorBox, fieldErrorsOf, SelectField, TextField } from "../ui";

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

function AddCompanyForm(): ReactNode {
  const { t } = useTranslation();
  const [nip, setNip] = useState("");
  const [name, setName] = useState("");
  const m = useMutation(trpc.org.addCompany.mutationOptions({ onSuccess: useRefreshTree() }));
  const fe = fieldErrorsOf(m.error);
  return (
    <CardForm
      title={t("web.org.addCompany")}
      onSubmit={() => {
        m.mutate({ nip, name });
      }}
      error={m.error}
      busy={m.isPending}
    >
      <TextField label={t("web.field.nip")} errors={fe.nip} value={nip} inputMode="numeric" onChange={setNip} />
      <TextField label={t("web.field.name")} errors={fe.name} value={name} onChange={setName} />
    </CardForm>
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
  return <SelectField label={t("web.field.company")} value={value} onChange={onChange} choices={companies.map((c) => [c.id, c.name] as const)} />;
}

function AddBranchForm({ companies }: { readonly companies: readonly Company[] }): ReactNode {
  const { t } = useTranslation();
  const [companyId, setCompanyId] = useState(companies[0]?.id ?? "");
  const [code, setCode] = useState("");
  const [name, setName] = useState("");
  const [internalId, setInternalId] = useState("");
  const m = useMutation(trpc.org.addBranch.mutationOptions({ onSuccess: useRefreshTree() }));
  const fe = fieldErrorsOf(m.error);
  return (
    <CardForm
      title={t("web.org.addBranch")}
      onSubmit={() => {
        m.mutate({ companyId: companyId || (companies[0]?.id ?? ""), code, name, ...(internalId ? { internalId } : {}) });
      }}
      error={m.error}
      busy={m.isPending}
    >
      <CompanySelect companies={companies} value={companyId} onChange={setCompanyId} />
      <TextField label={t("web.field.code")} errors={fe.code} value={code} onChange={setCode} />
      <TextField label={t("web.field.name")} errors={fe.name} value={name} onChange={setName} />
      <TextField label={t("web.field.internalId")} errors={fe.internalId} value={internalId} onChange={setInternalId} />
    </CardForm>
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
  return (
    <CardForm
      title={t("web.org.addOperator")}
      onSubmit={() => {
        m.mutate({ companyId: company?.id ?? "", name, ...(pesel ? { pesel } : {}), branchIds });
      }}
      error={m.error}
      busy={m.isPending}
    >
      <CompanySelect
        companies={companies}
        value={company?.id ?? ""}
        onChange={(id) => {
          setCompanyId(id);
          setBranchIds([]);
        }}
      />
      <TextField label={t("web.field.name")} errors={fe.name} value={name} onChange={setName} />
      <TextField label={t("web.field.pesel")} errors={fe.pesel} value={pesel} inputMode="numeric" onChange={setPesel} />
      <fieldset>
        <legend>{t("web.org.operatorBranches")}</legend>
        {(company?.branches ?? []).map((b) => (
          <CheckField
            key={b.id}
            label={branchText(b)}
            checked={branchIds.includes(b.id)}
            onChange={(checked) => {
              setBranchIds(checked ? [...branchIds, b.id] : branchIds.filter((id) => id !== b.id));
            }}
          />
        ))}
      </fieldset>
    </CardForm>
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
  return (
    <CardForm
      title={t("web.org.addWorkstation")}
      onSubmit={() => {
        m.mutate({ branchId: branchId || (branches[0]?.id ?? ""), name, outboxDir, inboxDir });
      }}
      error={m.error}
      busy={m.isPending}
    >
      <SelectField
        label={t("web.field.branch")}
        value={branchId}
        onChange={setBranchId}
        choices={branches.map(
          (b) =>
            [
              b.id,
              <>
                {b.companyName}: {b.code} – {b.name}
              </>,
            ] as const,
        )}
      />
      <TextField label={t("web.field.name")} errors={fe.name} value={name} onChange={setName} />
      <TextField label={t("web.field.outboxDir")} errors={fe.outboxDir} value={outboxDir} onChange={setOutboxDir} />
      <TextField label={t("web.field.inboxDir")} errors={fe.inboxDir} value={inboxDir} onChange={setInboxDir} />
    </CardForm>
  );
}
