/**
 * Pairing a workstation's signer agent with the server (the agent HTTP contract of `apps/admin/src/server/agent`):
 * an admin creates a one-time code (8 Crockford base32 characters, shown `XXXX-XXXX`, valid 10 minutes),
 * the agent trades it for a bearer token, and every later request carries that token. Only SHA-256 of
 * codes and tokens is stored, so a copy of the database pairs nothing and impersonates no workstation.
 */
import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, gt, isNull } from "drizzle-orm";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { branches, companies, pairingCodes, workstationTokens, workstations } from "../store/schema.js";

/** How long a pairing code is valid: 10 minutes, in ms. */
export const PAIRING_CODE_TTL_MS = 10 * 60_000;

/** Crockford base32 (no I, L, O, U): nothing to misread when the code is typed from a screen. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LENGTH = 8;
/** Prefix of workstation tokens, so one found in a log or a file is recognisable (and can be revoked). */
const TOKEN_PREFIX = "ksw_";
/** Longest agent label kept (host name and version), characters. */
const MAX_LABEL_LENGTH = 200;

/** What the agent learns about its workstation (contract: `workstation` object). */
export interface AgentWorkstation {
  readonly id: string;
  readonly name: string;
  readonly branchId: string;
  readonly branchCode: string;
  readonly companyNip: string;
  readonly companyName: string;
  /** Absolute path on the workstation where `auth.xml` is written. */
  readonly outboxDir: string;
  /** Absolute path on the workstation where the person saves the signed file. */
  readonly inboxDir: string;
}

/** A workstation token as the admin UI lists it (never the token itself). */
export interface WorkstationTokenInfo {
  readonly id: string;
  readonly workstationId: string;
  /** What the agent said about itself at pairing (host name, agent version). */
  readonly label: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/**
 * SHA-256 of a secret (code or token), 64 lower-case hex: the only form stored.
 * @param secret the normalised code or the token
 */
export function secretHash(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/**
 * A typed pairing code in its canonical form: dashes and spaces dropped, upper case, and Crockford's
 * look-alikes read as digits (O → 0, I/L → 1).
 * @param code as typed (`abcd-efgh`, `ABCDEFGH`, ` abcd efgh `)
 * @returns the 8 canonical characters, or `undefined` when it cannot be a code
 */
export function normalizePairingCode(code: string): string | undefined {
  const c = code.replace(/[\s-]/g, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
  if (c.length !== CODE_LENGTH) return undefined;
  for (const ch of c) if (!ALPHABET.includes(ch)) return undefined;
  return c;
}

function newCode(): string {
  // 32 divides 256, so taking each byte modulo 32 is unbiased.
  const bytes = randomBytes(CODE_LENGTH);
  return Array.from(bytes, (b) => ALPHABET[b % 32]).join("");
}

function notFoundWorkstation(id: string): KsefCertsError {
  return new KsefCertsError("NOT_FOUND", msg("agent.workstation.notFound", { id: JSON.stringify(id) }), { details: { entity: "workstation", id } });
}

/**
 * The workstation as the agent sees it (with its branch and company).
 * @param db database or transaction
 * @param workstationId the workstation
 * @throws {KsefCertsError} NOT_FOUND when it does not exist
 */
export async function agentWorkstation(db: Db, workstationId: string): Promise<AgentWorkstation> {
  const [w] = await db
    .select({
      id: workstations.id,
      name: workstations.name,
      branchId: workstations.branchId,
      branchCode: branches.code,
      companyNip: companies.nip,
      companyName: companies.name,
      outboxDir: workstations.outboxDir,
      inboxDir: workstations.inboxDir,
    })
    .from(workstations)
    .innerJoin(branches, eq(branches.id, workstations.branchId))
    .innerJoin(companies, eq(companies.id, branches.companyId))
    .where(eq(workstations.id, workstationId));
  if (w === undefined) throw notFoundWorkstation(workstationId);
  return w;
}

/**
 * Creates a one-time pairing code for a workstation; earlier unused codes of that workstation stop working
 * (only the newest code shown to an admin is valid). Audited (`workstation.pairing-code`, without the code).
 * @param db database
 * @param input `workstationId`; `actor` for the audit log; `now` (default the clock); `ttlMs` (default {@link PAIRING_CODE_TTL_MS})
 * @returns the code as shown to people (`XXXX-XXXX`) and when it expires
 * @throws {KsefCertsError} NOT_FOUND for an unknown workstation; VALIDATION for a ttl outside 1 s–24 h
 */
export async function createPairingCode(
  db: Db,
  input: { readonly workstationId: string; readonly actor: string; readonly now?: Date; readonly ttlMs?: number },
): Promise<{ code: string; expiresAt: Date }> {
  const now = input.now ?? new Date();
  const ttlMs = input.ttlMs ?? PAIRING_CODE_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < 1000 || ttlMs > 86_400_000) {
    throw new KsefCertsError("VALIDATION", msg("agent.pairing.ttl"), {
      violations: [violation("ttlMs", "pairing.ttl.range", { min: 1000, max: 86_400_000 })],
    });
  }
  const code = newCode();
  const expiresAt = new Date(now.getTime() + ttlMs);
  await db.transaction(async (tx) => {
    const [w] = await tx.select({ id: workstations.id }).from(workstations).where(eq(workstations.id, input.workstationId));
    if (w === undefined) throw notFoundWorkstation(input.workstationId);
    await tx.delete(pairingCodes).where(and(eq(pairingCodes.workstationId, input.workstationId), isNull(pairingCodes.usedAt)));
    await tx.insert(pairingCodes).values({ codeHash: secretHash(code), workstationId: input.workstationId, createdBy: input.actor, createdAt: now, expiresAt });
    await appendAudit(tx, {
      actor: input.actor,
      action: "workstation.pairing-code",
      entityType: "workstation",
      entityId: input.workstationId,
      after: { expiresAt },
      at: now,
    });
  });
  return { code: `${code.slice(0, 4)}-${code.slice(4)}`, expiresAt };
}

/**
 * Trades a pairing code for a workstation token, once: the code is marked used in the same transaction that
 * stores the token's hash (two agents racing with one code: one wins, the other gets NOT_FOUND). Audited
 * (`workstation.pair`, with the label, without the token).
 * @param db database
 * @param input the code as typed (any case, with or without the dash); `label` (host name, agent version; ≤ 200 characters, trimmed); `now`
 * @returns the token (`ksw_` + 43 base64url characters; shown once, stored only hashed), its id and the workstation
 * @throws {KsefCertsError} NOT_FOUND when the code is wrong, expired or already used (one message for all three)
 * @throws {KsefCertsError} VALIDATION for an empty label
 */
export async function pairWorkstation(
  db: Db,
  input: { readonly code: string; readonly label: string; readonly now?: Date },
): Promise<{ token: string; tokenId: string; workstation: AgentWorkstation }> {
  const now = input.now ?? new Date();
  const label = input.label.trim().slice(0, MAX_LABEL_LENGTH);
  if (label === "") {
    throw new KsefCertsError("VALIDATION", msg("agent.pairing.labelRequired"), {
      violations: [violation("label", "pairing.label.required")],
    });
  }
  const normalized = normalizePairingCode(input.code);
  const wrong = new KsefCertsError("NOT_FOUND", msg("agent.pairing.wrongCode"), {
    hint: msg("agent.pairing.wrongCode.hint"),
    details: { entity: "pairingCode" },
  });
  if (normalized === undefined) throw wrong;
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return db.transaction(async (tx) => {
    const [used] = await tx
      .update(pairingCodes)
      .set({ usedAt: now })
      .where(and(eq(pairingCodes.codeHash, secretHash(normalized)), isNull(pairingCodes.usedAt), gt(pairingCodes.expiresAt, now)))
      .returning({ workstationId: pairingCodes.workstationId });
    if (used === undefined) throw wrong;
    const [row] = await tx
      .insert(workstationTokens)
      .values({ workstationId: used.workstationId, tokenHash: secretHash(token), label, createdAt: now, lastUsedAt: now })
      .returning({ id: workstationTokens.id });
    if (row === undefined) throw new KsefCertsError("INTERNAL", msg("agent.pairing.tokenNotStored"));
    await appendAudit(tx, {
      actor: `agent:${label}`,
      action: "workstation.pair",
      entityType: "workstation",
      entityId: used.workstationId,
      after: { tokenId: row.id, label },
      at: now,
    });
    return { token, tokenId: row.id, workstation: await agentWorkstation(tx, used.workstationId) };
  });
}

/** Below this age `lastUsedAt` is not rewritten (every long poll authenticates; one write a minute is enough). */
const LAST_USED_GRANULARITY_MS = 60_000;

/**
 * Checks a bearer token: known and not revoked. Records `lastUsedAt` (at most once a minute).
 * @param db database
 * @param token the bearer token as sent
 * @param options `now`
 * @returns the token id and its workstation
 * @throws {KsefCertsError} FORBIDDEN with `details.reason = "unauthenticated"` for a missing, unknown or revoked token
 *   (the HTTP layer answers 401 with `WWW-Authenticate: Bearer`)
 */
export async function authenticateWorkstation(
  db: Db,
  token: string,
  options: { readonly now?: Date } = {},
): Promise<{ tokenId: string; workstation: AgentWorkstation }> {
  const now = options.now ?? new Date();
  const unauthenticated = new KsefCertsError("FORBIDDEN", msg("agent.token.unknown"), {
    hint: msg("agent.token.unknown.hint"),
    details: { reason: "unauthenticated" },
  });
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) throw unauthenticated;
  const [row] = await db
    .select({
      id: workstationTokens.id,
      workstationId: workstationTokens.workstationId,
      lastUsedAt: workstationTokens.lastUsedAt,
      revokedAt: workstationTokens.revokedAt,
    })
    .from(workstationTokens)
    .where(eq(workstationTokens.tokenHash, secretHash(token)));
  if (row === undefined || row.revokedAt !== null) throw unauthenticated;
  if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
    await db.update(workstationTokens).set({ lastUsedAt: now }).where(eq(workstationTokens.id, row.id));
  }
  return { tokenId: row.id, workstation: await agentWorkstation(db, row.workstationId) };
}

/**
 * The tokens of a workstation, newest first (revoked ones included, for the record).
 * @param db database
 * @param workstationId the workstation
 */
export async function listWorkstationTokens(db: Db, workstationId: string): Promise<WorkstationTokenInfo[]> {
  return db
    .select({
      id: workstationTokens.id,
      workstationId: workstationTokens.workstationId,
      label: workstationTokens.label,
      createdAt: workstationTokens.createdAt,
      lastUsedAt: workstationTokens.lastUsedAt,
      revokedAt: workstationTokens.revokedAt,
    })
    .from(workstationTokens)
    .where(eq(workstationTokens.workstationId, workstationId))
    .orderBy(desc(workstationTokens.createdAt));
}

/**
 * The workstation a token belongs to (for access checks before revoking).
 * @param db database
 * @param tokenId the token's id
 * @throws {KsefCertsError} NOT_FOUND for an unknown id
 */
export async function workstationTokenInfo(db: Db, tokenId: string): Promise<WorkstationTokenInfo> {
  const [row] = await db.select().from(workstationTokens).where(eq(workstationTokens.id, tokenId));
  if (row === undefined)
    throw new KsefCertsError("NOT_FOUND", msg("agent.token.notFound", { id: JSON.stringify(tokenId) }), {
      details: { entity: "workstationToken", id: tokenId },
    });
  return { id: row.id, workstationId: row.workstationId, label: row.label, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

/**
 * Revokes a workstation token: the next request with it is refused (no cache to wait for). Revoking a revoked
 * token changes nothing and returns it as it is. Audited (`workstation.token-revoke`).
 * @param db database
 * @param input `tokenId`, `actor`, `now`
 * @returns the token after revocation
 * @throws {KsefCertsError} NOT_FOUND for an unknown id
 */
export async function revokeWorkstationToken(
  db: Db,
  input: { readonly tokenId: string; readonly actor: string; readonly now?: Date },
): Promise<WorkstationTokenInfo> {
  const now = input.now ?? new Date();
  return db.transaction(async (tx) => {
    const before = await workstationTokenInfo(tx, input.tokenId);
    if (before.revokedAt !== null) return before;
    await tx.update(workstationTokens).set({ revokedAt: now }).where(eq(workstationTokens.id, input.tokenId));
    await appendAudit(tx, {
      actor: input.actor,
      action: "workstation.token-revoke",
      entityType: "workstation",
      entityId: before.workstationId,
      before: { tokenId: before.id, label: before.label, revokedAt: null },
      after: { tokenId: before.id, label: before.label, revokedAt: now },
      at: now,
    });
    return { ...before, revokedAt: now };
  });
}
