/**
 * Local accounts (super-admin): the list with roles, and a form to create a user with one role in a scope; and the
 * export destinations (server folders below the export root that other roles pick by name).
 */
import { useState, type SyntheticEvent, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ksefErrorOf, trpc } from "../api";
import { useTranslation } from "react-i18next";
import { type T } from "../i18n";
import { byField, ErrorBox, Field } from "../ui";

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
  const errors = byField(ksefErrorOf(create.error)?.violations ?? []);
  const company = (tree.data ?? []).find((c) => c.id === companyId);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
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
      <table aria-label={t("web.users.heading")}>
        <thead>
          <tr>
            <th scope="col">{t("web.users.login")}</th>
            <th scope="col">{t("web.field.displayName")}</th>
            <th scope="col">{t("web.users.roles")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((u) => (
            <tr key={u.id}>
              <td>{u.login}</td>
              <td>{u.displayName}</td>
              <td>{u.roles.map((r) => `${roleText(t, r.role)}${scopeName(r) ? ` (${scopeName(r)})` : ""}`).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form onSubmit={submit} aria-label={t("web.users.add")} className="card">
        <h2>{t("web.users.add")}</h2>
        <Field label={t("web.users.login")} errors={errors.login}>
          {(p) => (
            <input
              {...p}
              autoComplete="off"
              value={login}
              onChange={(e) => {
                setLogin(e.target.value);
              }}
            />
          )}
        </Field>
        <Field label={t("web.field.displayName")} errors={errors.displayName}>
          {(p) => (
            <input
              {...p}
              value={displayName}
              onChange={(e) => {
                setDisplayName(e.target.value);
              }}
            />
          )}
        </Field>
        <Field label={t("web.field.password")} errors={errors.password}>
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => {
                setPassword(e.target.value);
              }}
            />
          )}
        </Field>
        <Field label={t("web.field.role")} errors={errors.role}>
          {(p) => (
            <select
              {...p}
              value={role}
              onChange={(e) => {
                setRole(e.target.value as Role);
              }}
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {roleText(t, r)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {role !== "super_admin" && (
          <Field label={t("web.field.company")} errors={errors.companyId}>
            {(p) => (
              <select
                {...p}
                value={companyId}
                onChange={(e) => {
                  setCompanyId(e.target.value);
                  setBranchId("");
                }}
              >
                <option value="">{t("web.scope.choose")}</option>
                {(tree.data ?? []).map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        {role === "branch_admin" && (
          <Field label={t("web.field.branch")} errors={errors.branchId}>
            {(p) => (
              <select
                {...p}
                value={branchId}
                onChange={(e) => {
                  setBranchId(e.target.value);
                }}
              >
                <option value="">{t("web.scope.choose")}</option>
                {(company?.branches ?? []).map((b) => (
                  <option key={b.id} value={b.id}>
                    {b.code} – {b.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <ErrorBox error={create.error} />
        {create.isSuccess && <p role="status">{t("web.common.saved")}</p>}
        <button type="submit" disabled={create.isPending}>
          {t("web.users.add")}
        </button>
      </form>
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
  const errors = byField(ksefErrorOf(add.error)?.violations ?? []);
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
          <table aria-label={t("web.destinations.heading")}>
            <thead>
              <tr>
                <th scope="col">{t("web.field.name")}</th>
                <th scope="col">{t("web.destinations.path")}</th>
                <th scope="col">{t("web.field.company")}</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
          <form onSubmit={submit} aria-label={t("web.destinations.add")}>
            <Field label={t("web.field.name")} errors={errors.name}>
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
            <Field label={t("web.destinations.path")} hint={t("web.destinations.pathHint")} errors={errors.path}>
              {(p) => (
                <input
                  {...p}
                  value={path}
                  onChange={(e) => {
                    setPath(e.target.value);
                  }}
                />
              )}
            </Field>
            <Field label={t("web.field.company")} errors={errors.companyId}>
              {(p) => (
                <select
                  {...p}
                  value={companyId}
                  onChange={(e) => {
                    setCompanyId(e.target.value);
                  }}
                >
                  <option value="">{t("web.destinations.anyCompany")}</option>
                  {(tree.data ?? []).map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <ErrorBox error={add.error ?? remove.error} />
            {add.isSuccess && <p role="status">{t("web.common.saved")}</p>}
            <button type="submit" disabled={add.isPending}>
              {t("web.destinations.add")}
            </button>
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
