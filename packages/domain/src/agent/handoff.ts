/**
 * The enrollment's hand-off port over the signer agent: instead of writing `auth.xml`
 * into a folder the server can reach, `publish` stores a pending signing request for the workstation; its
 * agent receives it (long poll), writes it into the workstation's outbox, and uploads the signed file, which
 * is verified and stored (`acceptSignedFile`). `signed` resolves with those bytes.
 *
 * The wait is woken by the in-process notifier and also polls the database slowly, so a second server process
 * (or a restart between `publish` and `signed`) still sees the upload. On expiry it rejects with
 * `details.reason = "challenge-expired"`, which the enrollment service treats as the folder hand-off's
 * expiry: a new challenge, a new `publish` (the old request becomes `expired`, `replacedBy` the new one).
 */
import { and, desc, eq } from "drizzle-orm";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { EnrollmentHandoff } from "../enrollment/model.js";
import type { Db } from "../store/db.js";
import { signingRequests } from "../store/schema.js";
import type { SigningRequestNotifier } from "./notifier.js";
import { agentWorkstation } from "./pairing.js";
import { challengeExpiredError, createSigningRequest } from "./requests.js";

/** Options of {@link createAgentHandoff}. */
export interface AgentHandoffOptions {
  readonly db: Db;
  /** The notifier shared with the agent HTTP API of this process. */
  readonly notifier: SigningRequestNotifier;
  /** The clock; default `new Date()`. */
  readonly now?: () => Date;
  /** How often `signed` re-reads the request without a notification, ms (another server process may take the upload); default 5 000. */
  readonly pollIntervalMs?: number;
  /** Who publishes, for the audit log; default `system`. */
  readonly actor?: string;
}

/** Longest delay `setTimeout` honours (2^31-1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The path the agent writes `auth.xml` to, as shown to people: the outbox folder with the workstation's own
 * separator (a Windows path keeps its backslashes).
 */
function outboxPath(outboxDir: string, fileName: string): string {
  const sep = outboxDir.includes("\\") && !outboxDir.includes("/") ? "\\" : "/";
  return outboxDir.endsWith(sep) ? `${outboxDir}${fileName}` : `${outboxDir}${sep}${fileName}`;
}

/** Read through a call: TypeScript would keep the narrowing of an earlier `signal.aborted` check across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function aborted(signal: AbortSignal): KsefCertsError {
  return new KsefCertsError("IO", msg("agent.handoff.cancelled"), {
    details: { reason: "aborted" },
    ...(signal.reason === undefined ? {} : { cause: signal.reason }),
  });
}

/**
 * Creates the agent hand-off for the enrollment service (`EnrollmentDeps.handoff`).
 * @param options database, notifier, clock, poll interval, audit actor
 * @returns the port: `publish` stores a pending signing request (older pending ones of the enrollment expire,
 *   replaced by it) and returns the path the agent writes `auth.xml` to; `signed` resolves with the uploaded
 *   signed bytes (unchanged) and marks the request `submitted`
 * @throws {KsefCertsError} (from `publish`) NOT_FOUND when the workstation no longer exists
 * @throws {KsefCertsError} (from `signed`) CONFLICT with `details.reason = "challenge-expired"` when the challenge
 *   expires first; IO with `details.reason = "aborted"` when the signal aborts
 */
export function createAgentHandoff(options: AgentHandoffOptions): EnrollmentHandoff {
  const { db, notifier } = options;
  const now = options.now ?? (() => new Date());
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  const actor = options.actor ?? "system";
  const store = (req: Parameters<EnrollmentHandoff["publish"]>[0]): ReturnType<typeof createSigningRequest> =>
    createSigningRequest(db, { ...req, actor, now: now(), notifier });

  return {
    async publish(req) {
      const workstation = await agentWorkstation(db, req.workstationId);
      const created = await store(req);
      return { file: outboxPath(workstation.outboxDir, created.fileName) };
    },

    async signed(req) {
      const find = async (): Promise<typeof signingRequests.$inferSelect | undefined> => {
        const [row] = await db
          .select()
          .from(signingRequests)
          .where(and(eq(signingRequests.enrollmentId, req.enrollmentId), eq(signingRequests.challenge, req.challenge)))
          .orderBy(desc(signingRequests.createdAt))
          .limit(1);
        return row;
      };
      if (req.signal.aborted) throw aborted(req.signal);
      let row = await find();
      if (row === undefined) {
        // Published by an older process through another port, or the row was removed: publish it again, so the agent gets it.
        await store(req);
        row = await find();
        if (row === undefined) throw new KsefCertsError("INTERNAL", msg("agent.handoff.notReadBack"));
      }
      const id = row.id;
      for (;;) {
        if (row === undefined) throw new KsefCertsError("NOT_FOUND", msg("agent.handoff.removed", { id }), { details: { entity: "signingRequest", id } });
        if ((row.status === "signed" || row.status === "submitted") && row.signedXml !== null) {
          if (row.status === "signed") {
            const [done] = await db
              .update(signingRequests)
              .set({ status: "submitted", updatedAt: now() })
              .where(and(eq(signingRequests.id, id), eq(signingRequests.status, "signed")))
              .returning({ workstationId: signingRequests.workstationId });
            if (done !== undefined) notifier.emit({ workstationId: done.workstationId, requestId: id, enrollmentId: req.enrollmentId, status: "submitted" });
          }
          return row.signedXml;
        }
        const left = row.expiresAt.getTime() - now().getTime();
        if (row.status === "expired" || row.status === "cancelled" || left <= 0) {
          if (row.status === "pending") {
            const [gone] = await db
              .update(signingRequests)
              .set({ status: "expired", updatedAt: now() })
              .where(and(eq(signingRequests.id, id), eq(signingRequests.status, "pending")))
              .returning({ workstationId: signingRequests.workstationId });
            if (gone !== undefined) notifier.emit({ workstationId: gone.workstationId, requestId: id, enrollmentId: req.enrollmentId, status: "expired" });
          }
          throw challengeExpiredError({ id, expiresAt: row.expiresAt });
        }
        const timeoutMs = Math.min(pollIntervalMs, Math.max(1, left), MAX_TIMER_MS);
        await notifier.next((e) => e.requestId === id, { timeoutMs, signal: req.signal });
        if (isAborted(req.signal)) throw aborted(req.signal);
        [row] = await db.select().from(signingRequests).where(eq(signingRequests.id, id));
      }
    },
  };
}
