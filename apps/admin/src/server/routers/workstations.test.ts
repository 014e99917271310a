import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate, createUser, type Role } from "@ksef-certs/domain/access";
import { createPairingCode, createSigningRequest, listWorkstationTokens, pairWorkstation } from "@ksef-certs/domain/agent";
import { openStore, type Store } from "@ksef-certs/domain/store";
import { schema } from "@ksef-certs/testing/database";
import { contextForRequest } from "../context.js";
import { CSRF_HEADER, SESSION_COOKIE, createCallerFactory } from "../trpc.js";
import { workstationsRouter } from "./workstations.js";

const PASSWORD = "Haslo-Testowe-2026!";
const createCaller = createCallerFactory(workstationsRouter);

describe("workstations router, per role", () => {
  let store: Store;
  const ids = { companyA: "", companyB: "", waw: "", krk: "", kasaWaw: "", kasaKrk: "", kasaB: "" };
  const callers = new Map<string, ReturnType<typeof createCaller>>();
  const as = (who: string): ReturnType<typeof createCaller> => {
    const c = callers.get(who);
    if (c === undefined) throw new Error(`no caller ${who}`);
    return c;
  };

  beforeAll(async () => {
    store = await openStore({ dataDir: ":memory:", env: {} });
    const db = store.db;
    const [a, b] = await db
      .insert(schema.companies)
      .values([
        { nip: "5265877635", name: "Firma A" },
        { nip: "7740001454", name: "Firma B" },
      ])
      .returning();
    ids.companyA = a?.id ?? "";
    ids.companyB = b?.id ?? "";
    const [waw, krk, bb] = await db
      .insert(schema.branches)
      .values([
        { companyId: ids.companyA, code: "WAW", name: "Warszawa" },
        { companyId: ids.companyA, code: "KRK", name: "Kraków" },
        { companyId: ids.companyB, code: "GDA", name: "Gdańsk" },
      ])
      .returning();
    ids.waw = waw?.id ?? "";
    ids.krk = krk?.id ?? "";
    const [k1, k2, k3] = await db
      .insert(schema.workstations)
      .values([
        { branchId: ids.waw, name: "kasa-waw", outboxDir: "/o", inboxDir: "/i" },
        { branchId: ids.krk, name: "kasa-krk", outboxDir: "/o", inboxDir: "/i" },
        { branchId: bb?.id ?? "", name: "kasa-b", outboxDir: "/o", inboxDir: "/i" },
      ])
      .returning();
    ids.kasaWaw = k1?.id ?? "";
    ids.kasaKrk = k2?.id ?? "";
    ids.kasaB = k3?.id ?? "";
    const accounts: [string, Role, string | null, string | null][] = [
      ["super", "super_admin", null, null],
      ["admin-a", "company_admin", ids.companyA, null],
      ["admin-waw", "branch_admin", ids.companyA, ids.waw],
      ["auditor-a", "auditor", ids.companyA, null],
      ["admin-b", "company_admin", ids.companyB, null],
    ];
    for (const [login, role, companyId, branchId] of accounts) {
      await createUser(db, { login, displayName: login, password: PASSWORD, role: { role, companyId, branchId } }, { actor: "test" });
      const s = await authenticate(db, { login, password: PASSWORD, clientKey: `test-${login}` });
      const headers = new Headers({ cookie: `${SESSION_COOKIE}=${s.token}`, [CSRF_HEADER]: s.csrfToken });
      const ctx = await contextForRequest(db, { clock: () => new Date() }, { headers, clientAddress: "127.0.0.1", secure: false, setCookie: () => undefined });
      callers.set(login, createCaller(ctx));
    }
  }, 120_000);

  afterAll(async () => {
    await store.close();
  });

  it("company admin and branch admin of the workstation's branch create pairing codes that pair", async () => {
    for (const who of ["super", "admin-a", "admin-waw"]) {
      const { code, expiresAt } = await as(who).createPairingCode({ workstationId: ids.kasaWaw });
      expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
      await expect(pairWorkstation(store.db, { code, label: `${who}-agent` })).resolves.toMatchObject({ workstation: { id: ids.kasaWaw } });
    }
  });

  it("a branch admin cannot touch another branch's workstation; another company's admin cannot see it; an auditor only reads", async () => {
    await expect(as("admin-waw").createPairingCode({ workstationId: ids.kasaKrk })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(as("admin-waw").tokens({ workstationId: ids.kasaKrk })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(as("admin-waw").signingRequests({ workstationId: ids.kasaKrk })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(as("admin-b").tokens({ workstationId: ids.kasaWaw })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(as("admin-b").createPairingCode({ workstationId: ids.kasaWaw })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(as("auditor-a").createPairingCode({ workstationId: ids.kasaWaw })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(as("auditor-a").tokens({ workstationId: ids.kasaWaw })).resolves.toBeInstanceOf(Array);
    await expect(as("admin-a").tokens({ workstationId: "not-a-uuid" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("tokens are listed without secrets and revoked by those who may write; others get NOT_FOUND or FORBIDDEN", async () => {
    const { code } = await createPairingCode(store.db, { workstationId: ids.kasaKrk, actor: "test" });
    const { token, tokenId } = await pairWorkstation(store.db, { code, label: "krk-agent" });
    const listed = await as("admin-a").tokens({ workstationId: ids.kasaKrk });
    expect(listed.map((t) => t.label)).toContain("krk-agent");
    expect(JSON.stringify(listed)).not.toContain(token);
    await expect(as("admin-waw").revokeToken({ tokenId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(as("admin-b").revokeToken({ tokenId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(as("auditor-a").revokeToken({ tokenId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(as("admin-a").revokeToken({ tokenId: "00000000-0000-4000-8000-000000000000" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const revoked = await as("admin-a").revokeToken({ tokenId });
    expect(typeof revoked.revokedAt).toBe("string");
    expect((await listWorkstationTokens(store.db, ids.kasaKrk)).find((t) => t.id === tokenId)?.revokedAt).toBeInstanceOf(Date);
  });

  it("signing requests of the workstation, newest first, with ISO dates", async () => {
    const xml = new TextEncoder().encode("<AuthTokenRequest/>");
    const first = await createSigningRequest(store.db, {
      workstationId: ids.kasaWaw,
      challenge: "20261130-CR-AAAAAAAAAA-BBBBBBBBBB-01",
      contextIdentifier: { type: "Nip", value: "5265877635" },
      xml,
      expiresAt: new Date(Date.now() + 600_000),
    });
    const second = await createSigningRequest(store.db, {
      workstationId: ids.kasaWaw,
      challenge: "20261130-CR-AAAAAAAAAA-BBBBBBBBBB-02",
      contextIdentifier: { type: "Nip", value: "5265877635" },
      xml,
      expiresAt: new Date(Date.now() + 600_000),
      now: new Date(Date.now() + 1),
    });
    const rows = await as("admin-waw").signingRequests({ workstationId: ids.kasaWaw });
    expect(rows.map((r) => r.id)).toEqual([second.id, first.id]);
    expect(rows[0]).toMatchObject({ status: "pending", fileName: second.fileName, expiresAt: second.expiresAt.toISOString(), replacedBy: null });
    await expect(as("auditor-a").signingRequests({ workstationId: ids.kasaWaw })).resolves.toHaveLength(2);
    await expect(as("admin-a").signingRequests({ workstationId: ids.kasaKrk })).resolves.toEqual([]);
  });
});
