/**
 * The one database schema of ksef-certs (PostgreSQL dialect: embedded PGlite by default, a PostgreSQL
 * server when `DATABASE_URL` is set). Migrations are generated from this file by drizzle-kit into
 * `packages/domain/drizzle/` and committed; they are applied when a store opens.
 *
 * The model follows the F2000 ERP: a certificate is held for a company, one of its branches
 * (oddziały) or one of its operators, per environment and type, in mode `current` or `queued`
 * (docs/GLOSSARY.md). Private keys are stored only as the encrypted PKCS#8 file (`key_file`, the
 * bytes exactly as KSeF's web app or our enrollment wrote them); a password only sealed under the
 * master key (AES-256-GCM), never in plaintext.
 */
import { sql } from "drizzle-orm";
import { CERTIFICATE_TYPES, ENVIRONMENTS, type ContextIdentifierType } from "@ksef-certs/ksef/vocabulary";
import type { SigningRequestStatus } from "@ksef-certs/ksef/agent-protocol";
import { bigserial, check, customType, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/** `bytea` as `Uint8Array` (PGlite returns Uint8Array, postgres.js a Buffer: both normalised here). */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => (value instanceof Uint8Array ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value)),
  toDriver: (value) => value,
});

const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
};

/** Who a certificate is held for. */
export const scopeType = pgEnum("scope_type", ["company", "branch", "operator"]);
/** KSeF environment (docs/GLOSSARY.md). */
export const environment = pgEnum("environment", ENVIRONMENTS);
/** KSeF certificate type: Authentication (type 1) or Offline (type 2). */
export const certificateType = pgEnum("certificate_type", CERTIFICATE_TYPES);
/** `current` (in use) or `queued` (takes over when the current one of the same scope, environment and type ends). */
export const certificateMode = pgEnum("certificate_mode", ["current", "queued"]);

/** A taxpayer, identified by NIP. */
export const companies = pgTable("companies", {
  id: uuid("id").primaryKey().defaultRandom(),
  nip: text("nip").notNull().unique(),
  name: text("name").notNull(),
  ...timestamps,
});

/** A branch (oddział) of a company; `internalId` is its KSeF InternalId context (`NIP-NNNNN`) when it has one. */
export const branches = pgTable(
  "branches",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    companyId: uuid("company_id")
      .notNull()
      .references(() => companies.id, { onDelete: "restrict" }),
    code: text("code").notNull(),
    name: text("name").notNull(),
    internalId: text("internal_id").unique(),
    ...timestamps,
  },
  (t) => [uniqueIndex("branches_company_code").on(t.companyId, t.code)],
);

/** A person who works with KSeF for a company (at one or more of its branches), optionally with PESEL or NIP. */
export const operators = pgTable(
  "operators",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    companyId: uuid("company_id")
      .notNull()
      .references(() => companies.id, { onDelete: "restrict" }),
    name: text("name").notNull(),
    pesel: text("pesel"),
    nip: text("nip"),
    ...timestamps,
  },
  (t) => [uniqueIndex("operators_company_pesel").on(t.companyId, t.pesel), index("operators_company").on(t.companyId)],
);

/** Which branches an operator works at. */
export const operatorBranches = pgTable(
  "operator_branches",
  {
    operatorId: uuid("operator_id")
      .notNull()
      .references(() => operators.id, { onDelete: "cascade" }),
    branchId: uuid("branch_id")
      .notNull()
      .references(() => branches.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.operatorId, t.branchId] })],
);

/** A computer at a branch where operators sign; its hand-off folders (absolute paths on that computer). */
export const workstations = pgTable(
  "workstations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    branchId: uuid("branch_id")
      .notNull()
      .references(() => branches.id, { onDelete: "restrict" }),
    name: text("name").notNull(),
    outboxDir: text("outbox_dir").notNull(),
    inboxDir: text("inbox_dir").notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex("workstations_branch_name").on(t.branchId, t.name)],
);

/**
 * A KSeF certificate held for a scope. `companyId` is always set (the owner); `branchId` for branch scope,
 * `operatorId` for operator scope. `status` is what we last knew from KSeF or from the user
 * (`active`, `revoked`); expiry is read from `validTo` against the clock, not stored.
 */
export const certificates = pgTable(
  "certificates",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    scopeType: scopeType("scope_type").notNull(),
    companyId: uuid("company_id")
      .notNull()
      .references(() => companies.id, { onDelete: "restrict" }),
    branchId: uuid("branch_id").references(() => branches.id, { onDelete: "restrict" }),
    operatorId: uuid("operator_id").references(() => operators.id, { onDelete: "restrict" }),
    environment: environment("environment").notNull(),
    certificateType: certificateType("certificate_type").notNull(),
    mode: certificateMode("mode").notNull(),
    /** certificateName given at enrollment (5–100 characters, SPEC `EnrollCertificateRequest`). */
    name: text("name").notNull(),
    /** KSeF serial, 16 uppercase hex digits. */
    serialNumber: text("serial_number").notNull(),
    subjectIdentifierType: text("subject_identifier_type").$type<"Nip" | "Pesel" | "Fingerprint">().notNull(),
    subjectIdentifierValue: text("subject_identifier_value").notNull(),
    /** One-line subject, for display. */
    subject: text("subject").notNull(),
    /** SHA-256 of the certificate DER, 64 uppercase hex. */
    fingerprint: text("fingerprint").notNull(),
    validFrom: timestamp("valid_from", { withTimezone: true }).notNull(),
    validTo: timestamp("valid_to", { withTimezone: true }).notNull(),
    status: text("status").$type<"active" | "revoked">().notNull().default("active"),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revocationReason: text("revocation_reason"),
    /** The certificate, DER. */
    certificateDer: bytea("certificate_der").notNull(),
    /** The private key file exactly as encrypted PKCS#8 (PEM bytes or DER), never decrypted at rest. */
    keyFile: bytea("key_file").notNull(),
    /** The key's password sealed under the master key (AES-256-GCM), only when unattended use was chosen. */
    sealedPassword: bytea("sealed_password"),
    /** `enrolled` through ksef-certs or `imported` from files. */
    source: text("source").$type<"enrolled" | "imported">().notNull(),
    enrollmentId: uuid("enrollment_id"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("certificates_environment_serial").on(t.environment, t.serialNumber),
    index("certificates_company").on(t.companyId),
    index("certificates_branch").on(t.branchId),
    index("certificates_operator").on(t.operatorId),
    index("certificates_expiry").on(t.environment, t.certificateType, t.validTo),
    // The admin app's certificate list pages in (valid_to, id) order with a keyset cursor: without this index every
    // page of an unfiltered list sorted the whole table (apps/admin/src/bench: 7 pages/s at 100 000 certificates).
    index("certificates_valid_to_id").on(t.validTo, t.id),
    // Every reader runs promoteQueued and the renewal report looks up successors: both filter on mode = 'queued'
    // (about 8 % of the rows), which without this partial index read the whole table (src/bench/registry.ts).
    index("certificates_queued")
      .on(t.environment, t.certificateType, t.validTo)
      .where(sql`${t.mode} = 'queued'`),
    check(
      "certificates_scope_columns",
      sql`(${t.scopeType} = 'company' AND ${t.branchId} IS NULL AND ${t.operatorId} IS NULL) OR (${t.scopeType} = 'branch' AND ${t.branchId} IS NOT NULL AND ${t.operatorId} IS NULL) OR (${t.scopeType} = 'operator' AND ${t.operatorId} IS NOT NULL)`,
    ),
  ],
);

/**
 * One enrollment as a persisted state machine. `state` values and their
 * transitions are owned by the enrollment use case; every column a step needs to resume is here:
 * the encrypted key is stored before anything is sent to KSeF, the KSeF reference numbers as soon as
 * KSeF returns them, so a crash at any step resumes without enrolling a key twice.
 */
export const enrollments = pgTable(
  "enrollments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    scopeType: scopeType("scope_type").notNull(),
    companyId: uuid("company_id")
      .notNull()
      .references(() => companies.id, { onDelete: "restrict" }),
    branchId: uuid("branch_id").references(() => branches.id, { onDelete: "restrict" }),
    operatorId: uuid("operator_id").references(() => operators.id, { onDelete: "restrict" }),
    environment: environment("environment").notNull(),
    certificateType: certificateType("certificate_type").notNull(),
    mode: certificateMode("mode").notNull(),
    name: text("name").notNull(),
    /** Requested start of validity (`validFrom` of the enrollment), if any. */
    validFrom: timestamp("valid_from", { withTimezone: true }),
    state: text("state").notNull(),
    /** `certificate` (signed automatically with a held Authentication certificate) or `handoff` (a person signs auth.xml). */
    authMethod: text("auth_method").$type<"certificate" | "handoff">().notNull(),
    signingCertificateId: uuid("signing_certificate_id").references(() => certificates.id, { onDelete: "set null" }),
    workstationId: uuid("workstation_id").references(() => workstations.id, { onDelete: "set null" }),
    /** The new key, encrypted PKCS#8 (stored before anything is sent). */
    keyFile: bytea("key_file"),
    sealedPassword: bytea("sealed_password"),
    /** The CSR sent (DER) and the public key it certifies (SPKI DER), to pair the issued certificate without the password. */
    csrDer: bytea("csr_der"),
    publicKeySpki: bytea("public_key_spki"),
    challenge: text("challenge"),
    challengeExpiresAt: timestamp("challenge_expires_at", { withTimezone: true }),
    /** The auth.xml file written for the hand-off (path on the workstation). */
    handoffFile: text("handoff_file"),
    authReferenceNumber: text("auth_reference_number"),
    /** The KSeF session of this enrollment (refresh token and its expiry) sealed under the master key, for resuming. */
    sealedSession: bytea("sealed_session"),
    /** When `POST /certificates/enrollments` was sent (set before sending: a crash after it leaves an outcome to reconcile). */
    submittedAt: timestamp("submitted_at", { withTimezone: true }),
    /** referenceNumber of `POST /certificates/enrollments`. */
    ksefReferenceNumber: text("ksef_reference_number").unique(),
    certificateSerialNumber: text("certificate_serial_number"),
    certificateId: uuid("certificate_id").references(() => certificates.id, { onDelete: "set null" }),
    failureCode: integer("failure_code"),
    failureReason: text("failure_reason"),
    attempts: integer("attempts").notNull().default(0),
    /** The new key's algorithm (`@ksef-certs/ksef/crypto` names): KSeF certifies EC P-256 and RSA-2048. */
    keyAlgorithm: text("key_algorithm").$type<"EC-P256" | "RSA-2048">().notNull().default("EC-P256"),
    ...timestamps,
  },
  (t) => [index("enrollments_state").on(t.state)],
);

/**
 * Renewal policy of one scope (company, branch or operator). Every column but the scope may be NULL: the value is
 * then inherited from the scope above (operator → branch → company → the built-in defaults).
 */
export const renewalPolicies = pgTable(
  "renewal_policies",
  {
    /** `company:<uuid>`, `branch:<uuid>` or `operator:<uuid>`: one row per scope. */
    scopeKey: text("scope_key").primaryKey(),
    scopeType: scopeType("scope_type").notNull(),
    companyId: uuid("company_id")
      .notNull()
      .references(() => companies.id, { onDelete: "cascade" }),
    branchId: uuid("branch_id").references(() => branches.id, { onDelete: "cascade" }),
    operatorId: uuid("operator_id").references(() => operators.id, { onDelete: "cascade" }),
    /** Start renewing this many days before the current certificate expires (1–365). */
    renewBeforeDays: integer("renew_before_days"),
    /** `automatic` or `ask_first` (an admin approves each renewal). */
    approval: text("approval").$type<"automatic" | "ask_first">(),
    /** Who signs the KSeF login: `certificate` (itself, or for Offline the holder's Authentication) else a person; `person` always. */
    signing: text("signing").$type<"certificate" | "person">(),
    /** The workstation where a person signs auth.xml when one must. */
    workstationId: uuid("workstation_id").references(() => workstations.id, { onDelete: "set null" }),
    /** A renewal that needs a person opens its signing request at least this many days before expiry (1–365). */
    personLeadDays: integer("person_lead_days"),
    /** The successor's mode: `queued` (takes over at expiry) or `current` (replaces at once). */
    successorMode: certificateMode("successor_mode"),
    keyAlgorithm: text("key_algorithm").$type<"EC-P256" | "RSA-2048">(),
    /** The new key's password: `reuse` the current one's sealed password, `generate` a new one (sealed), or `ask` a person. */
    password: text("password").$type<"reuse" | "generate" | "ask">(),
    updatedBy: text("updated_by").notNull(),
    ...timestamps,
  },
  (t) => [index("renewal_policies_company").on(t.companyId)],
);

/**
 * One renewal of one certificate: created when it falls due, claimed by one scheduler at a time (a lease:
 * `claimedBy` until `claimedUntil`, taken with `FOR UPDATE SKIP LOCKED`), driving exactly one enrollment at a time.
 */
export const renewals = pgTable(
  "renewals",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** The certificate being renewed: at most one renewal per certificate, ever. */
    certificateId: uuid("certificate_id")
      .notNull()
      .unique()
      .references(() => certificates.id, { onDelete: "cascade" }),
    companyId: uuid("company_id")
      .notNull()
      .references(() => companies.id, { onDelete: "cascade" }),
    /** See `RENEWAL_STATES` in the renewal module. */
    state: text("state").$type<"due" | "awaiting_approval" | "running" | "awaiting_signature" | "completed" | "failed" | "blocked">().notNull(),
    route: text("route").$type<"certificate" | "person">(),
    dueAt: timestamp("due_at", { withTimezone: true }).notNull(),
    /** Not claimed before this time (backoff after a failure, the next look at a blocked or waiting renewal). */
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    claimedBy: text("claimed_by"),
    claimedUntil: timestamp("claimed_until", { withTimezone: true }),
    /** The enrollment of the current attempt; its id is chosen and stored here before the enrollment is created. */
    enrollmentId: uuid("enrollment_id"),
    /** How many enrollments this renewal has started (a failed one is followed by a new one). */
    enrollmentsStarted: integer("enrollments_started").notNull().default(0),
    successorId: uuid("successor_id").references(() => certificates.id, { onDelete: "set null" }),
    /** Message id and parameters of the last stop (blocked, failed, retrying), for the plan and the report. */
    reasonId: text("reason_id"),
    reasonParams: jsonb("reason_params").$type<Record<string, string | number>>(),
    approvedBy: text("approved_by"),
    approvedAt: timestamp("approved_at", { withTimezone: true }),
    /** The new key's password an admin gave when approving (policy `ask`), sealed under the master key; cleared once used. */
    sealedPassword: bytea("sealed_password"),
    /** When a person was first asked to sign (the signing request opened at the workstation). */
    signatureRequestedAt: timestamp("signature_requested_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [index("renewals_claim").on(t.state, t.nextAttemptAt), index("renewals_company").on(t.companyId), index("renewals_enrollment").on(t.enrollmentId)],
);

/**
 * Calls made to KSeF, per limiter key (endpoint), shared by every process on this database so that several servers
 * together stay under KSeF's published rate limits. Rows older than the longest window are deleted as new ones come.
 */
export const ksefCallGrants = pgTable(
  "ksef_call_grants",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    key: text("key").notNull(),
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index("ksef_call_grants_key_at").on(t.key, t.at)],
);

/**
 * How an audit entry's `hash` was made: `hmac-sha256` keyed with a key derived from the master key
 * (what every entry gets once a master key exists), or `sha256` without a key (entries written before
 * any master key existed; accepted only before the first keyed entry). See `src/store/audit.ts`.
 */
export const AUDIT_HASH_SCHEMES = ["sha256", "hmac-sha256"] as const;

/**
 * The append-only audit log. Each entry carries the previous entry's hash (`prevHash`) and its own
 * (`hash`, over the canonical JSON of the entry including `prevHash`; `hashScheme` says whether it is an
 * HMAC under the audit key or a plain SHA-256), so `ksef-certs audit verify` finds any edited, removed or
 * reordered entry. `before`/`after` never hold secrets (keys, passwords).
 */
export const auditLog = pgTable(
  "audit_log",
  {
    seq: bigserial("seq", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id"),
    before: jsonb("before"),
    after: jsonb("after"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull().unique(),
    // Rows from before this column existed were all plain SHA-256.
    hashScheme: text("hash_scheme").$type<(typeof AUDIT_HASH_SCHEMES)[number]>().notNull().default("sha256"),
  },
  (t) => [check("audit_log_hash_scheme", sql`${t.hashScheme} IN ('sha256', 'hmac-sha256')`)],
);

/** Roles of admin-app accounts ): what a role may touch is decided by `@ksef-certs/domain/access`. */
export const userRole = pgEnum("user_role", ["super_admin", "company_admin", "branch_admin", "auditor"]);

/** A local account of the admin app. `passwordHash` is a self-describing scrypt string (`@ksef-certs/domain/access`). */
export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** Login name, stored lower-case; unique. */
  login: text("login").notNull().unique(),
  displayName: text("display_name").notNull(),
  passwordHash: text("password_hash").notNull(),
  /** UI language: `pl` (default) or `en`. */
  locale: text("locale").$type<"pl" | "en">().notNull().default("pl"),
  disabledAt: timestamp("disabled_at", { withTimezone: true }),
  ...timestamps,
});

/**
 * A role granted to an account over a scope: super_admin (no scope), company_admin (`companyId`),
 * branch_admin (`branchId`, with its `companyId`), auditor (read-only: every company, or one `companyId`).
 */
export const userRoles = pgTable(
  "user_roles",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: userRole("role").notNull(),
    companyId: uuid("company_id").references(() => companies.id, { onDelete: "cascade" }),
    branchId: uuid("branch_id").references(() => branches.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("user_roles_user").on(t.userId),
    check(
      "user_roles_scope_columns",
      sql`(${t.role} = 'super_admin' AND ${t.companyId} IS NULL AND ${t.branchId} IS NULL) OR (${t.role} = 'company_admin' AND ${t.companyId} IS NOT NULL AND ${t.branchId} IS NULL) OR (${t.role} = 'branch_admin' AND ${t.companyId} IS NOT NULL AND ${t.branchId} IS NOT NULL) OR (${t.role} = 'auditor' AND ${t.branchId} IS NULL)`,
    ),
  ],
);

/** A signed-in browser session. Only the SHA-256 of the cookie token is stored (`tokenHash`, 64 hex). */
export const webSessions = pgTable(
  "web_sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** SHA-256 of the session's CSRF token (sent back in a header on every mutation). */
    csrfHash: text("csrf_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("web_sessions_user").on(t.userId)],
);

/** Failed sign-ins per key (a login name or a client address), for throttling. */
export const loginThrottle = pgTable("login_throttle", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull(),
  windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull(),
  lockedUntil: timestamp("locked_until", { withTimezone: true }),
});

/** A one-time pairing code for a workstation's signer agent; only its SHA-256 is stored. */
export const pairingCodes = pgTable(
  "pairing_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    workstationId: uuid("workstation_id")
      .notNull()
      .references(() => workstations.id, { onDelete: "cascade" }),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
  },
  (t) => [index("pairing_codes_workstation").on(t.workstationId)],
);

/** A signer agent's bearer token for one workstation; only its SHA-256 is stored; revocable from the UI. */
export const workstationTokens = pgTable(
  "workstation_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workstationId: uuid("workstation_id")
      .notNull()
      .references(() => workstations.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    /** What the agent said about itself at pairing (host name, agent version); display only. */
    label: text("label").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [index("workstation_tokens_workstation").on(t.workstationId)],
);

/**
 * An AuthTokenRequest waiting for a person's signature at a workstation (the agent hand-off).
 * `xml` is the unsigned request; `signedXml` the signed file exactly as uploaded (never re-serialised).
 * `status`: pending → signed → (consumed by the enrollment) submitted, or expired / cancelled / failed.
 */
export const signingRequests = pgTable(
  "signing_requests",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workstationId: uuid("workstation_id")
      .notNull()
      .references(() => workstations.id, { onDelete: "cascade" }),
    enrollmentId: uuid("enrollment_id").references(() => enrollments.id, { onDelete: "set null" }),
    challenge: text("challenge").notNull(),
    /** KSeF ContextIdentifier of the request, e.g. `{ "type": "Nip", "value": "5265877635" }`. */
    contextIdentifier: jsonb("context_identifier").$type<{ type: ContextIdentifierType; value: string }>().notNull(),
    /** The file name the agent writes into the outbox (`handoffFileName`). */
    fileName: text("file_name").notNull(),
    xml: bytea("xml").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    status: text("status").$type<SigningRequestStatus>().notNull().default("pending"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    signedXml: bytea("signed_xml"),
    /** SHA-256 of `signedXml`, 64 lower-case hex: a duplicate upload is recognised by it. */
    signedSha256: text("signed_sha256"),
    signedAt: timestamp("signed_at", { withTimezone: true }),
    failureReason: text("failure_reason"),
    ...timestamps,
  },
  (t) => [index("signing_requests_workstation_status").on(t.workstationId, t.status), index("signing_requests_enrollment").on(t.enrollmentId)],
);

/** Where a certificate pair was exported to, so an admin sees which ERP exports it went to. */
export const certificateExports = pgTable(
  "certificate_exports",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    certificateId: uuid("certificate_id")
      .notNull()
      .references(() => certificates.id, { onDelete: "cascade" }),
    /** The adapter's literal id (`pem-pair`, `pkcs12`, `f2000`, `bundle`, or a vendor's). */
    adapterId: text("adapter_id").notNull(),
    /** A description of the target (a folder or file path, a download), never a secret. */
    target: text("target").notNull(),
    actor: text("actor").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (t) => [index("certificate_exports_certificate").on(t.certificateId)],
);

/**
 * A server-side folder exports may be written to, configured by a super-admin and picked by name: web requests
 * never name a path. `path` is relative to the server's export root (a fixed folder outside the data folder);
 * `company_id` limits it to one company's certificates (null: any company the exporter may write).
 */
export const exportDestinations = pgTable("export_destinations", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  path: text("path").notNull(),
  companyId: uuid("company_id").references(() => companies.id, { onDelete: "cascade" }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
});
