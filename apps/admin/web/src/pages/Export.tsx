/**
 * Export of picked certificates through a registered ERP adapter (`adapters.list`) to a folder or file on
 * the server machine, with the key password when the adapter carries passwords.
 */
import { useState, type SyntheticEvent, type ReactNode } from "react";
import { useSearchParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ksefErrorOf, trpc } from "../api";
import { useI18n } from "../i18n";
import { byField, ErrorBox, Field } from "../ui";

/**
 * Whether an adapter's capabilities say it stores the key password (then the export needs it).
 * @param capabilities what `adapters.list` reports for the adapter
 */
export function carriesPasswords(capabilities: unknown): boolean {
  if (typeof capabilities === "object" && capabilities !== null && "carriesPasswords" in capabilities) return capabilities.carriesPasswords === true;
  if (Array.isArray(capabilities)) return capabilities.some((c) => typeof c === "string" && /password/i.test(c));
  if (typeof capabilities === "object" && capabilities !== null) {
    return Object.entries(capabilities).some(([k, v]) => /password/i.test(k) && v !== false && v !== "none" && v !== undefined && v !== null);
  }
  return false;
}

/**
 * Whether an adapter can export (core `AdapterCapabilities.export`; anything else is offered).
 * @param capabilities what `adapters.list` reports for the adapter
 */
export function canExport(capabilities: unknown): boolean {
  return !(typeof capabilities === "object" && capabilities !== null && (capabilities as { export?: unknown }).export === false);
}

/** The export page (`/export?ids=a,b`). */
export function ExportPage(): ReactNode {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [params] = useSearchParams();
  const ids = (params.get("ids") ?? "").split(",").filter((s) => s !== "");
  const adapters = useQuery(trpc.adapters.list.queryOptions());
  const [adapterId, setAdapterId] = useState("");
  const [to, setTo] = useState("");
  const [password, setPassword] = useState("");
  const exporters = (adapters.data ?? []).filter((a) => canExport(a.capabilities));
  const chosen = exporters.find((a) => a.id === adapterId) ?? exporters[0];
  const needsPassword = chosen !== undefined && carriesPasswords(chosen.capabilities);
  const m = useMutation(
    trpc.certificates.export.mutationOptions({
      onSuccess: async () => { await qc.invalidateQueries({ queryKey: trpc.certificates.pathKey() }); },
    }),
  );
  const errors = byField(ksefErrorOf(m.error)?.violations ?? []);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    if (!chosen) return;
    m.mutate({ ids, adapterId: chosen.id, to, ...(needsPassword ? { password } : {}) });
  };
  return (
    <section aria-labelledby="export-heading">
      <h1 id="export-heading">{t("export.heading")}</h1>
      {ids.length === 0 ? (
        <p>{t("export.noneSelected")}</p>
      ) : (
        <form onSubmit={submit} aria-labelledby="export-heading" className="wizard">
          <p>{t("export.certificates")}: {ids.length}</p>
          <Field label={t("field.adapter")} errors={errors.adapterId}>
            {(p) => (
              <select {...p} value={chosen?.id ?? ""} onChange={(e) => { setAdapterId(e.target.value); }}>
                {exporters.map((a) => <option key={a.id} value={a.id}>{a.id} – {a.description}</option>)}
              </select>
            )}
          </Field>
          <Field label={t("field.target")} errors={errors.to}>{(p) => <input {...p} value={to} onChange={(e) => { setTo(e.target.value); }} />}</Field>
          {needsPassword && (
            <Field label={t("field.password")} hint={t("export.passwordNeeded")} errors={errors.password}>
              {(p) => <input {...p} type="password" autoComplete="off" value={password} onChange={(e) => { setPassword(e.target.value); }} />}
            </Field>
          )}
          <ErrorBox error={adapters.error ?? m.error} />
          {m.isSuccess && <p role="status">{t("export.done", { summary: summaryText(m.data) })}</p>}
          <button type="submit" disabled={m.isPending || !chosen}>{t("export.submit")}</button>
        </form>
      )}
    </section>
  );
}

/**
 * One line from whatever summary the export returns (file names or counts).
 * @param summary the mutation's result
 */
function summaryText(summary: unknown): string {
  if (typeof summary !== "object" || summary === null) return String(summary);
  const files = (summary as { files?: unknown }).files;
  if (Array.isArray(files)) return files.map((f) => (typeof f === "string" ? f : typeof f === "object" && f !== null && "path" in f ? String((f as { path: unknown }).path) : "")).join(", ");
  return JSON.stringify(summary);
}
