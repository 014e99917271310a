/**
 * Certificate operations (SPEC paths `/certificates/*`, ksef-docs `certyfikaty-KSeF.md`): limits, enrollment data,
 * enrollment with KSeF's CSR checks, enrollment status with delayed issuing, retrieve, query, revoke.
 * Every operation acts for the authenticated subject (the identity of the access token's sign-in).
 */
import { type CsrInfo, type EnrollmentData, type KsefCertificateType, parseCertificate, parseCsr } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate } from "@ksef-certs/ksef/testing";
import type { KeyObject } from "node:crypto";
import { EARLIEST_CERTIFICATE_TIME_MS, LATEST_CERTIFICATE_TIME_MS, MS_PER_DAY, parseDateTime } from "../date-time.js";
import { referenceNumber } from "../ids.js";
import { KsefErrorReply, badRequest } from "../http-errors.js";
import type { RouteContext, Simulator } from "../simulator.js";
import { type AuthOperation, type CertificateRecord, type EnrollmentRecord, type StatusInfo, identityKey } from "../state.js";

const ENROLLMENT_RETENTION_MS = 30 * 86_400_000;

/** Validity of an issued certificate, days: two years, as KSeF issues (ksef-docs `certyfikaty-KSeF.md`). */
export const CERTIFICATE_VALIDITY_DAYS = 730;

/**
 * The latest `validFrom` an enrollment may ask for, ms since the epoch: the certificate's end of validity
 * must still fit an X.509 time (9999-12-31T23:59:59Z, RFC 5280 §4.1.2.5.2).
 */
export const LATEST_VALID_FROM_MS = LATEST_CERTIFICATE_TIME_MS - CERTIFICATE_VALIDITY_DAYS * MS_PER_DAY;

/** Enrollment-data fields and the DN attribute each one is (ksef-docs `certyfikaty-KSeF.md`). */
const DN_FIELDS: readonly { readonly field: keyof EnrollmentData; readonly oid: string }[] = [
  { field: "commonName", oid: "2.5.4.3" },
  { field: "countryName", oid: "2.5.4.6" },
  { field: "givenName", oid: "2.5.4.42" },
  { field: "surname", oid: "2.5.4.4" },
  { field: "serialNumber", oid: "2.5.4.5" },
  { field: "organizationName", oid: "2.5.4.10" },
  { field: "organizationIdentifier", oid: "2.5.4.97" },
  { field: "uniqueIdentifier", oid: "2.5.4.45" },
];

/** CSR signature algorithms KSeF accepts: RSA PKCS#1 v1.5, RSA-PSS, ECDSA; SHA-1/256/384/512 (ksef-docs `certyfikaty-KSeF.md`). */
const CSR_SIGNATURE_ALGORITHMS = new Set([
  "sha1WithRSAEncryption",
  "sha256WithRSAEncryption",
  "sha384WithRSAEncryption",
  "sha512WithRSAEncryption",
  "RSASSA-PSS",
  "ecdsa-with-SHA1",
  "ecdsa-with-SHA256",
  "ecdsa-with-SHA384",
  "ecdsa-with-SHA512",
]);

const ENROLLMENT_ACCEPTED: StatusInfo = { code: 100, description: "Wniosek przyjęty do realizacji" };
const ENROLLMENT_DONE: StatusInfo = { code: 200, description: "Wniosek obsłużony (certyfikat wygenerowany)" };
const REJECTED_KEY_TAKEN: StatusInfo = {
  code: 400,
  description: "Wniosek odrzucony",
  details: ["Klucz publiczny został już certyfikowany przez inny podmiot."],
};
const REJECTED_LIMIT: StatusInfo = { code: 400, description: "Wniosek odrzucony", details: ["Osiągnięto dopuszczalny limit posiadanych certyfikatów."] };
/** An enrollment that failed inside KSeF (SPEC `CertificateEnrollmentStatusResponse`: 500, no details). */
const ENROLLMENT_FAILED: StatusInfo = { code: 500, description: "Nieznany błąd" };
const ENROLLMENT_550: StatusInfo = {
  code: 550,
  description: "Operacja została anulowana przez system",
  details: ["Przetwarzanie zostało przerwane z przyczyn wewnętrznych systemu. Spróbuj ponownie"],
};

/** Status of a certificate at `now` (SPEC `CertificateListItemStatus`). */
function statusOf(cert: CertificateRecord, now: Date): "Active" | "Revoked" | "Expired" {
  if (cert.revokedAt !== undefined) return "Revoked";
  return now > cert.validTo ? "Expired" : "Active";
}

/** Differences between a CSR subject and the enrollment data, as readable details (empty = equal as sets). */
export function subjectDifferences(csr: CsrInfo, data: EnrollmentData): string[] {
  const problems: string[] = [];
  const known = new Set(DN_FIELDS.map((f) => f.oid));
  for (const a of csr.subject) {
    if (!known.has(a.oid)) problems.push(`CSR zawiera atrybut ${a.name}, którego nie ma w danych do certyfikatu.`);
  }
  for (const { field, oid } of DN_FIELDS) {
    const expected = data[field];
    const present = csr.subject.filter((a) => a.oid === oid);
    if (expected === undefined || expected === null || expected === "") {
      if (present.length > 0) problems.push(`CSR zawiera atrybut ${field}, którego nie ma w danych do certyfikatu.`);
      continue;
    }
    if (present.length === 0) problems.push(`CSR nie zawiera atrybutu ${field}.`);
    else if (present.length > 1) problems.push(`CSR zawiera atrybut ${field} więcej niż raz.`);
    else if (present[0]?.value !== expected) problems.push(`Wartość atrybutu ${field} w CSR różni się od danych do certyfikatu.`);
  }
  return problems;
}

/**
 * Reads a request's date-time (SPEC `format: date-time`, already checked by the OpenAPI validator).
 * @param field the member name, for the 21405 details
 * @param value the string
 * @returns the instant
 * @throws {KsefErrorReply} 400/21405 for a leap second or a string that is not a date-time
 */
export function requestDateTime(field: string, value: string): Date {
  const parsed = parseDateTime(value);
  if (parsed.kind === "leap-second") throw badRequest(21405, `${field}: sekunda przestępna (:60) nie jest obsługiwana; podaj czas z sekundami od 00 do 59.`);
  if (parsed.kind === "invalid") throw badRequest(21405, `${field}: wartość nie jest datą i czasem w formacie RFC 3339 (np. 2026-05-01T00:00:00Z).`);
  return parsed.date;
}

/**
 * The start of validity an enrollment asks for, refused at submission when the certificate could not hold it.
 * @param value `validFrom` of the request (null or absent: from the moment of issuing)
 * @returns the instant, or undefined for "from issuing"
 * @throws {KsefErrorReply} 400/21405 when it is no date-time, a leap second, before year 0000, or so late that the
 *   end of validity would pass 9999-12-31T23:59:59Z
 */
export function requestedValidFrom(value: string | null | undefined): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const validFrom = requestDateTime("validFrom", value);
  const whole = Math.floor(validFrom.getTime() / 1000) * 1000;
  if (whole < EARLIEST_CERTIFICATE_TIME_MS) throw badRequest(21405, "validFrom: certyfikat X.509 nie zapisze daty sprzed roku 0000.");
  if (whole > LATEST_VALID_FROM_MS) {
    throw badRequest(
      21405,
      `validFrom: certyfikat jest ważny ${String(CERTIFICATE_VALIDITY_DAYS)} dni, więc kończyłby się po 9999-12-31T23:59:59Z, czego certyfikat X.509 nie zapisze; najpóźniejsza możliwa data to ${new Date(LATEST_VALID_FROM_MS).toISOString()}.`,
    );
  }
  return validFrom;
}

function spkiHex(key: KeyObject): string {
  return key.export({ type: "spki", format: "der" }).toString("hex");
}

/**
 * Installs the `/certificates/*` operations.
 * @param sim the simulator
 */
export function registerCertificateRoutes(sim: Simulator): void {
  const state = sim.state;

  function subjectOf(ctx: RouteContext): AuthOperation {
    const op = ctx.auth?.operation;
    if (op === undefined) throw new KsefErrorReply(401, undefined);
    return op;
  }

  function enrollmentsOf(op: AuthOperation): EnrollmentRecord[] {
    const key = identityKey(op.identity);
    return [...state.enrollments.values()].filter((e) => identityKey(e.identity) === key);
  }

  function activeCertificatesOf(identity: AuthOperation["identity"], now: Date): CertificateRecord[] {
    const key = identityKey(identity);
    return [...state.certificates.values()].filter((c) => identityKey(c.identity) === key && statusOf(c, now) === "Active");
  }

  /** Enrollments being processed now, so that concurrent requests wait for the same work instead of issuing twice. */
  const inProgress = new Map<string, Promise<void>>();

  /** The certificate for an enrollment, made and checked but not yet recorded anywhere. */
  async function issueFor(e: EnrollmentRecord, now: Date): Promise<CertificateRecord> {
    const ca = await sim.certificateAuthority();
    const validFrom = e.validFrom ?? now;
    const issued = await issueKsefLikeCertificate({
      certificateType: e.certificateType,
      // A KSeF CA never holds the subject's private key: it certifies the CSR's public key.
      keys: { publicKey: e.publicKey },
      enrollmentData: e.enrollmentData,
      validFrom,
      validityDays: CERTIFICATE_VALIDITY_DAYS,
      issuer: ca,
    });
    const info = parseCertificate(issued.der);
    // What query and sign-in report must be what the certificate says; a certificate that reads back otherwise is not handed out.
    const expectedFrom = Math.floor(validFrom.getTime() / 1000) * 1000;
    if (Date.parse(info.validFrom) !== expectedFrom || Date.parse(info.validTo) !== expectedFrom + CERTIFICATE_VALIDITY_DAYS * MS_PER_DAY) {
      throw new Error(
        `The issued certificate reads back valid ${info.validFrom} to ${info.validTo}, not from ${new Date(expectedFrom).toISOString()} for ${String(CERTIFICATE_VALIDITY_DAYS)} days.`,
      );
    }
    const faults = state.faults;
    if ((faults.enrollmentStatus500 ?? 0) > 0) {
      state.faults = { ...faults, enrollmentStatus500: (faults.enrollmentStatus500 ?? 0) - 1 };
      state.counters.faultsInjected++;
      throw new Error("Injected fault enrollmentStatus500: issuing failed after the certificate was made.");
    }
    return {
      serialNumber: info.serialNumber,
      der: issued.der,
      info,
      name: e.certificateName,
      type: e.certificateType,
      commonName: e.enrollmentData.commonName,
      identity: e.identity,
      enrollmentData: e.enrollmentData,
      spkiHex: e.spkiHex,
      validFrom: new Date(info.validFrom),
      validTo: new Date(info.validTo),
      requestDate: e.requestDate,
      revokedAt: undefined,
      revocationReason: undefined,
      lastUseDate: undefined,
    };
  }

  /**
   * Decides one enrollment. The outcome is written in one synchronous step at the end, so a failure at any
   * point leaves no certificate, counter or serial behind: the enrollment alone ends with status 500.
   */
  async function processOne(e: EnrollmentRecord, now: Date): Promise<void> {
    try {
      const key = identityKey(e.identity);
      if ([...state.certificates.values()].some((c) => c.spkiHex === e.spkiHex && identityKey(c.identity) !== key)) {
        e.status = REJECTED_KEY_TAKEN;
        return;
      }
      if (activeCertificatesOf(e.identity, now).length >= sim.limitsOf(e.identity).maxCertificates) {
        e.status = REJECTED_LIMIT;
        return;
      }
      const faults = state.faults;
      if ((faults.enrollmentStatus550 ?? 0) > 0) {
        state.faults = { ...faults, enrollmentStatus550: (faults.enrollmentStatus550 ?? 0) - 1 };
        state.counters.faultsInjected++;
        e.status = ENROLLMENT_550;
        return;
      }
      const record = await issueFor(e, now);
      state.certificates.set(record.serialNumber, record);
      state.counters.certificatesIssued++;
      e.status = ENROLLMENT_DONE;
      e.certificateSerialNumber = record.serialNumber;
    } catch (err) {
      e.failureReason = err instanceof Error ? err.message : String(err);
      e.status = ENROLLMENT_FAILED;
      sim.logger.error({ err, referenceNumber: e.referenceNumber }, "enrollment failed");
    }
  }

  /**
   * Issues (or rejects) every enrollment whose delay has passed, oldest first; KSeF does this in the
   * background. One enrollment's failure ends that enrollment only: this never throws.
   */
  async function processDue(now: Date): Promise<void> {
    const delay = sim.options.enrollmentDelayMs ?? 0;
    for (const e of state.enrollments.values()) {
      if (e.status !== undefined || now.getTime() - e.requestDate.getTime() < delay) continue;
      let work = inProgress.get(e.referenceNumber);
      if (work === undefined) {
        work = processOne(e, now).finally(() => inProgress.delete(e.referenceNumber));
        inProgress.set(e.referenceNumber, work);
      }
      await work;
    }
  }

  sim.route("GET", "/certificates/limits", { token: "access" }, async (ctx) => {
    const op = subjectOf(ctx);
    await processDue(ctx.now);
    const limits = sim.limitsOf(op.identity);
    const enrollmentRemaining = Math.max(0, limits.maxEnrollments - enrollmentsOf(op).length);
    const certificateRemaining = Math.max(0, limits.maxCertificates - activeCertificatesOf(op.identity, ctx.now).length);
    return {
      status: 200,
      contentType: "application/json",
      body: {
        canRequest: enrollmentRemaining > 0 && certificateRemaining > 0,
        enrollment: { limit: limits.maxEnrollments, remaining: enrollmentRemaining },
        certificate: { limit: limits.maxCertificates, remaining: certificateRemaining },
      },
    };
  });

  sim.route("GET", "/certificates/enrollments/data", { token: "access" }, (ctx) => {
    const data = subjectOf(ctx).enrollmentData;
    if (data === undefined) throw badRequest(25001, "Certyfikat użyty do uwierzytelnienia nie zawiera atrybutów commonName i countryName.");
    return { status: 200, contentType: "application/json", body: data };
  });

  sim.route("POST", "/certificates/enrollments", { token: "access" }, async (ctx) => {
    const op = subjectOf(ctx);
    const data = op.enrollmentData;
    if (data === undefined) throw badRequest(25002, "Certyfikat użyty do uwierzytelnienia nie zawiera atrybutów commonName i countryName.");
    const body = ctx.body as { certificateName: string; certificateType: KsefCertificateType; csr: string; validFrom?: string | null };
    const validFrom = requestedValidFrom(body.validFrom);
    let csr: CsrInfo;
    try {
      csr = parseCsr(Buffer.from(body.csr, "base64"));
    } catch {
      throw badRequest(25004, "CSR nie jest poprawnym żądaniem PKCS#10 w formacie DER.");
    }
    if (!csr.signatureValid) throw badRequest(25004, "Podpis CSR jest nieprawidłowy.");
    if (!CSR_SIGNATURE_ALGORITHMS.has(csr.signatureAlgorithm)) throw badRequest(25011, `Algorytm ${csr.signatureAlgorithm} nie jest dozwolony.`);
    if (!csr.keyDescription.ksefAccepted) throw badRequest(25010, "Dozwolone są klucze EC P-256 albo RSA o długości dokładnie 2048 bitów.");
    const differences = subjectDifferences(csr, data);
    if (differences.length > 0) throw badRequest(25003, ...differences);
    await processDue(ctx.now);
    const limits = sim.limitsOf(op.identity);
    if (enrollmentsOf(op).length >= limits.maxEnrollments) throw badRequest(25006);
    if (activeCertificatesOf(op.identity, ctx.now).length >= limits.maxCertificates) throw badRequest(25007);
    const record: EnrollmentRecord = {
      referenceNumber: referenceNumber("EH", ctx.now),
      identity: op.identity,
      requestDate: ctx.now,
      certificateName: body.certificateName,
      certificateType: body.certificateType,
      publicKey: csr.publicKey,
      spkiHex: spkiHex(csr.publicKey),
      enrollmentData: data,
      validFrom,
      status: undefined,
      certificateSerialNumber: undefined,
    };
    state.enrollments.set(record.referenceNumber, record);
    state.counters.enrollmentsCreated++;
    return { status: 202, contentType: "application/json", body: { referenceNumber: record.referenceNumber, timestamp: ctx.now.toISOString() } };
  });

  sim.route("GET", "/certificates/enrollments/{referenceNumber}", { token: "access" }, async (ctx) => {
    const op = subjectOf(ctx);
    const ref = ctx.c.req.param("referenceNumber") ?? "";
    const e = state.enrollments.get(ref);
    if (e === undefined || identityKey(e.identity) !== identityKey(op.identity)) throw badRequest(25005);
    if (ctx.now.getTime() - e.requestDate.getTime() > ENROLLMENT_RETENTION_MS) throw new KsefErrorReply(410, undefined);
    await processDue(ctx.now);
    return {
      status: 200,
      contentType: "application/json",
      body: {
        requestDate: e.requestDate.toISOString(),
        status: e.status ?? ENROLLMENT_ACCEPTED,
        ...(e.certificateSerialNumber === undefined ? {} : { certificateSerialNumber: e.certificateSerialNumber }),
      },
    };
  });

  sim.route("POST", "/certificates/retrieve", { token: "access" }, async (ctx) => {
    const op = subjectOf(ctx);
    await processDue(ctx.now);
    const serials = (ctx.body as { certificateSerialNumbers: string[] }).certificateSerialNumbers;
    const key = identityKey(op.identity);
    const found = serials.map((s) => state.certificates.get(s)).filter((c): c is CertificateRecord => c !== undefined && identityKey(c.identity) === key);
    return {
      status: 200,
      contentType: "application/json",
      body: {
        certificates: found.map((c) => ({
          certificate: Buffer.from(c.der).toString("base64"),
          certificateName: c.name,
          certificateSerialNumber: c.serialNumber,
          certificateType: c.type,
        })),
      },
    };
  });

  sim.route("POST", "/certificates/query", { token: "access" }, async (ctx) => {
    const op = subjectOf(ctx);
    const sizeParam = ctx.c.req.query("pageSize");
    const offsetParam = ctx.c.req.query("pageOffset");
    const pageSize = sizeParam === undefined ? 10 : Number(sizeParam);
    const pageOffset = offsetParam === undefined ? 0 : Number(offsetParam);
    if (!Number.isInteger(pageSize) || pageSize < 10 || pageSize > 50) throw badRequest(21405, "pageSize: wartość musi być liczbą całkowitą od 10 do 50.");
    if (!Number.isInteger(pageOffset) || pageOffset < 0) throw badRequest(21405, "pageOffset: wartość musi być nieujemną liczbą całkowitą.");
    const f = (ctx.body ?? {}) as {
      certificateSerialNumber?: string | null;
      name?: string | null;
      type?: string | null;
      status?: string | null;
      expiresAfter?: string | null;
    };
    const expiresAfter = f.expiresAfter === undefined || f.expiresAfter === null ? undefined : requestDateTime("expiresAfter", f.expiresAfter);
    await processDue(ctx.now);
    const key = identityKey(op.identity);
    const matching = [...state.certificates.values()]
      .filter((c) => identityKey(c.identity) === key)
      .filter((c) => f.certificateSerialNumber === undefined || f.certificateSerialNumber === null || c.serialNumber === f.certificateSerialNumber)
      .filter((c) => f.name === undefined || f.name === null || c.name.toLowerCase().includes(f.name.toLowerCase()))
      .filter((c) => f.type === undefined || f.type === null || c.type === f.type)
      .filter((c) => f.status === undefined || f.status === null || statusOf(c, ctx.now) === f.status)
      .filter((c) => expiresAfter === undefined || c.validTo > expiresAfter)
      .sort((a, b) => b.requestDate.getTime() - a.requestDate.getTime() || (a.serialNumber < b.serialNumber ? -1 : 1));
    const start = pageOffset * pageSize;
    const page = matching.slice(start, start + pageSize);
    return {
      status: 200,
      contentType: "application/json",
      body: {
        certificates: page.map((c) => ({
          certificateSerialNumber: c.serialNumber,
          name: c.name,
          type: c.type,
          commonName: c.commonName,
          status: statusOf(c, ctx.now),
          subjectIdentifier: { type: c.identity.type, value: c.identity.value },
          validFrom: c.validFrom.toISOString(),
          validTo: c.validTo.toISOString(),
          lastUseDate: c.lastUseDate?.toISOString() ?? null,
          requestDate: c.requestDate.toISOString(),
        })),
        hasMore: start + pageSize < matching.length,
      },
    };
  });

  sim.route("POST", "/certificates/{certificateSerialNumber}/revoke", { token: "access" }, async (ctx) => {
    const op = subjectOf(ctx);
    const serial = ctx.c.req.param("certificateSerialNumber") ?? "";
    if (!/^[0-9A-F]{16}$/.test(serial)) throw badRequest(21405, "certificateSerialNumber: wymagane 16 wielkich cyfr szesnastkowych.");
    await processDue(ctx.now);
    const cert = state.certificates.get(serial);
    // Someone else's certificate is reported as missing, so serials of other subjects cannot be probed.
    if (cert === undefined || identityKey(cert.identity) !== identityKey(op.identity)) throw badRequest(25008);
    if (statusOf(cert, ctx.now) !== "Active") throw badRequest(25009);
    cert.revokedAt = ctx.now;
    cert.revocationReason = (ctx.body as { revocationReason?: string | null } | undefined)?.revocationReason ?? "Unspecified";
    return { status: 204 };
  });
}
