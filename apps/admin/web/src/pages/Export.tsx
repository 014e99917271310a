/**
 * Export of picked certificates through a registered ERP adapter (`adapters.list`): as a download (one file, or a
 * ZIP of several), or into an export destination a super-admin configured, with the key password when the
 * adapter carries passwords. No path of the server is ever typed here.
 */
import { useState, type SyntheticEvent, type ReactNode } from "react";
import { useSearchParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { trpc } from "../api";
import { useTranslation } from "react-i18next";
import { adapterChoices, CheckField, downloadBase64, fieldErrorsOf, FormEnd, SelectField, TextField } from "../ui";

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

/** The export page (`/export?ids=a,b`): a download, or a destination a super-admin configured (picked by name). */
export function ExportPage(): ReactNode {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [params] = useSearchParams();
  const ids = (params.get("ids") ?? "").split(",").filter((s) => s !== "");
  const adapters = useQuery(trpc.adapters.list.queryOptions());
  const destinations = useQuery(trpc.adapters.destinations.queryOptions());
  const [adapterId, setAdapterId] = useState("");
  const [delivery, setDelivery] = useState<"download" | "destination">("download");
  const [destination, setDestination] = useState("");
  const [replace, setReplace] = useState(false);
  const [password, setPassword] = useState("");
  const exporters = (adapters.data ?? []).filter((a) => canExport(a.capabilities));
  const chosen = exporters.find((a) => a.id === adapterId) ?? exporters[0];
  const needsPassword = chosen !== undefined && carriesPasswords(chosen.capabilities);
  const available = destinations.data?.destinations ?? [];
  const m = useMutation(
    trpc.certificates.export.mutationOptions({
      onSuccess: async (r) => {
        if (r.download !== undefined) downloadBase64(r.download.fileName, r.download.base64, r.download.contentType);
        await qc.invalidateQueries({ queryKey: trpc.certificates.pathKey() });
      },
    }),
  );
  const errors = fieldErrorsOf(m.error);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    if (!chosen) return;
    const where = delivery === "destination" ? { destination, replace } : {};
    m.mutate({ ids, adapterId: chosen.id, ...where, ...(needsPassword ? { password } : {}) });
  };
  return (
    <section aria-labelledby="export-heading">
      <h1 id="export-heading">{t("web.export.heading")}</h1>
      {ids.length === 0 ? (
        <p>{t("web.export.noneSelected")}</p>
      ) : (
        <form onSubmit={submit} aria-labelledby="export-heading" className="wizard">
          <p>
            {t("web.export.certificates")}: {ids.length}
          </p>
          <SelectField
            label={t("web.field.adapter")}
            errors={errors.adapterId}
            value={chosen?.id ?? ""}
            onChange={setAdapterId}
            choices={adapterChoices(t, exporters)}
          />
          <fieldset className="radios">
            <legend>{t("web.export.delivery")}</legend>
            <label className="check">
              <input
                type="radio"
                name="delivery"
                checked={delivery === "download"}
                onChange={() => {
                  setDelivery("download");
                }}
              />
              {t("web.export.download")}
            </label>
            <label className="check">
              <input
                type="radio"
                name="delivery"
                checked={delivery === "destination"}
                disabled={available.length === 0}
                onChange={() => {
                  setDelivery("destination");
                  setDestination((d) => d || (available[0]?.name ?? ""));
                }}
              />
              {available.length === 0 ? t("web.export.noDestinations") : t("web.export.toDestination")}
            </label>
          </fieldset>
          {delivery === "destination" && (
            <>
              <SelectField
                label={t("web.field.destination")}
                errors={errors.destination}
                value={destination}
                onChange={setDestination}
                choices={available.map((d) => [d.name, d.name] as const)}
              />
              <CheckField label={t("web.export.replace")} checked={replace} onChange={setReplace} />
            </>
          )}
          {needsPassword && (
            <TextField
              label={t("web.field.password")}
              hint={t("web.export.passwordNeeded")}
              errors={errors.password}
              type="password"
              autoComplete="off"
              value={password}
              onChange={setPassword}
            />
          )}
          <FormEnd
            error={adapters.error ?? m.error}
            busy={m.isPending || !chosen || (delivery === "destination" && destination === "")}
            label={t("web.export.submit")}
          >
            {m.isSuccess && (
              <p role="status">
                {m.data.download !== undefined
                  ? t("web.export.downloaded", { file: m.data.download.fileName, count: m.data.exported.length })
                  : t("web.export.done", { summary: `${m.data.exported.length} → ${destination}` })}
                {m.data.replaced.length > 0 ? ` ${t("web.export.replacedCount", { count: m.data.replaced.length })}` : ""}
              </p>
            )}
          </FormEnd>
        </form>
      )}
    </section>
  );
}
