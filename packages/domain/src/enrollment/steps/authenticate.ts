/**
 * The authentication step (states `key_generated`, `authenticating`, `awaiting_signature`; again later when a
 * session is lost): a KSeF challenge signed either automatically with a held Authentication certificate
 * (`authMethod: "certificate"`) or by a person through the folder hand-off (`authMethod: "handoff"`), then
 * redeemed for a session (`spec/open-api.json`: `POST /auth/challenge`, `POST /auth/xades-signature`,
 * `GET /auth/{referenceNumber}`, `POST /auth/token/redeem`).
 */
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { KsefApiError, KsefSession, buildAuthTokenRequest, type AuthTokenRequestInput } from "@ksef-certs/ksef/api";
import { signAuthTokenRequest } from "@ksef-certs/ksef/xades";
import { CHALLENGE_LIFETIME_MS, enrollmentSessionAad, type EnrollmentKsefClient, type EnrollmentRow } from "../model.js";
import type { EnrollmentState } from "../states.js";
import { PRE_AUTH_STATES, Stop, cancelled, isAborted, said, utf8, type RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";

/** Below this remaining lifetime a stored hand-off challenge is not waited for again (ms). */
const MIN_REMAINING_CHALLENGE_MS = 30_000;

/**
 * A KSeF session over `tokens` that refreshes through `client` on the steps' clock.
 * @param d the steps' dependencies (for the clock)
 * @param tokens the tokens of `redeemToken` (or a stored refresh token)
 * @param client the environment's KSeF client
 */
export function newSession(d: StepDeps, tokens: ConstructorParameters<typeof KsefSession>[0], client: EnrollmentKsefClient): KsefSession {
  return new KsefSession(tokens, (refreshToken, signal) => client.refreshAccessToken(refreshToken, signal === undefined ? {} : { signal }), d.clock);
}

/** Races the hand-off against the challenge expiry: the signed bytes, or `undefined` when the challenge ran out first. */
async function awaitSigned(
  d: StepDeps,
  row: EnrollmentRow,
  wait: { challenge: string; expiresAt: Date; workstationId: string; xml: Uint8Array; file: string; contextIdentifier: { type: "Nip"; value: string } },
  ctx: RunContext,
): Promise<Uint8Array | undefined> {
  const { expiresAt } = wait;
  const handoff = d.handoff;
  if (handoff === undefined) throw new KsefCertsError("VALIDATION", msg("enrollment.auth.noHandoff"));
  // An abort before the listener exists would never fire it.
  if (isAborted(ctx.signal)) throw cancelled(ctx.signal, "waitingAuthXml");
  const local = new AbortController();
  const expired = Symbol("expired");
  const onAbort = (): void => {
    local.abort(ctx.signal?.reason);
  };
  ctx.signal?.addEventListener("abort", onAbort, { once: true });
  let signed: Promise<Uint8Array | typeof expired> | undefined;
  try {
    signed = handoff.signed({ ...wait, enrollmentId: row.id, signal: local.signal }).catch((err: unknown) => {
      // The hand-off's own expiry timer may fire before ours: the same thing, a renewal.
      if (err instanceof KsefCertsError && err.details["reason"] === "challenge-expired") return expired;
      throw err;
    });
    signed.catch(() => undefined);
    const timer = d.sleep(Math.max(0, expiresAt.getTime() - d.now().getTime()), local.signal).then(
      () => expired,
      () => expired,
    );
    const winner = await Promise.race([signed, timer]);
    if (isAborted(ctx.signal)) throw cancelled(ctx.signal, "waitingAuthXml");
    return winner === expired ? undefined : (winner as Uint8Array);
  } finally {
    local.abort();
    ctx.signal?.removeEventListener("abort", onAbort);
    // Let the hand-off close its folder watchers before this run returns: a watcher left behind would take
    // the next signed file away from the run that resumes this enrollment (and keep the process alive).
    await signed?.catch(() => undefined);
  }
}

/**
 * Authenticates the enrollment's person in KSeF, automatically or through the hand-off, and keeps the
 * session in `ctx` (sealed on the row when a vault exists). Before the request is sent the state goes
 * `authenticating`/`awaiting_signature` → `authenticated`; later (a lost session) the state is kept.
 */
export async function authenticate(d: StepDeps, start: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
  let row = start;
  const keepState = !PRE_AUTH_STATES.includes(row.state);
  const client = d.client(row.environment);
  const contextIdentifier = { type: "Nip" as const, value: await d.companyNip(row.companyId) };
  const signal = ctx.signal === undefined ? {} : { signal: ctx.signal };
  let renewals = 0;
  for (;;) {
    let signed: Uint8Array | undefined;
    if (row.authMethod === "certificate") {
      const certificateId = row.signingCertificateId;
      if (certificateId === null || d.signerFor === undefined) {
        throw new KsefCertsError("VALIDATION", msg("enrollment.auth.signerMissing"), {
          hint: msg("enrollment.auth.signerMissing.hint"),
        });
      }
      const ch = await client.challenge(signal);
      row = await d.save(
        row,
        keepState ? (row.state as EnrollmentState) : "authenticating",
        { challenge: ch.challenge, challengeExpiresAt: new Date(d.now().getTime() + CHALLENGE_LIFETIME_MS), handoffFile: null, authReferenceNumber: null },
        ctx,
        said("ksef.signingInWithCertificate", {}, "Signing in to KSeF with the held Authentication certificate."),
      );
      const input: AuthTokenRequestInput = { challenge: ch.challenge, contextIdentifier, subjectIdentifierType: "certificateSubject" };
      signed = await signAuthTokenRequest(input, await d.signerFor(certificateId), { signingTime: d.now() });
    } else {
      const handoff = d.handoff;
      const workstationId = row.workstationId;
      if (handoff === undefined || workstationId === null) {
        throw new KsefCertsError("VALIDATION", msg("enrollment.auth.handoffMissing"), {
          hint: msg("enrollment.auth.handoffMissing.hint"),
        });
      }
      let challenge: string;
      let expiresAt: Date;
      let xml: Uint8Array;
      const stored = row.challenge !== null && row.challengeExpiresAt !== null && row.handoffFile !== null && row.authReferenceNumber === null;
      if (renewals === 0 && stored && row.challengeExpiresAt !== null && row.challengeExpiresAt.getTime() - d.now().getTime() > MIN_REMAINING_CHALLENGE_MS) {
        // A restart while the person may be signing: keep waiting for the same file instead of confusing them with a new one.
        challenge = row.challenge ?? "";
        expiresAt = row.challengeExpiresAt;
        // Rebuilt, not stored: the request is a pure function of challenge and context, so the bytes are the published ones.
        xml = utf8.encode(buildAuthTokenRequest({ challenge, contextIdentifier, subjectIdentifierType: "certificateSubject" }));
        const file = row.handoffFile ?? "auth.xml";
        d.progress(
          row,
          said(
            "handoff.stillWaiting",
            { file, expiresAt: expiresAt.toISOString() },
            `Still waiting for the signed ${file} (until ${expiresAt.toISOString()}).`,
          ),
        );
      } else {
        const ch = await client.challenge(signal);
        challenge = ch.challenge;
        expiresAt = new Date(d.now().getTime() + CHALLENGE_LIFETIME_MS);
        row = await d.save(
          row,
          keepState ? (row.state as EnrollmentState) : "awaiting_signature",
          { challenge, challengeExpiresAt: expiresAt, handoffFile: null, authReferenceNumber: null },
          ctx,
          renewals > 0
            ? said(
                "handoff.renewing",
                {},
                "The previous auth.xml expired unsigned (a KSeF challenge lasts 10 minutes); a new one is being written — sign the new file.",
              )
            : keepState
              ? said("handoff.reauthenticating", {}, "The KSeF session of this enrollment is gone; a new auth.xml is being written — sign it to continue.")
              : said("handoff.writing", {}, "Writing auth.xml for signing with Profil Zaufany."),
        );
        xml = utf8.encode(buildAuthTokenRequest({ challenge, contextIdentifier, subjectIdentifierType: "certificateSubject" }));
        const { file } = await handoff.publish({ enrollmentId: row.id, workstationId, challenge, xml, expiresAt, contextIdentifier });
        row = await d.save(
          row,
          row.state as EnrollmentState,
          { handoffFile: file },
          ctx,
          said(
            "handoff.published",
            { file, expiresAt: expiresAt.toISOString() },
            `auth.xml is in ${file}: sign it on the gov.pl page (Profil Zaufany) and put the signed file in the inbox folder before ${expiresAt.toISOString()}.`,
          ),
        );
      }
      signed = await awaitSigned(d, row, { challenge, expiresAt, workstationId, xml, file: row.handoffFile ?? "", contextIdentifier }, ctx);
      if (signed === undefined) {
        renewals++;
        if (renewals > d.maxChallengeRenewals) {
          throw new Stop(
            "waiting",
            said(
              "handoff.abandoned",
              { challenges: renewals },
              `No signed auth.xml arrived for ${renewals} challenges in a row; run the enrollment again when the person is ready to sign.`,
            ),
          );
        }
        continue;
      }
    }
    let init;
    try {
      // The signed bytes go out exactly as received: re-encoding a Profil Zaufany file breaks it (KSeF error 21217, seen in the field).
      init = await client.submitXadesSignature(signed, signal);
    } catch (err) {
      if (row.authMethod === "handoff" && err instanceof KsefApiError && err.ksefCodes.includes(21111) && renewals < d.maxChallengeRenewals) {
        renewals++;
        d.progress(row, said("handoff.challengeInvalid", {}, "KSeF says the challenge of the signed file is no longer valid; a new auth.xml follows."));
        row = await d.save(
          row,
          row.state as EnrollmentState,
          { challengeExpiresAt: d.now() },
          ctx,
          said("handoff.challengeRefused", {}, "Challenge refused by KSeF (21111)."),
        );
        continue;
      }
      throw err;
    }
    row = await d.save(
      row,
      row.state as EnrollmentState,
      { authReferenceNumber: init.referenceNumber },
      ctx,
      said("ksef.authenticating", { referenceNumber: init.referenceNumber }, `KSeF is checking the signature (authentication ${init.referenceNumber}).`),
    );
    await client.waitForAuthentication(init.referenceNumber, init.authenticationToken.token, { ...signal, ...d.pollOptions });
    const tokens = await client.redeemToken(init.authenticationToken.token, signal);
    ctx.session = newSession(d, tokens, client);
    const sealedSession =
      d.vault === undefined
        ? null
        : d.vault.seal(
            utf8.encode(JSON.stringify({ refreshToken: tokens.refreshToken.token, validUntil: tokens.refreshToken.validUntil })),
            enrollmentSessionAad(row.id),
          );
    return d.save(
      row,
      keepState ? (row.state as EnrollmentState) : "authenticated",
      { sealedSession },
      ctx,
      said("ksef.authenticated", {}, "Signed in to KSeF."),
    );
  }
}
