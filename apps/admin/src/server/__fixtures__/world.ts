/**
 * Test fixtures of the server suites: a store (PGlite in memory, or a scratch PostgreSQL database when
 * KSEF_CERTS_TEST_DATABASE_URL is set), an organisation with two branches (the organisation factory of
 * `@ksef-certs/testing/organisation`), certificates in each scope,
 * an enrollment, accounts of every role with real sessions, and callers bound to them.
 */
import { TRPCError } from "@trpc/server";
import { authenticate, type NewSession } from "@ksef-certs/domain/access";
import { encryptPrivateKeyPem, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { recordCertificate, type Scope } from "@ksef-certs/domain/registry";
import { openStore, type Db, type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { createScratchDatabase } from "@ksef-certs/testing/database";
import { createTestOrganisation } from "@ksef-certs/testing/organisation";
import { issueKsefLikeCertificate } from "@ksef-certs/testing/certificates";
import { appRouter } from "../router.js";
import type { ServerServices } from "../services.js";
import { createCallerFactory, type Context } from "../trpc.js";

/** Database kinds this run tests. */
export const DB_KINDS: ("pglite" | "postgres")[] = process.env["KSEF_CERTS_TEST_DATABASE_URL"] ? ["pglite", "postgres"] : ["pglite"];

/** Opens a fresh store of a kind; `close` also drops a scratch database. */
export async function openTestStore(kind: "pglite" | "postgres"): Promise<Store> {
  if (kind === "pglite") return openStore({ dataDir: ":memory:", env: {} });
  const scratch = await createScratchDatabase(process.env["KSEF_CERTS_TEST_DATABASE_URL"] ?? "");
  const store = await openStore({ databaseUrl: scratch.url, env: {} });
  return {
    ...store,
    close: async () => {
      await store.close();
      await scratch.drop();
    },
  };
}

/** The clock of the fixtures. */
export const T0 = new Date("2026-11-30T10:00:00Z");

/**
 * The one clock of a suite that runs the KSeF simulator beside the server: it starts at {@link T0} and runs at the
 * real pace (monotonic), so the server, the enrollment service, the simulator and the KSeF client agree on every
 * date (certificates, challenges, tokens), and waits such as polling and rate-limit windows still pass.
 */
export function clockFromT0(): () => Date {
  const start = performance.now();
  return () => new Date(T0.getTime() + Math.floor(performance.now() - start));
}
/** Password of every test account. */
export const PASSWORD = "Bardzo-dlugie-haslo-1";

const META = { actor: "test", at: T0 };

/** Records a current Authentication certificate for a scope. */
export async function certificateFor(db: Db, scope: Scope): Promise<string> {
  const keys = await generateKeyPair("EC-P256");
  const keyFile = new TextEncoder().encode(await encryptPrivateKeyPem(keys.privateKey, "Haslo-klucza-123!", { iterations: 1000 }));
  const issued = await issueKsefLikeCertificate({
    certificateType: "Authentication",
    keys,
    enrollmentData: { commonName: "Jan Kowalski", countryName: "PL", givenName: "Jan", surname: "Kowalski", serialNumber: "PNOPL-44051401359" },
    validFrom: new Date(T0.getTime() - 86_400_000),
    validityDays: 365,
  });
  const row = await recordCertificate(
    db,
    { scope, environment: "test", mode: "current", name: "Cert", certificateDer: issued.der, keyFile, source: "imported" },
    META,
  );
  return row.id;
}

/**
 * A row the organisation factory made, by its key.
 * @param rows the factory's rows of one kind
 * @param key branch code, operator or workstation name
 * @throws Error when the spec did not make it
 */
function made<T>(rows: Readonly<Record<string, T>>, key: string): T {
  const row = rows[key];
  if (row === undefined) throw new Error(`the organisation has no ${key}`);
  return row;
}

/** The organisation, its certificates, an enrollment per branch, and sessions of every role. */
export async function buildWorld(db: Db) {
  const org = await createTestOrganisation(
    db,
    {
      nip: "5265877635",
      name: "Firma",
      branches: [
        { code: "B1", name: "Oddział 1", workstations: [{ name: "kasa-1", outboxDir: "/tmp/o1", inboxDir: "/tmp/i1" }] },
        { code: "B2", name: "Oddział 2", workstations: [{ name: "kasa-2", outboxDir: "/tmp/o2", inboxDir: "/tmp/i2" }] },
      ],
      operators: [
        { name: "Jan", branchCodes: ["B1"] },
        { name: "Anna", branchCodes: ["B2"] },
      ],
      users: [
        { login: "super", password: PASSWORD, role: "super_admin" },
        { login: "firma-admin", password: PASSWORD, role: "company_admin" },
        { login: "b1-admin", password: PASSWORD, role: "branch_admin", branchCode: "B1" },
        { login: "audytor", password: PASSWORD, role: "auditor" },
      ],
    },
    META,
  );
  const other = (await createTestOrganisation(db, { nip: "7740001454", name: "Inna" }, META)).company;
  const { company } = org;
  const [b1, b2] = [made(org.branches, "B1"), made(org.branches, "B2")];
  const [o1, o2] = [made(org.operators, "Jan"), made(org.operators, "Anna")];
  const [w1, w2] = [made(org.workstations, "kasa-1"), made(org.workstations, "kasa-2")];
  const certs = {
    company: await certificateFor(db, { type: "company", companyId: company.id }),
    b1: await certificateFor(db, { type: "branch", branchId: b1.id }),
    b2: await certificateFor(db, { type: "branch", branchId: b2.id }),
    o1: await certificateFor(db, { type: "operator", operatorId: o1.id }),
    o2: await certificateFor(db, { type: "operator", operatorId: o2.id }),
    other: await certificateFor(db, { type: "company", companyId: other.id }),
  };
  const enrollment = async (branchId: string, state: string): Promise<string> => {
    const [row] = await db
      .insert(schema.enrollments)
      .values({
        scopeType: "branch",
        companyId: company.id,
        branchId,
        environment: "test",
        certificateType: "Authentication",
        mode: "current",
        name: "Nowy certyfikat",
        state,
        authMethod: "handoff",
        createdAt: T0,
        updatedAt: T0,
      })
      .returning({ id: schema.enrollments.id });
    if (row === undefined) throw new Error("no enrollment row");
    return row.id;
  };
  const enrollments = { b1: await enrollment(b1.id, "completed"), b2: await enrollment(b2.id, "awaiting_signature") };
  const account = (login: string): Promise<NewSession> => authenticate(db, { login, password: PASSWORD, clientKey: "test", at: T0 });
  const sessions = {
    superAdmin: await account("super"),
    companyAdmin: await account("firma-admin"),
    branchAdmin: await account("b1-admin"),
    auditor: await account("audytor"),
  };
  return { company, other, b1, b2, o1, o2, w1, w2, certs, enrollments, sessions };
}

/** What a test caller records (cookies set). */
export interface CallerRecord {
  readonly cookies: string[];
}

/**
 * A server-side caller with a session (or none) and a CSRF header (default: the session's right one).
 * @param db the database
 * @param services server services
 * @param session the session, or null for an anonymous caller
 * @param csrf the header to send (undefined: the right token; null: none)
 * @param secure whether the request is https
 */
export async function callerFor(db: Db, services: ServerServices, session: NewSession | null, csrf?: string | null, secure = false) {
  const { sessionFromToken } = await import("@ksef-certs/domain/access");
  const active = session === null ? undefined : await sessionFromToken(db, session.token, services.clock());
  const record: CallerRecord = { cookies: [] };
  const ctx: Context = {
    db,
    services,
    principal: active?.principal ?? null,
    session: active ?? null,
    sessionToken: session?.token ?? null,
    csrfHeader: csrf === undefined ? (session?.csrfToken ?? null) : csrf,
    clientKey: "test-client",
    secure,
    setCookie: (h) => {
      record.cookies.push(h);
    },
  };
  return { caller: createCallerFactory(appRouter)(ctx), record };
}

/**
 * The tRPC code a call is refused with, or "OK" when it succeeds (other errors are re-thrown).
 * @param call the pending call
 */
export async function trpcCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
  return "OK";
}
