/**
 * Autopilot renewal (router `renewals.*`, docs/renewal.md): the renewal plan as the CLI prints it — one row per current
 * certificate with its due date and how it will renew (automatically, through a person's signature, after an admin's
 * approval, blocked and why, or renewed already) — filtered by company and branch, with approval in place; and the
 * renewal policy of a company, branch or operator, each value shown with where it comes from, editable, and cleared
 * to inherit again.
 */
import { useState, type ReactNode, type SyntheticEvent } from "react";
import { Link } from "react-router";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { isMessageId } from "@ksef-certs/ksef/messages";
import { trpc, type RouterInputs, type RouterOutputs } from "../api";
import { formatDate, tId, type T, useLocale } from "../i18n";
import { ErrorBox, fieldErrorsOf, FormEnd, PageButtons, ScopePicker, scopeInput, SelectField, Table, TextField, type Choice, type ScopeValue } from "../ui";

/** One row of `renewals.plan`. */
export type RenewalRow = RouterOutputs["renewals"]["plan"][number];
type PolicyView = RouterOutputs["renewals"]["policy"];
type PolicyField = keyof PolicyView["effective"]["values"];
type Patch = RouterInputs["renewals"]["setPolicy"]["patch"];

/** The policy's fields in the order the CLI and docs/renewal.md list them. */
const FIELDS = [
  "renewBeforeDays",
  "approval",
  "signing",
  "workstationId",
  "personLeadDays",
  "successorMode",
  "keyAlgorithm",
  "password",
] as const satisfies readonly PolicyField[];

/** The choices of the fields that take one of a few values (the router's enums). */
const CHOICES = {
  approval: ["automatic", "ask_first"],
  signing: ["certificate", "person"],
  successorMode: ["queued", "current"],
  keyAlgorithm: ["EC-P256", "RSA-2048"],
  password: ["reuse", "generate", "ask"],
} as const;

const DAY_FIELDS = ["renewBeforeDays", "personLeadDays"] as const;
const PAGE = 50;

/**
 * A message id that arrives as data (a reason from the server) in the UI language; an id this app does not know (a
 * newer server) shows as it comes rather than failing.
 * @param t the bound translator
 * @param reason the id and its parameters
 */
function reasonText(t: T, reason: { readonly id: string; readonly params: Readonly<Record<string, string | number>> }): string {
  return isMessageId(reason.id) ? tId(t, reason.id, reason.params) : reason.id;
}

/**
 * A policy value in words (`workstationId` by the workstation's name).
 * @param t the bound translator
 * @param field the policy field
 * @param value its value
 * @param workstations names of the company's workstations by id
 */
function valueText(t: T, field: PolicyField, value: string | number | null, workstations: ReadonlyMap<string, string>): string {
  if (value === null) return t("web.renewals.policy.noWorkstation");
  if (typeof value === "number") return String(value);
  if (field === "workstationId") return workstations.get(value) ?? value;
  const id = `web.renewals.value.${field}.${value}`;
  return isMessageId(id) ? tId(t, id) : value;
}

/** The renewals page (`/renewals`). */
export function RenewalsPage(): ReactNode {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="renewals-heading">
      <h1 id="renewals-heading">{t("web.renewals.heading")}</h1>
      <RenewalPlan />
      <RenewalPolicy />
    </section>
  );
}

function RenewalPlan(): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const [draft, setDraft] = useState({ companyId: "", branchId: "" });
  const [filters, setFilters] = useState(draft);
  const [page, setPage] = useState(0);
  const input = { ...(filters.companyId ? { companyId: filters.companyId } : {}), ...(filters.branchId ? { branchId: filters.branchId } : {}) };
  const plan = useQuery({ ...trpc.renewals.plan.queryOptions(input), placeholderData: keepPreviousData });
  const tree = useQuery(trpc.org.tree.queryOptions());
  const companies = tree.data ?? [];
  const company = companies.find((c) => c.id === draft.companyId);
  const apply = (e: SyntheticEvent): void => {
    e.preventDefault();
    setFilters(draft);
    setPage(0);
  };
  const items = plan.data ?? [];
  // The plan is one answer (every current certificate the caller may see); it is paged here, not on the server.
  const shown = items.slice(page * PAGE, (page + 1) * PAGE);
  return (
    <>
      <form onSubmit={apply} aria-label={t("web.certs.filters")} className="filters">
        <SelectField<string>
          label={t("web.field.company")}
          value={draft.companyId}
          onChange={(companyId) => {
            setDraft({ companyId, branchId: "" });
          }}
          empty={t("web.common.all")}
          choices={companies.map((c) => [c.id, c.name] as const)}
        />
        <SelectField<string>
          label={t("web.field.branch")}
          value={draft.branchId}
          onChange={(branchId) => {
            setDraft({ ...draft, branchId });
          }}
          empty={t("web.common.all")}
          choices={(company?.branches ?? []).map((b) => [b.id, `${b.code} – ${b.name}`] as const)}
        />
        <button type="submit">{t("web.certs.apply")}</button>
      </form>
      <ErrorBox error={plan.error} />
      {plan.isSuccess && items.length === 0 && <p>{t("web.renewals.empty")}</p>}
      {items.length > 0 && (
        <Table
          label={t("web.renewals.table")}
          columns={[
            t("web.field.name"),
            t("web.field.company"),
            t("web.renewals.scope"),
            t("web.field.environment"),
            t("web.field.certificateType"),
            t("web.renewals.validTo"),
            t("web.renewals.dueAt"),
            t("web.renewals.route"),
            t("web.renewals.state"),
          ]}
        >
          {shown.map((i) => (
            <tr key={i.certificate.id}>
              <td>
                <Link to={`/certificates/${i.certificate.id}`}>{i.certificate.name}</Link>
              </td>
              <td>{i.companyName}</td>
              <td>{scopeText(t, i)}</td>
              <td>{t(`web.env.${i.certificate.environment}`)}</td>
              <td>{t(`web.type.${i.certificate.certificateType}`)}</td>
              <td>{formatDate(locale, i.certificate.validTo)}</td>
              <td>{formatDate(locale, i.dueAt)}</td>
              <td>
                <RouteCell item={i} />
              </td>
              <td>{stateText(t, i)}</td>
            </tr>
          ))}
        </Table>
      )}
      <div className="pager">
        <span>{t("web.common.total", { total: String(items.length) })}</span>
        <PageButtons
          onPrevious={
            page > 0
              ? () => {
                  setPage(page - 1);
                }
              : undefined
          }
          onNext={
            (page + 1) * PAGE < items.length
              ? () => {
                  setPage(page + 1);
                }
              : undefined
          }
        />
      </div>
    </>
  );
}

/**
 * Whom a certificate is held for, in words: the company, a branch or an operator.
 * @param t the bound translator
 * @param i the plan row
 */
function scopeText(t: T, i: RenewalRow): string {
  if (i.certificate.scopeType === "branch") return `${t("web.scope.branch")}: ${i.branchName ?? ""}`;
  if (i.certificate.scopeType === "operator") return `${t("web.scope.operator")}: ${i.operatorName ?? ""}`;
  return t("web.scope.company");
}

/**
 * The renewal's own state (as the scheduler left it), with its attempts and last stop.
 * @param t the bound translator
 * @param i the plan row
 */
function stateText(t: T, i: RenewalRow): string {
  const r = i.renewal;
  if (r === null) return t("web.renewals.state.none");
  const parts: string[] = [t(`web.renewals.state.${r.state}`)];
  if (r.attempts > 0) parts.push(t("web.renewals.attempts", { count: r.attempts }));
  // The decision's reason is shown with the route already; the renewal's own (a failure, a retry) is news here.
  if (r.reason !== null && r.reason.id !== i.reason?.id) parts.push(reasonText(t, r.reason));
  return parts.join(" · ");
}

/** How one certificate will renew, in words; approval in place when it waits for an admin. */
function RouteCell({ item: i }: { readonly item: RenewalRow }): ReactNode {
  const { t } = useTranslation();
  switch (i.route) {
    case "automatic":
      return <>{t("web.renewals.route.automatic", { signer: i.signerName ?? i.certificate.name })}</>;
    case "person":
      return (
        <>
          {i.operatorName === null
            ? t("web.renewals.route.personAnyone", { workstation: i.workstationName ?? "" })
            : t("web.renewals.route.person", { operator: i.operatorName, workstation: i.workstationName ?? "" })}
        </>
      );
    case "blocked":
      return <>{t("web.renewals.route.blocked", { reason: i.reason === null ? "" : reasonText(t, i.reason) })}</>;
    case "renewed":
      return (
        <>
          {t("web.renewals.route.renewed")}
          {i.successorId !== null && (
            <>
              {" "}
              (<Link to={`/certificates/${i.successorId}`}>{t("web.renewals.successor")}</Link>)
            </>
          )}
        </>
      );
    case "approval":
      return <ApproveForm item={i} />;
  }
}

/** Approving a renewal that waits for an admin, with the new key's password when the policy asks for it. */
function ApproveForm({ item: i }: { readonly item: RenewalRow }): ReactNode {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [password, setPassword] = useState("");
  const approve = useMutation(
    trpc.renewals.approve.mutationOptions({
      onSuccess: async () => {
        setPassword("");
        await qc.invalidateQueries({ queryKey: trpc.renewals.plan.queryKey() });
      },
    }),
  );
  // The reason already says what it waits for (approval, or approval with the password); the plain sentence is for none.
  const said = i.reason === null ? t("web.renewals.route.approval") : reasonText(t, i.reason);
  // Only a renewal the scheduler has opened can be approved; before that the row says why it will wait.
  if (i.renewal?.state !== "awaiting_approval") return <>{`${said} (${t("web.renewals.notOpened")})`}</>;
  const renewalId = i.renewal.id;
  const asksPassword = i.reason?.id === "renewal.waiting.password";
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    approve.mutate({ renewalId, ...(asksPassword ? { keyPassword: password } : {}) });
  };
  return (
    <form onSubmit={submit} aria-label={t("web.renewals.approveOf", { name: i.certificate.name })} className="inline">
      <p>{said}</p>
      {asksPassword && (
        <TextField
          label={t("web.renewals.keyPasswordOf", { name: i.certificate.name })}
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          required
          errors={fieldErrorsOf(approve.error)["keyPassword"]}
        />
      )}
      <FormEnd error={approve.error} busy={approve.isPending} label={t("web.renewals.approve")}>
        {approve.isSuccess && <p role="status">{t("web.renewals.approved")}</p>}
      </FormEnd>
    </form>
  );
}

function RenewalPolicy(): ReactNode {
  const { t } = useTranslation();
  const [scope, setScope] = useState<ScopeValue>({ companyId: "" });
  const policy = useQuery({ ...trpc.renewals.policy.queryOptions(scopeInput(scope)), enabled: scope.companyId !== "" });
  return (
    <section aria-labelledby="renewal-policy-heading">
      <h2 id="renewal-policy-heading">{t("web.renewals.policy.heading")}</h2>
      <ScopePicker value={scope} onChange={setScope} />
      {scope.companyId === "" && <p>{t("web.renewals.policy.pick")}</p>}
      <ErrorBox error={policy.error} />
      {/* A new scope (or its first answer) starts the form from what that scope sets. */}
      {scope.companyId !== "" && policy.data !== undefined && <PolicyForm key={policy.data.scopeKey} scope={scope} view={policy.data} />}
    </section>
  );
}

/** A field's own value as the form holds it: empty when the scope inherits it. */
function draftOf(view: PolicyView): Record<PolicyField, string> {
  const own: Partial<Record<PolicyField, string | number | null>> = view.own;
  return Object.fromEntries(FIELDS.map((f) => [f, own[f] === undefined || own[f] === null ? "" : String(own[f])])) as Record<PolicyField, string>;
}

/** The form's values as the router's patch: every field, empty ones cleared (`null`: inherit again). */
function patchOf(draft: Record<PolicyField, string>): Patch {
  const days = (s: string): number | null => (s.trim() === "" ? null : Number(s));
  const pick = <K extends keyof typeof CHOICES>(f: K): (typeof CHOICES)[K][number] | null =>
    (CHOICES[f] as readonly string[]).includes(draft[f]) ? (draft[f] as (typeof CHOICES)[K][number]) : null;
  return {
    renewBeforeDays: days(draft.renewBeforeDays),
    approval: pick("approval"),
    signing: pick("signing"),
    workstationId: draft.workstationId === "" ? null : draft.workstationId,
    personLeadDays: days(draft.personLeadDays),
    successorMode: pick("successorMode"),
    keyAlgorithm: pick("keyAlgorithm"),
    password: pick("password"),
  };
}

function PolicyForm({ scope, view }: { readonly scope: ScopeValue; readonly view: PolicyView }): ReactNode {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [draft, setDraft] = useState(() => draftOf(view));
  const tree = useQuery(trpc.org.tree.queryOptions());
  const company = (tree.data ?? []).find((c) => c.id === scope.companyId);
  const workstations = new Map((company?.branches ?? []).flatMap((b) => b.workstations.map((w) => [w.id, `${b.code} – ${w.name}`] as const)));
  const save = useMutation(
    trpc.renewals.setPolicy.mutationOptions({
      onSuccess: async (saved) => {
        qc.setQueryData(trpc.renewals.policy.queryKey(scopeInput(scope)), saved);
        setDraft(draftOf(saved));
        // The plan's decisions follow the policy.
        await qc.invalidateQueries({ queryKey: trpc.renewals.plan.queryKey() });
      },
    }),
  );
  const errors = fieldErrorsOf(save.error);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    save.mutate({ ...scopeInput(scope), patch: patchOf(draft) });
  };
  const inForce = (f: PolicyField): string =>
    t("web.renewals.policy.inForce", {
      value: valueText(t, f, view.effective.values[f], workstations),
      source: t(`web.renewals.source.${view.effective.sources[f]}`),
    });
  const set = (f: PolicyField) => (value: string) => {
    setDraft({ ...draft, [f]: value });
  };
  return (
    <form onSubmit={submit} aria-label={t("web.renewals.policy.form")} className="card">
      {FIELDS.map((f) => {
        // The domain reports its rules under `policy.<field>`, a refused input under `patch.<field>`.
        const fieldErrors = errors[`policy.${f}`] ?? errors[`patch.${f}`];
        const label = t(`web.renewals.field.${f}`);
        if ((DAY_FIELDS as readonly string[]).includes(f)) {
          return (
            <TextField
              key={f}
              label={label}
              type="number"
              min={1}
              max={365}
              value={draft[f]}
              onChange={set(f)}
              errors={fieldErrors}
              hint={`${t("web.renewals.policy.daysHint")} ${inForce(f)}`}
            />
          );
        }
        const choices: Choice[] =
          f === "workstationId"
            ? [...workstations].map(([id, name]) => [id, name] as const)
            : f in CHOICES
              ? CHOICES[f as keyof typeof CHOICES].map((v) => [v, valueText(t, f, v, workstations)] as const)
              : [];
        return (
          <SelectField<string>
            key={f}
            label={label}
            value={draft[f]}
            onChange={set(f)}
            empty={t("web.renewals.policy.inherit")}
            choices={choices}
            errors={fieldErrors}
            hint={inForce(f)}
          />
        );
      })}
      <FormEnd error={save.error} busy={save.isPending} label={t("web.common.save")} saved={save.isSuccess} />
    </form>
  );
}
