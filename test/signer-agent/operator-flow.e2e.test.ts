/**
 * An operator pairs a workstation and completes a hand-off end to end, through the real
 * product processes only — the built `ksef-certs serve --with-simulator` (free port, fresh data folder, the first
 * admin it prints) and the built `ksef-signer` CLI (`pair`, `run`, `status`) as child processes. The admin drives
 * the tRPC API over HTTP as the web app does: company, branch, operator with a PESEL, workstation with its outbox
 * and inbox, a pairing code; then an Authentication certificate for the operator by hand-off on that workstation.
 * The agent writes auth.xml into the outbox; the test signs that file as the operator (XAdES with a self-signed
 * PESEL certificate, what KSeF TEST accepts in place of Profil Zaufany) and saves it into the inbox under a
 * browser-like name; the server submits it to the simulator and the certificate is issued.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { generateKeyPair } from "@ksef-certs/ksef/crypto";
import { selfSignedCertificate } from "@ksef-certs/testing/certificates";
import { signXml } from "@ksef-certs/ksef/xades";
import { startAdminServer, type AdminServer } from "../admin-web/browser.js";
import { signInAdmin, type AdminApi } from "./admin-api.js";
import { runCli, startAgent, unaccounted, type RunningAgent } from "./fixtures.js";

const NIP = "5265877635";
const PESEL = "44051401458";
const KEY_PASSWORD = "Klucz-KSeF-2026-bezpieczny!";
/** What a browser calls a second download of the same name. */
const SAVED_AS = "auth (1).xml";

let work = "";
let server: AdminServer | undefined;
let agent: RunningAgent | undefined;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ksef-operator-flow-"));
  server = await startAdminServer(join(work, "data"));
}, 90_000);

afterAll(async () => {
  // Both children end whatever failed: the agent first (it would only reconnect to a stopped server).
  try {
    if (agent !== undefined && agent.child.exitCode === null && agent.child.signalCode === null) {
      const hard = setTimeout(() => agent?.child.kill("SIGKILL"), 5_000);
      await agent.stop();
      clearTimeout(hard);
    }
  } finally {
    try {
      await server?.stop();
    } finally {
      if (work !== "") await rm(work, { recursive: true, force: true });
    }
  }
}, 30_000);

/** Polls `read` every 200 ms until `done` holds, failing after `timeoutMs` with the last value and the logs. */
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > end) {
      throw new Error(
        `timed out waiting for ${what}; last: ${JSON.stringify(v)}\nagent:\n${agent?.raw().slice(-3000) ?? ""}\nserver:\n${server?.stderr().slice(-3000) ?? ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Enrollment {
  id: string;
  state: string;
  certificateId: string | null;
  certificateSerialNumber: string | null;
  failureReason: string | null;
  workstationId: string | null;
}
interface SigningRequestView {
  id: string;
  enrollmentId: string;
  fileName: string;
  status: string;
  signedSha256: string | null;
}

it("pairs a workstation with ksef-signer and completes an operator's hand-off: the certificate is issued", async () => {
  if (server === undefined) throw new Error("server not started");
  const outbox = join(work, "do-podpisu");
  const inbox = join(work, "podpisane");
  const configDir = join(work, "ksef-signer");
  await Promise.all([mkdir(outbox), mkdir(inbox)]);

  // The admin builds the organisation over the API the web app uses.
  const admin: AdminApi = await signInAdmin(server.url, server.adminLogin, server.adminPassword);
  const company = await admin.mutation<{ id: string }>("org.addCompany", { nip: NIP, name: "Hurtownia Testowa" });
  const branch = await admin.mutation<{ id: string }>("org.addBranch", { companyId: company.id, code: "WAW", name: "Oddział Warszawa" });
  const operator = await admin.mutation<{ id: string }>("org.addOperator", {
    companyId: company.id,
    name: "Jan Kowalski",
    pesel: PESEL,
    branchIds: [branch.id],
  });
  const workstation = await admin.mutation<{ id: string }>("org.addWorkstation", { branchId: branch.id, name: "kasa-1", outboxDir: outbox, inboxDir: inbox });
  const { code } = await admin.mutation<{ code: string }>("workstations.createPairingCode", { workstationId: workstation.id });
  expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);

  // The operator's workstation: pair (the folders come from the server), then the daemon.
  const paired = await runCli(["pair", "--server", server.url, "--code", code, "--config-dir", configDir, "--label", "kasa-1 e2e", "--json"]);
  expect(paired.code, paired.stderr + paired.stdout).toBe(0);
  expect(JSON.parse(paired.stdout)).toMatchObject({
    paired: true,
    workstation: { id: workstation.id, companyNip: NIP, outboxDir: outbox, inboxDir: inbox },
    outboxDir: outbox,
    inboxDir: inbox,
  });
  const tokens = await admin.query<{ label: string; revokedAt: string | null }[]>("workstations.tokens", { workstationId: workstation.id });
  expect(tokens).toEqual([expect.objectContaining({ label: "kasa-1 e2e", revokedAt: null })]);
  const a = startAgent(configDir);
  agent = a;
  process.once("exit", () => a.child.kill("SIGKILL"));
  await a.waitFor((l) => l.msg === "signer agent started", 20_000, "the agent to start");

  // The admin asks for Jan's Authentication certificate, signed in by hand-off at kasa-1.
  const { enrollmentId } = await admin.mutation<{ enrollmentId: string }>("enrollments.request", {
    scope: { companyId: company.id, operatorId: operator.id },
    environment: "test",
    certificateType: "Authentication",
    mode: "current",
    name: "Jan Kowalski logowanie",
    authMethod: "handoff",
    workstationId: workstation.id,
    keyPassword: KEY_PASSWORD,
  });

  // The agent writes the enrollment's auth.xml into the outbox.
  const written = await a.waitFor((l) => l.msg === "auth.xml written to the outbox for signing", 30_000, "auth.xml in the outbox");
  const authXml = String(written["file"]);
  expect(join(outbox, basename(authXml))).toBe(authXml);
  const [request] = await admin.query<SigningRequestView[]>("workstations.signingRequests", { workstationId: workstation.id });
  expect(request).toMatchObject({ id: written["requestId"], enrollmentId, status: "pending", fileName: basename(authXml) });
  expect(await admin.query<Enrollment>("enrollments.get", { id: enrollmentId })).toMatchObject({ state: "awaiting_signature", workstationId: workstation.id });
  const before = JSON.parse((await runCli(["status", "--config-dir", configDir, "--json"])).stdout) as { pending: { id: string }[] };
  expect(before.pending.map((p) => p.id)).toEqual([request?.id]);

  // Jan signs the file (his PESEL in the certificate) and his browser saves it into the inbox as "auth (1).xml".
  const keys = await generateKeyPair("EC-P256");
  const janCertificate = await selfSignedCertificate(keys, [
    { oid: "2.5.4.3", value: "Jan Kowalski", stringType: "UTF8String" },
    { oid: "2.5.4.42", value: "Jan", stringType: "UTF8String" },
    { oid: "2.5.4.4", value: "Kowalski", stringType: "UTF8String" },
    { oid: "2.5.4.5", value: `PNOPL-${PESEL}`, stringType: "PrintableString" },
    { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
  ]);
  const signed = await signXml(await readFile(authXml), { privateKey: keys.privateKey, certificate: janCertificate.der });
  await writeFile(join(inbox, SAVED_AS), signed);

  // The server submits the uploaded file to KSeF (the simulator) and the enrollment finishes.
  const done = await until(
    "the enrollment to finish",
    () => admin.query<Enrollment>("enrollments.get", { id: enrollmentId }),
    (e) => e.state === "completed" || e.state === "failed",
    45_000,
  );
  expect(done.state, done.failureReason ?? "").toBe("completed");
  expect(done.certificateId).not.toBeNull();
  expect(done.certificateSerialNumber).not.toBeNull();

  const listed = await admin.query<{ items: { id: string; certificateType: string; environment: string; serialNumber: string }[] }>("certificates.list", {
    operatorId: operator.id,
  });
  expect(listed.items).toEqual([
    expect.objectContaining({ id: done.certificateId, certificateType: "Authentication", environment: "test", serialNumber: done.certificateSerialNumber }),
  ]);
  const issued = await admin.query<{ certificate: { subjectIdentifier: { type: string; value: string }; enrollmentId: string | null } }>("certificates.get", {
    id: done.certificateId,
  });
  expect(issued.certificate).toMatchObject({ subjectIdentifier: { type: "Pesel", value: PESEL }, enrollmentId });

  // Exactly one signing request, submitted with the very bytes Jan saved.
  const requests = await admin.query<SigningRequestView[]>("workstations.signingRequests", { workstationId: workstation.id });
  expect(requests).toEqual([
    expect.objectContaining({ id: request?.id, enrollmentId, status: "submitted", signedSha256: createHash("sha256").update(signed).digest("hex") }),
  ]);

  // The workstation's folders: the saved file in processed/, nothing left over, the stale auth.xml gone.
  await a.waitFor((l) => l.msg === "signed file handled and moved to processed/" && l["file"] === SAVED_AS, 20_000, `${SAVED_AS} in processed/`);
  expect(await readdir(join(inbox, "processed"))).toEqual([SAVED_AS]);
  expect(await readFile(join(inbox, "processed", SAVED_AS))).toEqual(Buffer.from(signed));
  expect(await unaccounted(inbox)).toEqual([]);
  await until(
    "auth.xml to leave the outbox",
    () => readdir(outbox),
    (names) => !names.some((n) => n.endsWith(".xml")),
    10_000,
  );

  const status = await runCli(["status", "--config-dir", configDir, "--json"]);
  expect(status.code, status.stderr).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({
    server: server.url,
    serverStatus: { reachable: true, tokenAccepted: true },
    outboxDir: outbox,
    inboxDir: inbox,
    pending: [],
  });
}, 90_000);
