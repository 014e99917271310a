/**
 * A fake KSeF for the enrollment state-machine tests: the client operations the enrollment uses, over
 * in-memory state, with real certificates (issued by the test CA from the CSR's public key, so pairing
 * and recording run for real) and crash points: `crash(op, "before" | "after")` makes the next call of
 * `op` throw a plain Error before or after KSeF acted, as a killed process would leave things.
 */
import { createHash } from "node:crypto";
import { parseCertificate, parseCsr } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate } from "@ksef-certs/ksef/testing";
import type { EnrollmentData } from "@ksef-certs/ksef/crypto";
import { KsefApiError, KsefStatusError } from "@ksef-certs/ksef/api";
import type { AccessToken } from "@ksef-certs/ksef/api";
import type { components } from "@ksef-certs/ksef/api";
import type { EnrollmentKsefClient } from "../model.js";

type S = components["schemas"];

/** Operations a crash can be injected into: every KSeF call the enrollment makes. */
export type FakeOp = keyof EnrollmentKsefClient;

/** The enrollment data the fake returns (a person, PESEL). */
export const FAKE_ENROLLMENT_DATA: EnrollmentData = {
  commonName: "Jan Kowalski",
  countryName: "PL",
  givenName: "Jan",
  surname: "Kowalski",
  serialNumber: "PNOPL-44051401359",
};

interface Issued {
  readonly serial: string;
  readonly der: Uint8Array;
  readonly name: string;
  readonly type: "Authentication" | "Offline";
  readonly requestDate: Date;
  readonly spkiSha256: string;
}

/** The fake's in-memory KSeF. */
export class FakeKsef implements EnrollmentKsefClient {
  /** Challenges handed out, in order. */
  readonly challenges: string[] = [];
  /** Signed documents received, exactly as sent. */
  readonly submittedXml: Uint8Array[] = [];
  /** Every accepted `POST /certificates/enrollments`: reference, SHA-256 of the CSR's SPKI, name. */
  readonly enrollments: { readonly ref: string; readonly spkiSha256: string; readonly name: string }[] = [];
  /** Issued certificates by serial. */
  readonly issued = new Map<string, Issued>();
  private readonly byRef = new Map<string, string>();
  private readonly accessTokens = new Set<string>();
  private readonly refreshTokens = new Set<string>();
  private readonly authTokens = new Set<string>();
  private readonly crashes = new Map<FakeOp, "before" | "after">();
  private readonly failures = new Map<FakeOp, { make: () => Error; when: "before" | "after" }>();
  private seq = 0;

  /** @param now the test clock */
  constructor(private readonly now: () => Date) {}

  /** The next call of `op` throws a plain Error `before` or `after` KSeF acted. */
  crash(op: FakeOp, when: "before" | "after"): void {
    this.crashes.set(op, when);
  }

  /** The next call of `op` fails with `make()`, `before` (default) or `after` KSeF acted. */
  fail(op: FakeOp, make: () => Error, when: "before" | "after" = "before"): void {
    this.failures.set(op, { make, when });
  }

  /** Ends every session (refresh tokens stop working), as after a long pause. */
  endSessions(): void {
    this.refreshTokens.clear();
    this.accessTokens.clear();
  }

  /** How many enrollment requests KSeF got per key (SHA-256 of SPKI). */
  enrollmentsPerKey(): Map<string, number> {
    const m = new Map<string, number>();
    for (const e of this.enrollments) m.set(e.spkiSha256, (m.get(e.spkiSha256) ?? 0) + 1);
    return m;
  }

  private before(op: FakeOp): void {
    const failure = this.failures.get(op);
    if (failure?.when === "before") {
      this.failures.delete(op);
      throw failure.make();
    }
    if (this.crashes.get(op) === "before") {
      this.crashes.delete(op);
      throw new Error(`simulated crash before ${op}`);
    }
  }

  private after(op: FakeOp): void {
    const failure = this.failures.get(op);
    if (failure?.when === "after") {
      this.failures.delete(op);
      throw failure.make();
    }
    if (this.crashes.get(op) === "after") {
      this.crashes.delete(op);
      throw new Error(`simulated crash after ${op}`);
    }
  }

  private next(): string {
    this.seq++;
    return this.seq.toString(16).toUpperCase().padStart(10, "0");
  }

  private async bearer(auth: AccessToken): Promise<void> {
    const token = typeof auth === "string" ? auth : await auth.accessToken();
    if (!this.accessTokens.has(token)) {
      throw new KsefApiError("FORBIDDEN", "KSeF refused the request: not authenticated (HTTP 401).", { operation: "fake", httpStatus: 401, retryable: false });
    }
  }

  challenge(): Promise<S["AuthenticationChallengeResponse"]> {
    this.before("challenge");
    const challenge = `20260301-CR-${this.next()}-${this.next()}-${(this.seq % 256).toString(16).toUpperCase().padStart(2, "0")}`;
    this.challenges.push(challenge);
    const t = this.now();
    this.after("challenge");
    return Promise.resolve({ challenge, timestamp: t.toISOString(), timestampMs: t.getTime(), clientIp: "127.0.0.1" });
  }

  submitXadesSignature(signedXml: Uint8Array): Promise<S["AuthenticationInitResponse"]> {
    this.before("submitXadesSignature");
    const text = new TextDecoder().decode(signedXml);
    const challenge = /<Challenge>([^<]+)<\/Challenge>/.exec(text)?.[1];
    if (challenge === undefined || !this.challenges.includes(challenge) || !text.includes("Signature")) {
      throw new KsefApiError("VALIDATION", "KSeF refused the XAdES authentication: 21111 Nieprawidłowe wyzwanie autoryzacyjne.", {
        operation: "POST /auth/xades-signature",
        httpStatus: 400,
        problem: { format: "problem-details", errors: [{ code: 21111, description: "Nieprawidłowe wyzwanie autoryzacyjne.", details: [] }] },
        retryable: false,
      });
    }
    this.submittedXml.push(signedXml);
    const token = `auth-${this.next()}`;
    this.authTokens.add(token);
    this.after("submitXadesSignature");
    return Promise.resolve({
      referenceNumber: `20260301-AU-${this.next()}-${this.next()}-01`,
      authenticationToken: { token, validUntil: new Date(this.now().getTime() + 45 * 60_000).toISOString() },
    });
  }

  waitForAuthentication(referenceNumber: string, authenticationToken: string): Promise<S["AuthenticationOperationStatusResponse"]> {
    this.before("waitForAuthentication");
    if (!this.authTokens.has(authenticationToken)) throw new Error("fake: unknown authentication token");
    this.after("waitForAuthentication");
    return Promise.resolve({
      startDate: this.now().toISOString(),
      status: { code: 200, description: "Uwierzytelnianie zakończone sukcesem" },
    } as S["AuthenticationOperationStatusResponse"]);
  }

  redeemToken(authenticationToken: string): Promise<S["AuthenticationTokensResponse"]> {
    this.before("redeemToken");
    if (!this.authTokens.delete(authenticationToken)) {
      throw new KsefApiError("VALIDATION", "KSeF refused the token redemption: 21301.", {
        operation: "POST /auth/token/redeem",
        httpStatus: 400,
        retryable: false,
      });
    }
    const access = `acc-${this.next()}`;
    const refresh = `ref-${this.next()}`;
    this.accessTokens.add(access);
    this.refreshTokens.add(refresh);
    const t = this.now().getTime();
    this.after("redeemToken");
    return Promise.resolve({
      accessToken: { token: access, validUntil: new Date(t + 15 * 60_000).toISOString() },
      refreshToken: { token: refresh, validUntil: new Date(t + 7 * 86_400_000).toISOString() },
    });
  }

  refreshAccessToken(refreshToken: string): Promise<S["AuthenticationTokenRefreshResponse"]> {
    this.before("refreshAccessToken");
    if (!this.refreshTokens.has(refreshToken)) {
      return Promise.reject(
        new KsefApiError("FORBIDDEN", "KSeF refused the token refresh: not authenticated (HTTP 401).", {
          operation: "POST /auth/token/refresh",
          httpStatus: 401,
          retryable: false,
        }),
      );
    }
    const access = `acc-${this.next()}`;
    this.accessTokens.add(access);
    this.after("refreshAccessToken");
    return Promise.resolve({ accessToken: { token: access, validUntil: new Date(this.now().getTime() + 15 * 60_000).toISOString() } });
  }

  async certificateLimits(auth: AccessToken): Promise<S["CertificateLimitsResponse"]> {
    this.before("certificateLimits");
    await this.bearer(auth);
    this.after("certificateLimits");
    return { canRequest: true, enrollment: { limit: 12, remaining: 12 - this.enrollments.length }, certificate: { limit: 6, remaining: 6 - this.issued.size } };
  }

  async enrollmentData(auth: AccessToken): Promise<S["CertificateEnrollmentDataResponse"]> {
    this.before("enrollmentData");
    await this.bearer(auth);
    this.after("enrollmentData");
    return { ...FAKE_ENROLLMENT_DATA };
  }

  async enrollCertificate(auth: AccessToken, body: S["EnrollCertificateRequest"]): Promise<S["EnrollCertificateResponse"]> {
    this.before("enrollCertificate");
    await this.bearer(auth);
    const csr = parseCsr(Buffer.from(body.csr, "base64"));
    const spkiSha256 = createHash("sha256")
      .update(csr.publicKey.export({ type: "spki", format: "der" }))
      .digest("hex");
    const ref = `20260301-EH-${this.next()}-${this.next()}-02`;
    this.enrollments.push({ ref, spkiSha256, name: body.certificateName });
    // KSeF issues asynchronously; the fake issues at once so a reconcile can find it.
    const requestDate = this.now();
    const cert = await issueKsefLikeCertificate({
      certificateType: body.certificateType,
      keys: { publicKey: csr.publicKey },
      enrollmentData: FAKE_ENROLLMENT_DATA,
      validFrom: body.validFrom === undefined || body.validFrom === null ? requestDate : new Date(body.validFrom),
    });
    const serial = parseCertificate(cert.der).serialNumber;
    this.issued.set(serial, { serial, der: cert.der, name: body.certificateName, type: body.certificateType, requestDate, spkiSha256 });
    this.byRef.set(ref, serial);
    this.after("enrollCertificate");
    return { referenceNumber: ref, timestamp: requestDate.toISOString() };
  }

  async waitForEnrollment(
    auth: AccessToken,
    referenceNumber: string,
  ): Promise<S["CertificateEnrollmentStatusResponse"] & { readonly certificateSerialNumber: string }> {
    this.before("waitForEnrollment");
    await this.bearer(auth);
    const serial = this.byRef.get(referenceNumber);
    if (serial === undefined) throw new Error(`fake: unknown enrollment ${referenceNumber}`);
    this.after("waitForEnrollment");
    return { requestDate: this.now().toISOString(), status: { code: 200, description: "Wniosek obsłużony" }, certificateSerialNumber: serial };
  }

  async retrieveCertificates(auth: AccessToken, serialNumbers: readonly string[]): Promise<S["RetrieveCertificatesResponse"]> {
    this.before("retrieveCertificates");
    await this.bearer(auth);
    const certificates = serialNumbers.flatMap((s) => {
      const c = this.issued.get(s);
      return c === undefined
        ? []
        : [{ certificate: Buffer.from(c.der).toString("base64"), certificateName: c.name, certificateSerialNumber: c.serial, certificateType: c.type }];
    });
    this.after("retrieveCertificates");
    return { certificates };
  }

  async queryCertificates(
    auth: AccessToken,
    filter: S["QueryCertificatesRequest"] = {},
    options: { readonly pageSize?: number; readonly pageOffset?: number } = {},
  ): Promise<S["QueryCertificatesResponse"]> {
    this.before("queryCertificates");
    await this.bearer(auth);
    const all = [...this.issued.values()]
      .filter((c) => (filter.name == null || c.name.includes(filter.name)) && (filter.type == null || c.type === filter.type))
      .sort((a, b) => b.requestDate.getTime() - a.requestDate.getTime());
    const size = options.pageSize ?? 10;
    const offset = (options.pageOffset ?? 0) * size;
    const page = all.slice(offset, offset + size);
    this.after("queryCertificates");
    return {
      certificates: page.map((c) => ({
        certificateSerialNumber: c.serial,
        name: c.name,
        type: c.type,
        commonName: FAKE_ENROLLMENT_DATA.commonName,
        status: "Active",
        subjectIdentifier: { type: "Pesel", value: "44051401359" },
        validFrom: c.requestDate.toISOString(),
        validTo: new Date(c.requestDate.getTime() + 730 * 86_400_000).toISOString(),
        requestDate: c.requestDate.toISOString(),
      })),
      hasMore: offset + size < all.length,
    };
  }
}

/** A KSeF status failure, e.g. `statusError("waitForEnrollment", 400)`. */
export function statusError(code: number, referenceNumber = "20260301-EH-0000000000-0000000000-00"): KsefStatusError {
  return new KsefStatusError(code === 550 ? "IO" : code === 400 ? "CONFLICT" : "IO", `KSeF rejected enrollment ${referenceNumber}: ${code}.`, {
    operation: "GET /certificates/enrollments/{referenceNumber}",
    referenceNumber,
    statusCode: code,
    statusDescription: code === 400 ? "Klucz publiczny został już certyfikowany przez inny podmiot" : "Anulowano",
    statusDetails: [],
  });
}
