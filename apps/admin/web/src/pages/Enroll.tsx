/**
 * The enrollment wizard (every F2000 parameter; key password and certificate name checked as you type with
 * core policies) and the live status of a running enrollment through the `enrollments.watch` subscription,
 * with the hand-off countdown, auth.xml download and signed-file upload for signing from this browser.
 */
import { useEffect, useState, type SyntheticEvent, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { checkCertificateName, checkPassword } from "@ksef-certs/ksef/policies";
import { ksefErrorOf, trpc, type RouterOutputs } from "../api";
import { useTranslation } from "react-i18next";
import { formatDate, useLocale, type ViolationLike } from "../i18n";
import { eventText, stateLabel } from "./enrollmentText";
import {
  byField,
  certificateTypeChoices,
  CheckField,
  downloadBase64,
  environmentChoices,
  ErrorBox,
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
import type { CertificateTypeName, Environment } from "@ksef-certs/ksef/vocabulary";

/** What `enrollments.watch` yields: tracked messages `{ id, data }` whose data is one progress event. */
type WatchMessage = RouterOutputs["enrollments"]["watch"] extends AsyncIterable<infer M> ? M : never;
type WatchEvent = WatchMessage extends { data: infer D } ? D : WatchMessage;

/** The wizard page (`/enroll`). */
export function EnrollPage(): ReactNode {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [scope, setScope] = useState<ScopeValue>({ companyId: "" });
  const [environment, setEnvironment] = useState<Environment>("test");
  const [certificateType, setCertificateType] = useState<CertificateTypeName>("Authentication");
  const [mode, setMode] = useState<Mode>("current");
  const [name, setName] = useState("");
  const [validFrom, setValidFrom] = useState("");
  const [authMethod, setAuthMethod] = useState<"certificate" | "handoff">("handoff");
  const [signingCertificateId, setSigningCertificateId] = useState("");
  const [workstationId, setWorkstationId] = useState("");
  const [keyPassword, setKeyPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [sealPassword, setSealPassword] = useState(true);
  const [touched, setTouched] = useState<Record<string, boolean>>({});

  const tree = useQuery(trpc.org.tree.queryOptions());
  const company = (tree.data ?? []).find((c) => c.id === scope.companyId);
  const workstations = (company?.branches ?? []).filter((b) => !scope.branchId || b.id === scope.branchId).flatMap((b) => b.workstations);
  const signers = useQuery({
    ...trpc.certificates.list.queryOptions({ companyId: scope.companyId, environment, certificateType: "Authentication", state: "active", limit: 100 }),
    enabled: scope.companyId !== "" && authMethod === "certificate",
  });

  const request = useMutation(
    trpc.enrollments.request.mutationOptions({
      onSuccess: (result) => {
        void navigate(`/enrollments/${result.enrollmentId}`);
      },
    }),
  );

  // Rules as you type: the same core checks the server applies, so the server rarely has to refuse.
  const live: ViolationLike[] = [
    ...(touched.name ? checkCertificateName(name) : []),
    ...(touched.keyPassword ? checkPassword(keyPassword, "ksef-app").map((v) => ({ ...v, field: "keyPassword" })) : []),
    ...(touched.repeat && repeat !== keyPassword ? [{ field: "repeat", rule: "password.repeat", message: t("web.enroll.passwordRepeat") }] : []),
  ];
  const server = ksefErrorOf(request.error)?.violations ?? [];
  const errors = byField([...live, ...server.map((v) => (v.field === "password" ? { ...v, field: "keyPassword" } : v))]);
  // A field's rules show once it has been typed in, not while the form is still empty.
  const typed =
    (field: string, set: (value: string) => void) =>
    (value: string): void => {
      set(value);
      if (!touched[field]) setTouched({ ...touched, [field]: true });
    };

  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    setTouched({ name: true, keyPassword: true, repeat: true });
    const blocking = [...checkCertificateName(name), ...checkPassword(keyPassword, "ksef-app")];
    if (blocking.length > 0 || repeat !== keyPassword || scope.companyId === "") return;
    request.mutate({
      scope: scopeInput(scope),
      environment,
      certificateType,
      mode,
      name,
      ...(validFrom ? { validFrom: new Date(validFrom).toISOString() } : {}),
      authMethod,
      ...(authMethod === "certificate" ? { signingCertificateId } : { workstationId }),
      keyPassword,
      sealPassword,
    });
  };

  return (
    <section aria-labelledby="enroll-heading">
      <h1 id="enroll-heading">{t("web.enroll.heading")}</h1>
      <form onSubmit={submit} aria-labelledby="enroll-heading" className="wizard" noValidate>
        <ScopePicker value={scope} onChange={setScope} errors={errors} />
        <RadioGroup legend={t("web.field.environment")} value={environment} onChange={setEnvironment} choices={environmentChoices(t)} />
        <RadioGroup legend={t("web.field.certificateType")} value={certificateType} onChange={setCertificateType} choices={certificateTypeChoices(t)} />
        <RadioGroup legend={t("web.field.mode")} value={mode} onChange={setMode} choices={modeChoices(t)} />
        <TextField label={t("web.field.name")} errors={errors.certificateName ?? errors.name} value={name} onChange={typed("name", setName)} />
        <TextField
          label={t("web.field.validFrom")}
          hint={t("web.enroll.validFromHint")}
          errors={errors.validFrom}
          type="datetime-local"
          value={validFrom}
          onChange={setValidFrom}
        />
        <RadioGroup
          legend={t("web.enroll.authMethod")}
          value={authMethod}
          onChange={setAuthMethod}
          choices={(["handoff", "certificate"] as const).map((m) => [m, t(`web.enroll.auth.${m}`)] as const)}
        />
        {authMethod === "certificate" ? (
          <SelectField
            label={t("web.enroll.signingCertificate")}
            errors={errors.signingCertificateId}
            value={signingCertificateId}
            onChange={setSigningCertificateId}
            empty={t("web.scope.choose")}
            choices={(signers.data?.items ?? []).map(
              (c) =>
                [
                  c.id,
                  <>
                    {c.name} ({c.serialNumber})
                  </>,
                ] as const,
            )}
          />
        ) : (
          <SelectField
            label={t("web.enroll.workstation")}
            errors={errors.workstationId}
            value={workstationId}
            onChange={setWorkstationId}
            empty={t("web.scope.choose")}
            choices={workstations.map((w) => [w.id, w.name] as const)}
          />
        )}
        <TextField
          label={t("web.enroll.keyPassword")}
          errors={errors.keyPassword}
          type="password"
          autoComplete="new-password"
          value={keyPassword}
          onChange={typed("keyPassword", setKeyPassword)}
        />
        <TextField
          label={t("web.enroll.keyPasswordRepeat")}
          errors={errors.repeat}
          type="password"
          autoComplete="new-password"
          value={repeat}
          onChange={typed("repeat", setRepeat)}
        />
        <CheckField label={t("web.enroll.seal")} checked={sealPassword} onChange={setSealPassword} />
        <FormEnd error={request.error} busy={request.isPending} label={t("web.enroll.submit")} />
      </form>
    </section>
  );
}

function remaining(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60))}:${String(s % 60).padStart(2, "0")}`;
}

/** The live status page of one enrollment (`/enrollments/:id`). */
export function EnrollmentStatusPage(): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const { id = "" } = useParams();
  const [events, setEvents] = useState<WatchEvent[]>([]);
  const [now, setNow] = useState(() => Date.now());
  const enrollment = useQuery(trpc.enrollments.get.queryOptions({ id }));
  useSubscription(
    trpc.enrollments.watch.subscriptionOptions(
      { id },
      {
        onData: (message) => {
          const event: WatchEvent = message.data;
          setEvents((list) => [...list, event]);
          if (event.state === "completed" || event.state === "failed") void enrollment.refetch();
        },
      },
    ),
  );
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
    }, 1000);
    return () => {
      clearInterval(timer);
    };
  }, []);

  const last = events[events.length - 1];
  const handoff = [...events].reverse().find((e) => e.handoff)?.handoff ?? undefined;
  const state = last?.state ?? "requested";
  const waiting = state === "awaiting_signature" && handoff !== undefined;
  const certificateId = enrollment.data?.certificateId ?? undefined;
  const expiresAt = handoff?.expiresAt ? new Date(handoff.expiresAt).getTime() : undefined;

  return (
    <section aria-labelledby="status-heading">
      <h1 id="status-heading">{t("web.enroll.status")}</h1>
      <ErrorBox error={enrollment.error} />
      <p role="status" aria-live="polite" className={`status status-${state}`}>
        {stateLabel(t, state)}
        {waiting ? ` — ${t("web.enroll.waiting", { workstation: handoff.workstationName ?? handoff.workstationId })}` : ""}
      </p>
      {waiting && (
        <div className="handoff card">
          {expiresAt !== undefined && (
            <p className="countdown" role="timer">
              {expiresAt > now ? t("web.enroll.countdown", { time: remaining(expiresAt - now) }) : t("web.enroll.expired")}
            </p>
          )}
          <HandoffActions id={id} />
        </div>
      )}
      {state === "failed" && <p role="alert">{t("web.enroll.failed", { message: last?.message ?? "" })}</p>}
      {state === "completed" && (
        <p>
          {t("web.enroll.done")} {certificateId ? <Link to={`/certificates/${certificateId}`}>{t("web.enroll.open")}</Link> : null}
        </p>
      )}
      <ol aria-label={t("web.enroll.status")} className="events">
        {events.map((e, i) => (
          <li key={`${e.at}-${String(i)}`}>
            <time dateTime={e.at}>{formatDate(locale, e.at, true)}</time> <strong>{stateLabel(t, e.state)}</strong> <EventLine event={e} />
          </li>
        ))}
      </ol>
    </section>
  );
}

/** One progress sentence in the UI language, said from the event's kind; the server's English words (an error's text) as a detail. */
function EventLine({ event }: { readonly event: WatchEvent }): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const { text, detail } = eventText({ t, locale }, event);
  return (
    <>
      <span>{text}</span>
      {detail !== undefined && (
        <small className="detail" lang="en">
          {" "}
          {t("web.ev.detail", { message: detail })}
        </small>
      )}
    </>
  );
}

const MAX_SIGNED_BYTES = 64 * 1024;

function HandoffActions({ id }: { readonly id: string }): ReactNode {
  const { t } = useTranslation();
  const [tooLarge, setTooLarge] = useState(false);
  const fetchRequest = useQuery({ ...trpc.enrollments.downloadRequest.queryOptions({ id }), enabled: false });
  const upload = useMutation(trpc.enrollments.uploadSigned.mutationOptions());
  const onFile = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    const signedBase64 = await fileToBase64(file, MAX_SIGNED_BYTES);
    setTooLarge(signedBase64 === undefined);
    if (signedBase64 !== undefined) upload.mutate({ id, signedBase64 });
  };
  return (
    <div className="actions">
      <button
        type="button"
        onClick={() => {
          void fetchRequest.refetch().then((r) => {
            if (r.data) downloadBase64(r.data.fileName, r.data.xmlBase64);
          });
        }}
      >
        {t("web.enroll.download")}
      </button>
      <FileField
        label={t("web.enroll.upload")}
        accept=".xml,application/xml,text/xml"
        onFiles={(files) => {
          void onFile(files[0]);
        }}
      />
      {tooLarge && <p role="alert">{t("web.import.tooLarge", { max: 64 })}</p>}
      {upload.isSuccess && <p role="status">{t("web.enroll.uploaded")}</p>}
      <ErrorBox error={fetchRequest.error ?? upload.error} />
    </div>
  );
}
