/**
 * One certificate: what it is and who holds it, the ERP exports it went to, its audit entries; actions
 * assign (another branch/operator of the same company), revoke with one of KSeF's reasons (confirmed; only here, or in KSeF
 * too, signing in with a held Authentication certificate of the same identity and environment), export.
 */
import { useRef, useState, type SyntheticEvent, type ReactNode } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { isNotFound, trpc } from "../api";
import { useTranslation } from "react-i18next";
import { codeText, formatDate, useLocale } from "../i18n";
import { AuditTable } from "./Audit";
import { DaysBadge, ErrorBox, fieldErrorsOf, FormEnd, RadioGroup, ScopePicker, scopeInput, SelectField, Table, TextField, type ScopeValue } from "../ui";
import { holderText, stateText } from "./Certificates";

/** KSeF's revocation reasons (the values `certificates.revoke` takes). */
const REVOCATION_REASONS = ["Unspecified", "Superseded", "KeyCompromise"] as const;
type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** The certificate page (`/certificates/:id`). */
export function CertificatePage(): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const { id = "" } = useParams();
  const detail = useQuery(trpc.certificates.get.queryOptions({ id }));
  if (detail.isPending) return <p role="status">{t("web.common.loading")}</p>;
  if (detail.isError) return isNotFound(detail.error) ? <p role="alert">{t("web.common.notFound")}</p> : <ErrorBox error={detail.error} />;
  const { certificate: c, exports, audit } = detail.data;
  return (
    <section aria-labelledby="cert-heading">
      <h1 id="cert-heading">{t("web.cert.heading", { name: c.name })}</h1>
      {c.revokedAt ? (
        <p role="note" className="revoked">
          {t("web.cert.revokedAt", { at: formatDate(locale, c.revokedAt, true), reason: codeText(t, "web.reason.", c.revocationReason ?? "") })}
        </p>
      ) : null}
      <dl className="facts">
        <dt>{t("web.field.subject")}</dt>
        <dd>{c.subject}</dd>
        <dt>{t("web.field.serial")}</dt>
        <dd>
          <code>{c.serialNumber}</code>
        </dd>
        <dt>{t("web.field.fingerprint")}</dt>
        <dd>
          <code className="wrap">{c.fingerprint}</code>
        </dd>
        <dt>{t("web.field.validFrom")}</dt>
        <dd>{formatDate(locale, c.validFrom, true)}</dd>
        <dt>{t("web.field.validTo")}</dt>
        <dd>
          {formatDate(locale, c.validTo, true)} <DaysBadge days={c.daysToExpiry} state={c.state} />
        </dd>
        <dt>{t("web.field.certificateType")}</dt>
        <dd>{t(`web.type.${c.certificateType}`)}</dd>
        <dt>{t("web.field.environment")}</dt>
        <dd>{t(`web.env.${c.environment}`)}</dd>
        <dt>{t("web.field.mode")}</dt>
        <dd>{t(`web.mode.${c.mode}`)}</dd>
        <dt>{t("web.field.state")}</dt>
        <dd>{stateText(t, c.state)}</dd>
        <dt>{t("web.field.holder")}</dt>
        <dd>{holderText(c.scope)}</dd>
        <dt>{t("web.field.source")}</dt>
        <dd>{codeText(t, "web.source.", c.source)}</dd>
      </dl>
      <div className="actions">
        <Link className="button" to={`/export?ids=${c.id}`}>
          {t("web.cert.export")}
        </Link>
        {c.scope !== null && (
          <AssignForm
            id={c.id}
            current={{ companyId: c.scope.companyId, branchId: c.scope.branchId ?? undefined, operatorId: c.scope.operatorId ?? undefined }}
          />
        )}
        {!c.revokedAt && <RevokeButton id={c.id} name={c.name} environment={c.environment} subject={c.subjectIdentifier} />}
      </div>
      <h2>{t("web.cert.exports")}</h2>
      {exports.length === 0 ? (
        <p>{t("web.cert.noExports")}</p>
      ) : (
        <Table label={t("web.cert.exports")} columns={[t("web.field.adapter"), t("web.field.target"), t("web.cert.actor"), t("web.cert.at")]}>
          {exports.map((e, i) => (
            <tr key={`${e.adapterId}-${String(i)}`}>
              <td>{e.adapterId}</td>
              <td>
                <code>{e.target}</code>
              </td>
              <td>{e.actor}</td>
              <td>{formatDate(locale, e.at, true)}</td>
            </tr>
          ))}
        </Table>
      )}
      <h2>{t("web.cert.audit")}</h2>
      <AuditTable label={t("web.cert.audit")} entries={audit} />
    </section>
  );
}

function AssignForm({ id, current }: { readonly id: string; readonly current: ScopeValue }): ReactNode {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [scope, setScope] = useState<ScopeValue>(current);
  const m = useMutation(
    trpc.certificates.assign.mutationOptions({
      onSuccess: async () => {
        setOpen(false);
        await qc.invalidateQueries({ queryKey: trpc.certificates.pathKey() });
      },
    }),
  );
  if (!open)
    return (
      <button
        type="button"
        onClick={() => {
          setOpen(true);
        }}
      >
        {t("web.cert.assign")}
      </button>
    );
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    m.mutate({ id, scope: scopeInput(scope) });
  };
  return (
    <form onSubmit={submit} aria-label={t("web.cert.assignHeading")} className="card">
      <h2>{t("web.cert.assignHeading")}</h2>
      <ScopePicker value={scope} onChange={setScope} lockCompany errors={fieldErrorsOf(m.error)} />
      <FormEnd error={m.error} busy={m.isPending} label={t("web.common.save")} />
      <button
        type="button"
        onClick={() => {
          setOpen(false);
        }}
      >
        {t("web.common.cancel")}
      </button>
    </form>
  );
}

interface RevokeProps {
  readonly id: string;
  readonly name: string;
  readonly environment: "test" | "demo" | "production";
  /** Who KSeF issued it to: only certificates of the same identity can sign in to revoke it. */
  readonly subject: { readonly type: string; readonly value: string };
}

function RevokeButton({ id, name, environment, subject }: RevokeProps): ReactNode {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState<RevocationReason | "">("");
  // Only here unless chosen: a KSeF revocation cannot be undone and signs in with a held certificate.
  const [where, setWhere] = useState<"ksef" | "local">("local");
  const [signingCertificateId, setSigningCertificateId] = useState("");
  const [password, setPassword] = useState("");
  const candidates = useQuery({
    ...trpc.certificates.list.queryOptions({ environment, certificateType: "Authentication", state: "active", limit: 200 }),
    enabled: where === "ksef",
  });
  const signers = (candidates.data?.items ?? []).filter((c) => c.subjectIdentifier.type === subject.type && c.subjectIdentifier.value === subject.value);
  const signing = signers.find((c) => c.id === signingCertificateId);
  const m = useMutation(
    trpc.certificates.revoke.mutationOptions({
      onSuccess: async () => {
        dialog.current?.close();
        await qc.invalidateQueries({ queryKey: trpc.certificates.pathKey() });
      },
    }),
  );
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    if (reason === "") return;
    if (where === "local") m.mutate({ id, reason });
    else if (signingCertificateId !== "") m.mutate({ id, reason, ksef: { signingCertificateId, ...(password === "" ? {} : { password }) } });
  };
  const errors = fieldErrorsOf(m.error);
  return (
    <>
      <button type="button" className="danger" onClick={() => dialog.current?.showModal()}>
        {t("web.cert.revoke")}
      </button>
      <dialog ref={dialog} aria-labelledby="revoke-heading">
        <form onSubmit={submit}>
          <h2 id="revoke-heading">{t("web.cert.revokeHeading")}</h2>
          <p>
            {name}: {t("web.cert.revokeText")}
          </p>
          <SelectField
            label={t("web.field.reason")}
            errors={errors.reason}
            required
            value={reason}
            onChange={setReason}
            empty={t("web.scope.choose")}
            choices={REVOCATION_REASONS.map((r) => [r, t(`web.reason.${r}`)] as const)}
          />
          <RadioGroup
            legend={t("web.cert.revokeWhere")}
            name="revoke-where"
            value={where}
            onChange={setWhere}
            choices={[
              ["local", t("web.cert.revokeLocal")],
              ["ksef", t("web.cert.revokeInKsef")],
            ]}
          />
          {where === "ksef" &&
            (candidates.isSuccess && signers.length === 0 ? (
              <p role="note">{t("web.cert.noSigners")}</p>
            ) : (
              <>
                <SelectField
                  label={t("web.cert.signingCertificate")}
                  errors={errors["ksef.signingCertificateId"]}
                  required
                  value={signingCertificateId}
                  onChange={setSigningCertificateId}
                  empty={t("web.scope.choose")}
                  choices={signers.map(
                    (c) =>
                      [
                        c.id,
                        <>
                          {c.name} ({c.serialNumber}){c.passwordSealed ? `, ${t("web.cert.sealedMark")}` : ""}
                        </>,
                      ] as const,
                  )}
                />
                <TextField
                  label={t("web.cert.signingPassword")}
                  hint={signing?.passwordSealed === true ? t("web.cert.signingPasswordSealed") : undefined}
                  errors={errors["ksef.password"] ?? errors.password}
                  type="password"
                  autoComplete="off"
                  required={signing?.passwordSealed !== true}
                  value={password}
                  onChange={setPassword}
                />
              </>
            ))}
          <ErrorBox error={m.error} />
          <button
            type="submit"
            className="danger"
            disabled={m.isPending || reason === "" || (where === "ksef" && (signing === undefined || (!signing.passwordSealed && password === "")))}
          >
            {t("web.common.confirm")}
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            {t("web.common.cancel")}
          </button>
        </form>
      </dialog>
    </>
  );
}
