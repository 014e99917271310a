/**
 * Signing requests: AuthTokenRequests waiting for a person's signature at a workstation, delivered to its
 * signer agent and answered with the signed file (the agent HTTP contract of `apps/admin/src/server/agent`).
 *
 * Lifecycle (`signing_requests.status`): `pending` → `signed` (a verified file is stored, bytes unchanged) →
 * `submitted` (the enrollment took it); or `expired` (the challenge ran out, or a newer request of the same
 * enrollment replaced it: `replacedBy` is that request, derived as the next request of the enrollment);
 * or `failed` (the agent reported that the person gave up or the file was refused locally; a valid file for
 * the same challenge is still accepted afterwards, since the person may simply try again).
 *
 * `updatedAt` is stamped on every status change: the agent's cursor is the newest `updatedAt` it saw, so it
 * learns about expiries and replacements without re-reading everything.
 */
import { createHash } from "node:crypto";
import { and, asc, desc, eq, gt, inArray, lte, max, type SQL } from "drizzle-orm";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg, type MessageParams, type MessageRef } from "@ksef-certs/ksef/messages";
import { enrollmentOperator, operatorFileNamePart } from "../enrollment/expected-signer.js";
import {
  MAX_AUTH_REQUEST_BYTES,
  MAX_HANDOFF_FILE_BYTES,
  classifySignedFile,
  handoffFileName,
  wrongSignerMessage,
  type PendingSignature,
} from "@ksef-certs/ksef/handoff";
import { MAX_FAILURE_REASON_LENGTH, MAX_WAIT_MS } from "@ksef-certs/ksef/agent-protocol";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { signingRequests, workstations } from "../store/schema.js";
import type { ContextIdentifierType, XadesRejectionReason } from "@ksef-certs/ksef/xades";
import type { SigningRequestNotifier, SigningRequestStatus } from "./notifier.js";

/** A signing request without its XML bodies (what lists show). */
export interface SigningRequestView {
  readonly id: string;
  readonly workstationId: string;
  readonly enrollmentId: string | null;
  /** The KSeF challenge in the request (36 characters). */
  readonly challenge: string;
  readonly contextIdentifier: { readonly type: ContextIdentifierType; readonly value: string };
  /** The file name the agent writes into the outbox. */
  readonly fileName: string;
  /** When the challenge stops being accepted by KSeF. */
  readonly expiresAt: Date;
  readonly status: SigningRequestStatus;
  /** For an `expired` request replaced by a newer one of the same enrollment: that request's id. */
  readonly replacedBy?: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** First time the agent received it. */
  readonly deliveredAt: Date | null;
  readonly signedAt: Date | null;
  /** SHA-256 of the accepted signed file, 64 lower-case hex. */
  readonly signedSha256: string | null;
  readonly failureReason: string | null;
}

/** A request as the agent receives it: the view plus the unsigned `auth.xml` bytes. */
export interface DeliveredSigningRequest extends SigningRequestView {
  /** The unsigned AuthTokenRequest, UTF-8; the agent writes it unchanged. */
  readonly xml: Uint8Array;
}

/** Who signed an accepted file (from the verifier; nothing secret). */
export interface SignerSummary {
  /** The identity KSeF derives: NIP, PESEL or certificate fingerprint. */
  readonly identity: { readonly type: "Nip" | "Pesel" | "Fingerprint"; readonly value: string };
  readonly identitySource: "certificateSubject" | "certificateFingerprint" | "trustedProfile";
  /** The signing certificate's subject, one line. */
  readonly subject: string;
  /** SHA-256 of the signing certificate, 64 uppercase hex. */
  readonly fingerprint: string;
  /** XAdES SigningTime, ISO 8601, when present. */
  readonly signingTime?: string;
}

type Row = typeof signingRequests.$inferSelect;

const VIEW_COLUMNS = {
  id: signingRequests.id,
  workstationId: signingRequests.workstationId,
  enrollmentId: signingRequests.enrollmentId,
  challenge: signingRequests.challenge,
  contextIdentifier: signingRequests.contextIdentifier,
  fileName: signingRequests.fileName,
  expiresAt: signingRequests.expiresAt,
  status: signingRequests.status,
  createdAt: signingRequests.createdAt,
  updatedAt: signingRequests.updatedAt,
  deliveredAt: signingRequests.deliveredAt,
  signedAt: signingRequests.signedAt,
  signedSha256: signingRequests.signedSha256,
  failureReason: signingRequests.failureReason,
};

type ViewRow = Omit<SigningRequestView, "replacedBy">;

/**
 * SHA-256 of bytes, 64 lower-case hex (how uploads are compared and how `X-Content-SHA256` is written).
 * @param bytes any bytes
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Adds `replacedBy` to expired rows: the next request (by `createdAt`) of the same enrollment. */
async function withReplacements<T extends ViewRow>(db: Db, rows: readonly T[]): Promise<(T & { replacedBy?: string })[]> {
  const enrollmentIds = [...new Set(rows.filter((r) => r.status === "expired" && r.enrollmentId !== null).map((r) => r.enrollmentId as string))];
  if (enrollmentIds.length === 0) return [...rows];
  const siblings = await db
    .select({ id: signingRequests.id, enrollmentId: signingRequests.enrollmentId, createdAt: signingRequests.createdAt })
    .from(signingRequests)
    .where(inArray(signingRequests.enrollmentId, enrollmentIds))
    .orderBy(asc(signingRequests.createdAt), asc(signingRequests.id));
  return rows.map((r) => {
    if (r.status !== "expired" || r.enrollmentId === null) return r;
    const next = siblings.find((s) => s.enrollmentId === r.enrollmentId && s.createdAt.getTime() > r.createdAt.getTime());
    return next === undefined ? r : { ...r, replacedBy: next.id };
  });
}

function notFoundRequest(id: string): KsefCertsError {
  return new KsefCertsError("NOT_FOUND", msg("agent.request.notFound", { id: JSON.stringify(id) }), {
    details: { entity: "signingRequest", id },
  });
}

/**
 * The error of an upload or wait for a request whose challenge has expired: CONFLICT with
 * `details.reason = "challenge-expired"` (the enrollment service and the folder hand-off use the same reason
 * to renew the challenge) and `details.replacedBy` when a newer request already exists. HTTP: 410.
 * @param request the expired request (id, expiry, replacement)
 */
export function challengeExpiredError(request: { readonly id: string; readonly expiresAt: Date; readonly replacedBy?: string | undefined }): KsefCertsError {
  const expiresAt = request.expiresAt.toISOString();
  return new KsefCertsError(
    "CONFLICT",
    request.replacedBy === undefined
      ? msg("agent.request.challengeExpired.renewing", { expiresAt })
      : msg("agent.request.challengeExpired.renewed", { expiresAt }),
    {
      hint: msg("agent.request.challengeExpired.hint"),
      details: {
        reason: "challenge-expired",
        requestId: request.id,
        expiresAt,
        ...(request.replacedBy === undefined ? {} : { replacedBy: request.replacedBy }),
      },
    },
  );
}

/** Input of {@link createSigningRequest}. */
export interface CreateSigningRequestInput {
  readonly workstationId: string;
  /** The enrollment waiting for it; its older `pending` requests become `expired` (replaced by this one). */
  readonly enrollmentId?: string | null;
  readonly challenge: string;
  readonly contextIdentifier: { readonly type: ContextIdentifierType; readonly value: string };
  /** The unsigned AuthTokenRequest, UTF-8, ≤ `MAX_AUTH_REQUEST_BYTES`. */
  readonly xml: Uint8Array;
  readonly expiresAt: Date;
  /** Default `handoffFileName({ context, operator, challenge })`, `operator` being the enrollment's operator, if any. */
  readonly fileName?: string;
  /** For the audit log; default `system`. */
  readonly actor?: string;
  readonly now?: Date;
  /** Told about the new request and the ones it replaced, after commit. */
  readonly notifier?: SigningRequestNotifier;
}

/**
 * Stores a new pending signing request for a workstation (the agent will receive it at its next poll).
 * Older `pending` or not yet replaced `expired` requests of the same enrollment become `expired` with this one
 * as `replacedBy`. One transaction, audited (`signing-request.create`).
 * @param db database
 * @param input see {@link CreateSigningRequestInput}
 * @returns the new request
 * @throws {KsefCertsError} NOT_FOUND for an unknown workstation; TOO_LARGE above `MAX_AUTH_REQUEST_BYTES`;
 *   VALIDATION when no file name can be made from the context and challenge
 */
export async function createSigningRequest(db: Db, input: CreateSigningRequestInput): Promise<SigningRequestView> {
  const now = input.now ?? new Date();
  if (input.xml.byteLength > MAX_AUTH_REQUEST_BYTES) {
    throw new KsefCertsError("TOO_LARGE", msg("agent.request.tooLarge", { size: input.xml.byteLength, max: MAX_AUTH_REQUEST_BYTES }), {
      details: { size: input.xml.byteLength, limitBytes: MAX_AUTH_REQUEST_BYTES },
    });
  }
  const enrollmentId = input.enrollmentId ?? null;
  const operator = input.fileName === undefined && enrollmentId !== null ? operatorFileNamePart(await enrollmentOperator(db, enrollmentId)) : undefined;
  const fileName =
    input.fileName ?? handoffFileName({ context: input.contextIdentifier.value, challenge: input.challenge, ...(operator === undefined ? {} : { operator }) });
  const { created, replaced } = await db.transaction(async (tx) => {
    const [w] = await tx.select({ id: workstations.id }).from(workstations).where(eq(workstations.id, input.workstationId));
    if (w === undefined)
      throw new KsefCertsError("NOT_FOUND", msg("agent.workstation.notFound", { id: JSON.stringify(input.workstationId) }), {
        details: { entity: "workstation", id: input.workstationId },
      });
    let createdAt = now;
    const replaced: { id: string; workstationId: string }[] = [];
    if (enrollmentId !== null) {
      const [latest] = await tx
        .select({ id: signingRequests.id, workstationId: signingRequests.workstationId, status: signingRequests.status, createdAt: signingRequests.createdAt })
        .from(signingRequests)
        .where(eq(signingRequests.enrollmentId, enrollmentId))
        .orderBy(desc(signingRequests.createdAt), desc(signingRequests.id))
        .limit(1);
      // `replacedBy` is "the next request by createdAt": keep createdAt strictly increasing within an enrollment.
      if (latest !== undefined && latest.createdAt.getTime() >= createdAt.getTime()) createdAt = new Date(latest.createdAt.getTime() + 1);
      if (latest?.status === "expired") {
        // Expired before this renewal: touched so agents past it on their cursor learn its `replacedBy`.
        await tx.update(signingRequests).set({ updatedAt: now }).where(eq(signingRequests.id, latest.id));
        replaced.push({ id: latest.id, workstationId: latest.workstationId });
      }
      replaced.push(
        ...(await tx
          .update(signingRequests)
          .set({ status: "expired", updatedAt: now })
          .where(and(eq(signingRequests.enrollmentId, enrollmentId), eq(signingRequests.status, "pending")))
          .returning({ id: signingRequests.id, workstationId: signingRequests.workstationId })),
      );
    }
    const [row] = await tx
      .insert(signingRequests)
      .values({
        workstationId: input.workstationId,
        enrollmentId,
        challenge: input.challenge,
        contextIdentifier: { type: input.contextIdentifier.type, value: input.contextIdentifier.value },
        fileName,
        xml: input.xml,
        expiresAt: input.expiresAt,
        status: "pending",
        createdAt,
        updatedAt: now,
      })
      .returning(VIEW_COLUMNS);
    if (row === undefined) throw new KsefCertsError("INTERNAL", msg("agent.request.notStored"));
    await appendAudit(tx, {
      actor: input.actor ?? "system",
      action: "signing-request.create",
      entityType: "signing-request",
      entityId: row.id,
      after: {
        workstationId: row.workstationId,
        enrollmentId,
        challenge: row.challenge,
        fileName,
        expiresAt: row.expiresAt,
        replaces: replaced.map((r) => r.id),
      },
      at: now,
    });
    return { created: row, replaced };
  });
  for (const r of replaced) input.notifier?.emit({ workstationId: r.workstationId, requestId: r.id, enrollmentId, status: "expired" });
  input.notifier?.emit({ workstationId: created.workstationId, requestId: created.id, enrollmentId, status: "pending" });
  return created;
}

/** Filter of {@link listSigningRequests}. */
export interface ListSigningRequestsFilter {
  readonly workstationId?: string;
  readonly enrollmentId?: string;
  readonly statuses?: readonly SigningRequestStatus[];
  /** At most this many, newest first; default 100, at most 1000. */
  readonly limit?: number;
}

/**
 * Signing requests, newest first, without their XML (admin UI, CLI).
 * @param db database
 * @param filter workstation, enrollment, statuses, limit
 */
export async function listSigningRequests(db: Db, filter: ListSigningRequestsFilter = {}): Promise<SigningRequestView[]> {
  const where: SQL[] = [];
  if (filter.workstationId !== undefined) where.push(eq(signingRequests.workstationId, filter.workstationId));
  if (filter.enrollmentId !== undefined) where.push(eq(signingRequests.enrollmentId, filter.enrollmentId));
  if (filter.statuses !== undefined) where.push(inArray(signingRequests.status, [...filter.statuses]));
  const limit = Math.max(1, Math.min(1000, filter.limit ?? 100));
  const rows = await db
    .select(VIEW_COLUMNS)
    .from(signingRequests)
    .where(and(...where))
    .orderBy(desc(signingRequests.createdAt), desc(signingRequests.id))
    .limit(limit);
  return withReplacements(db, rows);
}

/**
 * One signing request of a workstation, without its XML.
 * @param db database
 * @param input `requestId`; `workstationId` (a request of another workstation is NOT_FOUND)
 * @throws {KsefCertsError} NOT_FOUND
 */
export async function getSigningRequest(db: Db, input: { readonly requestId: string; readonly workstationId?: string }): Promise<SigningRequestView> {
  const row = await loadRow(db, input.requestId, input.workstationId);
  const [view] = await withReplacements(db, [toView(row)]);
  if (view === undefined) throw notFoundRequest(input.requestId);
  return view;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function loadRow(db: Db, requestId: string, workstationId: string | undefined, forUpdate = false): Promise<Row> {
  // Not a uuid: PostgreSQL would refuse the comparison; for the caller it is just an unknown id.
  if (!UUID.test(requestId)) throw notFoundRequest(requestId);
  const where =
    workstationId === undefined ? eq(signingRequests.id, requestId) : and(eq(signingRequests.id, requestId), eq(signingRequests.workstationId, workstationId));
  const query = db.select().from(signingRequests).where(where);
  const [row] = forUpdate ? await query.for("update") : await query;
  if (row === undefined) throw notFoundRequest(requestId);
  return row;
}

function toView(row: Row): ViewRow {
  return {
    id: row.id,
    workstationId: row.workstationId,
    enrollmentId: row.enrollmentId,
    challenge: row.challenge,
    contextIdentifier: row.contextIdentifier,
    fileName: row.fileName,
    expiresAt: row.expiresAt,
    status: row.status,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    deliveredAt: row.deliveredAt,
    signedAt: row.signedAt,
    signedSha256: row.signedSha256,
    failureReason: row.failureReason,
  };
}

/**
 * Marks `pending` requests whose challenge has run out as `expired` (nobody may be waiting for them any more:
 * a crashed server, an enrollment given up), so agents learn about it through their cursor.
 * @returns the requests changed
 */
async function expireOverdue(db: Db, where: SQL, now: Date): Promise<{ id: string; workstationId: string; enrollmentId: string | null }[]> {
  return db
    .update(signingRequests)
    .set({ status: "expired", updatedAt: now })
    .where(and(where, eq(signingRequests.status, "pending"), lte(signingRequests.expiresAt, now)))
    .returning({ id: signingRequests.id, workstationId: signingRequests.workstationId, enrollmentId: signingRequests.enrollmentId });
}

/** What {@link pendingSigningRequests} returns. */
export interface PendingSigningRequests {
  /** The workstation's pending (unexpired) requests, plus requests changed since `after`. */
  readonly requests: DeliveredSigningRequest[];
  /** Pass back as `after` next time (opaque). */
  readonly cursor: string;
  /** Whether anything is new for the agent: a change since `after`, or (without `after`) any pending request. */
  readonly changed: boolean;
}

function parseCursor(after: string | undefined): Date | undefined {
  if (after === undefined || after === "") return undefined;
  const ms = /^\d{1,16}$/.test(after) ? Number(after) : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new KsefCertsError("VALIDATION", msg("agent.cursor.foreign"), {
      violations: [violation("after", "agent.cursor.format")],
    });
  }
  return new Date(ms);
}

/**
 * What a workstation's agent should know now: its pending requests (challenge not expired), and every
 * request of the workstation changed after `after` (expired, replaced, signed, submitted, failed). Overdue
 * pending requests are marked expired first; first deliveries are stamped (`deliveredAt`, without moving the cursor).
 * @param db database
 * @param workstationId the authenticated workstation
 * @param options `after` (the cursor of the previous answer), `now`, `notifier` (told about requests expired here)
 * @returns the requests (with their unsigned XML), the next cursor (ms since epoch of the newest change, as a string) and `changed`
 * @throws {KsefCertsError} VALIDATION for a cursor this server did not give out
 */
export async function pendingSigningRequests(
  db: Db,
  workstationId: string,
  options: { readonly after?: string; readonly now?: Date; readonly notifier?: SigningRequestNotifier } = {},
): Promise<PendingSigningRequests> {
  const now = options.now ?? new Date();
  const after = parseCursor(options.after);
  const expired = await expireOverdue(db, eq(signingRequests.workstationId, workstationId), now);
  for (const e of expired) options.notifier?.emit({ workstationId: e.workstationId, requestId: e.id, enrollmentId: e.enrollmentId, status: "expired" });
  // The cursor is read before the rows: a change committed in between is sent now and again next time, never lost.
  const [newest] = await db
    .select({ at: max(signingRequests.updatedAt) })
    .from(signingRequests)
    .where(eq(signingRequests.workstationId, workstationId));
  const pendingNow = and(eq(signingRequests.workstationId, workstationId), eq(signingRequests.status, "pending"), gt(signingRequests.expiresAt, now));
  const rows = await db
    .select()
    .from(signingRequests)
    .where(after === undefined ? pendingNow : and(eq(signingRequests.workstationId, workstationId), gt(signingRequests.updatedAt, after)))
    .orderBy(asc(signingRequests.createdAt), asc(signingRequests.id));
  const changed = rows.length > 0;
  let all = rows;
  if (after !== undefined) {
    // Pending requests unchanged since the cursor are listed again: the answer is always the full pending set.
    const seen = new Set(rows.map((r) => r.id));
    const stillPending = await db
      .select()
      .from(signingRequests)
      .where(and(pendingNow, lte(signingRequests.updatedAt, after)));
    all = [...stillPending.filter((r) => !seen.has(r.id)), ...rows].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
  }
  const cursorMs = Math.max(newest?.at?.getTime() ?? 0, after?.getTime() ?? 0);
  const undelivered = all.filter((r) => r.deliveredAt === null && r.status === "pending").map((r) => r.id);
  if (undelivered.length > 0) await db.update(signingRequests).set({ deliveredAt: now }).where(inArray(signingRequests.id, undelivered));
  const views = await withReplacements(
    db,
    all.map((r) => ({ ...toView(r), deliveredAt: r.deliveredAt ?? (r.status === "pending" ? now : null), xml: r.xml })),
  );
  return { requests: views, cursor: String(cursorMs), changed };
}

/** Options of {@link waitForSigningRequests}. */
export interface WaitForSigningRequestsOptions {
  /** The cursor of the previous answer. */
  readonly after?: string;
  /** Longest wait, ms (0–`MAX_WAIT_MS` of the agent protocol, 30 000). */
  readonly waitMs: number;
  readonly notifier: SigningRequestNotifier;
  readonly signal?: AbortSignal;
  /** The clock; default `new Date()`. */
  readonly now?: () => Date;
}

/**
 * The long poll of the agent: {@link pendingSigningRequests} at once when something is new for the agent,
 * otherwise after the first change of this workstation's requests (in-process notifier) or after `waitMs`,
 * whichever comes first. A change made by another server process is seen at the latest after `waitMs`.
 * @param db database
 * @param workstationId the authenticated workstation
 * @param options cursor, wait, notifier, cancellation, clock
 * @returns as {@link pendingSigningRequests}
 * @throws {KsefCertsError} VALIDATION for `waitMs` outside 0–30 000 or a foreign cursor; IO with
 *   `details.reason = "aborted"` (retryable: poll again) when `signal` aborts during the wait
 */
export async function waitForSigningRequests(db: Db, workstationId: string, options: WaitForSigningRequestsOptions): Promise<PendingSigningRequests> {
  const now = options.now ?? (() => new Date());
  if (!Number.isInteger(options.waitMs) || options.waitMs < 0 || options.waitMs > MAX_WAIT_MS) {
    throw new KsefCertsError("VALIDATION", msg("agent.waitMs.outOfRange", { max: MAX_WAIT_MS }), {
      violations: [violation("waitMs", "agent.waitMs.range", { min: 0, max: MAX_WAIT_MS })],
    });
  }
  const base = { ...(options.after === undefined ? {} : { after: options.after }), notifier: options.notifier };
  // Subscribed before the first read, so a change committed between the read and the wait still wakes us.
  const seen = { change: false };
  const unsubscribe = options.notifier.subscribe((e) => {
    if (e.workstationId === workstationId) seen.change = true;
  });
  try {
    const first = await pendingSigningRequests(db, workstationId, { ...base, now: now() });
    if (first.changed || options.waitMs === 0) return first;
    if (!seen.change) {
      await options.notifier.next((e) => e.workstationId === workstationId, {
        timeoutMs: options.waitMs,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    }
    // The client went away: nothing is delivered, so no `deliveredAt` is stamped.
    if (options.signal?.aborted === true) {
      throw new KsefCertsError("IO", msg("agent.poll.cancelled"), { retryable: true, details: { reason: "aborted" } });
    }
    return await pendingSigningRequests(db, workstationId, { ...base, now: now() });
  } finally {
    unsubscribe();
  }
}

/** Result of {@link acceptSignedFile}. */
export interface AcceptedSignedFile {
  /** `signed`: stored now; `duplicate`: the same bytes were accepted before (nothing changed). */
  readonly status: "signed" | "duplicate";
  readonly request: SigningRequestView;
  /** Who signed (absent for a duplicate). */
  readonly signer?: SignerSummary;
}

/** Input of {@link acceptSignedFile}. */
export interface AcceptSignedFileInput {
  readonly workstationId: string;
  readonly requestId: string;
  /** The signed file exactly as the person saved it; stored unchanged. */
  readonly bytes: Uint8Array;
  /** SHA-256 the sender computed (`X-Content-SHA256`, hex, any case); checked against `bytes` when given. */
  readonly sha256?: string;
  readonly now?: Date;
  /** For the audit log; default `agent`. */
  readonly actor?: string;
  readonly notifier?: SigningRequestNotifier;
}

/** Why a signed file is refused: the checks of this module, or the verifier's reason. */
type RejectionKind = "unsigned" | "wrong-challenge" | "wrong-signer" | XadesRejectionReason;

/**
 * A refused signed file: the error says what its violation (rule `agent.signedFile.<kind>`) says, so the
 * sentence is that rule's catalogue message.
 */
function rejectionError(
  kind: RejectionKind,
  params: MessageParams | undefined,
  details: Record<string, unknown>,
  hint: MessageRef = msg("agent.signedFile.refused.hint"),
): KsefCertsError {
  const rule = `agent.signedFile.${kind}` as const;
  const message: MessageRef = params === undefined ? { id: `rule.${rule}` } : { id: `rule.${rule}`, params };
  return new KsefCertsError("VALIDATION", message, {
    hint,
    details: { reason: kind, ...details },
    violations: [violation("file", rule, params)],
  });
}

/**
 * Accepts the signed file of a signing request: checked with core `classifySignedFile` (XAdES verified against
 * the request's challenge and ContextIdentifier), stored byte for byte with its SHA-256, status `signed`, audited
 * (`signing-request.signed`, with the signer's identity). The same bytes again answer `duplicate`.
 * @param db database
 * @param input workstation, request, bytes, optional sender SHA-256, clock, actor, notifier
 * @returns `signed` or `duplicate`, the request, and the signer
 * @throws {KsefCertsError} NOT_FOUND for an unknown request or one of another workstation
 * @throws {KsefCertsError} CONFLICT with `details.reason = "challenge-expired"` (and `details.replacedBy` when renewed)
 *   when the challenge expired; CONFLICT with `details.reason = "already-signed"` when different bytes were accepted
 *   before; CONFLICT `details.reason = "closed"` for a cancelled request
 * @throws {KsefCertsError} MALFORMED when `sha256` does not match the bytes, or the file is not an AuthTokenRequest, or it
 *   is XML nested or spread beyond the parser's structure limits (`details.limit`, a violation of rule `xml.depth`,
 *   `xml.elements` or `xml.attributes`, from `classifySignedFile`);
 *   VALIDATION (`details.reason`: `unsigned`, `wrong-challenge`, `wrong-signer` — an operator's enrollment signed by
 *   someone else or by no identifiable person, message in English and Polish, `details.signer`/`details.expected` —
 *   or the verifier's rejection reason with `details.ksefExceptionCode`) when the file is refused; the request stays
 *   as it was (pending); TOO_LARGE above `MAX_HANDOFF_FILE_BYTES`
 */
export async function acceptSignedFile(db: Db, input: AcceptSignedFileInput): Promise<AcceptedSignedFile> {
  const now = input.now ?? new Date();
  const sha256 = sha256Hex(input.bytes);
  if (input.sha256 !== undefined && input.sha256.toLowerCase() !== sha256) {
    throw new KsefCertsError("MALFORMED", msg("agent.signedFile.sha256"), {
      hint: msg("agent.signedFile.sha256.hint"),
      details: { reason: "sha256-mismatch", expected: input.sha256.toLowerCase().slice(0, 64), actual: sha256 },
    });
  }
  if (input.bytes.byteLength > MAX_HANDOFF_FILE_BYTES) {
    throw new KsefCertsError("TOO_LARGE", msg("agent.signedFile.tooLarge", { size: input.bytes.byteLength, max: MAX_HANDOFF_FILE_BYTES }), {
      details: { size: input.bytes.byteLength, limitBytes: MAX_HANDOFF_FILE_BYTES },
    });
  }
  const row = await loadRow(db, input.requestId, input.workstationId);
  const early = await settledOutcome(db, row, sha256, now);
  if (early !== undefined) return early;

  // KSeF issues the certificate to whoever signed: an operator's enrollment must be signed by that operator.
  const expectedSigner = await enrollmentOperator(db, row.enrollmentId);
  const pending: PendingSignature = {
    id: row.id,
    challenge: row.challenge,
    contextIdentifier: { type: row.contextIdentifier.type, value: row.contextIdentifier.value },
    expiresAt: row.expiresAt,
    ...(expectedSigner === undefined ? {} : { expectedSigner }),
  };
  const c = await classifySignedFile(input.bytes, [pending], { now });
  switch (c.kind) {
    case "signed":
      break;
    case "expired":
      throw await expiredNow(db, row, now, input.notifier);
    case "unsigned":
      throw rejectionError("unsigned", undefined, {});
    case "unknown-challenge":
      throw rejectionError("wrong-challenge", undefined, {});
    case "wrong-signer": {
      const m = wrongSignerMessage(c.verified.identity, c.expected);
      throw rejectionError(
        "wrong-signer",
        { en: m.en, pl: m.pl },
        { signer: c.verified.identity, expected: c.expected, en: m.en, pl: m.pl },
        msg("agent.signedFile.wrongSigner.hint", { name: c.expected.name }),
      );
    }
    case "rejected":
      throw rejectionError(c.reason, { reason: c.message }, { ksefExceptionCode: c.ksefExceptionCode });
    case "not-auth-request":
      throw new KsefCertsError("MALFORMED", msg("agent.signedFile.notAuthRequest"), { details: { reason: "not-auth-request" } });
  }
  const v = c.verified;
  const signer: SignerSummary = {
    identity: { type: v.identity.type, value: v.identity.value },
    identitySource: v.identitySource,
    subject: v.certificate.info.subjectText,
    fingerprint: v.fingerprint,
    ...(v.signingTime === undefined ? {} : { signingTime: v.signingTime }),
  };
  const result = await db.transaction(async (tx): Promise<AcceptedSignedFile> => {
    // Re-read under a row lock: another upload may have won while the signature was being verified.
    const current = await loadRow(tx, row.id, input.workstationId, true);
    const settled = await settledOutcome(tx, current, sha256, now);
    if (settled !== undefined) return settled;
    const [updated] = await tx
      .update(signingRequests)
      .set({ status: "signed", signedXml: input.bytes, signedSha256: sha256, signedAt: now, updatedAt: now })
      .where(eq(signingRequests.id, row.id))
      .returning();
    if (updated === undefined) throw notFoundRequest(row.id);
    await appendAudit(tx, {
      actor: input.actor ?? "agent",
      action: "signing-request.signed",
      entityType: "signing-request",
      entityId: row.id,
      before: { status: current.status },
      after: { status: "signed", sha256, signer },
      at: now,
    });
    return { status: "signed", request: toView(updated), signer };
  });
  if (result.status === "signed")
    input.notifier?.emit({ workstationId: row.workstationId, requestId: row.id, enrollmentId: row.enrollmentId, status: "signed" });
  return result;
}

/** The answer for a request that cannot take a new file (duplicate, conflict, expired), or `undefined` when it can. */
async function settledOutcome(db: Db, row: Row, sha256: string, now: Date): Promise<AcceptedSignedFile | undefined> {
  if (row.signedSha256 !== null) {
    if (row.signedSha256 === sha256) {
      const [view] = await withReplacements(db, [toView(row)]);
      return { status: "duplicate", request: view ?? toView(row) };
    }
    throw new KsefCertsError("CONFLICT", msg("agent.signedFile.otherAccepted"), {
      hint: msg("agent.signedFile.otherAccepted.hint"),
      details: { reason: "already-signed", requestId: row.id },
    });
  }
  if (row.status === "cancelled") {
    throw new KsefCertsError("CONFLICT", msg("agent.request.cancelled"), {
      details: { reason: "closed", requestId: row.id },
    });
  }
  if (row.status === "expired" || row.expiresAt.getTime() <= now.getTime()) {
    const [view] = await withReplacements(db, [{ ...toView(row), status: "expired" as const }]);
    throw challengeExpiredError(view ?? row);
  }
  return undefined;
}

/** Marks a request expired (if it was still pending) and returns the error to throw. */
async function expiredNow(db: Db, row: Row, now: Date, notifier: SigningRequestNotifier | undefined): Promise<KsefCertsError> {
  const changed = await expireOverdue(db, eq(signingRequests.id, row.id), now);
  for (const e of changed) notifier?.emit({ workstationId: e.workstationId, requestId: e.id, enrollmentId: e.enrollmentId, status: "expired" });
  const [view] = await withReplacements(db, [{ ...toView(row), status: "expired" as const }]);
  return challengeExpiredError(view ?? row);
}

/**
 * Records that the agent gave up on a request (the person gave up, or the file was refused locally), for the
 * admin. A pending (or already failed) request becomes `failed` with the reason; an expired one keeps its status
 * and gets the reason. Audited (`signing-request.failed`).
 * @param db database
 * @param input workstation, request, `reason` (1–1000 characters), clock, actor, notifier
 * @returns the request after the change
 * @throws {KsefCertsError} NOT_FOUND for an unknown request or one of another workstation; VALIDATION for an empty
 *   or too long reason; CONFLICT (`details.reason = "already-signed"`) when a signed file was already accepted
 */
export async function markSigningRequestFailed(
  db: Db,
  input: {
    readonly workstationId: string;
    readonly requestId: string;
    readonly reason: string;
    readonly now?: Date;
    readonly actor?: string;
    readonly notifier?: SigningRequestNotifier;
  },
): Promise<SigningRequestView> {
  const now = input.now ?? new Date();
  const reason = input.reason.trim();
  if (reason === "" || reason.length > MAX_FAILURE_REASON_LENGTH) {
    throw new KsefCertsError("VALIDATION", msg("agent.failure.reasonLength", { max: MAX_FAILURE_REASON_LENGTH }), {
      violations: [violation("reason", "agent.failure.reason.length", { min: 1, max: MAX_FAILURE_REASON_LENGTH })],
    });
  }
  const updated = await db.transaction(async (tx) => {
    const row = await loadRow(tx, input.requestId, input.workstationId, true);
    if (row.status === "signed" || row.status === "submitted") {
      throw new KsefCertsError("CONFLICT", msg("agent.failure.alreadySigned"), {
        details: { reason: "already-signed", requestId: row.id },
      });
    }
    const status = row.status === "pending" || row.status === "failed" ? "failed" : row.status;
    const [next] = await tx.update(signingRequests).set({ status, failureReason: reason, updatedAt: now }).where(eq(signingRequests.id, row.id)).returning();
    if (next === undefined) throw notFoundRequest(row.id);
    await appendAudit(tx, {
      actor: input.actor ?? "agent",
      action: "signing-request.failed",
      entityType: "signing-request",
      entityId: row.id,
      before: { status: row.status },
      after: { status, reason },
      at: now,
    });
    return next;
  });
  input.notifier?.emit({ workstationId: updated.workstationId, requestId: updated.id, enrollmentId: updated.enrollmentId, status: updated.status });
  const [view] = await withReplacements(db, [toView(updated)]);
  return view ?? toView(updated);
}
