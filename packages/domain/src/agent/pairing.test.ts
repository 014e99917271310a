import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import { auditLog, pairingCodes, workstationTokens } from "../store/schema.js";
import { seedOrg } from "./__fixtures__/org.js";
import {
  authenticateWorkstation,
  createPairingCode,
  listWorkstationTokens,
  normalizePairingCode,
  pairWorkstation,
  revokeWorkstationToken,
  secretHash,
} from "./index.js";

const T0 = new Date("2026-11-30T10:00:00Z");
const at = (ms: number): Date => new Date(T0.getTime() + ms);

it("normalizes typed codes (case, dash, spaces, Crockford look-alikes) and refuses anything else", () => {
  expect(normalizePairingCode("abcd-efgh")).toBe("ABCDEFGH");
  expect(normalizePairingCode(" AB CD-EF GH ")).toBe("ABCDEFGH");
  expect(normalizePairingCode("o1il-0000")).toBe("0111" + "0000");
  expect(normalizePairingCode("ABCD-EFG")).toBeUndefined();
  expect(normalizePairingCode("ABCD-EFGU")).toBeUndefined(); // U is not in Crockford's alphabet
  expect(normalizePairingCode("ABCD-EFGHJ")).toBeUndefined();
});

describeEachDb("agent pairing", (ctx) => {
  it("pairs once with a code typed in any form; stores only hashes; audited", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const { code, expiresAt } = await createPairingCode(db, { workstationId: org.workstationId, actor: "admin", now: T0 });
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(expiresAt).toEqual(at(600_000));
    const stored = await db.select().from(pairingCodes);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.codeHash).toBe(secretHash(code.replace("-", "")));
    expect(JSON.stringify(stored)).not.toContain(code.replace("-", ""));

    const paired = await pairWorkstation(db, { code: code.toLowerCase().replace("-", ""), label: "kasa-1.local ksef-signer/0.1.0", now: at(60_000) });
    expect(paired.token).toMatch(/^ksw_[A-Za-z0-9_-]{43}$/);
    expect(paired.workstation).toEqual({
      id: org.workstationId,
      name: "kasa-1",
      branchId: org.branchId,
      branchCode: "WAW",
      companyNip: "5265877635",
      companyName: "Hurtownia Testowa",
      outboxDir: "C:\\KSeF\\do-podpisu",
      inboxDir: "C:\\KSeF\\podpisane",
    });
    const tokens = await db.select().from(workstationTokens);
    expect(tokens.map((t) => t.tokenHash)).toEqual([secretHash(paired.token)]);

    // Used codes do not pair again.
    await expect(pairWorkstation(db, { code, label: "x", now: at(61_000) })).rejects.toSatisfy((e) => isKsefCertsError(e, "NOT_FOUND"));
    const audit = await db.select({ action: auditLog.action, after: auditLog.after }).from(auditLog);
    expect(audit.map((a) => a.action)).toEqual(["workstation.pairing-code", "workstation.pair"]);
    expect(JSON.stringify(audit)).not.toContain(paired.token);
    expect(JSON.stringify(audit)).not.toContain(code.replace("-", ""));
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });

  it("refuses expired and wrong codes, and a new code replaces the unused earlier one", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const first = await createPairingCode(db, { workstationId: org.workstationId, actor: "admin", now: T0 });
    await expect(pairWorkstation(db, { code: first.code, label: "late", now: at(600_000) })).rejects.toSatisfy((e) => isKsefCertsError(e, "NOT_FOUND"));
    const second = await createPairingCode(db, { workstationId: org.workstationId, actor: "admin", now: at(1000) });
    const third = await createPairingCode(db, { workstationId: org.workstationId, actor: "admin", now: at(2000) });
    await expect(pairWorkstation(db, { code: second.code, label: "replaced", now: at(3000) })).rejects.toSatisfy((e) => isKsefCertsError(e, "NOT_FOUND"));
    await expect(pairWorkstation(db, { code: "not a code", label: "x", now: at(3000) })).rejects.toSatisfy((e) => isKsefCertsError(e, "NOT_FOUND"));
    await expect(pairWorkstation(db, { code: third.code, label: "   ", now: at(3000) })).rejects.toSatisfy((e) => isKsefCertsError(e, "VALIDATION"));
    await expect(pairWorkstation(db, { code: third.code, label: "ok", now: at(3000) })).resolves.toMatchObject({ workstation: { id: org.workstationId } });
    await expect(createPairingCode(db, { workstationId: "00000000-0000-4000-8000-000000000000", actor: "admin" })).rejects.toSatisfy((e) =>
      isKsefCertsError(e, "NOT_FOUND"),
    );
  });

  it("two agents racing with one code: exactly one gets a token", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const { code } = await createPairingCode(db, { workstationId: org.workstationId, actor: "admin", now: T0 });
    const results = await Promise.allSettled([1, 2, 3].map((n) => pairWorkstation(db, { code, label: `agent-${n}`, now: at(1000) })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await db.select().from(workstationTokens)).toHaveLength(1);
  });

  it("authenticates a token until it is revoked, at once; lastUsedAt follows use", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const { code } = await createPairingCode(db, { workstationId: org.workstationId, actor: "admin", now: T0 });
    const { token, tokenId } = await pairWorkstation(db, { code, label: "kasa-1", now: at(1000) });
    const auth = await authenticateWorkstation(db, token, { now: at(120_000) });
    expect(auth).toMatchObject({ tokenId, workstation: { id: org.workstationId } });
    const [row] = await db.select().from(workstationTokens).where(eq(workstationTokens.id, tokenId));
    expect(row?.lastUsedAt).toEqual(at(120_000));
    await expect(authenticateWorkstation(db, `${token}x`)).rejects.toSatisfy(
      (e) => isKsefCertsError(e, "FORBIDDEN") && e.details["reason"] === "unauthenticated",
    );
    await expect(authenticateWorkstation(db, "Bearer nonsense")).rejects.toSatisfy((e) => isKsefCertsError(e, "FORBIDDEN"));

    const revoked = await revokeWorkstationToken(db, { tokenId, actor: "admin", now: at(200_000) });
    expect(revoked.revokedAt).toEqual(at(200_000));
    await expect(authenticateWorkstation(db, token, { now: at(200_001) })).rejects.toSatisfy((e) => isKsefCertsError(e, "FORBIDDEN"));
    // Revoking again changes nothing (and writes no second audit entry).
    expect((await revokeWorkstationToken(db, { tokenId, actor: "admin", now: at(300_000) })).revokedAt).toEqual(at(200_000));
    expect((await db.select().from(auditLog).where(eq(auditLog.action, "workstation.token-revoke"))).length).toBe(1);
    const listed = await listWorkstationTokens(db, org.workstationId);
    expect(listed).toEqual([
      { id: tokenId, workstationId: org.workstationId, label: "kasa-1", createdAt: at(1000), lastUsedAt: at(120_000), revokedAt: at(200_000) },
    ]);
    expect(await listWorkstationTokens(db, org.otherWorkstationId)).toEqual([]);
    await expect(revokeWorkstationToken(db, { tokenId: "00000000-0000-4000-8000-000000000000", actor: "admin" })).rejects.toSatisfy((e) =>
      isKsefCertsError(e, "NOT_FOUND"),
    );
  });
});
