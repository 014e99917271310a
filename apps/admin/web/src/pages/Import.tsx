/**
 * Import of a certificate someone downloaded from the ministry's web app: a `.crt` + encrypted `.key` pair,
 * or a `.p12`, uploaded with its password, for a scope, environment and mode; or many pairs at once in an ERP
 * adapter's format (a folder of pairs, an F2000 tree, a bundle), uploaded as files: never a server path.
 */
import { useState, type SyntheticEvent, type ReactNode } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { trpc } from "../api";
import { useTranslation } from "react-i18next";
import type { Environment } from "@ksef-certs/ksef/vocabulary";
import {
  adapterChoices,
  CheckField,
  environmentChoices,
  fieldErrorsOf,
  FileField,
  fileToBase64,
  FormEnd,
  modeChoices,
  RadioGroup,
  ScopePicker,
  scopeInput,
  SelectField,
  TextField,
  type Mode,
  type ScopeValue,
} from "../ui";

const KIB = 1024;
/** Router limits: ≤ 64 KiB for .crt/.key, ≤ 256 KiB for .p12, 12 MiB for an adapter upload in all. */
const LIMITS = { pair: 64 * KIB, p12: 256 * KIB, upload: 12 * KIB * KIB } as const;

/**
 * The name a picked file is uploaded under: its path inside the picked folder (the folder's own name dropped), or its name.
 * @param file a file from an `<input type="file">` (with `webkitdirectory`, it carries `webkitRelativePath`)
 */
export function uploadName(file: File): string {
  const rel = file.webkitRelativePath;
  return rel === "" ? file.name : rel.split("/").slice(1).join("/");
}

/** The import page. */
export function ImportPage(): ReactNode {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [kind, setKind] = useState<"pair" | "p12" | "adapter">("pair");
  const importers = (useQuery(trpc.adapters.list.queryOptions()).data ?? []).filter((a) => a.capabilities.import);
  const [adapterId, setAdapterId] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [perPair, setPerPair] = useState(false);
  const [scope, setScope] = useState<ScopeValue>({ companyId: "" });
  const [environment, setEnvironment] = useState<Environment>("test");
  const [mode, setMode] = useState<Mode>("current");
  const [name, setName] = useState("");
  const [crt, setCrt] = useState<File>();
  const [key, setKey] = useState<File>();
  const [p12, setP12] = useState<File>();
  const [password, setPassword] = useState("");
  const [sealPassword, setSealPassword] = useState(false);
  const [tooLarge, setTooLarge] = useState<string>();
  const onSuccess = async (): Promise<void> => {
    await qc.invalidateQueries({ queryKey: trpc.certificates.pathKey() });
  };
  const pair = useMutation(trpc.certificates.importPair.mutationOptions({ onSuccess }));
  const pkcs12 = useMutation(trpc.certificates.importPkcs12.mutationOptions({ onSuccess }));
  const bulk = useMutation(trpc.adapters.import.mutationOptions({ onSuccess }));
  const active = kind === "pair" ? pair : kind === "p12" ? pkcs12 : bulk;
  const importer = importers.find((a) => a.id === adapterId) ?? importers[0];
  const errors = fieldErrorsOf(active.error);
  const imported = active.data as { id?: string; certificate?: { id?: string } } | undefined;
  const importedId = imported?.id ?? imported?.certificate?.id;

  const submit = async (e: SyntheticEvent): Promise<void> => {
    e.preventDefault();
    setTooLarge(undefined);
    const common = { scope: scopeInput(scope), environment, mode, ...(name ? { name } : {}), password, sealPassword };
    if (kind === "pair") {
      if (!crt || !key) return;
      const certificateBase64 = await fileToBase64(crt, LIMITS.pair);
      const keyBase64 = await fileToBase64(key, LIMITS.pair);
      if (certificateBase64 === undefined || keyBase64 === undefined) {
        setTooLarge(t("web.import.tooLarge", { max: 64 }));
        return;
      }
      pair.mutate({ ...common, certificateBase64, keyBase64 });
    } else if (kind === "adapter") {
      if (!importer || files.length === 0) return;
      if (files.reduce((n, f) => n + f.size, 0) > LIMITS.upload) {
        setTooLarge(t("web.import.tooLarge", { max: LIMITS.upload / KIB }));
        return;
      }
      const uploaded = await Promise.all(files.map(async (f) => ({ name: uploadName(f), base64: (await fileToBase64(f, LIMITS.upload)) ?? "" })));
      const { name: _name, ...rest } = common;
      bulk.mutate({ ...rest, adapterId: importer.id, files: uploaded, perPair });
    } else {
      if (!p12) return;
      const pkcs12Base64 = await fileToBase64(p12, LIMITS.p12);
      if (pkcs12Base64 === undefined) {
        setTooLarge(t("web.import.tooLarge", { max: 256 }));
        return;
      }
      pkcs12.mutate({ ...common, pkcs12Base64 });
    }
  };

  return (
    <section aria-labelledby="import-heading">
      <h1 id="import-heading">{t("web.import.heading")}</h1>
      <form
        onSubmit={(e) => {
          void submit(e);
        }}
        aria-labelledby="import-heading"
        className="wizard"
      >
        <RadioGroup
          legend={t("web.import.kind")}
          name="kind"
          value={kind}
          onChange={setKind}
          choices={[
            ["pair", t("web.import.pair")],
            ["p12", t("web.import.p12")],
            ["adapter", t("web.import.adapter")],
          ]}
        />
        <ScopePicker value={scope} onChange={setScope} errors={errors} />
        <SelectField
          label={t("web.field.environment")}
          errors={errors.environment}
          value={environment}
          onChange={setEnvironment}
          choices={environmentChoices(t)}
        />
        <SelectField label={t("web.field.mode")} errors={errors.mode} value={mode} onChange={setMode} choices={modeChoices(t)} />
        {kind !== "adapter" && <TextField label={t("web.field.name")} errors={errors.name ?? errors.certificateName} value={name} onChange={setName} />}
        {kind === "adapter" ? (
          <>
            <SelectField
              label={t("web.field.adapter")}
              errors={errors.adapterId}
              value={importer?.id ?? ""}
              onChange={setAdapterId}
              choices={adapterChoices(t, importers)}
            />
            {importer?.sourceKinds.includes("folder") === true && (
              <FileField label={t("web.import.folder")} errors={errors.files} multiple {...{ webkitdirectory: "" }} onFiles={setFiles} />
            )}
            <FileField
              label={t("web.import.files")}
              errors={importer?.sourceKinds.includes("folder") === true ? undefined : errors.files}
              multiple={importer?.sourceKinds.includes("folder") === true}
              onFiles={setFiles}
            />
            {files.length > 0 && <p>{t("web.import.chosen", { count: files.length })}</p>}
            <CheckField label={t("web.import.perPair")} checked={perPair} onChange={setPerPair} />
          </>
        ) : kind === "pair" ? (
          <>
            <FileField
              label={t("web.import.crt")}
              errors={errors.certificate ?? errors.certificateBase64}
              accept=".crt,.cer,.pem,.der"
              onFiles={(chosen) => {
                setCrt(chosen[0]);
              }}
            />
            <FileField
              label={t("web.import.key")}
              errors={errors.key ?? errors.keyBase64}
              accept=".key,.pem"
              onFiles={(chosen) => {
                setKey(chosen[0]);
              }}
            />
          </>
        ) : (
          <FileField
            label={t("web.import.p12file")}
            errors={errors.pkcs12 ?? errors.pkcs12Base64}
            accept=".p12,.pfx"
            onFiles={(chosen) => {
              setP12(chosen[0]);
            }}
          />
        )}
        <TextField label={t("web.field.password")} errors={errors.password} type="password" autoComplete="off" value={password} onChange={setPassword} />
        <CheckField label={t("web.enroll.seal")} checked={sealPassword} onChange={setSealPassword} />
        {tooLarge !== undefined && <p role="alert">{tooLarge}</p>}
        <FormEnd error={active.error} busy={active.isPending} label={t("web.import.submit")}>
          {active.isSuccess && kind !== "adapter" && (
            <p role="status">
              {t("web.import.done")} {importedId ? <Link to={`/certificates/${importedId}`}>{t("web.enroll.open")}</Link> : null}
            </p>
          )}
          {bulk.isSuccess && kind === "adapter" && (
            <div role="status">
              <p>{t("web.import.bulkDone", { imported: bulk.data.imported.length, failed: bulk.data.failed.length })}</p>
              {bulk.data.failed.length > 0 && (
                <ul>
                  {bulk.data.failed.map((f) => (
                    <li key={f.ref}>
                      {f.ref}: {f.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
        </FormEnd>
      </form>
    </section>
  );
}
