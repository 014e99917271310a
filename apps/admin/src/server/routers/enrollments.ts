/**
 * `enrollments.*`: requesting a certificate from KSeF (run in the background by the server's
 * {@link EnrollmentRunner}), listing and watching enrollments, and the browser side of the hand-off:
 * downloading the unsigned auth.xml and uploading the signed file (accepted through the agent's
 * signing request, so the waiting enrollment continues exactly as if the agent had uploaded it).
 */
import { tracked } from "@trpc/server";
import { z } from "zod";
import { acceptSignedUploadAs, authorizeScopeRef, getEnrollmentAs, listEnrollmentsAs, pendingAuthRequestAs } from "@ksef-certs/domain/access";
import type { SigningRequestNotifier } from "@ksef-certs/domain/agent";
import type { EnrollmentSummary } from "@ksef-certs/domain/enrollment";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { EnrollmentRunner } from "../enrollments.js";
import { toTrpcError } from "../errors.js";
import { decodeUpload, scopeInput } from "../scope.js";
import { actorOf, authedProcedure, mutationProcedure, router } from "../trpc.js";
import { certificateTypeInput, environmentInput } from "./certificates.js";

const id = z.string().max(64);
/** Largest signed auth.xml accepted from the browser (bytes). */
const MAX_SIGNED_BYTES = 1024 * 1024;

function runnerOf(services: { enrollments?: EnrollmentRunner }): EnrollmentRunner {
  if (services.enrollments === undefined) throw new KsefCertsError("UNSUPPORTED", msg("server.enrollments.notConfigured"));
  return services.enrollments;
}

/**
 * An enrollment on the wire: no secrets, dates as ISO strings.
 * @param e the core summary
 */
export function enrollmentView(e: EnrollmentSummary) {
  const iso = (d: Date | null): string | null => d?.toISOString() ?? null;
  return {
    id: e.id,
    state: e.state,
    scope: { type: e.scopeType, companyId: e.companyId, branchId: e.branchId, operatorId: e.operatorId },
    environment: e.environment,
    certificateType: e.certificateType,
    mode: e.mode,
    name: e.name,
    validFrom: iso(e.validFrom),
    authMethod: e.authMethod,
    signingCertificateId: e.signingCertificateId,
    workstationId: e.workstationId,
    passwordSealed: e.passwordSealed,
    challengeExpiresAt: iso(e.challengeExpiresAt),
    handoffFile: e.handoffFile,
    ksefReferenceNumber: e.ksefReferenceNumber,
    certificateSerialNumber: e.certificateSerialNumber,
    certificateId: e.certificateId,
    failureCode: e.failureCode,
    failureReason: e.failureReason,
    attempts: e.attempts,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** Services the hand-off upload needs (the agent's notifier, when the agent API runs in this server). */
export interface HandoffServices {
  readonly notifier?: SigningRequestNotifier;
}

/** The `enrollments` router. */
export const enrollmentsRouter = router({
  /** Validates, stores and starts an enrollment → `{ enrollmentId }`. */
  request: mutationProcedure
    .input(
      z.object({
        scope: scopeInput,
        environment: environmentInput,
        certificateType: certificateTypeInput,
        mode: z.enum(["current", "queued"]),
        name: z.string().max(200),
        validFrom: z.iso.datetime({ offset: true }).optional(),
        authMethod: z.enum(["certificate", "handoff"]),
        signingCertificateId: id.optional(),
        workstationId: id.optional(),
        keyPassword: z.string().max(1100),
        sealPassword: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const runner = runnerOf(ctx.services);
      // The ids must name one company's scope; who may request what (scope, signing certificate, workstation) is the
      // request's own rule, checked again inside it.
      const { scope } = await authorizeScopeRef(ctx.db, ctx.principal, input.scope, "write");
      const e = await runner.request(
        {
          scope,
          environment: input.environment,
          certificateType: input.certificateType,
          mode: input.mode,
          name: input.name,
          authMethod: input.authMethod,
          keyPassword: input.keyPassword,
          ...(input.validFrom === undefined ? {} : { validFrom: input.validFrom }),
          ...(input.signingCertificateId === undefined ? {} : { signingCertificateId: input.signingCertificateId }),
          ...(input.workstationId === undefined ? {} : { workstationId: input.workstationId }),
          ...(input.sealPassword === undefined ? {} : { sealPassword: input.sealPassword }),
        },
        { actor: actorOf(ctx.principal), principal: ctx.principal },
      );
      return { enrollmentId: e.id };
    }),
  /** `{ companyId?, state? }` → enrollments the caller may see, newest first. */
  list: authedProcedure.input(z.object({ companyId: id.optional(), state: z.string().max(40).optional() }).default({})).query(async ({ ctx, input }) => {
    runnerOf(ctx.services);
    const list = await listEnrollmentsAs(ctx.db, ctx.principal, {
      ...(input.companyId === undefined ? {} : { companyId: input.companyId }),
      ...(input.state === undefined ? {} : { states: [input.state as never] }),
    });
    return list.map(enrollmentView);
  }),
  /** `{ id }` → the enrollment. */
  get: authedProcedure.input(z.object({ id })).query(async ({ ctx, input }) => {
    runnerOf(ctx.services);
    return enrollmentView(await getEnrollmentAs(ctx.db, ctx.principal, input.id));
  }),
  /**
   * `{ id, lastEventId? }` → SSE events `{ state, message, event: { kind, params }, at, handoff?, final, seq }`: the
   * steps already taken (or the current state), then each change, until a final state. A reconnecting client sends
   * the last `seq` it got as `lastEventId` and gets only what followed.
   */
  watch: authedProcedure
    .input(
      z.object({
        id,
        lastEventId: z
          .string()
          .regex(/^\d{1,9}$/)
          .nullish(),
      }),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      // A generator's errors bypass the mapping middleware: map the refusal here.
      try {
        await getEnrollmentAs(ctx.db, ctx.principal, input.id);
      } catch (err) {
        throw toTrpcError(err);
      }
      const runner = runnerOf(ctx.services);
      const after = input.lastEventId == null ? 0 : Number(input.lastEventId);
      for await (const event of runner.watch(input.id, signal ?? new AbortController().signal, after)) {
        yield tracked(String(event.seq), event);
      }
    }),
  /** `{ id, signedBase64 }` → `{ outcome }`: the signed auth.xml uploaded from the browser for the pending hand-off. */
  uploadSigned: mutationProcedure.input(z.object({ id, signedBase64: z.string().max(1_500_000) })).mutation(async ({ ctx, input }) => {
    const notifier = (ctx.services as HandoffServices).notifier;
    const accepted = await acceptSignedUploadAs(ctx.db, ctx.principal, {
      enrollmentId: input.id,
      bytes: decodeUpload("signed", input.signedBase64, MAX_SIGNED_BYTES),
      actor: actorOf(ctx.principal),
      now: ctx.services.clock(),
      ...(notifier === undefined ? {} : { notifier }),
    });
    ctx.services.enrollments?.kick(input.id, actorOf(ctx.principal));
    return { accepted: true as const, status: accepted.status };
  }),
  /** `{ id }` → `{ fileName, xmlBase64, expiresAt }`: the unsigned auth.xml waiting for a signature. */
  downloadRequest: authedProcedure.input(z.object({ id })).query(async ({ ctx, input }) => {
    const row = await pendingAuthRequestAs(ctx.db, ctx.principal, input.id);
    return { fileName: row.fileName, xmlBase64: Buffer.from(row.xml).toString("base64"), expiresAt: row.expiresAt.toISOString() };
  }),
});
