/**
 * Small shared pieces: labelled fields that show the rules they break (text, file, select, radio and check
 * controls built on them), error boxes, the end of a form (error, status, busy submit button), tables and cursor
 * paging, the days-to-expiry badge, the scope picker (company → branch → operator) and file reading for uploads.
 */
import { useId, useState, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type SyntheticEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { errorText, ksefErrorOf, trpc } from "./api";
import { isMessageId } from "@ksef-certs/ksef/messages";
import { CERTIFICATE_TYPES, ENVIRONMENTS, type CertificateTypeName, type Environment } from "@ksef-certs/ksef/vocabulary";
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

/**
 * The violations of a failed call grouped by field (none while it has not failed).
 * @param error what the call failed with, or null
 */
export function fieldErrorsOf(error: unknown): FieldErrors {
  return byField(ksefErrorOf(error)?.violations ?? []);
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

/** What {@link Field} takes besides its control: the label, the rules the value breaks, a hint under it. */
type FieldFrame = Pick<FieldProps, "label" | "errors" | "hint">;

/**
 * Props of {@link TextField}: the label, errors and hint of {@link Field}, the value and what to do with a new one,
 * and any other attribute of the input (type, autoComplete, inputMode, required, min…).
 */
export interface TextFieldProps extends FieldFrame, Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "value" | "onChange" | "children"> {
  readonly value: string;
  readonly onChange: (value: string) => void;
}

/**
 * A labelled input holding a string.
 * @param props see {@link TextFieldProps}
 */
export function TextField({ label, errors, hint, value, onChange, ...input }: TextFieldProps): ReactNode {
  return (
    <Field label={label} errors={errors} hint={hint}>
      {(p) => (
        <input
          {...p}
          {...input}
          value={value}
          onChange={(e) => {
            onChange(e.target.value);
          }}
        />
      )}
    </Field>
  );
}

/** Props of {@link FileField}: as {@link TextFieldProps}, but the files chosen instead of a value (accept, multiple… pass through). */
export interface FileFieldProps extends FieldFrame, Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "type" | "value" | "onChange" | "children"> {
  readonly onFiles: (files: File[]) => void;
}

/**
 * A labelled file input.
 * @param props see {@link FileFieldProps}
 */
export function FileField({ label, errors, hint, onFiles, ...input }: FileFieldProps): ReactNode {
  return (
    <Field label={label} errors={errors} hint={hint}>
      {(p) => (
        <input
          {...p}
          {...input}
          type="file"
          onChange={(e) => {
            onFiles([...(e.target.files ?? [])]);
          }}
        />
      )}
    </Field>
  );
}

/** One choice of a {@link SelectField} or {@link RadioGroup}: its value, and what a person reads for it. */
export type Choice<V extends string = string> = readonly [value: V, text: ReactNode];

/**
 * Props of {@link SelectField}: the label, errors and hint of {@link Field}, the chosen value and what to do with
 * another, the choices, and any other attribute of the select (disabled, required).
 */
export interface SelectFieldProps<V extends string>
  extends FieldFrame,
    Omit<SelectHTMLAttributes<HTMLSelectElement>, "id" | "value" | "onChange" | "children"> {
  readonly value: V;
  readonly onChange: (value: V) => void;
  readonly choices: readonly Choice<V>[];
  /** The text of a first option with the value "" (choose, all, none…); `V` must then admit "". */
  readonly empty?: string | undefined;
}

/**
 * A labelled select.
 * @param props see {@link SelectFieldProps}
 */
export function SelectField<V extends string>({ label, errors, hint, value, onChange, choices, empty, ...select }: SelectFieldProps<V>): ReactNode {
  return (
    <Field label={label} errors={errors} hint={hint}>
      {(p) => (
        <select
          {...p}
          {...select}
          value={value}
          onChange={(e) => {
            // The options are `choices` (and "" with `empty`): the value is one of them.
            onChange(e.target.value as V);
          }}
        >
          {empty !== undefined && <option value="">{empty}</option>}
          {choices.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Props of {@link RadioGroup}: the legend, the inputs' `name` (the legend when not given), the chosen value and the choices. */
export interface RadioGroupProps<V extends string> {
  readonly legend: string;
  readonly name?: string;
  readonly value: V;
  readonly onChange: (value: V) => void;
  readonly choices: readonly Choice<V>[];
}

/**
 * Radio buttons in a fieldset with a legend.
 * @param props see {@link RadioGroupProps}
 */
export function RadioGroup<V extends string>({ legend, name = legend, value, onChange, choices }: RadioGroupProps<V>): ReactNode {
  return (
    <fieldset className="radios">
      <legend>{legend}</legend>
      {choices.map(([v, text]) => (
        <label key={v} className="check">
          <input
            type="radio"
            name={name}
            value={v}
            checked={value === v}
            onChange={() => {
              onChange(v);
            }}
          />
          {text}
        </label>
      ))}
    </fieldset>
  );
}

/**
 * A checkbox with its label after it.
 * @param props `label`: what it says; `checked` and `onChange`: its state and what to do when it flips
 */
export function CheckField({
  label,
  checked,
  onChange,
}: {
  readonly label: ReactNode;
  readonly checked: boolean;
  readonly onChange: (checked: boolean) => void;
}): ReactNode {
  return (
    <label className="check">
      <input
        type="checkbox"
        checked={checked}
        onChange={(e) => {
          onChange(e.target.checked);
        }}
      />
      {label}
    </label>
  );
}

/** The certificate modes. */
const MODES = ["current", "queued"] as const;
/** A certificate mode: the current one, or queued to take over when it ends. */
export type Mode = (typeof MODES)[number];

/**
 * The environments as choices, named in the UI language.
 * @param t the bound translator
 */
export function environmentChoices(t: T): Choice<Environment>[] {
  return ENVIRONMENTS.map((e) => [e, t(`web.env.${e}`)] as const);
}

/**
 * The certificate types as choices, named in the UI language.
 * @param t the bound translator
 */
export function certificateTypeChoices(t: T): Choice<CertificateTypeName>[] {
  return CERTIFICATE_TYPES.map((c) => [c, t(`web.type.${c}`)] as const);
}

/**
 * The certificate modes as choices, named in the UI language.
 * @param t the bound translator
 */
export function modeChoices(t: T): Choice<Mode>[] {
  return MODES.map((m) => [m, t(`web.mode.${m}`)] as const);
}

/** Props of {@link FormEnd}. */
export interface FormEndProps {
  /** What the form's call failed with (shown above the button). */
  readonly error: unknown;
  /** Disables the button (the call is running, or the form cannot be sent yet). */
  readonly busy: boolean;
  /** The button's text. */
  readonly label: string;
  /** Says "saved" when the call went through. */
  readonly saved?: boolean;
  /** Further status lines between the error and the button. */
  readonly children?: ReactNode;
}

/**
 * The end of a form: the error of its call, what came of it, and the submit button, disabled while busy.
 * @param props see {@link FormEndProps}
 */
export function FormEnd({ error, busy, label, saved = false, children }: FormEndProps): ReactNode {
  const { t } = useTranslation();
  return (
    <>
      <ErrorBox error={error} />
      {saved && <p role="status">{t("web.common.saved")}</p>}
      {children}
      <button type="submit" disabled={busy}>
        {label}
      </button>
    </>
  );
}

/** Props of {@link CardForm}: as {@link FormEndProps} (the title is also the button's text), and what submitting does. */
export interface CardFormProps extends Omit<FormEndProps, "label"> {
  /** The form's accessible name, its heading and its button's text. */
  readonly title: string;
  /** Runs on submit (the browser's own submission is prevented). */
  readonly onSubmit: () => void;
}

/**
 * A form on a card that adds one thing: heading, fields, error, submit button named like the heading.
 * @param props see {@link CardFormProps}
 */
export function CardForm({ title, onSubmit, children, ...end }: CardFormProps): ReactNode {
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    onSubmit();
  };
  return (
    <form onSubmit={submit} aria-label={title} className="card">
      <h2>{title}</h2>
      {children}
      <FormEnd {...end} label={title} />
    </form>
  );
}

/** Props of {@link Table}. */
export interface TableProps {
  /** The table's accessible name. */
  readonly label: string;
  /** The column headers, in order (null for a column without one). */
  readonly columns: readonly ReactNode[];
  /** The body's rows. */
  readonly children: ReactNode;
}

/**
 * A table with a header row of column headers.
 * @param props see {@link TableProps}
 */
export function Table({ label, columns, children }: TableProps): ReactNode {
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          {columns.map((c, i) => (
            // The columns are fixed for a table: their place is their identity.
            <th key={i} scope="col">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** Cursor paging state from {@link useCursorPages}. */
export interface CursorPages<C> {
  /** The cursor of the page shown (undefined on the first). */
  readonly cursor: C | undefined;
  /** Goes back one page; undefined on the first. */
  readonly previous: (() => void) | undefined;
  /**
   * What goes on to the page at `next`; undefined when there is none.
   * @param next the list's next cursor as the server gave it
   */
  readonly forward: (next: C | null | undefined) => (() => void) | undefined;
  /** Back to the first page (the filters changed). */
  readonly reset: () => void;
}

/** The cursors of the pages seen so far, so that "previous" goes back without the server knowing one. */
export function useCursorPages<C>(): CursorPages<C> {
  const [cursors, setCursors] = useState<(C | undefined)[]>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    previous:
      cursors.length < 2
        ? undefined
        : () => {
            setCursors(cursors.slice(0, -1));
          },
    forward: (next) =>
      next === undefined || next === null || next === ""
        ? undefined
        : () => {
            setCursors([...cursors, next]);
          },
    reset: () => {
      setCursors([undefined]);
    },
  };
}

/**
 * The previous and next page buttons, each disabled when it has nowhere to go.
 * @param props `onPrevious`, `onNext`: what the buttons do (from {@link CursorPages}); undefined disables
 */
export function PageButtons({ onPrevious, onNext }: { readonly onPrevious: (() => void) | undefined; readonly onNext: (() => void) | undefined }): ReactNode {
  const { t } = useTranslation();
  return (
    <>
      <button type="button" disabled={onPrevious === undefined} onClick={onPrevious}>
        {t("web.common.previous")}
      </button>
      <button type="button" disabled={onNext === undefined} onClick={onNext}>
        {t("web.common.next")}
      </button>
    </>
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
 * Adapters as choices: each by its id and what it does, in the UI language.
 * @param t the bound translator
 * @param adapters the adapters as `adapters.list` gives them
 */
export function adapterChoices(t: T, adapters: readonly { readonly id: string; readonly description: string }[]): Choice[] {
  return adapters.map((a) => [
    a.id,
    <>
      {a.id} – {adapterDescription(t, a)}
    </>,
  ]);
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

/**
 * A branch as a person picks it: its code and name.
 * @param branch the branch's code and name
 */
export function branchText(branch: { readonly code: string; readonly name: string }): ReactNode {
  return (
    <>
      {branch.code} – {branch.name}
    </>
  );
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
      <SelectField
        label={t("web.field.company")}
        errors={errors.companyId}
        value={value.companyId}
        disabled={lockCompany}
        onChange={(companyId) => {
          onChange({ companyId });
        }}
        empty={t("web.scope.choose")}
        choices={companies.map(
          (c) =>
            [
              c.id,
              <>
                {c.name} ({c.nip})
              </>,
            ] as const,
        )}
      />
      <SelectField
        label={t("web.field.branch")}
        errors={errors.branchId}
        value={value.branchId ?? ""}
        onChange={(branchId) => {
          onChange({ companyId: value.companyId, branchId: branchId || undefined });
        }}
        empty={t("web.scope.none")}
        choices={(company?.branches ?? []).map((b) => [b.id, branchText(b)] as const)}
      />
      <SelectField
        label={t("web.field.operator")}
        errors={errors.operatorId}
        value={value.operatorId ?? ""}
        onChange={(operatorId) => {
          onChange({ ...value, operatorId: operatorId || undefined });
        }}
        empty={t("web.scope.noOperator")}
        choices={operators.map((o) => [o.id, o.name] as const)}
      />
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
