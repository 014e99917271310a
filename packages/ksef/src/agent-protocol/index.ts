/**
 * `@ksef-certs/ksef/agent-protocol`: the HTTP contract between the admin server and the signer agent, written once
 * and parsed by both sides. The server (`createAgentApi` in apps/admin) validates what it receives with these
 * schemas and types what it answers with them; the agent (`AgentApiClient` in apps/signer-agent) types what it
 * sends with them and parses every answer with them.
 *
 * Every route lives under {@link AGENT_API_PREFIX}:
 *
 * - `POST /pair` {@link PairRequest} → {@link PairAnswer}
 * - `GET /workstation` → {@link Workstation}
 * - `GET /requests?waitMs=&after=` ({@link requestsQuerySchema}) → {@link RequestsAnswer}, a long poll of up to
 *   {@link MAX_WAIT_MS}
 * - `POST /requests/:id/signed` (the signed file as {@link SIGNED_UPLOAD_CONTENT_TYPE}, its SHA-256 in
 *   {@link CONTENT_SHA256_HEADER}) → {@link SignedUploadAnswer}
 * - `POST /requests/:id/failed` {@link FailedReport} → {@link FailedAnswer}
 * - any error → {@link AgentErrorBody} with a 4xx/5xx status
 *
 * The answers' schemas are tolerant readers where the agent has always been tolerant (nullish optional fields, the
 * pairing answer's `server` object, the error body's extra keys), so an older agent keeps reading a newer server.
 * Size caps bound what the agent accepts from a server it does not fully trust.
 */
import { z } from "zod";
import { CONTEXT_IDENTIFIER_TYPES } from "../vocabulary.js";

/** Path prefix of the agent API on the admin server: every route of the contract is below it. */
export const AGENT_API_PREFIX = "/agent/v1";

/** Longest long poll the server holds `GET /requests`, ms (30 s): the largest `waitMs` accepted. */
export const MAX_WAIT_MS = 30_000;

/** The long poll's wait when `GET /requests` comes without `waitMs`, ms (25 s). */
export const DEFAULT_WAIT_MS = 25_000;

/** Largest JSON body the server accepts (`POST /pair`, `POST /requests/:id/failed`), bytes (16 KiB). */
export const MAX_JSON_BYTES = 16 * 1024;

/** Longest failure reason a `POST /requests/:id/failed` may carry, characters (1000); the server keeps it whole. */
export const MAX_FAILURE_REASON_LENGTH = 1000;

/** Header of `POST /requests/:id/signed` carrying the SHA-256 of the uploaded bytes (64 hexadecimal digits). */
export const CONTENT_SHA256_HEADER = "X-Content-SHA256";

/** The only `Content-Type` of `POST /requests/:id/signed`: the signed file's bytes, unchanged. */
export const SIGNED_UPLOAD_CONTENT_TYPE = "application/octet-stream";

/** The value of {@link CONTENT_SHA256_HEADER}: SHA-256 of the body, 64 hexadecimal digits (either case). */
export const contentSha256Schema = z.string().regex(/^[0-9a-fA-F]{64}$/);

/**
 * The statuses of a signing request, in lifecycle order: `pending` → `signed` → `submitted`, or `expired`
 * (the challenge ran out, or a newer request replaced it), `cancelled`, `failed` (the agent reported it).
 */
export const SIGNING_REQUEST_STATUSES = ["pending", "signed", "submitted", "expired", "cancelled", "failed"] as const;

/** One of {@link SIGNING_REQUEST_STATUSES}. */
export type SigningRequestStatus = (typeof SIGNING_REQUEST_STATUSES)[number];

/** The body of `POST /pair`: the one-time code shown in the admin app (`XXXX-XXXX`, ≤ 64 characters) and what the agent says about itself (≤ 200 characters, display only). */
export const pairRequestSchema = z.object({ code: z.string().min(1).max(64), label: z.string().min(1).max(200) });

/** What `POST /pair` sends, as {@link pairRequestSchema} describes it. */
export type PairRequest = z.input<typeof pairRequestSchema>;

/**
 * The workstation as the server describes it (`GET /workstation`, and `workstation` of the pairing answer): ids,
 * its branch and company, and the outbox and inbox folders as configured on the server (the agent may override
 * them locally). The agent keeps this object as it is in its `config.json`.
 */
export const workstationSchema = z.object({
  id: z.string().min(1).max(64),
  name: z.string().max(200),
  branchId: z.string().max(64).nullish(),
  branchCode: z.string().max(64).nullish(),
  companyNip: z.string().max(32).nullish(),
  companyName: z.string().max(300).nullish(),
  outboxDir: z.string().max(4096).nullish(),
  inboxDir: z.string().max(4096).nullish(),
});

/** A workstation as {@link workstationSchema} reads it. */
export type Workstation = z.infer<typeof workstationSchema>;

/**
 * The answer to `POST /pair`: the workstation token (bearer, 16–512 characters; the agent stores it 0600 and never
 * logs it), the workstation it stands for, and `server.version` (≤ 100 characters) when the server says.
 */
export const pairAnswerSchema = z.object({
  token: z.string().min(16).max(512),
  workstation: workstationSchema,
  server: z
    .object({ version: z.string().max(100) })
    .partial()
    .loose(),
});

/** The pairing answer as the server writes it. */
export type PairAnswer = z.input<typeof pairAnswerSchema>;

/**
 * The query of `GET /requests`: `waitMs`, how long the server may hold the answer (ms, 0–{@link MAX_WAIT_MS}, at
 * most six decimal digits; {@link DEFAULT_WAIT_MS} when absent), and `after`, the `cursor` of the previous answer
 * (absent or empty: everything pending). Parsing turns `waitMs` into a number.
 */
export const requestsQuerySchema = z.object({
  waitMs: z
    .string()
    .regex(/^\d{1,6}$/)
    .transform(Number)
    .pipe(z.number().int().min(0).max(MAX_WAIT_MS))
    .default(DEFAULT_WAIT_MS),
  after: z.string().optional(),
});

/** The query as the agent writes it (strings). */
export type RequestsQueryInput = z.input<typeof requestsQuerySchema>;

/**
 * One signing request as delivered to the agent: ids (≤ 64 characters), the KSeF challenge, the context identifier
 * (a type of the vocabulary's `CONTEXT_IDENTIFIER_TYPES`), the outbox file name (≤ 200 characters), the unsigned
 * `auth.xml` as base64 (≤ 2 000 000 characters), `expiresAt` (ISO 8601), the status, `replacedBy` for an `expired`
 * request a newer one replaced, and `failureReason` for a `failed` one (≤ {@link MAX_FAILURE_REASON_LENGTH}).
 */
export const signingRequestSchema = z.object({
  id: z.string().min(1).max(64),
  enrollmentId: z.string().max(64).nullish(),
  challenge: z.string().min(1).max(64),
  contextIdentifier: z.object({ type: z.enum(CONTEXT_IDENTIFIER_TYPES), value: z.string().min(1).max(64) }),
  fileName: z.string().min(1).max(200),
  xmlBase64: z.string().max(2_000_000),
  expiresAt: z.string().max(40),
  status: z.enum(SIGNING_REQUEST_STATUSES),
  replacedBy: z.string().max(64).nullish(),
  failureReason: z.string().max(MAX_FAILURE_REASON_LENGTH).optional(),
});

/** A signing request as the agent reads it. */
export type SigningRequest = z.infer<typeof signingRequestSchema>;

/** A signing request as the server writes it. */
export type SigningRequestInput = z.input<typeof signingRequestSchema>;

/**
 * The answer to `GET /requests`: at most 1000 requests (the pending ones and those changed since `after`) and the
 * cursor (≤ 200 characters) to pass as `after` next time.
 */
export const requestsAnswerSchema = z.object({ requests: z.array(signingRequestSchema).max(1000), cursor: z.string().max(200).nullish() });

/** The long-poll answer as the server writes it. */
export type RequestsAnswer = z.input<typeof requestsAnswerSchema>;

/**
 * The answer to `POST /requests/:id/signed`: `signed` (accepted now) or `duplicate` (these bytes were accepted
 * before; nothing is submitted twice), with `signer`, the server's summary of who signed (display only), when new.
 */
export const signedUploadAnswerSchema = z.object({ status: z.enum(["signed", "duplicate"]), signer: z.record(z.string(), z.unknown()).optional() });

/** The upload answer as the server writes it. */
export type SignedUploadAnswer = z.input<typeof signedUploadAnswerSchema>;

/** The body of `POST /requests/:id/failed`: a sentence for the admin, 1–{@link MAX_FAILURE_REASON_LENGTH} characters, no secrets. */
export const failedReportSchema = z.object({ reason: z.string().min(1).max(MAX_FAILURE_REASON_LENGTH) });

/** What `POST /requests/:id/failed` sends. */
export type FailedReport = z.input<typeof failedReportSchema>;

/** The answer to `POST /requests/:id/failed`: the request's status afterwards. */
export const failedAnswerSchema = z.object({ status: z.enum(SIGNING_REQUEST_STATUSES) });

/** The failure answer as the server writes it. */
export type FailedAnswer = z.input<typeof failedAnswerSchema>;

/** Parameters of a catalogue sentence: names ≤ 100 characters, values numbers or strings ≤ 2000 characters. */
const messageParamsSchema = z.record(z.string().max(100), z.union([z.string().max(2000), z.number()]));

/**
 * An error answer (any 4xx/5xx): `error.code` (a `KsefCertsError` code), `message` and `hint` in English,
 * `violations` (one per broken input rule), `reason` (a machine word, e.g. `challenge-expired`), and, when the
 * server names them, the catalogue ids and parameters of the message and hint (`messageId`, `params`, `hintId`,
 * `hintParams`, ids ≤ 200 characters) so the agent can say the same in its operator's language. On a 410
 * `replacedBy` is the renewed request. Unknown keys are kept.
 */
export const agentErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      hint: z.string().optional(),
      violations: z
        .array(
          z.object({ field: z.string(), rule: z.string(), message: z.string(), params: z.record(z.string(), z.union([z.string(), z.number()])).optional() }),
        )
        .optional(),
      reason: z.string().optional(),
      messageId: z.string().max(200).optional(),
      params: messageParamsSchema.optional(),
      hintId: z.string().max(200).optional(),
      hintParams: messageParamsSchema.optional(),
    }),
    replacedBy: z.string().nullish(),
  })
  .loose();

/** An error answer as the server writes it. */
export type AgentErrorBody = z.input<typeof agentErrorBodySchema>;
