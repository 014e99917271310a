/**
 * Authentication operations (SPEC paths `/auth/*`, ksef-docs `uwierzytelnianie.md`): challenge, XAdES sign-in
 * verified for real, status polling, token redeem/refresh, and session listing/revocation.
 */
import { type CertificateInfo, type EnrollmentData, isSignedBy, parseCertificate } from "@ksef-certs/ksef/crypto";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import { xadesRejectionOf } from "@ksef-certs/ksef/xades";
import { CHALLENGE_PATTERN, referenceNumber } from "../ids.js";
import { KsefErrorReply, badRequest } from "../http-errors.js";
import type { Simulator } from "../simulator.js";
import type { AuthOperation, AuthenticationMethodDescription, StatusInfo } from "../state.js";
import { defaultVerifier } from "../xades-default.js";

const AUTH_RETENTION_MS = 7 * 86_400_000;

const STATUS_IN_PROGRESS: StatusInfo = { code: 100, description: "Uwierzytelnianie w toku" };
const STATUS_OK: StatusInfo = { code: 200, description: "Uwierzytelnianie zakończone sukcesem" };
const STATUS_REVOKED: StatusInfo = {
  code: 425,
  description: "Uwierzytelnienie unieważnione",
  details: ["Uwierzytelnienie i powiązane refresh tokeny zostały unieważnione przez użytkownika"],
};
const STATUS_550: StatusInfo = {
  code: 550,
  description: "Operacja została anulowana przez system",
  details: ["Przetwarzanie zostało przerwane z przyczyn wewnętrznych systemu. Spróbuj ponownie"],
};

/** Status 460 with one of the SPEC's certificate-error details. */
function certificateError(detail: string): StatusInfo {
  return { code: 460, description: "Uwierzytelnianie zakończone niepowodzeniem z powodu błędu certyfikatu", details: [detail] };
}

const KSEF_SUFFIXES = [" (uwierzytelnienie)", " (offline)"];

/**
 * Enrollment data from a signing certificate's subject (ksef-docs `certyfikaty-KSeF.md`): exactly the values, the
 * KSeF CN suffix removed; undefined when CN or C is missing (then enrollment data is refused with 25001).
 */
export function enrollmentDataOf(info: CertificateInfo): EnrollmentData | undefined {
  const first = (oid: string): string | undefined => info.subject.find((a) => a.oid === oid)?.value;
  let commonName = first("2.5.4.3");
  const countryName = first("2.5.4.6");
  if (commonName === undefined || countryName === undefined) return undefined;
  for (const s of KSEF_SUFFIXES) if (commonName.endsWith(s)) commonName = commonName.slice(0, -s.length);
  const optional = (name: keyof EnrollmentData, oid: string): Partial<Record<keyof EnrollmentData, string>> => {
    const v = first(oid);
    return v === undefined ? {} : { [name]: v };
  };
  return {
    commonName,
    countryName,
    ...optional("givenName", "2.5.4.42"),
    ...optional("surname", "2.5.4.4"),
    ...optional("serialNumber", "2.5.4.5"),
    ...optional("organizationName", "2.5.4.10"),
    ...optional("organizationIdentifier", "2.5.4.97"),
    ...optional("uniqueIdentifier", "2.5.4.45"),
  };
}

function methodOf(ksefCertificate: boolean, info: CertificateInfo): AuthenticationMethodDescription {
  if (ksefCertificate)
    return { method: "InternalCertificate", info: { category: "XadesSignature", code: "xades.internal-certificate", displayName: "Certyfikat KSeF" } };
  const seal = info.subject.some((a) => a.oid === "2.5.4.97") && !info.subject.some((a) => a.oid === "2.5.4.42" || a.oid === "2.5.4.4");
  return seal
    ? { method: "QualifiedSeal", info: { category: "XadesSignature", code: "xades.qualified-seal", displayName: "Pieczęć kwalifikowana" } }
    : { method: "QualifiedSignature", info: { category: "XadesSignature", code: "xades.qualified-signature", displayName: "Podpis kwalifikowany" } };
}

/** The status an operation shows at `now`: 100 until it is ready, then its outcome. */
function statusAt(op: AuthOperation, now: Date): StatusInfo {
  return now < op.readyAt ? STATUS_IN_PROGRESS : op.finalStatus;
}

function statusBody(op: AuthOperation, now: Date): Record<string, unknown> {
  return {
    startDate: op.startDate.toISOString(),
    authenticationMethod: op.method.method,
    authenticationMethodInfo: op.method.info,
    status: statusAt(op, now),
    isTokenRedeemed: op.redeemed,
    lastTokenRefreshDate: op.lastTokenRefreshDate?.toISOString() ?? null,
    refreshTokenValidUntil: op.refreshTokenValidUntil?.toISOString() ?? null,
  };
}

/**
 * Installs the `/auth/*` operations.
 * @param sim the simulator
 */
export function registerAuthRoutes(sim: Simulator): void {
  sim.route("POST", "/auth/challenge", { body: "none" }, ({ now, clientIp }) => {
    const challenge = referenceNumber("CR", now);
    sim.state.challenges.set(challenge, {
      challenge,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + (sim.options.challengeLifetimeMs ?? 10 * 60_000)),
      clientIp,
      used: false,
    });
    return { status: 200, contentType: "application/json", body: { challenge, timestamp: now.toISOString(), timestampMs: now.getTime(), clientIp } };
  });

  sim.route("POST", "/auth/xades-signature", { body: "xml" }, async ({ c, now, clientIp, rawBody }) => {
    const chainParam = c.req.query("verifyCertificateChain");
    if (chainParam !== undefined && chainParam !== "true" && chainParam !== "false") {
      throw badRequest(21405, "verifyCertificateChain: wartość musi być true albo false.");
    }
    const verifyChain = chainParam === "true";
    if (rawBody === undefined || rawBody.byteLength === 0) throw badRequest(21001, "Brak treści dokumentu.");
    const verify = sim.options.verifier ?? defaultVerifier;
    let verified;
    try {
      verified = await verify(rawBody, undefined, { now });
    } catch (err) {
      const rejection = xadesRejectionOf(err);
      // A refusal names its KSeF code; anything else is the simulator's own failure, not the client's.
      if (rejection === undefined) throw new KsefErrorReply(500, undefined, [isKsefCertsError(err) ? err.message : "XAdES verification failed unexpectedly."]);
      throw badRequest(rejection.ksefExceptionCode, rejection.reason, isKsefCertsError(err) ? err.message : "");
    }
    const record = CHALLENGE_PATTERN.test(verified.challenge) ? sim.state.challenges.get(verified.challenge) : undefined;
    if (record === undefined) throw badRequest(21111, "Wyzwanie autoryzacyjne nie zostało wydane przez ten system.");
    if (record.used) throw badRequest(21111, "Wyzwanie autoryzacyjne zostało już wykorzystane.");
    if (now >= record.expiresAt) throw badRequest(21111, "Wyzwanie autoryzacyjne wygasło.");
    record.used = true;

    const info = parseCertificate(verified.certificate.der);
    const ca = await sim.certificateAuthority();
    const issuedByUs = !info.selfSigned && isSignedBy(info, parseCertificate(ca.der));
    const stored = issuedByUs ? sim.state.certificates.get(info.serialNumber) : undefined;
    let identity = verified.identity;
    let enrollmentData = enrollmentDataOf(info);
    let outcome: StatusInfo = STATUS_OK;
    if (now < new Date(info.validFrom) || now > new Date(info.validTo)) outcome = certificateError("Nieważny certyfikat.");
    else if (issuedByUs) {
      if (stored === undefined) outcome = certificateError("Niepoprawny certyfikat.");
      else if (stored.revokedAt !== undefined) outcome = certificateError("Certyfikat odwołany.");
      // Offline certificates only sign KOD II links; KSeF refuses them for sign-in (ksef-docs `certyfikaty-KSeF.md`).
      else if (stored.type !== "Authentication") outcome = certificateError("Niepoprawny certyfikat.");
      else {
        // A KSeF certificate carries the identity of the credential it was requested with (ksef-docs `uwierzytelnianie.md`).
        identity = stored.identity;
        enrollmentData = stored.enrollmentData;
        stored.lastUseDate = now;
      }
    } else if (verifyChain) {
      outcome = certificateError(info.selfSigned ? "Niezaufany łańcuch certyfikatów." : "Błąd weryfikacji łańcucha certyfikatów.");
    }
    const faults = sim.state.faults;
    if (outcome.code === 200 && (faults.authStatus550 ?? 0) > 0) {
      sim.state.faults = { ...faults, authStatus550: (faults.authStatus550 ?? 0) - 1 };
      sim.state.counters.faultsInjected++;
      outcome = STATUS_550;
    }
    const op: AuthOperation = {
      referenceNumber: referenceNumber("AU", now),
      startDate: now,
      clientIp,
      readyAt: new Date(now.getTime() + (sim.options.authenticationDelayMs ?? 0)),
      finalStatus: outcome,
      method: methodOf(issuedByUs, info),
      contextIdentifier: verified.contextIdentifier,
      identity,
      enrollmentData,
      signingCertificateFingerprint: info.fingerprintSha256,
      redeemed: false,
      refreshTokenId: undefined,
      refreshTokenValidUntil: undefined,
      lastTokenRefreshDate: undefined,
      revoked: false,
    };
    sim.state.authOperations.set(op.referenceNumber, op);
    sim.state.counters.authenticationsStarted++;
    const token = sim.issueToken("OperationToken", op, sim.lifetimes.authenticationTokenMs);
    return {
      status: 202,
      contentType: "application/json",
      body: { referenceNumber: op.referenceNumber, authenticationToken: { token: token.token, validUntil: token.validUntil.toISOString() } },
    };
  });

  // Static paths first: Hono tries handlers in registration order.
  sim.route("GET", "/auth/sessions", { token: "access" }, ({ c, now, auth }) => {
    const sizeParam = c.req.query("pageSize");
    const pageSize = sizeParam === undefined ? 10 : Number(sizeParam);
    if (!Number.isInteger(pageSize) || pageSize < 10 || pageSize > 100) throw badRequest(21405, "pageSize: wartość musi być liczbą całkowitą od 10 do 100.");
    const continuation = c.req.header("x-continuation-token");
    let offset = 0;
    if (continuation !== undefined && continuation !== "") {
      const decoded = Number(
        Buffer.from(continuation, "base64url")
          .toString("utf8")
          .replace(/^offset:/, ""),
      );
      if (!continuation.match(/^[A-Za-z0-9_-]{1,64}$/) || !Number.isInteger(decoded) || decoded < 0) throw badRequest(21418);
      offset = decoded;
    }
    const current = auth?.operation;
    const active = [...sim.state.authOperations.values()]
      .filter(
        (op) =>
          op.redeemed &&
          !op.revoked &&
          op.refreshTokenValidUntil !== undefined &&
          op.refreshTokenValidUntil > now &&
          current !== undefined &&
          op.contextIdentifier.type === current.contextIdentifier.type &&
          op.contextIdentifier.value === current.contextIdentifier.value,
      )
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
    const page = active.slice(offset, offset + pageSize);
    const next = offset + pageSize < active.length ? Buffer.from(`offset:${String(offset + pageSize)}`).toString("base64url") : null;
    return {
      status: 200,
      contentType: "application/json",
      body: {
        continuationToken: next,
        items: page.map((op) => ({ referenceNumber: op.referenceNumber, ...statusBody(op, now), isCurrent: op === current })),
      },
    };
  });

  sim.route("DELETE", "/auth/sessions/current", { token: "accessOrRefresh" }, ({ auth }) => {
    if (auth !== undefined) revoke(auth.operation);
    return { status: 204 };
  });

  sim.route("DELETE", "/auth/sessions/{referenceNumber}", { token: "access" }, ({ c, auth }) => {
    const ref = c.req.param("referenceNumber") ?? "";
    const op = sim.state.authOperations.get(ref);
    const mine = auth?.operation;
    if (
      op === undefined ||
      mine === undefined ||
      op.contextIdentifier.type !== mine.contextIdentifier.type ||
      op.contextIdentifier.value !== mine.contextIdentifier.value
    ) {
      throw badRequest(21304, `Operacja uwierzytelniania o numerze referencyjnym ${ref} nie została znaleziona.`);
    }
    revoke(op);
    return { status: 204 };
  });

  sim.route("GET", "/auth/{referenceNumber}", { token: "operation" }, ({ c, now, auth }) => {
    const ref = c.req.param("referenceNumber") ?? "";
    const op = sim.state.authOperations.get(ref);
    if (op === undefined) throw badRequest(21304, `Operacja uwierzytelniania o numerze referencyjnym ${ref} nie została znaleziona.`);
    if (auth?.operation !== op)
      throw new KsefErrorReply(403, undefined, [], { reasonCode: "insufficient-resource-access", detail: "Token nie dotyczy tej operacji uwierzytelniania." });
    if (now.getTime() - op.startDate.getTime() > AUTH_RETENTION_MS) throw new KsefErrorReply(410, undefined);
    return { status: 200, contentType: "application/json", body: statusBody(op, now) };
  });

  sim.route("POST", "/auth/token/redeem", { token: "operation", body: "none" }, ({ now, auth }) => {
    const op = auth?.operation;
    if (op === undefined) throw new KsefErrorReply(401, undefined);
    if (op.redeemed) throw badRequest(21301, `Tokeny dla operacji uwierzytelniania ${op.referenceNumber} zostały już pobrane.`);
    const status = statusAt(op, now);
    if (status.code !== 200) throw badRequest(21301, `Status uwierzytelniania (${String(status.code)}) nie pozwala na pobranie tokenów.`);
    const access = sim.issueToken("ContextToken", op, sim.lifetimes.accessTokenMs);
    const refresh = sim.issueToken("RefreshToken", op, sim.lifetimes.refreshTokenMs);
    op.redeemed = true;
    op.refreshTokenId = refresh.jti;
    op.refreshTokenValidUntil = refresh.validUntil;
    return {
      status: 200,
      contentType: "application/json",
      body: {
        accessToken: { token: access.token, validUntil: access.validUntil.toISOString() },
        refreshToken: { token: refresh.token, validUntil: refresh.validUntil.toISOString() },
      },
    };
  });

  sim.route("POST", "/auth/token/refresh", { token: "refresh", body: "none" }, ({ now, auth }) => {
    const op = auth?.operation;
    if (op === undefined) throw new KsefErrorReply(401, undefined);
    if (op.revoked) throw badRequest(21301, `Status uwierzytelniania (${String(STATUS_REVOKED.code)}) nie pozwala na odświeżenie tokenu dostępowego.`);
    if (auth?.claims.jti !== op.refreshTokenId) throw new KsefErrorReply(401, undefined, [], { detail: "Nieprawidłowy token." });
    const access = sim.issueToken("ContextToken", op, sim.lifetimes.accessTokenMs);
    op.lastTokenRefreshDate = now;
    return { status: 200, contentType: "application/json", body: { accessToken: { token: access.token, validUntil: access.validUntil.toISOString() } } };
  });

  function revoke(op: AuthOperation): void {
    // Revoking ends the refresh token only; access tokens already issued live until they expire (ksef-docs `uwierzytelnianie.md`).
    op.revoked = true;
    op.finalStatus = STATUS_REVOKED;
  }
}
