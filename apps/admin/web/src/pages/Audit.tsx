/**
 * The audit log, newest first with paging, and the hash-chain verification result.
 */
import { type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { trpc } from "../api";
import { useTranslation } from "react-i18next";
import { codeText, formatDate, useLocale } from "../i18n";
import { ErrorBox, PageButtons, Table, useCursorPages } from "../ui";

/** One audit entry as a table shows it; the entity only where the table has a column for it. */
interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly entityType?: string;
  readonly entityId?: string | null;
}

/**
 * Audit entries in a table: number, time, actor, action (named in the UI language, its code as the tooltip) and,
 * with `withEntity`, what it was done to.
 * @param props `label`: the table's accessible name; `entries`: newest first; `withEntity`: adds the entity column
 */
export function AuditTable({
  label,
  entries,
  withEntity = false,
}: {
  readonly label: string;
  readonly entries: readonly AuditEntry[];
  readonly withEntity?: boolean;
}): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const columns = ["#", t("web.cert.at"), t("web.cert.actor"), t("web.cert.action")];
  return (
    <Table label={label} columns={withEntity ? [...columns, t("web.audit.entity")] : columns}>
      {entries.map((a) => (
        <tr key={a.seq}>
          <td>{a.seq}</td>
          <td>{formatDate(locale, a.at, true)}</td>
          <td>{a.actor}</td>
          <td title={a.action}>{codeText(t, "web.action.", a.action)}</td>
          {withEntity && (
            <td>
              {codeText(t, "web.entity.", a.entityType ?? "")} <code>{a.entityId}</code>
            </td>
          )}
        </tr>
      ))}
    </Table>
  );
}

/** The audit page. */
export function AuditPage(): ReactNode {
  const { t } = useTranslation();
  const pages = useCursorPages<number>();
  const cursor = pages.cursor;
  const list = useQuery(trpc.audit.list.queryOptions({ limit: 50, ...(cursor !== undefined ? { cursor } : {}) }));
  // Verification reads the whole chain: only when asked.
  const verify = useQuery({ ...trpc.audit.verify.queryOptions(), enabled: false });
  const data = list.data;
  const v = verify.data;
  const bad: unknown = v?.firstBad;
  const firstBad = typeof bad === "object" && bad !== null && "seq" in bad ? String(bad.seq) : typeof bad === "number" ? String(bad) : "?";
  return (
    <section aria-labelledby="audit-heading">
      <h1 id="audit-heading">{t("web.audit.heading")}</h1>
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            void verify.refetch();
          }}
        >
          {t("web.audit.verify")}
        </button>
        {v && (
          <p role="status" className={v.ok ? "ok" : "bad"}>
            {v.ok ? t("web.audit.ok", { count: v.entries }) : t("web.audit.bad", { seq: firstBad })}
          </p>
        )}
      </div>
      <ErrorBox error={list.error ?? verify.error} />
      <AuditTable label={t("web.audit.heading")} entries={data?.entries ?? []} withEntity />
      <div className="pager">
        <PageButtons onPrevious={pages.previous} onNext={pages.forward(data?.nextCursor)} />
      </div>
    </section>
  );
}
