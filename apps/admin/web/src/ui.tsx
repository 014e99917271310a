/**
 * Small shared pieces: labelled fields that show the rules they break, error boxes, the days-to-expiry
 * badge, the scope picker (company → branch → operator) and file reading for uploads.
 */
import { useId, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { errorText, trpc } from "./api";
import { isMessageId } from "@ksef-certs/ksef/messages";
import { expiryBand, tId, useLocale, violationText, type T, type ViolationLike } from "./i18n";

/** Violations grouped by form field. */
export type FieldErrors = Readonly<Record<string, readonly ViolationLike[]>>;

/**
 * Groups violations by `field`.
 * @param violations from a core check or `error.data.ksef.violations`
 */
export function byField(violations: readonly ViolationLike[]): FieldErrors {
  const out: Record<string, ViolationLike[]> = {};
  for (const v of violations) (out[v.field] ??= []).push(v);
  return out;
}

/** Props of {@link Field}. */
export interface FieldProps {
  readonly label: string;
  readonly errors?: readonly ViolationLike[] | undefined;
  readonly hint?: string | undefined;
  /** Renders the control with the id and aria attributes the label and error list need. */
  readonly children: (props: { id: string; "aria-invalid": boolean; "aria-describedby"?: string }) => ReactNode;
}

/**
 * A label, its control, and the rules the value breaks (each with its rule id, so a person and a test can tell which).
 * @param props see {@link FieldProps}
 */
export function Field({ label, errors, hint, children }: FieldProps): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const id = useId();
  const errorId = `${id}-errors`;
  const hasErrors = errors !== undefined && errors.length > 0;
  return (
    <div className={hasErrors ? "field field-invalid" : "field"}>
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-invalid": hasErrors, ...(hasErrors ? { "aria-describedby": errorId } : {}) })}
      {hint !== undefined && <small className="hint">{hint}</small>}
      {hasErrors && (
        <ul id={errorId} className="violations">
          {errors.map((v) => (
            <li key={v.rule} data-rule={v.rule}>
              {violationText(t, locale, v)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * The message of a failed call (with its hint and the rules broken) in the UI language, or nothing.
 * @param props `error`: what the call failed with
 */
export function ErrorBox({ error }: { readonly error: unknown }): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  if (error === null || error === undefined) return null;
  const said = errorText(t, error);
  return (
    <div role="alert" className="error-box">
      <p>{t("web.common.error", { message: said.message })}</p>
      {said.hint !== undefined && <p className="hint">{said.hint}</p>}
      {said.violations.length > 0 && (
        <ul>
          {said.violations.map((v) => (
            <li key={`${v.field}:${v.rule}`}>
              <strong>{v.field}</strong>: {violationText(t, locale, v)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * What an adapter does, in the UI language: the catalogue's `web.adapter.<id>` for the adapters shipped with
 * ksef-certs, the adapter's own (English) description for any other.
 * @param t the bound translator
 * @param adapter the adapter's id and description as `adapters.list` gives them
 */
export function adapterDescription(t: T, adapter: { readonly id: string; readonly description: string }): string {
  const id = `web.adapter.${adapter.id}`;
  return isMessageId(id) ? tId(t, id) : adapter.description;
}

/**
 * Days to expiry, coloured red (≤ 14) or amber (≤ 60); a revoked or expired certificate says so in red instead,
 * whatever its validity dates say (it is never shown as healthy).
 * @param props `days`: whole days until validTo; `state`: the certificate's state at the server's clock
 */
export function DaysBadge({ days, state }: { readonly days: number; readonly state?: string }): ReactNode {
  const { t } = useTranslation();
  if (state === "revoked") return <span className="days days-red">{t("web.certs.state.revoked")}</span>;
  if (state === "expired" || days < 0) return <span className="days days-red">{t("web.days.expired")}</span>;
  return <span className={`days days-${expiryBand(days)}`}>{t("web.days.left", { count: days })}</span>;
}

/** A scope as procedures take it. */
export interface ScopeValue {
  readonly companyId: string;
  readonly branchId?: string | undefined;
  readonly operatorId?: string | undefined;
}

/**
 * The scope in the shape the router wants (no undefined members under exactOptionalPropertyTypes).
 * @param scope what {@link ScopePicker} holds
 */
export function scopeInput(scope: ScopeValue): { companyId: string; branchId?: string; operatorId?: string } {
  return {
    companyId: scope.companyId,
    ...(scope.branchId ? { branchId: scope.branchId } : {}),
    ...(scope.operatorId ? { operatorId: scope.operatorId } : {}),
  };
}

/** Props of {@link ScopePicker}. */
export interface ScopePickerProps {
  readonly value: ScopeValue;
  readonly onChange: (value: ScopeValue) => void;
  /** Fixes the company (assignment moves within one company). */
  readonly lockCompany?: boolean;
  readonly errors?: FieldErrors;
}

/**
 * Company, branch and operator selects fed by `org.tree` (only what the caller may see).
 * @param props see {@link ScopePickerProps}
 */
export function ScopePicker({ value, onChange, lockCompany = false, errors = {} }: ScopePickerProps): ReactNode {
  const { t } = useTranslation();
  const tree = useQuery(trpc.org.tree.queryOptions());
  const companies = tree.data ?? [];
  const company = companies.find((c) => c.id === value.companyId);
  const operators = (company?.operators ?? []).filter((o) => !value.branchId || o.branchIds.includes(value.branchId));
  return (
    <fieldset className="scope">
      <legend>{t("web.scope.legend")}</legend>
      <Field label={t("web.field.company")} errors={errors.companyId}>
        {(p) => (
          <select
            {...p}
            value={value.companyId}
            disabled={lockCompany}
            onChange={(e) => {
              onChange({ companyId: e.target.value });
            }}
          >
            <option value="">{t("web.scope.choose")}</option>
            {companies.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.nip})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t("web.field.branch")} errors={errors.branchId}>
        {(p) => (
          <select
            {...p}
            value={value.branchId ?? ""}
            onChange={(e) => {
              onChange({ companyId: value.companyId, branchId: e.target.value || undefined });
            }}
          >
            <option value="">{t("web.scope.none")}</option>
            {(company?.branches ?? []).map((b) => (
              <option key={b.id} value={b.id}>
                {b.code} – {b.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t("web.field.operator")} errors={errors.operatorId}>
        {(p) => (
          <select
            {...p}
            value={value.operatorId ?? ""}
            onChange={(e) => {
              onChange({ ...value, operatorId: e.target.value || undefined });
            }}
          >
            <option value="">{t("web.scope.noOperator")}</option>
            {operators.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        )}
      </Field>
    </fieldset>
  );
}

/**
 * Reads an uploaded file as base64 (what the router takes for files), refusing files over `maxBytes`.
 * @param file the chosen file
 * @param maxBytes the size limit in bytes
 * @returns base64 of the bytes, or `undefined` when the file is larger than `maxBytes`
 */
export async function fileToBase64(file: File, maxBytes: number): Promise<string | undefined> {
  if (file.size > maxBytes) return undefined;
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * Offers `base64` bytes to the browser as a download named `fileName`.
 * @param fileName the suggested file name
 * @param base64 the file's bytes in base64
 * @param type the MIME type
 */
export function downloadBase64(fileName: string, base64: string, type = "application/xml"): void {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 10_000);
}

export { CERTIFICATE_TYPES, ENVIRONMENTS } from "@ksef-certs/ksef/vocabulary";
/** The certificate modes. */
export const MODES = ["current", "queued"] as const;
