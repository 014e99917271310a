/**
 * Local accounts (super-admin): the list with roles, and a form to create a user with one role in a scope; and the
 * export destinations (server folders below the export root that other roles pick by name).
 */
import { useState, type SyntheticEvent, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { trpc } from "../api";
import { useTranslation } from "react-i18next";
import { type T } from "../i18n";
import { branchText, CardForm, ErrorBox, fieldErrorsOf, FormEnd, SelectField, Table, TextField } from "../ui";

const ROLES = ["super_admin", "company_admin", "branch_admin", "auditor"] as const;
type Role = (typeof ROLES)[number];

/** The users page. */
export function UsersPage(): ReactNode {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const users = useQuery(trpc.users.list.queryOptions());
  const tree = useQuery(trpc.org.tree.queryOptions());
  const [login, setLogin] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("branch_admin");
  const [companyId, setCompanyId] = useState("");
  const [branchId, setBranchId] = useState("");
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: async () => {
        setLogin("");
        setDisplayName("");
        setPassword("");
        await qc.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
      },
    }),
  );
  const errors = fieldErrorsOf(create.error);
  const company = (tree.data ?? []).find((c) => c.id === companyId);
  const submit = (): void => {
    create.mutate({
      login,
      displayName,
      password,
      role,
      ...(role !== "super_admin" && companyId ? { companyId } : {}),
      ...(role === "branch_admin" && branchId ? { branchId } : {}),
    });
  };
  const rows = (users.data ?? []) as readonly {
    id: string;
    login: string;
    displayName: string;
    roles: readonly { role: string; companyId?: string | null; branchId?: string | null }[];
  }[];
  const scopeName = (r: { companyId?: string | null; branchId?: string | null }): string => {
    const c = (tree.data ?? []).find((x) => x.id === r.companyId);
    const b = c?.branches.find((x) => x.id === r.branchId);
    return [c?.name, b?.code].filter(Boolean).join(" / ");
  };
  return (
    <section aria-labelledby="users-heading">
      <h1 id="users-heading">{t("web.users.heading")}</h1>
      <ErrorBox error={users.error} />
      <Table label={t("web.users.heading")} columns={[t("web.users.login"), t("web.field.displayName"), t("web.users.roles")]}>
        {rows.map((u) => (
          <tr key={u.id}>
            <td>{u.login}</td>
            <td>{u.displayName}</td>
            <td>{u.roles.map((r) => `${roleText(t, r.role)}${scopeName(r) ? ` (${scopeName(r)})` : ""}`).join(", ")}</td>
          </tr>
        ))}
      </Table>
      <CardForm title={t("web.users.add")} onSubmit={submit} error={create.error} busy={create.isPending} saved={create.isSuccess}>
        <TextField label={t("web.users.login")} errors={errors.login} autoComplete="off" value={login} onChange={setLogin} />
        <TextField label={t("web.field.displayName")} errors={errors.displayName} value={displayName} onChange={setDisplayName} />
        <TextField
          label={t("web.field.password")}
          errors={errors.password}
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
        />
        <SelectField
          label={t("web.field.role")}
          errors={errors.role}
          value={role}
          onChange={setRole}
          choices={ROLES.map((r) => [r, roleText(t, r)] as const)}
        />
        {role !== "super_admin" && (
          <SelectField
            label={t("web.field.company")}
            errors={errors.companyId}
            value={companyId}
            onChange={(id) => {
              setCompanyId(id);
              setBranchId("");
            }}
            empty={t("web.scope.choose")}
            choices={(tree.data ?? []).map((c) => [c.id, c.name] as const)}
          />
        )}
        {role === "branch_admin" && (
          <SelectField
            label={t("web.field.branch")}
            errors={errors.branchId}
            value={branchId}
            onChange={setBranchId}
            empty={t("web.scope.choose")}
            choices={(company?.branches ?? []).map((b) => [b.id, branchText(b)] as const)}
          />
        )}
      </CardForm>
      <DestinationsSection />
    </section>
  );
}

/** Export destinations: list, add (name, folder below the export root, optional company), remove. */
function DestinationsSection(): ReactNode {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const list = useQuery(trpc.adapters.destinations.queryOptions());
  const tree = useQuery(trpc.org.tree.queryOptions());
  const [name, setName] = useState("");
  const [path, setPath] = useState("");
  const [companyId, setCompanyId] = useState("");
  const refresh = async (): Promise<void> => {
    await qc.invalidateQueries({ queryKey: trpc.adapters.destinations.queryKey() });
  };
  const add = useMutation(
    trpc.adapters.addDestination.mutationOptions({
      onSuccess: async () => {
        setName("");
        setPath("");
        setCompanyId("");
        await refresh();
      },
    }),
  );
  const remove = useMutation(trpc.adapters.removeDestination.mutationOptions({ onSuccess: refresh }));
  const errors = fieldErrorsOf(add.error);
  const companyName = (id: string | null): string =>
    id === null ? t("web.destinations.anyCompany") : ((tree.data ?? []).find((c) => c.id === id)?.name ?? id);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    add.mutate({ name, path, ...(companyId ? { companyId } : {}) });
  };
  return (
    <section aria-labelledby="destinations-heading" className="card">
      <h2 id="destinations-heading">{t("web.destinations.heading")}</h2>
      {list.data?.configured === false ? (
        <p>{t("web.destinations.noRoot")}</p>
      ) : (
        <>
          <Table label={t("web.destinations.heading")} columns={[t("web.field.name"), t("web.destinations.path"), t("web.field.company"), null]}>
            {(list.data?.destinations ?? []).map((d) => (
              <tr key={d.id}>
                <td>{d.name}</td>
                <td>{d.path ?? ""}</td>
                <td>{companyName(d.companyId)}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => {
                      remove.mutate({ id: d.id });
                    }}
                  >
                    {t("web.destinations.remove")}
                  </button>
                </td>
              </tr>
            ))}
          </Table>
          <form onSubmit={submit} aria-label={t("web.destinations.add")}>
            <TextField label={t("web.field.name")} errors={errors.name} value={name} onChange={setName} />
            <TextField label={t("web.destinations.path")} hint={t("web.destinations.pathHint")} errors={errors.path} value={path} onChange={setPath} />
            <SelectField
              label={t("web.field.company")}
              errors={errors.companyId}
              value={companyId}
              onChange={setCompanyId}
              empty={t("web.destinations.anyCompany")}
              choices={(tree.data ?? []).map((c) => [c.id, c.name] as const)}
            />
            <FormEnd error={add.error ?? remove.error} busy={add.isPending} label={t("web.destinations.add")} saved={add.isSuccess} />
          </form>
        </>
      )}
    </section>
  );
}

function roleText(t: T, role: string): string {
  const known = ROLES.find((r) => r === role);
  return known === undefined ? role : t(`web.role.${known}`);
}
