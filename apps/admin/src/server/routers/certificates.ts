/**
 * `certificates.*`: the list the caller may see, one certificate with its exports and audit, the expiry
 * timeline, resolution, import, assignment, revocation and export. Every procedure taking an id resolves
 * its scope first (`requireEntity`): an id the caller may not read answers NOT_FOUND.
 */
import { resolve as resolvePath } from "node:path";
import { z } from "zod";
import { listAuditEntries, listVisibleCertificates, revokeCertificateAs } from "@ksef-certs/core/access";
import { exportWithAdapter, importWithAdapter, listCertificateExports } from "@ksef-certs/core/adapters";
import { KsefCertsError } from "@ksef-certs/core/errors";
import {
  assignCertificate,
  certificateFor,
  getCertificate,
  importCertificatePair,
  importPkcs12,
  REVOCATION_REASONS,
  type CertificateSummary,
} from "@ksef-certs/core/registry";
import { seal, unseal } from "@ksef-certs/core/store";
import { ADAPTERS, ADAPTER_IDS, adapterById } from "../../adapters.js";
import { authorizeScopeInput, decodeUpload, scopeInput } from "../scope.js";
import { buildTimeline } from "../timeline.js";
import { actorOf, authedProcedure, hasRole, mutationProcedure, requireEntity, router } from "../trpc.js";

/** Input bounds shared by the certificate procedures. */
export const environmentInput = z.enum(["test", "demo", "production"]);
/** KSeF certificate type. */
export const certificateTypeInput = z.enum(["Authentication", "Offline"]);
const id = z.string().max(64);

/** Input of `certificates.list`. */
export const listInput = z.object({
  companyId: id.optional(),
  branchId: id.optional(),
  operatorId: id.optional(),
  environment: environmentInput.optional(),
  certificateType: certificateTypeInput.optional(),
  mode: z.enum(["current", "queued"]).optional(),
  state: z.enum(["active", "notYetValid", "expired", "revoked"]).optional(),
  expiringWithinDays: z.number().int().min(0).max(36_500).optional(),
  search: z.string().max(100).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.number().int().min(1).max(200).optional(),
});

/** Input of `certificates.revoke`. */
export const revokeInput = z.object({
  id,
  reason: z.enum(REVOCATION_REASONS, { error: `The reason must be one of KSeF's revocation reasons: ${REVOCATION_REASONS.join(", ")}.` }),
  ksef: z.object({ signingCertificateId: id, password: z.string().max(1100).optional() }).optional(),
});

/** Largest `.crt`/`.key` upload (bytes, router contract). */
export const MAX_PAIR_FILE_BYTES = 64 * 1024;
/** Largest `.p12` upload (bytes, router contract). */
export const MAX_PKCS12_BYTES = 256 * 1024;

/**
 * A certificate summary on the wire (dates as ISO strings), without the scope names.
 * @param c a registry summary
 */
export function certificateCore(c: CertificateSummary) {
  return {
    id: c.id,
    name: c.name,
    certificateType: c.certificateType,
    environment: c.environment,
    mode: c.mode,
    state: c.state,
    serialNumber: c.serialNumber,
    subject: c.subject,
    validFrom: c.validFrom.toISOString(),
    validTo: c.validTo.toISOString(),
    daysToExpiry: c.daysToExpiry,
    passwordSealed: c.passwordSealed,
  };
}

/**
 * A listed certificate on the wire (dates as ISO strings).
 * @param c a listed certificate
 */
export function certificateItem(c: Awaited<ReturnType<typeof listVisibleCertificates>>["items"][number]) {
  return {
    id: c.id,
    name: c.name,
    certificateType: c.certificateType,
    environment: c.environment,
    mode: c.mode,
    state: c.state,
    serialNumber: c.serialNumber,
    subject: c.subject,
    validFrom: c.validFrom.toISOString(),
    validTo: c.validTo.toISOString(),
    daysToExpiry: c.daysToExpiry,
    passwordSealed: c.passwordSealed,
    // Who KSeF issued it to: the revoke dialog offers only signing certificates of the same identity.
    subjectIdentifier: { type: c.subjectIdentifierType, value: c.subjectIdentifierValue },
    scope: c.scope,
  };
}

/** The `certificates` router. */
export const certificatesRouter = router({
  /**
   * Filtered page of what the caller may see → `{ items, nextCursor, total, totalIsCapped }` (soonest expiry first;
   * `total` counts up to 10 000 and `totalIsCapped` says when more match).
   */
  list: authedProcedure.input(listInput.default({})).query(async ({ ctx, input }) => {
    const page = await listVisibleCertificates(ctx.db, ctx.principal, { ...stripUndefined(input), at: ctx.services.clock() });
    return { items: page.items.map(certificateItem), nextCursor: page.nextCursor, total: page.total, totalIsCapped: page.totalIsCapped };
  }),
  /** `{ id }` → `{ certificate (+ fingerprint, subjectIdentifier, source, revokedAt, revocationReason, scope), exports, audit }`. */
  get: authedProcedure.input(z.object({ id })).query(async ({ ctx, input }) => {
    await requireEntity(ctx, "certificate", input.id, "read");
    const at = ctx.services.clock();
    const c = await getCertificate(ctx.db, input.id, at);
    const [listed] = (await listVisibleCertificates(ctx.db, ctx.principal, { at, search: c.serialNumber, environment: c.environment, limit: 200 })).items.filter((x) => x.id === c.id);
    const exports = await listCertificateExports(ctx.db, input.id);
    const audit = await listAuditEntries(ctx.db, { entityId: input.id, limit: 200 });
    return {
      certificate: {
        ...certificateCore(c),
        fingerprint: c.fingerprint,
        subjectIdentifier: { type: c.subjectIdentifierType, value: c.subjectIdentifierValue },
        source: c.source,
        revokedAt: c.revokedAt?.toISOString() ?? null,
        revocationReason: c.revocationReason,
        enrollmentId: c.enrollmentId,
        scope: listed?.scope ?? null,
        certificatePem: `-----BEGIN CERTIFICATE-----\n${(Buffer.from(c.certificateDer).toString("base64").match(/.{1,64}/g) ?? []).join("\n")}\n-----END CERTIFICATE-----\n`,
      },
      exports: exports.map((e) => ({ adapterId: e.adapterId, target: e.target, actor: e.actor, at: e.at.toISOString() })),
      audit: audit.entries.map((e) => ({ seq: e.seq, at: e.at.toISOString(), actor: e.actor, action: e.action })),
    };
  }),
  /** `{ companyId?, environment, from, to }` → `{ rows: [{ scope, label, certificateType, spans, gaps }] }` for what the caller may see. */
  timeline: authedProcedure
    .input(z.object({ companyId: id.optional(), environment: environmentInput, from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) }))
    .query(async ({ ctx, input }) => {
      if (input.companyId !== undefined) await requireEntity(ctx, "company", input.companyId, "read");
      return buildTimeline(ctx.db, ctx.principal, { ...(input.companyId === undefined ? {} : { companyId: input.companyId }), environment: input.environment, from: new Date(input.from), to: new Date(input.to), at: ctx.services.clock() });
    }),
  /** `{ companyId, branchId?, operatorId?, environment, certificateType }` → core `certificateFor` resolution (certificate on the wire). */
  resolve: authedProcedure
    .input(scopeInput.extend({ environment: environmentInput, certificateType: certificateTypeInput }))
    .query(async ({ ctx, input }) => {
      // Every id given must be readable: the operator and the branch separately (an operator may work at several branches).
      if (input.branchId !== undefined) await authorizeScopeInput(ctx, { companyId: input.companyId, branchId: input.branchId }, "read");
      await authorizeScopeInput(ctx, input, "read");
      const r = await certificateFor(ctx.db, { ...stripUndefined(input), at: ctx.services.clock() });
      if (!r.found) return { found: false as const, tried: r.tried };
      // The answer may be a certificate of a wider scope; a branch admin may read company-scope ones (rules.ts).
      return { found: true as const, rule: r.rule, tried: r.tried, scope: r.scope, certificate: certificateCore(r.certificate) };
    }),
  /** `{ scope, environment, mode, name?, certificateBase64, keyBase64, password, sealPassword? }` → the recorded certificate. */
  importPair: mutationProcedure
    .input(
      z.object({
        scope: scopeInput,
        environment: environmentInput,
        mode: z.enum(["current", "queued"]),
        name: z.string().max(100).optional(),
        certificateBase64: z.string().max(100_000),
        keyBase64: z.string().max(100_000),
        password: z.string().max(1100),
        sealPassword: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { scope } = await authorizeScopeInput(ctx, input.scope, "write");
      const row = await importCertificatePair(
        ctx.db,
        {
          scope,
          environment: input.environment,
          mode: input.mode,
          ...(input.name === undefined || input.name.trim() === "" ? {} : { name: input.name }),
          crt: decodeUpload("certificate", input.certificateBase64, MAX_PAIR_FILE_BYTES),
          key: decodeUpload("key", input.keyBase64, MAX_PAIR_FILE_BYTES),
          password: input.password,
          ...sealerOf(ctx.services.masterKey, input.sealPassword),
        },
        { actor: actorOf(ctx.principal), at: ctx.services.clock() },
      );
      return { id: row.id, serialNumber: row.serialNumber };
    }),
  /** `{ scope, environment, mode, name?, pkcs12Base64, password, sealPassword? }` → the recorded certificate. */
  importPkcs12: mutationProcedure
    .input(
      z.object({
        scope: scopeInput,
        environment: environmentInput,
        mode: z.enum(["current", "queued"]),
        name: z.string().max(100).optional(),
        pkcs12Base64: z.string().max(400_000),
        password: z.string().max(1100),
        sealPassword: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { scope } = await authorizeScopeInput(ctx, input.scope, "write");
      const row = await importPkcs12(
        ctx.db,
        {
          scope,
          environment: input.environment,
          mode: input.mode,
          ...(input.name === undefined || input.name.trim() === "" ? {} : { name: input.name }),
          p12: decodeUpload("pkcs12", input.pkcs12Base64, MAX_PKCS12_BYTES),
          password: input.password,
          ...sealerOf(ctx.services.masterKey, input.sealPassword),
        },
        { actor: actorOf(ctx.principal), at: ctx.services.clock() },
      );
      return { id: row.id, serialNumber: row.serialNumber };
    }),
  /** `{ id, scope }` → `{ certificateId, moved }`: to another branch/operator (or the company) of the same company. */
  assign: mutationProcedure.input(z.object({ id, scope: scopeInput })).mutation(async ({ ctx, input }) => {
    await requireEntity(ctx, "certificate", input.id, "write");
    const { scope } = await authorizeScopeInput(ctx, input.scope, "write");
    const r = await assignCertificate(ctx.db, input.id, scope, { actor: actorOf(ctx.principal), at: ctx.services.clock() });
    return { certificateId: r.certificateId, moved: r.moved };
  }),
  /**
   * `{ id, reason, ksef? }` → `{ certificate, promotedId, ksef: "revoked" | "already-revoked" | "not-called" }`. With
   * `ksef: { signingCertificateId, password? }` it is revoked in KSeF first (core `revokeCertificate`: signed in with that held
   * Authentication certificate of the same environment and identity; its key opened with `password`, else its sealed password;
   * KSeF's 25009 counts as revoked), then here; without, only here. Needs write access to the certificate and the right to use the
   * signing certificate's key (core `revokeCertificateAs`: NOT_FOUND when unseen, FORBIDDEN when only readable). `reason` is one of KSeF's
   * revocation reasons.
   */
  revoke: mutationProcedure.input(revokeInput).mutation(async ({ ctx, input }) => {
    const ksef = input.ksef;
    const clientOf = ctx.services.ksefClient;
    if (ksef !== undefined && clientOf === undefined) throw new KsefCertsError("UNSUPPORTED", "This server does not call KSeF.");
    const r = await revokeCertificateAs(ctx.db, ctx.principal, {
      certificateId: input.id,
      reason: input.reason,
      actor: actorOf(ctx.principal),
      at: ctx.services.clock(),
      ...(ksef === undefined || clientOf === undefined
        ? {}
        : { ksef: { client: clientOf, signingCertificateId: ksef.signingCertificateId, password: ksef.password, masterKey: ctx.services.masterKey } }),
    });
    return { certificate: certificateCore(r.certificate), promotedId: r.promoted?.certificateId ?? null, ksef: r.ksef };
  }),
  /**
   * `{ ids, adapterId, to, password? }` → `{ adapterId, exported: [{ certificateId, serialNumber, ref }] }`. `to` is a folder or
   * file path on the server machine (the app is local). Needs write access to every certificate (exporting hands out the key).
   */
  export: mutationProcedure
    .input(z.object({ ids: z.array(id).min(1).max(500), adapterId: z.string().max(64), to: z.string().min(1).max(2048), password: z.string().max(1100).optional() }))
    .mutation(async ({ ctx, input }) => {
      for (const certificateId of input.ids) await requireEntity(ctx, "certificate", certificateId, "write");
      const adapter = adapterById(input.adapterId);
      const masterKey = ctx.services.masterKey;
      const password = input.password;
      const report = await exportWithAdapter({
        db: ctx.db,
        adapter,
        target: { kind: adapter.targetKinds.includes("folder") ? "folder" : "file", path: resolvePath(input.to) },
        ctx: {
          password: (req) => {
            if (password !== undefined && password !== "") return Promise.resolve(password);
            return Promise.reject(new KsefCertsError("PASSWORD_REQUIRED", req.purpose === "new" ? "This format needs a password for the file." : "The key's password is not sealed; give it.", { violations: [{ field: "password", rule: "password.required", message: "A password is needed for this export." }] }));
          },
        },
        certificateIds: input.ids,
        actor: actorOf(ctx.principal),
        at: ctx.services.clock(),
        ...(masterKey === undefined ? {} : { unseal: (sealed: Uint8Array, aad: string) => unseal(masterKey, sealed, aad) }),
      });
      return { adapterId: report.adapterId, exported: report.exported };
    }),
});

/**
 * A copy without `undefined` members (zod optional fields → core's exact optional properties).
 * @param o an object
 */
export function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}

/**
 * The `sealPassword` option of an import: a sealer under the master key, or a VALIDATION error when none is configured.
 * @param masterKey the server's master key
 * @param wanted whether the person asked to seal
 */
function sealerOf(masterKey: Uint8Array | undefined, wanted: boolean | undefined): { sealPassword?: { seal: (plain: Uint8Array, aad: string) => Uint8Array } } {
  if (wanted !== true) return {};
  if (masterKey === undefined) {
    throw new KsefCertsError("VALIDATION", "No master key is configured, so the password cannot be kept.", {
      violations: [{ field: "sealPassword", rule: "masterKey.required", message: "No master key is configured on the server." }],
    });
  }
  return { sealPassword: { seal: (plain, aad) => seal(masterKey, plain, aad) } };
}

/**
 * The `adapters` router: `list()` → `[{ id, description, capabilities, targetKinds }]`; `import(...)` reads pairs with an
 * adapter from a folder or file on the server's machine (the app is local) and records them, like `ksef-certs import`.
 */
export const adaptersRouter = router({
  list: authedProcedure.query(() =>
    ADAPTER_IDS.map((a) => ({ id: a, description: ADAPTERS[a].description, capabilities: ADAPTERS[a].capabilities, targetKinds: ADAPTERS[a].targetKinds })),
  ),
  /**
   * `{ adapterId, from, scope?, environment?, mode?, perPair?, password?, sealPassword? }` → the import report
   * (`imported[]`, `failed[]` with each pair's typed error). With `scope` the pairs are held for it (write access to it
   * needed); without one they go where the source's manifest says (f2000, bundle), which may name any company: only a
   * super-admin may do that. All or nothing unless `perPair` (core `importWithAdapter`).
   */
  import: mutationProcedure
    .input(
      z.object({
        adapterId: z.string().max(64),
        from: z.string().min(1).max(2048),
        scope: scopeInput.optional(),
        environment: environmentInput.optional(),
        mode: z.enum(["current", "queued"]).optional(),
        perPair: z.boolean().optional(),
        password: z.string().max(1100).optional(),
        sealPassword: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const scope = input.scope === undefined ? undefined : (await authorizeScopeInput(ctx, input.scope, "write")).scope;
      if (scope === undefined && !hasRole(ctx.principal, "super_admin")) {
        throw new KsefCertsError("FORBIDDEN", "Importing without a scope records pairs wherever the source's manifest says; only a super-admin may do that.", {
          hint: "Choose the company (and branch or operator) the pairs are for.",
          violations: [{ field: "scope", rule: "import.scopeRequired", message: "Choose the company the pairs are for." }],
        });
      }
      const adapter = adapterById(input.adapterId);
      if (!adapter.capabilities.import) {
        throw new KsefCertsError("UNSUPPORTED", `The ${adapter.id} adapter only exports.`, { violations: [{ field: "adapterId", rule: "adapter.import", message: "This adapter cannot import." }] });
      }
      const password = input.password;
      const report = await importWithAdapter({
        db: ctx.db,
        adapter,
        source: { kind: adapter.sourceKinds.includes("folder") ? "folder" : "file", path: resolvePath(input.from) },
        ctx: {
          password: () =>
            password !== undefined && password !== ""
              ? Promise.resolve(password)
              : Promise.reject(new KsefCertsError("PASSWORD_REQUIRED", "The keys (or the file) need their password.", { violations: [{ field: "password", rule: "password.required", message: "Give the password." }] })),
        },
        atomic: input.perPair === true ? "per-pair" : true,
        actor: actorOf(ctx.principal),
        at: ctx.services.clock(),
        ...(scope === undefined ? {} : { scope }),
        ...(input.environment === undefined ? {} : { environment: input.environment }),
        ...(input.mode === undefined ? {} : { mode: input.mode }),
        ...sealerOf(ctx.services.masterKey, input.sealPassword),
      });
      return {
        adapterId: report.adapterId,
        imported: report.imported,
        failed: report.failed.map((f) => ({ ref: f.ref, code: f.error.code, message: f.error.message })),
      };
    }),
});


