/**
 * The enrollment's hand-off port over the folder hand-off of `src/handoff`: `auth.xml`
 * is written atomically into the workstation's outbox, and the signed file is taken from its inbox once
 * complete, classified by content and verified against the challenge and context (any file name).
 * The workstation's folders come from the `workstations` table.
 */
import { basename } from "node:path";
import { eq } from "drizzle-orm";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { awaitSignature, handoffFileName, writeAuthRequest, type InboxProblem } from "@ksef-certs/ksef/handoff";
import type { Db } from "../store/db.js";
import { workstations } from "../store/schema.js";
import { enrollmentOperator, operatorFileNamePart } from "./expected-signer.js";
import type { EnrollmentHandoff } from "./model.js";

/** Options of {@link createFolderHandoff}. */
export interface FolderHandoffOptions {
  readonly db: Db;
  /** The clock the hand-off judges dropped files' expiry by; default `new Date()`. */
  readonly now?: () => Date;
  /** Problems with other dropped files (unsigned, tampered, foreign), for the person watching. */
  readonly onProblem?: (problem: InboxProblem) => void;
  /** Watcher tuning passed to `awaitSignature` (ms): how long a file must stay unchanged, rescans, polling. */
  readonly stabilityMs?: number;
  readonly rescanIntervalMs?: number;
  readonly pollIntervalMs?: number;
}

/**
 * Creates the folder hand-off for the enrollment service (`EnrollmentDeps.handoff`).
 * @param options database (for the workstation folders), clock, problem listener, watcher tuning
 * @returns the port: `publish` writes `auth-<NIP>[-<operator>]-<challenge suffix>.xml` into the outbox and returns
 *   its path; `signed` watches the inbox (and the outbox) and resolves with the signed file's bytes, unchanged. For an
 *   operator's enrollment (PESEL or NIP on record) a file signed by anyone else goes to `failed/` with the reason
 *   (`wrong-signer`, reported to `onProblem`) and the wait goes on: KSeF would issue the certificate to the signer.
 * @throws {KsefCertsError} NOT_FOUND (from either method) when the workstation no longer exists; what
 *   `writeAuthRequest`/`awaitSignature` throw otherwise (`challenge-expired`, aborted, I/O)
 */
export function createFolderHandoff(options: FolderHandoffOptions): EnrollmentHandoff {
  async function folders(workstationId: string): Promise<{ outboxDir: string; inboxDir: string }> {
    const [w] = await options.db
      .select({ outboxDir: workstations.outboxDir, inboxDir: workstations.inboxDir })
      .from(workstations)
      .where(eq(workstations.id, workstationId));
    if (w === undefined) {
      throw new KsefCertsError("NOT_FOUND", msg("enrollment.notFound.workstation", { id: JSON.stringify(workstationId) }), {
        details: { entity: "workstation", id: workstationId },
      });
    }
    return w;
  }

  return {
    async publish(req) {
      const { outboxDir } = await folders(req.workstationId);
      const operator = operatorFileNamePart(await enrollmentOperator(options.db, req.enrollmentId));
      const fileName = handoffFileName({ context: req.contextIdentifier.value, challenge: req.challenge, ...(operator === undefined ? {} : { operator }) });
      const written = await writeAuthRequest(outboxDir, { fileName, xml: req.xml });
      return { file: written.path };
    },
    async signed(req) {
      const { outboxDir, inboxDir } = await folders(req.workstationId);
      const expectedSigner = await enrollmentOperator(options.db, req.enrollmentId);
      const operator = operatorFileNamePart(expectedSigner);
      const fileName =
        req.file === ""
          ? handoffFileName({ context: req.contextIdentifier.value, challenge: req.challenge, ...(operator === undefined ? {} : { operator }) })
          : basename(req.file);
      const pending = {
        id: req.enrollmentId,
        challenge: req.challenge,
        contextIdentifier: req.contextIdentifier,
        expiresAt: req.expiresAt,
        ...(expectedSigner === undefined ? {} : { expectedSigner }),
      };
      const result = await awaitSignature({
        outboxDir,
        inboxDir,
        request: { fileName, xml: req.xml, pending },
        signal: req.signal,
        ...(options.now === undefined ? {} : { now: options.now }),
        ...(options.onProblem === undefined ? {} : { onProblem: options.onProblem }),
        ...(options.stabilityMs === undefined ? {} : { stabilityMs: options.stabilityMs }),
        ...(options.rescanIntervalMs === undefined ? {} : { rescanIntervalMs: options.rescanIntervalMs }),
        ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      });
      return result.bytes;
    },
  };
}
