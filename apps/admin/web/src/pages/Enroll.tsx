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
  CERTIFICATE_TYPES,
  downloadBase64,
  ENVIRONMENTS,
  ErrorBox,
  Field,
  fileToBase64,
  MODES,
  ScopePicker,
  scopeInput,
  type ScopeValue,
} from "../ui";

type Environment = (typeof ENVIRONMENTS)[number];
type CertificateType = (typeof CERTIFICATE_TYPES)[number];
type Mode = (typeof MODES)[number];
/** What `enrollments.watch` yields: tracked messages `{ id, data }` whose data is one progress event. */
type WatchMessage = RouterOutputs["enrollments"]["watch"] extends AsyncIterable<infer M> ? M : never;
type WatchEvent = WatchMessage extends { data: infer D } ? D : WatchMessage;

/** The wizard page (`/enroll`). */
export function EnrollPage(): ReactNode {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [scope, setScope] = useState<ScopeValue>({ companyId: "" });
  const [environment, setEnvironment] = useState<Environment>("test");
  const [certificateType, setCertificateType] = useState<CertificateType>("Authentication");
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
  const touch = (field: string): void => {
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

  const radios = <T extends string>(legend: string, value: T, set: (v: T) => void, options: readonly T[], label: (v: T) => string): ReactNode => (
    <fieldset className="radios">
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={o} className="check">
          <input
            type="radio"
            name={legend}
            value={o}
            checked={value === o}
            onChange={() => {
              set(o);
            }}
          />
          {label(o)}
        </label>
      ))}
    </fieldset>
  );

  return (
    <section aria-labelledby="enroll-heading">
      <h1 id="enroll-heading">{t("web.enroll.heading")}</h1>
      <form onSubmit={submit} aria-labelledby="enroll-heading" className="wizard" noValidate>
        <ScopePicker value={scope} onChange={setScope} errors={errors} />
        {radios(t("web.field.environment"), environment, setEnvironment, ENVIRONMENTS, (e) => t(`web.env.${e}`))}
        {radios(t("web.field.certificateType"), certificateType, setCertificateType, CERTIFICATE_TYPES, (c) => t(`web.type.${c}`))}
        {radios(t("web.field.mode"), mode, setMode, MODES, (m) => t(`web.mode.${m}`))}
        <Field label={t("web.field.name")} errors={errors.certificateName ?? errors.name}>
          {(p) => (
            <input
              {...p}
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                touch("name");
              }}
            />
          )}
        </Field>
        <Field label={t("web.field.validFrom")} hint={t("web.enroll.validFromHint")} errors={errors.validFrom}>
          {(p) => (
            <input
              {...p}
              type="datetime-local"
              value={validFrom}
              onChange={(e) => {
                setValidFrom(e.target.value);
              }}
            />
          )}
        </Field>
        {radios(t("web.enroll.authMethod"), authMethod, setAuthMethod, ["handoff", "certificate"] as const, (m) => t(`web.enroll.auth.${m}`))}
        {authMethod === "certificate" ? (
          <Field label={t("web.enroll.signingCertificate")} errors={errors.signingCertificateId}>
            {(p) => (
              <select
                {...p}
                value={signingCertificateId}
                onChange={(e) => {
                  setSigningCertificateId(e.target.value);
                }}
              >
                <option value="">{t("web.scope.choose")}</option>
                {(signers.data?.items ?? []).map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name} ({c.serialNumber})
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : (
          <Field label={t("web.enroll.workstation")} errors={errors.workstationId}>
            {(p) => (
              <select
                {...p}
                value={workstationId}
                onChange={(e) => {
                  setWorkstationId(e.target.value);
                }}
              >
                <option value="">{t("web.scope.choose")}</option>
                {workstations.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field label={t("web.enroll.keyPassword")} errors={errors.keyPassword}>
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="new-password"
              value={keyPassword}
              onChange={(e) => {
                setKeyPassword(e.target.value);
                touch("keyPassword");
              }}
            />
          )}
        </Field>
        <Field label={t("web.enroll.keyPasswordRepeat")} errors={errors.repeat}>
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="new-password"
              value={repeat}
              onChange={(e) => {
                setRepeat(e.target.value);
                touch("repeat");
              }}
            />
          )}
        </Field>
        <label className="check">
          <input
            type="checkbox"
            checked={sealPassword}
            onChange={(e) => {
              setSealPassword(e.target.checked);
            }}
          />
          {t("web.enroll.seal")}
        </label>
        <ErrorBox error={request.error} />
        <button type="submit" disabled={request.isPending}>
          {t("web.enroll.submit")}
        </button>
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
      <Field label={t("web.enroll.upload")}>
        {(p) => (
          <input
            {...p}
            type="file"
            accept=".xml,application/xml,text/xml"
            onChange={(e) => {
              void onFile(e.target.files?.[0]);
            }}
          />
        )}
      </Field>
      {tooLarge && <p role="alert">{t("web.import.tooLarge", { max: 64 })}</p>}
      {upload.isSuccess && <p role="status">{t("web.enroll.uploaded")}</p>}
      <ErrorBox error={fetchRequest.error ?? upload.error} />
    </div>
  );
}
