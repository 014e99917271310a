/**
 * The KSeF session the steps after authentication need: the one of this run, else the sealed one of the row
 * (while its refresh token still works), else a new authentication with the state kept.
 */
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { KsefApiError, type KsefSession } from "@ksef-certs/ksef/api";
import { enrollmentSessionAad, type EnrollmentRow } from "../model.js";
import { SENT_ENROLLMENT_STATES, type EnrollmentState } from "../states.js";
import { authenticate, newSession } from "./authenticate.js";
import { Stop, said, utf8Decoder, type RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";

/**
 * The session of this run; else the sealed one (if it still refreshes); else a new authentication (state kept).
 * @returns the row (changed when it had to authenticate again) and the session
 * @throws {Stop} `blocked` when signing in fails after KSeF got the enrollment request (its reference must not be lost)
 */
export async function sessionFor(d: StepDeps, start: EnrollmentRow, ctx: RunContext): Promise<{ row: EnrollmentRow; session: KsefSession }> {
  if (ctx.session !== undefined) return { row: start, session: ctx.session };
  const client = d.client(start.environment);
  if (start.sealedSession !== null && d.vault !== undefined) {
    let stored: { refreshToken?: unknown; validUntil?: unknown } | undefined;
    try {
      stored = JSON.parse(utf8Decoder.decode(d.vault.unseal(start.sealedSession, enrollmentSessionAad(start.id)))) as typeof stored;
    } catch {
      stored = undefined;
    }
    if (
      stored !== undefined &&
      typeof stored.refreshToken === "string" &&
      typeof stored.validUntil === "string" &&
      Date.parse(stored.validUntil) > d.now().getTime()
    ) {
      const session = newSession(
        d,
        { accessToken: { token: "", validUntil: new Date(0).toISOString() }, refreshToken: { token: stored.refreshToken, validUntil: stored.validUntil } },
        client,
      );
      try {
        await session.accessToken(ctx.signal === undefined ? {} : { signal: ctx.signal });
        ctx.session = session;
        d.progress(start, said("ksef.sessionResumed", {}, "Continuing with the stored KSeF session."));
        return { row: start, session };
      } catch (err) {
        // 401/403: KSeF ended the session; anything else is a real fault.
        if (!(err instanceof KsefApiError) || (err.httpStatus !== 401 && err.httpStatus !== 403)) throw err;
      }
    }
  }
  d.progress(start, said("ksef.sessionMissing", {}, "No usable KSeF session for this enrollment; signing in again."));
  let row: EnrollmentRow;
  try {
    row = await authenticate(d, start, ctx);
  } catch (err) {
    if (
      err instanceof KsefCertsError &&
      !err.retryable &&
      SENT_ENROLLMENT_STATES.includes(start.state as EnrollmentState) &&
      err.details["concurrent"] !== true
    ) {
      // KSeF already has the enrollment: a failed sign-in must not end it, or its reference would be dropped.
      throw new Stop(
        "blocked",
        said("ksef.signInFailed", { reason: err.message }, `Signing in to KSeF failed, so enrollment ${start.id} cannot be followed up now: ${err.message}`),
        err,
      );
    }
    throw err;
  }
  if (ctx.session === undefined) throw new KsefCertsError("INTERNAL", msg("enrollment.auth.noSession"));
  return { row, session: ctx.session };
}
