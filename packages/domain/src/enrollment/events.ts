/**
 * The machine-readable side of enrollment progress: every sentence the enrollment service writes
 * (`EnrollmentProgress.message`, English, for the CLI and logs) comes with an event of a closed set of
 * kinds and the values the sentence states, so a UI can say it in its own language without parsing English.
 *
 * {@link ENROLLMENT_EVENTS} is the one source: each kind with its parameter names and their types
 * (`"string"` or `"number"`); the types below are derived from it, and tests check emitted events against it.
 */

/**
 * Every event kind the enrollment service emits, with its parameters and their types. Values are what the
 * English message states: file paths as the hand-off returned them, times ISO 8601 (UTC), KSeF reference and
 * serial numbers as KSeF wrote them, `reason` the English text of the error behind a stop.
 */
export const ENROLLMENT_EVENTS = {
  /** The request was stored (`certificateType` Authentication|Offline, `environment` test|demo|production). */
  "enrollment.requested": { name: "string", certificateType: "string", environment: "string" },
  /** The enrollment as it stands, with no step to report (a watcher's first event; written by {@link enrollmentStateEvent}). */
  "enrollment.state": { state: "string" },
  /** The enrollment ended as failed; `reason` is the error's text. */
  "enrollment.failed": { reason: "string" },
  /** A passing fault stopped the run; it is retried later. */
  "run.retrying": { reason: "string" },
  /** The run needs the key password (not given, not sealed). */
  "password.needed": {},
  /** The password given does not open the stored key. */
  "password.wrong": {},
  /** A new EC P-256 key was generated and stored encrypted. */
  "key.generated": {},
  /** KSeF may or may not have the request and shows no certificate for the key: the key is discarded, a new one follows. */
  "key.discarded": {},
  /** Signing in automatically with a held Authentication certificate. */
  "ksef.signingInWithCertificate": {},
  /** auth.xml is being written for the first time. */
  "handoff.writing": {},
  /** The previous auth.xml expired unsigned; a new one is being written. */
  "handoff.renewing": {},
  /** The KSeF session of an already sent enrollment is gone; a new auth.xml is being written to sign in again. */
  "handoff.reauthenticating": {},
  /** auth.xml is at `file`, to be signed and put in the inbox before `expiresAt`. */
  "handoff.published": { file: "string", expiresAt: "string" },
  /** After a restart: still waiting for the signed `file` until `expiresAt`. */
  "handoff.stillWaiting": { file: "string", expiresAt: "string" },
  /** KSeF says the signed file's challenge is no longer valid; a new auth.xml follows. */
  "handoff.challengeInvalid": {},
  /** The challenge refusal (KSeF 21111) as recorded on the enrollment. */
  "handoff.challengeRefused": {},
  /** No signed file arrived for `challenges` challenges in a row; the run stops until someone starts it again. */
  "handoff.abandoned": { challenges: "number" },
  /** KSeF is checking the signature of authentication `referenceNumber`. */
  "ksef.authenticating": { referenceNumber: "string" },
  /** Signed in to KSeF. */
  "ksef.authenticated": {},
  /** The stored (sealed) KSeF session still works and is used. */
  "ksef.sessionResumed": {},
  /** No usable KSeF session: signing in again. */
  "ksef.sessionMissing": {},
  /** Signing in again failed after KSeF already has the enrollment; it stays as it is. */
  "ksef.signInFailed": { reason: "string" },
  /** The certificate request is being sent to KSeF. */
  "ksef.submitting": {},
  /** KSeF accepted the certificate request as `referenceNumber`. */
  "ksef.enrollmentAccepted": { referenceNumber: "string" },
  /** Waiting for KSeF to issue the certificate of `referenceNumber`. */
  "ksef.awaitingCertificate": { referenceNumber: "string" },
  /** KSeF cancelled enrollment `referenceNumber` (550): the key is discarded, the request repeated with a new key. */
  "ksef.enrollmentCancelled": { referenceNumber: "string" },
  /** Reconciling: KSeF already issued `serialNumber` for this key; it is adopted. */
  "certificate.found": { serialNumber: "string" },
  /** Reconciling: KSeF shows no certificate for this key yet; checked again shortly. */
  "certificate.notFoundYet": {},
  /** KSeF issued certificate `serialNumber`. */
  "certificate.issued": { serialNumber: "string" },
  /** Certificate `serialNumber` was recorded in the registry as `mode` (current|queued); the enrollment is completed. */
  "certificate.stored": { serialNumber: "string", mode: "string" },
  /** KSeF issued `serialNumber` but a registry rule refuses it for now (`reason`); serial and key are kept. */
  "certificate.storeBlocked": { serialNumber: "string", reason: "string" },
} as const satisfies Readonly<Record<string, Readonly<Record<string, "string" | "number">>>>;

/** The closed set of enrollment event kinds (the keys of {@link ENROLLMENT_EVENTS}). */
export type EnrollmentEventKind = keyof typeof ENROLLMENT_EVENTS;

/** Every kind's parameters, typed: `string` or `number` as {@link ENROLLMENT_EVENTS} declares. */
export type EnrollmentEventParams = {
  readonly [K in EnrollmentEventKind]: {
    readonly [P in keyof (typeof ENROLLMENT_EVENTS)[K]]: (typeof ENROLLMENT_EVENTS)[K][P] extends "number" ? number : string;
  };
};

/**
 * One machine-readable progress event: a kind and exactly its parameters. Narrowing on `kind` types
 * `params`; every member fits `{ kind: EnrollmentEventKind; params: Readonly<Record<string, string | number>> }`.
 */
export type EnrollmentProgressEvent = {
  readonly [K in EnrollmentEventKind]: { readonly kind: K; readonly params: EnrollmentEventParams[K] };
}[EnrollmentEventKind];

/**
 * Builds an event, typing `params` by `kind`.
 * @param kind the event kind
 * @param params exactly the kind's parameters
 */
export function enrollmentEvent<K extends EnrollmentEventKind>(kind: K, params: EnrollmentEventParams[K]): EnrollmentProgressEvent {
  return { kind, params } as EnrollmentProgressEvent;
}

/**
 * Whether `value` is an event of a known kind with exactly that kind's parameters, each of its declared type
 * (strings non-empty). For data from elsewhere (JSON, tests).
 * @param value anything
 */
export function isEnrollmentProgressEvent(value: unknown): value is EnrollmentProgressEvent {
  if (typeof value !== "object" || value === null) return false;
  const { kind, params } = value as { kind?: unknown; params?: unknown };
  if (typeof kind !== "string" || !Object.hasOwn(ENROLLMENT_EVENTS, kind)) return false;
  if (typeof params !== "object" || params === null) return false;
  const spec: Readonly<Record<string, "string" | "number">> = ENROLLMENT_EVENTS[kind as EnrollmentEventKind];
  const names = Object.keys(params);
  if (names.length !== Object.keys(spec).length) return false;
  return names.every((name) => {
    const v = (params as Record<string, unknown>)[name];
    return spec[name] === "number" ? typeof v === "number" && Number.isFinite(v) : spec[name] === "string" && typeof v === "string" && v !== "";
  });
}

/**
 * The event and English sentence that describe an enrollment as it stands, with no step to report (e.g. the
 * first event a watcher gets): `enrollment.failed` for a failed one, `certificate.storeBlocked` while an issued
 * certificate waits for a registry rule, else `enrollment.state` (the message stays the stored failure reason when there is one).
 * @param e the enrollment's state, failure reason (English) and serial number
 */
export function enrollmentStateEvent(e: { readonly state: string; readonly failureReason: string | null; readonly certificateSerialNumber: string | null }): {
  readonly event: EnrollmentProgressEvent;
  readonly message: string;
} {
  const reason = e.failureReason ?? "";
  if (reason !== "" && e.state === "failed") return { event: enrollmentEvent("enrollment.failed", { reason }), message: reason };
  if (reason !== "" && e.certificateSerialNumber !== null && e.certificateSerialNumber !== "") {
    return { event: enrollmentEvent("certificate.storeBlocked", { serialNumber: e.certificateSerialNumber, reason }), message: reason };
  }
  if (reason !== "") return { event: enrollmentEvent("enrollment.state", { state: e.state }), message: reason };
  return { event: enrollmentEvent("enrollment.state", { state: e.state }), message: `State ${e.state}.` };
}
