/**
 * The app shell: sign-in page until `auth.me` knows the user, then the top bar (user, language, sign-out),
 * the navigation and the pages.
 */
import { createContext, lazy, Suspense, useContext, useEffect, useMemo, useState, type SyntheticEvent, type ReactNode } from "react";
import { NavLink, Navigate, Route, Routes } from "react-router";
import { useMutation, useQuery } from "@tanstack/react-query";
import { queryClient, setCsrfToken, trpc } from "./api";
import { I18nextProvider, useTranslation } from "react-i18next";
import { LOCALE_KEY, localeOf, webI18n, type Locale } from "./i18n";
import { FormEnd, TextField } from "./ui";
import { OrganisationPage } from "./pages/Organisation";
import { CertificatesPage } from "./pages/Certificates";

// Less-visited pages load on first visit: the sign-in page and the table stay in the first bundle.
const CertificatePage = lazy(() => import("./pages/Certificate").then((m) => ({ default: m.CertificatePage })));
const TimelinePage = lazy(() => import("./pages/Timeline").then((m) => ({ default: m.TimelinePage })));
const EnrollPage = lazy(() => import("./pages/Enroll").then((m) => ({ default: m.EnrollPage })));
const EnrollmentStatusPage = lazy(() => import("./pages/Enroll").then((m) => ({ default: m.EnrollmentStatusPage })));
const ImportPage = lazy(() => import("./pages/Import").then((m) => ({ default: m.ImportPage })));
const ExportPage = lazy(() => import("./pages/Export").then((m) => ({ default: m.ExportPage })));
const AuditPage = lazy(() => import("./pages/Audit").then((m) => ({ default: m.AuditPage })));
const UsersPage = lazy(() => import("./pages/Users").then((m) => ({ default: m.UsersPage })));
const RenewalsPage = lazy(() => import("./pages/Renewals").then((m) => ({ default: m.RenewalsPage })));
const WorkstationPage = lazy(() => import("./pages/Workstation").then((m) => ({ default: m.WorkstationPage })));

/** Switches the UI language (and remembers it for the signed-in account); given to the language buttons. */
const SetLocaleContext = createContext<(locale: Locale) => void>((locale) => {
  void webI18n.changeLanguage(locale);
});

/**
 * The whole app: language, session and routes.
 */
export function App(): ReactNode {
  return (
    <I18nextProvider i18n={webI18n}>
      <Session />
    </I18nextProvider>
  );
}

function Session(): ReactNode {
  const { t, i18n } = useTranslation();
  const locale = localeOf(i18n);
  const me = useQuery(trpc.auth.me.queryOptions());
  const { mutate: rememberLocale } = useMutation(trpc.auth.setLocale.mutationOptions());
  const user = me.data?.user;

  useEffect(() => {
    if (me.data) setCsrfToken(me.data.csrfToken);
  }, [me.data]);

  // The account's language, once per account and value: a choice made since then is not undone by a later `auth.me`.
  const saved = me.data?.user.locale;
  useEffect(() => {
    if (saved === "pl" || saved === "en") void webI18n.changeLanguage(saved);
  }, [user?.id, saved]);

  useEffect(() => {
    document.documentElement.lang = locale;
    localStorage.setItem(LOCALE_KEY, locale);
  }, [locale]);

  const setLocale = useMemo(
    () =>
      (next: Locale): void => {
        void i18n.changeLanguage(next);
        if (user) rememberLocale({ locale: next });
      },
    [i18n, user, rememberLocale],
  );

  let body: ReactNode;
  if (me.isPending) body = <p role="status">{t("web.common.loading")}</p>;
  else if (!me.data) body = <LoginPage />;
  else body = <Shell isSuperAdmin={me.data.roles.some((r) => r.role === "super_admin")} displayName={me.data.user.displayName || me.data.user.login} />;

  return <SetLocaleContext.Provider value={setLocale}>{body}</SetLocaleContext.Provider>;
}

function LanguageSwitch(): ReactNode {
  const { t, i18n } = useTranslation();
  const locale = localeOf(i18n);
  const setLocale = useContext(SetLocaleContext);
  return (
    <div className="lang" role="group" aria-label={t("web.top.language")}>
      {(["pl", "en"] as const).map((l) => (
        <button
          key={l}
          type="button"
          aria-pressed={locale === l}
          onClick={() => {
            setLocale(l);
          }}
        >
          {l.toUpperCase()}
        </button>
      ))}
    </div>
  );
}

function LoginPage(): ReactNode {
  const { t } = useTranslation();
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const mutation = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: async (result) => {
        setCsrfToken(result.csrfToken);
        await queryClient.invalidateQueries();
      },
    }),
  );
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    mutation.mutate({ login, password });
  };
  return (
    <main className="login">
      <header className="login-head">
        <h1>{t("web.app.title")}</h1>
        <LanguageSwitch />
      </header>
      <form onSubmit={submit} aria-labelledby="login-heading" className="card">
        <h2 id="login-heading">{t("web.login.heading")}</h2>
        <TextField label={t("web.login.login")} autoComplete="username" value={login} onChange={setLogin} required />
        <TextField label={t("web.login.password")} type="password" autoComplete="current-password" value={password} onChange={setPassword} required />
        <FormEnd error={mutation.error} busy={mutation.isPending} label={t("web.login.submit")} />
      </form>
    </main>
  );
}

function Shell({ isSuperAdmin, displayName }: { readonly isSuperAdmin: boolean; readonly displayName: string }): ReactNode {
  const { t } = useTranslation();
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: async () => {
        setCsrfToken("");
        // Reset, not clear: cleared queries leave their observers behind, so `auth.me` was never asked again and
        // the signed-out page kept showing until a reload. Reset drops every answer and asks the shown ones again.
        await queryClient.resetQueries();
      },
    }),
  );
  const links: [string, `web.nav.${"organisation" | "certificates" | "timeline" | "renewals" | "enroll" | "import" | "export" | "audit" | "users"}`][] = [
    ["/organisation", "web.nav.organisation"],
    ["/certificates", "web.nav.certificates"],
    ["/timeline", "web.nav.timeline"],
    ["/renewals", "web.nav.renewals"],
    ["/enroll", "web.nav.enroll"],
    ["/import", "web.nav.import"],
    ["/export", "web.nav.export"],
    ["/audit", "web.nav.audit"],
  ];
  if (isSuperAdmin) links.push(["/users", "web.nav.users"]);
  return (
    <>
      <a href="#content" className="skip">
        {t("web.app.skip")}
      </a>
      <header className="topbar">
        <strong className="brand">{t("web.app.title")}</strong>
        <span className="user">{t("web.top.signedInAs", { name: displayName })}</span>
        <LanguageSwitch />
        <button
          type="button"
          onClick={() => {
            logout.mutate();
          }}
        >
          {t("web.top.logout")}
        </button>
      </header>
      <nav aria-label={t("web.nav.main")} className="nav">
        <ul>
          {links.map(([to, key]) => (
            <li key={to}>
              <NavLink to={to}>{t(key)}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="content" className="content">
        <Suspense fallback={<p role="status">{t("web.common.loading")}</p>}>
          <Routes>
            <Route path="/" element={<Navigate to="/certificates" replace />} />
            <Route path="/organisation" element={<OrganisationPage />} />
            <Route path="/certificates" element={<CertificatesPage />} />
            <Route path="/certificates/:id" element={<CertificatePage />} />
            <Route path="/timeline" element={<TimelinePage />} />
            <Route path="/renewals" element={<RenewalsPage />} />
            <Route path="/enroll" element={<EnrollPage />} />
            <Route path="/enrollments/:id" element={<EnrollmentStatusPage />} />
            <Route path="/import" element={<ImportPage />} />
            <Route path="/export" element={<ExportPage />} />
            <Route path="/audit" element={<AuditPage />} />
            <Route path="/users" element={<UsersPage />} />
            <Route path="/workstations/:id" element={<WorkstationPage />} />
            <Route path="*" element={<p>{t("web.common.notFound")}</p>} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
