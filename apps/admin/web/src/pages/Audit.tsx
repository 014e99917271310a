/**
 * The audit log, newest first with paging, and the hash-chain verification result.
 */
import { useState, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { trpc } from "../api";
import { useTranslation } from "react-i18next";
import { codeText, formatDate, useLocale } from "../i18n";
import { ErrorBox } from "../ui";

/** The audit page. */
export function AuditPage(): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
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
      <table aria-label={t("web.audit.heading")}>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t("web.cert.at")}</th>
            <th scope="col">{t("web.cert.actor")}</th>
            <th scope="col">{t("web.cert.action")}</th>
            <th scope="col">{t("web.audit.entity")}</th>
          </tr>
        </thead>
        <tbody>
          {(data?.entries ?? []).map((a) => (
            <tr key={a.seq}>
              <td>{a.seq}</td>
              <td>{formatDate(locale, a.at, true)}</td>
              <td>{a.actor}</td>
              <td title={a.action}>{codeText(t, "web.action.", a.action)}</td>
              <td>
                {codeText(t, "web.entity.", a.entityType)} <code>{a.entityId}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="pager">
        <button
          type="button"
          disabled={cursors.length < 2}
          onClick={() => {
            setCursors(cursors.slice(0, -1));
          }}
        >
          {t("web.common.previous")}
        </button>
        <button
          type="button"
          disabled={data?.nextCursor === undefined || data.nextCursor === null}
          onClick={() => {
            if (data?.nextCursor !== undefined && data.nextCursor !== null) setCursors([...cursors, data.nextCursor]);
          }}
        >
          {t("web.common.next")}
        </button>
      </div>
    </section>
  );
}
