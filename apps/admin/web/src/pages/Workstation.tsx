/**
 * A workstation: pair a signer agent with a one-time code (shown big, with its expiry), the agents' tokens
 * with revoke, and the signing requests waiting there (router `workstations.*`).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode } from "react";
import { useParams } from "react-router";
import { trpc } from "../api";
import { useTranslation } from "react-i18next";
import { codeText, formatDate, useLocale } from "../i18n";
import { ErrorBox, Table } from "../ui";

interface TokenRow {
  readonly id: string;
  readonly createdAt?: string;
  readonly lastUsedAt?: string | null;
  readonly revokedAt?: string | null;
  readonly label?: string | null;
}

/** The workstation page (`/workstations/:id`). */
export function WorkstationPage(): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const { id = "" } = useParams();
  const qc = useQueryClient();
  const tree = useQuery(trpc.org.tree.queryOptions());
  const workstation = (tree.data ?? [])
    .flatMap((c) => c.branches.flatMap((b) => b.workstations.map((w) => ({ ...w, branch: b, company: c }))))
    .find((w) => w.id === id);
  const pair = useMutation(trpc.workstations.createPairingCode.mutationOptions());
  // While a code is on screen, watch for the agent that uses it: its token shows up without a reload.
  const codeShown = pair.data !== undefined && new Date(pair.data.expiresAt).getTime() > Date.now();
  const tokens = useQuery({ ...trpc.workstations.tokens.queryOptions({ workstationId: id }), refetchInterval: codeShown ? 2_000 : false });
  const requests = useQuery(trpc.workstations.signingRequests.queryOptions({ workstationId: id }));
  const revoke = useMutation(
    trpc.workstations.revokeToken.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.workstations.tokens.queryKey({ workstationId: id }) });
      },
    }),
  );
  if (tree.isSuccess && !workstation) return <p role="alert">{t("web.common.notFound")}</p>;
  const tokenRows = (tokens.data ?? []) as readonly TokenRow[];
  const requestRows = requests.data ?? [];
  return (
    <section aria-labelledby="ws-heading">
      <h1 id="ws-heading">{t("web.ws.heading", { name: workstation?.name ?? "" })}</h1>
      {workstation && (
        <dl className="facts">
          <dt>{t("web.field.company")}</dt>
          <dd>{workstation.company.name}</dd>
          <dt>{t("web.field.branch")}</dt>
          <dd>
            {workstation.branch.code} – {workstation.branch.name}
          </dd>
          <dt>{t("web.field.outboxDir")}</dt>
          <dd>
            <code>{workstation.outboxDir}</code>
          </dd>
          <dt>{t("web.field.inboxDir")}</dt>
          <dd>
            <code>{workstation.inboxDir}</code>
          </dd>
        </dl>
      )}
      <div className="card">
        <button
          type="button"
          onClick={() => {
            pair.mutate({ workstationId: id });
          }}
          disabled={pair.isPending}
        >
          {t("web.ws.pair")}
        </button>
        {pair.data && (
          <div className="pairing" role="region" aria-label={t("web.ws.code")}>
            <p>{t("web.ws.code")}</p>
            <output className="code">{pair.data.code}</output>
            <p>{t("web.ws.codeExpires", { at: formatDate(locale, pair.data.expiresAt, true) })}</p>
          </div>
        )}
        <ErrorBox error={pair.error} />
      </div>
      <h2>{t("web.ws.tokens")}</h2>
      <ErrorBox error={tokens.error ?? revoke.error} />
      {tokenRows.length === 0 ? (
        <p>{t("web.ws.noTokens")}</p>
      ) : (
        <Table
          label={t("web.ws.tokens")}
          columns={[
            t("web.ws.agent"),
            t("web.ws.created"),
            t("web.ws.lastUsed"),
            t("web.field.state"),
            <span key="revoke" className="sr-only">
              {t("web.ws.revoke")}
            </span>,
          ]}
        >
          {tokenRows.map((tok) => (
            <tr key={tok.id}>
              <td>
                <code>{tok.label ?? tok.id.slice(0, 8)}</code>
              </td>
              <td>{formatDate(locale, tok.createdAt, true)}</td>
              <td>{formatDate(locale, tok.lastUsedAt, true)}</td>
              <td>{tok.revokedAt ? t("web.ws.revoked") : ""}</td>
              <td>
                {!tok.revokedAt && (
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      revoke.mutate({ tokenId: tok.id });
                    }}
                  >
                    {t("web.ws.revoke")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <h2>{t("web.ws.requests")}</h2>
      <ul>
        {requestRows.map((r) => (
          <li key={r.id}>
            <code>{r.fileName}</code> — {codeText(t, "web.ws.status.", r.status)} ({t("web.ws.codeExpires", { at: formatDate(locale, r.expiresAt, true) })})
          </li>
        ))}
      </ul>
    </section>
  );
}
