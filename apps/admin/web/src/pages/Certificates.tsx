/**
 * The certificate table: filters (company, branch, operator, environment, type, mode, state, expiring within
 * N days, search), cursor paging, days to expiry; rows can be picked for export.
 */
import { useState, type SyntheticEvent, type ReactNode } from "react";
import { Link, useNavigate } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { trpc, type RouterInputs, type RouterOutputs } from "../api";
import { useTranslation } from "react-i18next";
import { formatDate, type T, useLocale } from "../i18n";
import {
  certificateTypeChoices,
  DaysBadge,
  environmentChoices,
  ErrorBox,
  modeChoices,
  PageButtons,
  SelectField,
  Table,
  TextField,
  useCursorPages,
  type Choice,
} from "../ui";

type ListInput = RouterInputs["certificates"]["list"];
/** One row of `certificates.list`. */
export type CertificateRow = RouterOutputs["certificates"]["list"]["items"][number];

const STATES = ["active", "notYetValid", "expired", "revoked"] as const;
const PAGE = 25;

interface Filters {
  companyId: string;
  branchId: string;
  operatorId: string;
  environment: string;
  certificateType: string;
  mode: string;
  state: string;
  expiringWithinDays: string;
  search: string;
}

const EMPTY: Filters = {
  companyId: "",
  branchId: "",
  operatorId: "",
  environment: "",
  certificateType: "",
  mode: "",
  state: "",
  expiringWithinDays: "",
  search: "",
};

function toInput(f: Filters, cursor: string | undefined): ListInput {
  type In = Extract<ListInput, object>;
  return {
    limit: PAGE,
    ...(f.companyId ? { companyId: f.companyId } : {}),
    ...(f.branchId ? { branchId: f.branchId } : {}),
    ...(f.operatorId ? { operatorId: f.operatorId } : {}),
    ...(f.environment ? { environment: f.environment as NonNullable<In["environment"]> } : {}),
    ...(f.certificateType ? { certificateType: f.certificateType as NonNullable<In["certificateType"]> } : {}),
    ...(f.mode ? { mode: f.mode as NonNullable<In["mode"]> } : {}),
    ...(f.state ? { state: f.state as NonNullable<In["state"]> } : {}),
    ...(f.expiringWithinDays ? { expiringWithinDays: Number(f.expiringWithinDays) } : {}),
    ...(f.search ? { search: f.search } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
  };
}

/**
 * Who holds a certificate, as one line: company, branch code, operator.
 * @param scope the row's scope
 */
export function holderText(scope: CertificateRow["scope"] | null): string {
  if (scope === null) return "";
  return [scope.companyName, scope.branchCode, scope.operatorName].filter((s): s is string => typeof s === "string" && s !== "").join(" / ");
}

/** The certificate table page. */
export function CertificatesPage(): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const navigate = useNavigate();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const pages = useCursorPages<string>();
  const [picked, setPicked] = useState<string[]>([]);
  const list = useQuery({ ...trpc.certificates.list.queryOptions(toInput(filters, pages.cursor)), placeholderData: keepPreviousData });
  const tree = useQuery(trpc.org.tree.queryOptions());
  const companies = tree.data ?? [];
  const company = companies.find((c) => c.id === draft.companyId);

  const set = (key: keyof Filters) => (value: string) => {
    setDraft({ ...draft, [key]: value });
  };
  const apply = (e: SyntheticEvent): void => {
    e.preventDefault();
    setFilters(draft);
    pages.reset();
  };
  const select = (key: keyof Filters, label: string, choices: readonly Choice[]): ReactNode => (
    <SelectField<string> label={label} value={draft[key]} onChange={set(key)} empty={t("web.common.all")} choices={choices} />
  );

  const items = list.data?.items ?? [];
  return (
    <section aria-labelledby="certs-heading">
      <h1 id="certs-heading">{t("web.certs.heading")}</h1>
      <form onSubmit={apply} aria-label={t("web.certs.filters")} className="filters">
        {select(
          "companyId",
          t("web.field.company"),
          companies.map((c) => [c.id, c.name] as const),
        )}
        {select(
          "branchId",
          t("web.field.branch"),
          (company?.branches ?? []).map((b) => [b.id, `${b.code} – ${b.name}`] as const),
        )}
        {select(
          "operatorId",
          t("web.field.operator"),
          (company?.operators ?? []).map((o) => [o.id, o.name] as const),
        )}
        {select("environment", t("web.field.environment"), environmentChoices(t))}
        {select("certificateType", t("web.field.certificateType"), certificateTypeChoices(t))}
        {select("mode", t("web.field.mode"), modeChoices(t))}
        {select(
          "state",
          t("web.field.state"),
          STATES.map((s) => [s, t(`web.certs.state.${s}`)] as const),
        )}
        <TextField label={t("web.field.expiringWithin")} type="number" min={0} value={draft.expiringWithinDays} onChange={set("expiringWithinDays")} />
        <TextField label={t("web.field.search")} type="search" value={draft.search} onChange={set("search")} />
        <button type="submit">{t("web.certs.apply")}</button>
      </form>
      <ErrorBox error={list.error} />
      {list.isSuccess && items.length === 0 && <p>{t("web.certs.empty")}</p>}
      {items.length > 0 && (
        <Table
          label={t("web.certs.table")}
          columns={[
            <span key="pick" className="sr-only">
              {t("web.nav.export")}
            </span>,
            t("web.field.name"),
            t("web.field.holder"),
            t("web.field.environment"),
            t("web.field.certificateType"),
            t("web.field.mode"),
            t("web.field.state"),
            t("web.field.serial"),
            t("web.field.validTo"),
            t("web.field.daysToExpiry"),
          ]}
        >
          {items.map((c) => (
            <tr key={c.id}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`${t("web.nav.export")}: ${c.name}`}
                  checked={picked.includes(c.id)}
                  onChange={(e) => {
                    setPicked(e.target.checked ? [...picked, c.id] : picked.filter((id) => id !== c.id));
                  }}
                />
              </td>
              <td>
                <Link to={`/certificates/${c.id}`}>{c.name}</Link>
              </td>
              <td>{holderText(c.scope)}</td>
              <td>{t(`web.env.${c.environment}`)}</td>
              <td>{t(`web.type.${c.certificateType}`)}</td>
              <td>{t(`web.mode.${c.mode}`)}</td>
              <td>{stateText(t, c.state)}</td>
              <td>
                <code>{c.serialNumber}</code>
              </td>
              <td>{formatDate(locale, c.validTo)}</td>
              <td>
                <DaysBadge days={c.daysToExpiry} state={c.state} />
              </td>
            </tr>
          ))}
        </Table>
      )}
      <div className="pager">
        <span>{t("web.common.total", { total: `${String(list.data?.total ?? 0)}${list.data?.totalIsCapped === true ? "+" : ""}` })}</span>
        <PageButtons onPrevious={pages.previous} onNext={pages.forward(list.data?.nextCursor)} />
        <button
          type="button"
          disabled={picked.length === 0}
          onClick={() => {
            void navigate(`/export?ids=${picked.join(",")}`);
          }}
        >
          {t("web.nav.export")} ({picked.length})
        </button>
      </div>
    </section>
  );
}

/**
 * A certificate state in the UI language (unknown states shown as they come).
 * @param t the translator
 * @param state the state from the registry
 */
export function stateText(t: T, state: string): string {
  const known = STATES.find((s) => s === state);
  return known === undefined ? state : t(`web.certs.state.${known}`);
}
