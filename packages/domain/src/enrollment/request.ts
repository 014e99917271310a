/**
 * Taking an enrollment request: every rule checked up front (name, password, enums, auth method, the signing
 * certificate or workstation, the registry's slot rules) and the row stored in `requested` with its audit
 * entry. Nothing is sent to KSeF.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { authorizeEnrollmentRequest } from "../access/use.js";
import { KsefCertsError, type Violation, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { checkCertificateName, checkPassword } from "@ksef-certs/ksef/policies";
import { ENVIRONMENTS } from "@ksef-certs/ksef/vocabulary";
import { scopeOf, slotCondition } from "../registry/certificates.js";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { branches, certificates, companies, enrollments, workstations } from "../store/schema.js";
import {
  enrollmentPasswordAad,
  summarizeEnrollment,
  type EnrollmentEnvironment,
  type EnrollmentRequestInput,
  type EnrollmentRequestMeta,
  type EnrollmentSummary,
} from "./model.js";
import { UUID, notFound, said, utf8 } from "./steps/common.js";
import type { StepDeps } from "./steps/deps.js";

/**
 * Validates and stores a new enrollment in state `requested` (see `EnrollmentService.request`).
 * @param db the database
 * @param d the steps' dependencies (clock, ports present, in-memory passwords, progress)
 */
export async function requestEnrollment(db: Db, d: StepDeps, input: EnrollmentRequestInput, meta: EnrollmentRequestMeta): Promise<EnrollmentSummary> {
  // Authorised before anything is validated, so a refusal says nothing about ids the principal may not see.
  if (meta.principal !== undefined) {
    await authorizeEnrollmentRequest(db, meta.principal, {
      scope: input.scope,
      signingCertificateId: input.authMethod === "certificate" ? input.signingCertificateId : undefined,
      workstationId: input.authMethod === "handoff" ? input.workstationId : undefined,
    });
  }
  const v: Violation[] = [];
  if (typeof input.name !== "string") v.push(violation("certificateName", "certificateName.required"));
  else v.push(...checkCertificateName(input.name));
  if (typeof input.keyPassword !== "string") v.push({ field: "password", rule: "password.required", message: "The key password is required." });
  else v.push(...checkPassword(input.keyPassword, input.passwordProfile ?? "ksef-app"));
  if (!(ENVIRONMENTS as readonly string[]).includes(input.environment))
    v.push({ field: "environment", rule: "environment.known", message: "The environment must be test, demo or production." });
  // Widened on purpose: the CLI and other untyped callers pass whatever the user typed.
  const certificateType: string = input.certificateType;
  const mode: string = input.mode;
  const authMethod: string = input.authMethod;
  if (certificateType !== "Authentication" && certificateType !== "Offline") {
    v.push(violation("certificateType", "certificateType.known"));
  }
  if (mode !== "current" && mode !== "queued") v.push(violation("mode", "mode.known"));
  let validFrom: Date | null = null;
  if (input.validFrom !== undefined) {
    validFrom = input.validFrom instanceof Date ? input.validFrom : new Date(input.validFrom);
    if (Number.isNaN(validFrom.getTime())) {
      v.push(violation("validFrom", "validFrom.date"));
      validFrom = null;
    }
  }
  if (authMethod === "certificate") {
    if (input.signingCertificateId === undefined) {
      v.push(violation("signingCertificateId", "signingCertificateId.required"));
    }
    if (d.signerFor === undefined) v.push(violation("authMethod", "authMethod.signer"));
  } else if (authMethod === "handoff") {
    if (input.workstationId === undefined) v.push(violation("workstationId", "workstationId.required"));
    if (d.handoff === undefined) v.push(violation("authMethod", "authMethod.handoff"));
  } else {
    v.push(violation("authMethod", "authMethod.known"));
  }
  const keyAlgorithm: string = input.keyAlgorithm ?? "EC-P256";
  if (keyAlgorithm !== "EC-P256" && keyAlgorithm !== "RSA-2048") v.push(violation("keyAlgorithm", "keyAlgorithm.known"));
  if (meta.enrollmentId !== undefined && !UUID.test(meta.enrollmentId)) v.push(violation("enrollmentId", "enrollmentId.uuid"));
  if (input.sealPassword === true && d.vault === undefined) {
    v.push(violation("sealPassword", "sealPassword.masterKey"));
  }
  if (v.length > 0)
    throw new KsefCertsError("VALIDATION", msg("enrollment.request.invalid", { reasons: v.map((x) => x.message).join(" ") }), { violations: v });

  const at = d.now();
  const id = meta.enrollmentId ?? randomUUID();
  const sealedPassword = input.sealPassword === true && d.vault !== undefined ? d.vault.seal(utf8.encode(input.keyPassword), enrollmentPasswordAad(id)) : null;

  const row = await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    const s = await scopeOf(tx, input.scope);
    if (input.authMethod === "certificate") await checkSigningCertificate(tx, input.signingCertificateId ?? "", input.environment, at);
    if (input.authMethod === "handoff") await checkWorkstation(tx, input.workstationId ?? "", s.companyId);
    await precheckSlot(d, tx, s, input.environment, input.certificateType, input.mode, at);
    const [inserted] = await tx
      .insert(enrollments)
      .values({
        id,
        scopeType: s.type,
        companyId: s.companyId,
        branchId: s.branchId,
        operatorId: s.operatorId,
        environment: input.environment,
        certificateType: input.certificateType,
        mode: input.mode,
        name: input.name,
        validFrom,
        state: "requested",
        authMethod: input.authMethod,
        signingCertificateId: input.authMethod === "certificate" ? (input.signingCertificateId ?? null) : null,
        workstationId: input.authMethod === "handoff" ? (input.workstationId ?? null) : null,
        sealedPassword,
        keyAlgorithm: input.keyAlgorithm ?? "EC-P256",
        createdAt: at,
        updatedAt: at,
      })
      .returning();
    if (inserted === undefined) throw new KsefCertsError("INTERNAL", msg("enrollment.request.notInserted"));
    await appendAudit(tx, {
      actor: meta.actor,
      action: "enrollment.request",
      entityType: "enrollment",
      entityId: id,
      after: summarizeEnrollment(inserted),
      at,
    });
    return inserted;
  });
  d.passwords.set(id, input.keyPassword);
  d.progress(
    row,
    said(
      "enrollment.requested",
      { name: row.name, certificateType: row.certificateType, environment: row.environment },
      `Enrollment of "${row.name}" (${row.certificateType}, ${row.environment}) requested.`,
    ),
  );
  return summarizeEnrollment(row);
}

async function checkSigningCertificate(tx: Db, certificateId: string, environment: EnrollmentEnvironment, at: Date): Promise<void> {
  if (!UUID.test(certificateId)) throw notFound("certificate", certificateId);
  const [c] = await tx
    .select({
      id: certificates.id,
      environment: certificates.environment,
      type: certificates.certificateType,
      status: certificates.status,
      validFrom: certificates.validFrom,
      validTo: certificates.validTo,
    })
    .from(certificates)
    .where(eq(certificates.id, certificateId));
  if (c === undefined) throw notFound("certificate", certificateId);
  const v: Violation[] = [];
  if (c.type !== "Authentication")
    v.push({
      field: "signingCertificateId",
      rule: "signingCertificate.type",
      message: "Only an Authentication certificate can sign in to KSeF; an Offline one cannot.",
    });
  if (c.environment !== environment) {
    v.push({
      field: "signingCertificateId",
      rule: "signingCertificate.environment",
      message: `The signing certificate is from ${c.environment}; KSeF ${environment} does not accept it.`,
    });
  }
  if (c.status !== "active" || c.validTo.getTime() <= at.getTime() || c.validFrom.getTime() > at.getTime()) {
    v.push({ field: "signingCertificateId", rule: "signingCertificate.valid", message: "The signing certificate is revoked, expired or not valid yet." });
  }
  if (v.length > 0)
    throw new KsefCertsError("VALIDATION", msg("enrollment.request.signerUnfit", { reasons: v.map((x) => x.message).join(" ") }), { violations: v });
}

async function checkWorkstation(tx: Db, workstationId: string, companyId: string): Promise<void> {
  if (!UUID.test(workstationId)) throw notFound("workstation", workstationId);
  const [w] = await tx
    .select({ id: workstations.id, companyId: companies.id })
    .from(workstations)
    .innerJoin(branches, eq(branches.id, workstations.branchId))
    .innerJoin(companies, eq(companies.id, branches.companyId))
    .where(eq(workstations.id, workstationId));
  if (w === undefined) throw notFound("workstation", workstationId);
  if (w.companyId !== companyId) {
    throw new KsefCertsError("VALIDATION", msg("enrollment.request.workstationOtherCompany"), {
      violations: [violation("workstationId", "workstation.company")],
    });
  }
}

/** The registry's slot rules, checked before KSeF is asked (recordCertificate checks them again at the end). */
async function precheckSlot(
  d: StepDeps,
  tx: Db,
  s: Awaited<ReturnType<typeof scopeOf>>,
  environment: EnrollmentEnvironment,
  certificateType: "Authentication" | "Offline",
  mode: "current" | "queued",
  at: Date,
): Promise<void> {
  const active = (
    await tx
      .select({ id: certificates.id, mode: certificates.mode, status: certificates.status, validTo: certificates.validTo })
      .from(certificates)
      .where(slotCondition(s, environment, certificateType))
  ).filter((c) => c.status === "active" && c.validTo.getTime() > at.getTime());
  const slot = { scopeType: s.type, environment, certificateType };
  if (active.length >= d.maxActive) {
    throw new KsefCertsError("CONFLICT", msg("enrollment.slot.maxActive", { ...slot, count: active.length, max: d.maxActive }), {
      hint: msg("enrollment.slot.maxActive.hint"),
      details: { rule: "maxActive", maxActive: d.maxActive },
    });
  }
  const current = active.find((c) => c.mode === "current");
  if (mode === "queued" && current === undefined) {
    throw new KsefCertsError("CONFLICT", msg("enrollment.slot.queuedNeedsCurrent", slot), {
      hint: msg("enrollment.slot.queuedNeedsCurrent.hint"),
      details: { rule: "queuedNeedsCurrent" },
    });
  }
  if (mode === "queued" && active.some((c) => c.mode === "queued")) {
    throw new KsefCertsError("CONFLICT", msg("enrollment.slot.oneQueued", slot), {
      hint: msg("enrollment.slot.oneQueued.hint"),
      details: { rule: "oneQueued" },
    });
  }
  if (mode === "current" && current !== undefined) {
    throw new KsefCertsError("CONFLICT", msg("enrollment.slot.oneCurrent", { ...slot, validTo: current.validTo.toISOString() }), {
      hint: msg("enrollment.slot.oneCurrent.hint"),
      details: { rule: "oneCurrent" },
    });
  }
}
