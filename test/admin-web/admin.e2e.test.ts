/**
 * In the browser: the admin web app driven in Debian's chromium against the product
 * started as the README starts it — the built CLI `ksef-certs serve --with-simulator` on a free port and a
 * fresh data folder. An admin signs in with the login and password the CLI printed once, builds a company with two branches, an operator and a workstation, imports a `.crt` +
 * encrypted `.key` pair, enrolls an Authentication certificate for the operator through the hand-off
 * (the test downloads auth.xml in the browser, signs it as the person and uploads it back), sees both
 * certificates in the table and on the timeline, exports one through an adapter, verifies the audit log,
 * and creates a branch admin who sees only their branch (table, tree, and a direct URL to the other
 * branch's certificate answers not-found). Screenshots of the main pages go to `artifacts/screenshots/`.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { unzipSync } from "fflate";
import { encryptPrivateKeyPem, exportPkcs12, generateKeyPair, type KeyPair } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate, selfSignedCertificate, type IssuedTestCertificate } from "@ksef-certs/testing/certificates";
import { signXml } from "@ksef-certs/ksef/xades";
import { browserAvailable, CHROMIUM, launchBrowser, screenshot, startAdminServer, type AdminServer } from "./browser.js";
import { englishOnPage } from "./polish.js";

const NIP = "5265877635";
const PESEL = "44051401458";
const KEY_PASSWORD = "Klucz-KSeF-2026-bezpieczny!";
const P12_NAME = "Kraków z pliku p12";
const BRANCH_ADMIN = { login: "kierownik.waw", password: "Kierownik-WAW-2026!", name: "Kierownik Warszawa" };

/** A key pair and a KSeF-like certificate of the test company (what a person downloads from the ministry's app). */
async function companyCertificate(certificateType: "Authentication" | "Offline"): Promise<{ keys: KeyPair; issued: IssuedTestCertificate }> {
  const keys = await generateKeyPair("EC-P256");
  const issued = await issueKsefLikeCertificate({
    certificateType,
    keys,
    enrollmentData: { commonName: "Hurtownia Testowa", countryName: "PL", organizationName: "Hurtownia Testowa", organizationIdentifier: `VATPL-${NIP}` },
  });
  return { keys, issued };
}

const run = browserAvailable();
if (!run) {
  // Outside CI only: CI installs chromium (.ci/run) and must run this suite.
  process.stderr.write(`admin web suite skipped: ${CHROMIUM} is missing (apt-get install chromium) and CI is not set\n`);
}

describe.skipIf(!run)("admin web app in chromium", () => {
  let work: string;
  let server: AdminServer | undefined;
  let browser: BrowserContext | undefined;
  let page: Page;
  let outbox: string;
  let inbox: string;
  let exportDir: string;
  let jan: KeyPair;
  let janCert: Uint8Array;
  let importedId = "";

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "ksef-admin-web-"));
    outbox = join(work, "do-podpisu");
    inbox = join(work, "podpisane");
    exportDir = join(work, "eksport");
    await Promise.all([mkdir(outbox), mkdir(inbox)]);
    server = await startAdminServer(join(work, "data"));
    browser = await launchBrowser();
    page = browser.pages()[0] ?? (await browser.newPage());
    // A missing element fails in 15 s, not playwright's 30 s, so a broken run stays short.
    page.setDefaultTimeout(15_000);
    // Jan's own signature (Profil Zaufany stand-in, accepted on KSeF TEST): PESEL in the subject.
    jan = await generateKeyPair("EC-P256");
    janCert = (
      await selfSignedCertificate(jan, [
        { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
        { oid: "2.5.4.42", value: "Jan", stringType: "UTF8String" },
        { oid: "2.5.4.4", value: "Kowalski", stringType: "UTF8String" },
        { oid: "2.5.4.5", value: `PNOPL-${PESEL}`, stringType: "PrintableString" },
        { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
      ])
    ).der;
  }, 120_000);

  afterAll(async () => {
    // Each step runs even when an earlier one (or the suite) failed: no server or browser outlives the run.
    try {
      await browser?.close();
    } finally {
      try {
        await server?.stop();
      } finally {
        if (work) await rm(work, { recursive: true, force: true });
      }
    }
  }, 30_000);

  function url(path = ""): string {
    if (!server) throw new Error("server not started");
    return `${server.url}${path}`;
  }

  async function signIn(login: string, password: string): Promise<void> {
    await page.goto(url());
    await page.getByLabel("Login", { exact: true }).fill(login);
    await page.getByLabel("Hasło", { exact: true }).fill(password);
    await page.getByRole("button", { exact: true, name: "Zaloguj" }).click();
    await page.getByRole("navigation", { exact: true, name: "Nawigacja główna" }).waitFor();
  }

  async function go(link: string): Promise<void> {
    await page.getByRole("navigation", { exact: true, name: "Nawigacja główna" }).getByRole("link", { name: link }).click();
  }

  it("signs in with the printed admin (Polish by default, English on request)", async () => {
    await page.goto(url());
    await expect.poll(() => page.getByRole("heading", { exact: true, name: "Logowanie" }).count()).toBe(1);
    await page.getByRole("button", { exact: true, name: "EN" }).click();
    await expect.poll(() => page.getByRole("heading", { exact: true, name: "Sign in" }).count()).toBe(1);
    await page.getByRole("button", { exact: true, name: "PL" }).click();
    await page.getByLabel("Login", { exact: true }).fill(server?.adminLogin ?? "");
    await page.getByLabel("Hasło", { exact: true }).fill(server?.adminPassword ?? "");
    await screenshot(page, "01-login");
    await page.getByRole("button", { exact: true, name: "Zaloguj" }).click();
    await page.getByRole("navigation", { exact: true, name: "Nawigacja główna" }).waitFor();
    expect(await page.getByRole("link", { exact: true, name: "Użytkownicy" }).count()).toBe(1);
  });

  it("builds a company with two branches, an operator and a workstation; a bad NIP names its rule", async () => {
    await go("Organizacja");
    const company = page.getByRole("form", { exact: true, name: "Dodaj firmę" });
    await company.getByLabel("NIP", { exact: true }).fill("5265877636");
    await company.getByLabel("Nazwa", { exact: true }).fill("Hurtownia Testowa");
    await company.getByRole("button", { exact: true, name: "Dodaj firmę" }).click();
    await expect.poll(() => company.getByText("Błędna cyfra kontrolna NIP").count()).toBeGreaterThan(0);
    await company.getByLabel("NIP", { exact: true }).fill(NIP);
    await company.getByRole("button", { exact: true, name: "Dodaj firmę" }).click();
    await page.getByRole("treeitem", { exact: true, name: `Hurtownia Testowa (${NIP})` }).waitFor();

    const branch = page.getByRole("form", { exact: true, name: "Dodaj oddział" });
    for (const [code, name] of [
      ["WAW", "Oddział Warszawa"],
      ["KRK", "Oddział Kraków"],
    ] as const) {
      await branch.getByLabel("Kod", { exact: true }).fill(code);
      await branch.getByLabel("Nazwa", { exact: true }).fill(name);
      await branch.getByRole("button", { exact: true, name: "Dodaj oddział" }).click();
      await page.getByRole("treeitem", { exact: true, name: `${code} – ${name}` }).waitFor();
    }

    const operator = page.getByRole("form", { exact: true, name: "Dodaj operatora" });
    await operator.getByLabel("Nazwa", { exact: true }).fill("Jan Kowalski");
    await operator.getByLabel("PESEL", { exact: true }).fill(PESEL);
    await operator.getByLabel("WAW – Oddział Warszawa", { exact: true }).check();
    await operator.getByRole("button", { exact: true, name: "Dodaj operatora" }).click();
    await page.getByRole("treeitem", { exact: true, name: "Jan Kowalski" }).waitFor();

    const ws = page.getByRole("form", { exact: true, name: "Dodaj stanowisko" });
    await ws.getByLabel("Oddział", { exact: true }).selectOption({ label: "Hurtownia Testowa: WAW – Oddział Warszawa" });
    await ws.getByLabel("Nazwa", { exact: true }).fill("kasa-1");
    await ws.getByLabel("Folder do podpisu", { exact: true }).fill(outbox);
    await ws.getByLabel("Folder podpisanych", { exact: true }).fill(inbox);
    await ws.getByRole("button", { exact: true, name: "Dodaj stanowisko" }).click();
    await page.getByRole("treeitem", { exact: true, name: "kasa-1" }).waitFor();
    await screenshot(page, "02-organisation");
  });

  it("imports a .crt + encrypted .key pair for the Kraków branch", async () => {
    const { keys, issued } = await companyCertificate("Offline");
    const crt = join(work, "krk.crt");
    const key = join(work, "krk.key");
    await writeFile(crt, issued.certificate);
    await writeFile(key, await encryptPrivateKeyPem(keys.privateKey, KEY_PASSWORD));

    await go("Import");
    const form = page.getByRole("form", { exact: true, name: "Import certyfikatu" });
    await form.getByLabel("Firma", { exact: true }).selectOption({ label: `Hurtownia Testowa (${NIP})` });
    await form.getByLabel("Oddział", { exact: true }).selectOption({ label: "KRK – Oddział Kraków" });
    await form.getByLabel("Nazwa", { exact: true }).fill("Kraków offline");
    await form.getByLabel("Certyfikat (.crt)", { exact: true }).setInputFiles(crt);
    await form.getByLabel("Klucz prywatny (.key)", { exact: true }).setInputFiles(key);
    await form.getByLabel("Hasło", { exact: true }).fill("Zle-haslo-2026!");
    await form.getByRole("button", { exact: true, name: "Importuj" }).click();
    await form.getByRole("alert").waitFor();
    await form.getByLabel("Hasło", { exact: true }).fill(KEY_PASSWORD);
    await form.getByRole("button", { exact: true, name: "Importuj" }).click();
    const done = form.getByRole("status");
    await done.getByText("Zaimportowano certyfikat.").waitFor();
    await screenshot(page, "03-import");
    importedId = ((await done.getByRole("link").getAttribute("href")) ?? "").split("/").pop() ?? "";
    expect(importedId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("enrolls Jan's Authentication certificate: rules as you type, then the hand-off signed from this browser", async () => {
    await go("Nowy certyfikat");
    const form = page.getByRole("form", { exact: true, name: "Nowy certyfikat w KSeF" });
    await form.getByLabel("Firma", { exact: true }).selectOption({ label: `Hurtownia Testowa (${NIP})` });
    await form.getByLabel("Oddział", { exact: true }).selectOption({ label: "WAW – Oddział Warszawa" });
    await form.getByLabel("Operator", { exact: true }).selectOption({ label: "Jan Kowalski" });
    await form.getByLabel("Nazwa", { exact: true }).fill("Jan#");
    // Each broken rule is listed next to its field while typing, in Polish (the catalogue's rule sentences; the key
    // password follows the ministry's ASCII rules, so its sentence names the letters A–Z).
    await expect.poll(() => form.getByText("Nazwa certyfikatu musi mieć od 5 do 100 znaków").count()).toBe(1);
    await form.getByLabel("Hasło klucza prywatnego", { exact: true }).fill("krotkie");
    await expect.poll(() => form.getByText("Hasło musi zawierać co najmniej jedną wielką literę (A–Z).").count()).toBe(1);
    await form.getByLabel("Nazwa", { exact: true }).fill("Jan Kowalski logowanie");
    await form.getByLabel("Hasło klucza prywatnego", { exact: true }).fill(KEY_PASSWORD);
    await form.getByLabel("Powtórz hasło", { exact: true }).fill(`${KEY_PASSWORD}x`);
    await expect.poll(() => form.getByText("Hasła nie są takie same.").count()).toBe(1);
    await form.getByLabel("Powtórz hasło", { exact: true }).fill(KEY_PASSWORD);
    await expect.poll(() => form.locator("[data-rule]").count()).toBe(0);
    await form.getByLabel("Stanowisko", { exact: true }).selectOption({ label: "kasa-1" });
    await screenshot(page, "04-enroll-wizard");
    await form.getByRole("button", { exact: true, name: "Złóż wniosek" }).click();

    const status = page.getByRole("status").first();
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toContain("Czeka na podpis na stanowisku kasa-1");
    await page.getByRole("timer").waitFor();
    await screenshot(page, "05-enroll-waiting");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { exact: true, name: "Pobierz auth.xml" }).click()]);
    const authXml = await readFile(await download.path());
    expect(authXml.toString("utf8")).toContain("AuthTokenRequest");
    const signedPath = join(work, "podpisany.xml");
    await writeFile(signedPath, await signXml(authXml, { privateKey: jan.privateKey, certificate: janCert }));
    await page.getByLabel("Wgraj podpisany plik", { exact: true }).setInputFiles(signedPath);
    await expect.poll(() => status.textContent(), { timeout: 90_000 }).toContain("certyfikat wydany");
    // Progress in Polish, with the file path, reference numbers and serial the server reported.
    const events = page.getByRole("list", { exact: true, name: "Przebieg wniosku" });
    await events.getByText(`Plik auth.xml jest w ${outbox}/`, { exact: false }).waitFor();
    await events.getByText(/^KSeF przyjął wniosek certyfikacyjny \(\d{8}-[A-Z]{2}-[0-9A-F-]+\)\.$/).waitFor();
    await events.getByText(/^Certyfikat [0-9A-F]+ zapisano jako bieżący\.$/).waitFor();
    expect(await events.textContent()).not.toMatch(/Signed in to KSeF|Sending the certificate request|State \w+\./);
    await screenshot(page, "06-enroll-issued");
    await page.getByRole("link", { exact: true, name: "Otwórz certyfikat" }).click();
    await page.getByRole("heading", { exact: true, name: "Certyfikat Jan Kowalski logowanie" }).waitFor();
  });

  it("shows both certificates in the table and on the timeline", async () => {
    await go("Certyfikaty");
    const table = page.getByRole("table", { exact: true, name: "Lista certyfikatów" });
    await table.getByRole("link", { exact: true, name: "Jan Kowalski logowanie" }).waitFor();
    await table.getByRole("link", { exact: true, name: "Kraków offline" }).waitFor();
    const filters = page.getByRole("form", { exact: true, name: "Filtry" });
    await filters.getByLabel("Typ certyfikatu", { exact: true }).selectOption({ label: "Offline" });
    await filters.getByRole("button", { exact: true, name: "Filtruj" }).click();
    await expect.poll(() => table.getByRole("link", { exact: true, name: "Jan Kowalski logowanie" }).count()).toBe(0);
    await table.getByRole("link", { exact: true, name: "Kraków offline" }).waitFor();
    await filters.getByLabel("Typ certyfikatu", { exact: true }).selectOption({ label: "wszystkie" });
    await filters.getByRole("button", { exact: true, name: "Filtruj" }).click();
    await table.getByRole("link", { exact: true, name: "Jan Kowalski logowanie" }).waitFor();
    await screenshot(page, "07-certificates");

    await go("Oś ważności");
    const chart = page.getByRole("img", { exact: true, name: "Oś ważności certyfikatów" });
    await chart.waitFor();
    await expect.poll(() => chart.getByText("Jan Kowalski", { exact: false }).count()).toBeGreaterThan(0);
    await expect.poll(() => chart.getByText("dziś").count()).toBe(1);
    // The chart starts 30 days back: gaps from then on are not labelled with that date any more (past = muted, no label).
    const start = new Intl.DateTimeFormat("pl-PL", { year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(Date.now() - 30 * 86_400_000));
    expect(await chart.locator("text").filter({ hasText: start }).count()).toBe(0);
    // Kraków's Offline pair was imported today: its gap lies wholly in the past and says so.
    const gaps = page.getByRole("list", { exact: true, name: "Luki (okresy bez ważnego certyfikatu)" });
    await gaps.getByRole("listitem").filter({ hasText: "KRK Oddział Kraków (Offline)" }).getByText("Luka (miniona):", { exact: false }).waitFor();
    await gaps.getByRole("listitem").filter({ hasText: "WAW Oddział Warszawa (Offline)" }).getByText("Luka:", { exact: false }).waitFor();
    await screenshot(page, "08-timeline");
  });

  it("exports Jan's certificate through an adapter and lists the export on its page", async () => {
    await go("Certyfikaty");
    await page.getByRole("table", { exact: true, name: "Lista certyfikatów" }).getByRole("link", { exact: true, name: "Jan Kowalski logowanie" }).click();
    await page.getByRole("link", { exact: true, name: "Eksportuj" }).click();
    const form = page.getByRole("form", { exact: true, name: "Eksport do programu" });
    // A download (nothing is typed about the server's folders): the pair arrives as a ZIP of NAME.crt + NAME.key.
    await form.getByLabel("Pobierz plik (jeden plik albo archiwum ZIP)", { exact: true }).check();
    if ((await form.getByLabel("Hasło", { exact: true }).count()) > 0) await form.getByLabel("Hasło", { exact: true }).fill(KEY_PASSWORD);
    const [download] = await Promise.all([page.waitForEvent("download"), form.getByRole("button", { exact: true, name: "Eksportuj" }).click()]);
    await form.getByRole("status").getByText("Pobrano", { exact: false }).waitFor();
    const saved = join(exportDir, download.suggestedFilename());
    await mkdir(exportDir, { recursive: true });
    await download.saveAs(saved);
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
    expect(
      Object.keys(unzipSync(await readFile(saved)))
        .sort()
        .map((n) => n.slice(n.lastIndexOf(".")))
        .sort(),
    ).toEqual([".crt", ".key"]);
    await page.goBack();
    await page.getByRole("heading", { exact: true, name: "Certyfikat Jan Kowalski logowanie" }).waitFor();
    await page.reload();
    await expect.poll(() => page.getByRole("table", { exact: true, name: "Eksporty do programów" }).count()).toBe(1);
    await screenshot(page, "09-certificate");
  });

  it("imports a .p12 for Kraków, assigns it to the Warsaw branch and revokes it with a reason (confirmed)", async () => {
    const { keys, issued } = await companyCertificate("Authentication");
    const p12 = join(work, "krk.p12");
    // Few iterations: this run tests the upload path, not PBKDF2 cost.
    await writeFile(p12, await exportPkcs12({ certificate: issued.der, privateKey: keys.privateKey, password: KEY_PASSWORD, iterations: 2_048 }));

    await go("Import");
    const form = page.getByRole("form", { exact: true, name: "Import certyfikatu" });
    await form.getByLabel("plik .p12 / .pfx", { exact: true }).check();
    await form.getByLabel("Firma", { exact: true }).selectOption({ label: `Hurtownia Testowa (${NIP})` });
    await form.getByLabel("Oddział", { exact: true }).selectOption({ label: "KRK – Oddział Kraków" });
    await form.getByLabel("Nazwa", { exact: true }).fill(P12_NAME);
    await form.getByLabel("Plik PKCS#12 (.p12)", { exact: true }).setInputFiles(p12);
    await form.getByLabel("Hasło", { exact: true }).fill(KEY_PASSWORD);
    await form.getByRole("button", { exact: true, name: "Importuj" }).click();
    await form.getByRole("status").getByText("Zaimportowano certyfikat.").waitFor();
    await form.getByRole("status").getByRole("link", { exact: true, name: "Otwórz certyfikat" }).click();
    await page.getByRole("heading", { exact: true, name: `Certyfikat ${P12_NAME}` }).waitFor();
    const facts = page.getByRole("definition");
    await facts.getByText("Hurtownia Testowa / KRK", { exact: true }).waitFor();
    await facts.getByText("import z pliku", { exact: true }).waitFor();

    await page.getByRole("button", { exact: true, name: "Przypisz" }).click();
    const assign = page.getByRole("form", { exact: true, name: "Przypisz do oddziału lub operatora" });
    await assign.getByLabel("Oddział", { exact: true }).selectOption({ label: "WAW – Oddział Warszawa" });
    await assign.getByRole("button", { exact: true, name: "Zapisz" }).click();
    await facts.getByText("Hurtownia Testowa / WAW", { exact: true }).waitFor();

    await page.getByRole("button", { exact: true, name: "Unieważnij" }).click();
    const dialog = page.getByRole("dialog", { exact: true, name: "Unieważnić certyfikat?" });
    await dialog.waitFor();
    // Nothing is revoked until a reason is given and confirmed.
    expect(await dialog.getByRole("button", { exact: true, name: "Potwierdź" }).isDisabled()).toBe(true);
    await dialog.getByLabel("Powód", { exact: true }).selectOption({ label: "klucz prywatny naruszony (wyciek)" });
    await screenshot(page, "13-revoke-dialog");
    await dialog.getByRole("button", { exact: true, name: "Potwierdź" }).click();
    await page.getByRole("note").getByText("klucz prywatny naruszony (wyciek)", { exact: false }).waitFor();
    // The state, and where the days to expiry were: a revoked certificate never shows healthy days.
    await expect.poll(() => facts.getByText("unieważniony", { exact: true }).count()).toBe(2);
    expect(await facts.getByText(/^\d+ dni$/).count()).toBe(0);
    expect(await page.getByRole("button", { exact: true, name: "Unieważnij" }).count()).toBe(0);
    await page.getByRole("table", { exact: true, name: "Zdarzenia" }).getByText("unieważniono certyfikat", { exact: true }).waitFor();
  });

  it("pairs a signer agent with a one-time code from the workstation page, lists its token, and its revocation locks the agent out", async () => {
    await go("Organizacja");
    await page.getByRole("treeitem", { exact: true, name: "kasa-1" }).getByRole("link", { exact: true, name: "kasa-1" }).click();
    await page.getByRole("heading", { exact: true, name: "Stanowisko kasa-1" }).waitFor();
    await page.getByRole("button", { exact: true, name: "Sparuj agenta podpisu" }).click();
    const code = ((await page.getByRole("region", { exact: true, name: "Jednorazowy kod parowania" }).locator("output").textContent()) ?? "").trim();
    expect(code.length).toBeGreaterThan(5);

    const paired = await fetch(url("/agent/v1/pair"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code, label: "agent kasa-1" }),
    });
    expect(paired.status).toBe(200);
    const { token } = (await paired.json()) as { token: string };
    const asAgent = (): Promise<Response> => fetch(url("/agent/v1/workstation"), { headers: { authorization: `Bearer ${token}` } });
    expect((await asAgent()).status).toBe(200);
    // A code works once.
    const again = await fetch(url("/agent/v1/pair"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code, label: "drugi" }),
    });
    expect(again.status).toBeGreaterThanOrEqual(400);

    // The page watches for the agent while a code is shown: the token appears without a reload.
    const tokens = page.getByRole("table", { exact: true, name: "Tokeny agentów" });
    const row = tokens.getByRole("row").filter({ hasText: "agent kasa-1" });
    await row.waitFor({ timeout: 15_000 });
    await screenshot(page, "14-workstation");
    await row.getByRole("button", { exact: true, name: "Unieważnij token" }).click();
    await row.getByText("unieważniony", { exact: true }).waitFor();
    expect((await asAgent()).status).toBe(401);
  });

  it("shows the main pages in English after switching the language", async () => {
    const nav = page.getByRole("navigation", { exact: true, name: "Nawigacja główna" });
    await page.getByRole("group", { exact: true, name: "Język" }).getByRole("button", { exact: true, name: "EN" }).click();
    const main = page.getByRole("navigation", { exact: true, name: "Main navigation" });
    try {
      await main.waitFor();
      expect(await nav.count()).toBe(0);
      const pages: [link: string, heading: string, label?: string][] = [
        ["Organisation", "Organisation", "Outbox folder (to sign)"],
        ["Certificates", "Certificates", "Certificate type"],
        ["Expiry timeline", "Certificate expiry timeline", "Environment"],
        ["New certificate", "New KSeF certificate", "Private key password"],
        ["Import", "Import a certificate", "Certificate (.crt)"],
        ["Export", "Export to a program"],
        ["Audit log", "Audit log"],
        ["Users", "Users", "Full name"],
      ];
      for (const [link, heading, label] of pages) {
        await main.getByRole("link", { exact: true, name: link }).click();
        await page.getByRole("heading", { exact: true, name: heading }).waitFor();
        if (label !== undefined) await page.getByLabel(label, { exact: true }).first().waitFor();
      }
      await main.getByRole("link", { exact: true, name: "Certificates" }).click();
      await page.getByRole("table", { exact: true, name: "Certificate list" }).getByRole("link", { exact: true, name: "Jan Kowalski logowanie" }).click();
      await page.getByRole("heading", { exact: true, name: "Certificate Jan Kowalski logowanie" }).waitFor();
      const facts = page.getByRole("definition");
      await facts.getByText("enrolled in KSeF", { exact: true }).waitFor();
      await facts.getByText("Authentication", { exact: true }).waitFor();
      await page.getByRole("table", { exact: true, name: "Exports to programs" }).waitFor();
      await screenshot(page, "15-certificate-en");
      // The choice is remembered for the account: a reload keeps English.
      await page.reload();
      await page.getByRole("heading", { exact: true, name: "Certificate Jan Kowalski logowanie" }).waitFor();
    } finally {
      // Back to Polish even when a check failed, so the tests after this one still find their Polish labels.
      await page.getByRole("button", { exact: true, name: "PL" }).click();
      await nav.waitFor();
    }
  });

  it("verifies the audit log", async () => {
    await go("Dziennik zdarzeń");
    await page.getByRole("button", { exact: true, name: "Sprawdź integralność" }).click();
    await page.getByRole("status").getByText("Dziennik nienaruszony", { exact: false }).waitFor();
    await screenshot(page, "10-audit");
  });

  it("opens Odnowienia: the plan table holds the current certificates; a company policy value is set, shown with its source, and cleared", async () => {
    await go("Odnowienia");
    await page.getByRole("heading", { exact: true, name: "Odnowienia" }).waitFor();
    const plan = page.getByRole("table", { exact: true, name: "Plan odnowień" });
    await plan.getByRole("link", { exact: true, name: "Jan Kowalski logowanie" }).waitFor();
    await expect.poll(() => plan.getByRole("row").count()).toBeGreaterThan(1);
    // The policy of the company: every value inherited from the defaults until the company sets one.
    const policy = page.getByRole("region", { exact: true, name: "Zasady odnawiania" });
    await policy.getByLabel("Firma", { exact: true }).selectOption({ label: `Hurtownia Testowa (${NIP})` });
    const form = policy.getByRole("form", { exact: true, name: "Zasady odnawiania wybranego zakresu" });
    await form.getByText("Obowiązuje: automatycznie (domyślne)", { exact: true }).waitFor();
    // Asking first keeps the server's scheduler from renewing anything while the other steps run.
    await form.getByLabel("Zgoda", { exact: true }).selectOption("ask_first");
    await form.getByRole("button", { exact: true, name: "Zapisz" }).click();
    await form.getByText("Obowiązuje: najpierw zapytaj administratora (z firmy)", { exact: true }).waitFor();
    await screenshot(page, "10b-renewals");
    await form.getByLabel("Zgoda", { exact: true }).selectOption("");
    await form.getByRole("button", { exact: true, name: "Zapisz" }).click();
    await form.getByText("Obowiązuje: automatycznie (domyślne)", { exact: true }).waitFor();
  });

  it("shows no English sentence anywhere while it speaks Polish (pages, a refused form, a failed sign-in)", async () => {
    const english: string[] = [];
    const check = async (name: string): Promise<void> => {
      // The page has settled when nothing is loading any more.
      await expect.poll(() => page.getByRole("status").filter({ hasText: "Wczytywanie…" }).count()).toBe(0);
      english.push(...(await englishOnPage(page)).map((e) => `${name}: ${e}`));
    };
    try {
      // Each page with what shows its data has arrived (the heading alone comes before the server answers).
      const pages: [link: string, heading: string, loaded: () => Locator][] = [
        ["Organizacja", "Organizacja", () => page.getByRole("treeitem", { exact: true, name: "kasa-1" })],
        ["Certyfikaty", "Certyfikaty", () => page.getByRole("link", { exact: true, name: "Jan Kowalski logowanie" })],
        ["Oś ważności", "Oś ważności certyfikatów", () => page.getByRole("list", { exact: true, name: "Luki (okresy bez ważnego certyfikatu)" })],
        ["Odnowienia", "Odnowienia", () => page.getByRole("table", { exact: true, name: "Plan odnowień" })],
        ["Nowy certyfikat", "Nowy certyfikat w KSeF", () => page.getByRole("option", { name: `Hurtownia Testowa (${NIP})` })],
        ["Import", "Import certyfikatu", () => page.getByRole("option", { name: `Hurtownia Testowa (${NIP})` })],
        ["Eksport", "Eksport do programu", () => page.getByText("Wybierz certyfikaty w tabeli albo na stronie certyfikatu.", { exact: true })],
        ["Dziennik zdarzeń", "Dziennik zdarzeń", () => page.getByRole("table", { exact: true, name: "Dziennik zdarzeń" }).getByRole("row").nth(1)],
        ["Użytkownicy", "Użytkownicy", () => page.getByRole("cell", { exact: true, name: server?.adminLogin ?? "" })],
      ];
      for (const [link, heading, loaded] of pages) {
        await go(link);
        await page.getByRole("heading", { exact: true, name: heading }).waitFor();
        await loaded().first().waitFor({ state: "attached" });
        await check(link);
      }
      await go("Certyfikaty");
      await page.getByRole("table", { exact: true, name: "Lista certyfikatów" }).getByRole("link", { exact: true, name: "Jan Kowalski logowanie" }).click();
      await page.getByRole("heading", { exact: true, name: "Certyfikat Jan Kowalski logowanie" }).waitFor();
      await page.getByRole("table", { exact: true, name: "Zdarzenia" }).waitFor();
      await check("certificate");
      await page.getByRole("link", { exact: true, name: "Eksportuj" }).click();
      const exportForm = page.getByRole("form", { exact: true, name: "Eksport do programu" });
      await exportForm.getByLabel("Program (adapter)", { exact: true }).getByRole("option").first().waitFor({ state: "attached" });
      await check("export of a certificate");
      await go("Import");
      const importForm = page.getByRole("form", { exact: true, name: "Import certyfikatu" });
      await importForm.getByLabel("wiele par w formacie programu (folder, drzewo F2000, paczka)", { exact: true }).check();
      await importForm.getByLabel("Program (adapter)", { exact: true }).getByRole("option").first().waitFor({ state: "attached" });
      await check("import from a program");
      await go("Organizacja");
      await page.getByRole("treeitem", { exact: true, name: "kasa-1" }).getByRole("link", { exact: true, name: "kasa-1" }).click();
      await page.getByRole("heading", { exact: true, name: "Stanowisko kasa-1" }).waitFor();
      await check("workstation");

      // A form the server refuses: every broken rule and the summary in Polish.
      await go("Organizacja");
      const company = page.getByRole("form", { exact: true, name: "Dodaj firmę" });
      await company.getByLabel("NIP", { exact: true }).fill("123");
      await company.getByRole("button", { exact: true, name: "Dodaj firmę" }).click();
      await company.getByRole("alert").waitFor();
      await expect.poll(() => company.locator("[data-rule]").count()).toBeGreaterThan(0);
      await check("refused form");
      // Rules as you type on the wizard.
      await go("Nowy certyfikat");
      const wizard = page.getByRole("form", { exact: true, name: "Nowy certyfikat w KSeF" });
      await wizard.getByLabel("Nazwa", { exact: true }).fill("J#");
      await wizard.getByLabel("Hasło klucza prywatnego", { exact: true }).fill("krotkie");
      await wizard.getByLabel("Powtórz hasło", { exact: true }).fill("inne");
      await expect.poll(() => wizard.locator("[data-rule]").count()).toBeGreaterThan(2);
      await check("wizard rules");

      // The sign-in page, and a failed sign-in said in Polish.
      await page.getByRole("button", { exact: true, name: "Wyloguj" }).click();
      await page.getByRole("heading", { exact: true, name: "Logowanie" }).waitFor();
      await check("sign-in");
      await page.getByLabel("Login", { exact: true }).fill(server?.adminLogin ?? "");
      await page.getByLabel("Hasło", { exact: true }).fill("Zle-haslo-2026!");
      await page.getByRole("button", { exact: true, name: "Zaloguj" }).click();
      await page.getByRole("alert").getByText("Nieprawidłowy login lub hasło.", { exact: false }).waitFor();
      await check("failed sign-in");
      await screenshot(page, "16-failed-sign-in");
    } finally {
      // Signed in again even when a check failed, so the tests after this one start where they expect.
      await page.goto(url());
      const signedIn = page.getByRole("navigation", { exact: true, name: "Nawigacja główna" });
      const signInPage = page.getByRole("heading", { exact: true, name: "Logowanie" });
      await signedIn.or(signInPage).waitFor();
      if ((await signInPage.count()) > 0) await signIn(server?.adminLogin ?? "", server?.adminPassword ?? "");
    }
    expect(english).toEqual([]);
  });

  it("a branch admin sees only their branch: table, tree, and not-found for the other branch's certificate", async () => {
    await go("Użytkownicy");
    const form = page.getByRole("form", { exact: true, name: "Dodaj użytkownika" });
    await form.getByLabel("Login", { exact: true }).fill(BRANCH_ADMIN.login);
    await form.getByLabel("Imię i nazwisko", { exact: true }).fill(BRANCH_ADMIN.name);
    await form.getByLabel("Hasło", { exact: true }).fill(BRANCH_ADMIN.password);
    await form.getByLabel("Rola", { exact: true }).selectOption({ label: "administrator oddziału" });
    await form.getByLabel("Firma", { exact: true }).selectOption({ label: "Hurtownia Testowa" });
    await form.getByLabel("Oddział", { exact: true }).selectOption({ label: "WAW – Oddział Warszawa" });
    await form.getByRole("button", { exact: true, name: "Dodaj użytkownika" }).click();
    await page.getByRole("table", { exact: true, name: "Użytkownicy" }).getByText(BRANCH_ADMIN.login).waitFor();
    await screenshot(page, "11-users");
    await page.getByRole("button", { exact: true, name: "Wyloguj" }).click();
    // Signed out before the next sign-in loads the page again (a reload before the answer would keep the session).
    await page.getByRole("heading", { exact: true, name: "Logowanie" }).waitFor();

    await signIn(BRANCH_ADMIN.login, BRANCH_ADMIN.password);
    expect(await page.getByRole("link", { exact: true, name: "Użytkownicy" }).count()).toBe(0);
    await go("Certyfikaty");
    const table = page.getByRole("table", { exact: true, name: "Lista certyfikatów" });
    await table.getByRole("link", { exact: true, name: "Jan Kowalski logowanie" }).waitFor();
    // The .p12 moved from Kraków to Warsaw: visible now; what stayed in Kraków is not.
    await table.getByRole("link", { exact: true, name: P12_NAME }).waitFor();
    expect(await table.getByRole("link", { exact: true, name: "Kraków offline" }).count()).toBe(0);

    await go("Organizacja");
    await page.getByRole("treeitem", { exact: true, name: "WAW – Oddział Warszawa" }).waitFor();
    expect(await page.getByRole("treeitem", { exact: true, name: "KRK – Oddział Kraków" }).count()).toBe(0);

    await page.goto(url(`/certificates/${importedId}`));
    await page.getByRole("alert").getByText("Nie znaleziono.").waitFor();
    expect(await page.getByRole("heading", { exact: true, name: "Certyfikat Kraków offline" }).count()).toBe(0);
    await screenshot(page, "12-branch-admin-not-found");
  });
});
