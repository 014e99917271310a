/**
 * `certificates.*`: the list the caller may see, one certificate with its exports and audit, the expiry
 * timeline, resolution, import, assignment, revocation and export. Every procedure taking an id resolves
 * its scope inside its use case (`@ksef-certs/domain/access`): an id the caller may not read answers NOT_FOUND.
 */
import { z } from "zod";
import {
  assignCertificateAs,
  authorizeScopeRef,
  certificateTimelineAs,
  getCertificateDetailAs,
  importCertificatePairAs,
  importPkcs12As,
  listExportDestinationsAs,
  listVisibleCertificates,
  resolveCertificateAs,
  revokeCertificateAs,
  type ScopeRef,
  type TimelineLabel,
} from "@ksef-certs/domain/access";
import {
  addExportDestination,
  exportCertificatesAs,
  importUploadAs,
  MAX_UPLOAD_BYTES,
  MAX_UPLOAD_FILES,
  removeExportDestination,
} from "@ksef-certs/domain/adapters";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { CERTIFICATE_TYPES, ENVIRONMENTS } from "@ksef-certs/ksef/vocabulary";
import { REVOCATION_REASONS, type CertificateSummary } from "@ksef-certs/domain/registry";
import type { Vault } from "@ksef-certs/domain/vault";
import { ADAPTERS, ADAPTER_IDS, adapterById } from "../../adapters.js";
import { decodeUpload, scopeInput } from "../scope.js";
import type { ServerServices } from "../services.js";
import { actorOf, authedProcedure, mutationProcedure, router, changeMeta } from "../trpc.js";

/** Input bounds shared by the certificate procedures. */
export const environmentInput = z.enum(ENVIRONMENTS);
/** KSeF certificate type. */
export const certificateTypeInput = z.enum(CERTIFICATE_TYPES);
const id = z.string().max(64);
/** A certificate's mode: the current one, or queued to take over. */
const modeInput = z.enum(["current", "queued"]);

/** Input of `certificates.list`. */
export const listInput = z.object({
  companyId: id.optional(),
  branchId: id.optional(),
  operatorId: id.optional(),
  environment: environmentInput.optional(),
  certificateType: certificateTypeInput.optional(),
  mode: modeInput.optional(),
  state: z.enum(["active", "notYetValid", "expired", "revoked"]).optional(),
  expiringWithinDays: z.number().int().min(0).max(36_500).optional(),
  search: z.string().max(100).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.number().int().min(1).max(200).optional(),
});

/** What the pair and the `.p12` import take besides their files. */
const singleImportInput = z.object({
  scope: scopeInput,
  environment: environmentInput,
  mode: modeInput,
  name: z.string().max(100).optional(),
  password: z.string().max(1100),
  sealPassword: z.boolean().optional(),
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
    ...certificateCore(c),
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
    const { certificate: c, listed, exports, audit } = await getCertificateDetailAs(ctx.db, ctx.principal, input.id, ctx.services.clock());
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
        certificatePem: `-----BEGIN CERTIFICATE-----\n${(
          Buffer.from(c.certificateDer)
            .toString("base64")
            .match(/.{1,64}/g) ?? []
        ).join("\n")}\n-----END CERTIFICATE-----\n`,
      },
      exports: exports.map((e) => ({ adapterId: e.adapterId, target: e.target, actor: e.actor, at: e.at.toISOString() })),
      audit: audit.map((e) => ({ seq: e.seq, at: e.at.toISOString(), actor: e.actor, action: e.action })),
    };
  }),
  /** `{ companyId?, environment, from, to }` → `{ rows: [{ scope, label, certificateType, spans, gaps }] }` for what the caller may see. */
  timeline: authedProcedure
    .input(z.object({ companyId: id.optional(), environment: environmentInput, from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) }))
    .query(async ({ ctx, input }) => {
      const { rows, truncated } = await certificateTimelineAs(ctx.db, ctx.principal, {
        ...(input.companyId === undefined ? {} : { companyId: input.companyId }),
        environment: input.environment,
        from: new Date(input.from),
        to: new Date(input.to),
        at: ctx.services.clock(),
      });
      return {
        truncated,
        rows: rows.map((r) => ({
          scope: r.scope,
          label: timelineLabel(r.label),
          certificateType: r.certificateType,
          spans: r.spans.map((x) => ({ id: x.id, mode: x.mode, validFrom: x.validFrom.toISOString(), validTo: x.validTo.toISOString() })),
          gaps: r.gaps.map((g) => ({ from: g.from.toISOString(), to: g.to.toISOString() })),
        })),
      };
    }),
  /** `{ companyId, branchId?, operatorId?, environment, certificateType }` → core `certificateFor` resolution (certificate on the wire). */
  resolve: authedProcedure.input(scopeInput.extend({ environment: environmentInput, certificateType: certificateTypeInput })).query(async ({ ctx, input }) => {
    const r = await resolveCertificateAs(ctx.db, ctx.principal, { ...stripUndefined(input), at: ctx.services.clock() });
    if (!r.found) return { found: false as const, tried: r.tried };
    // The answer may be a certificate of a wider scope; a branch admin may read company-scope ones (rules.ts).
    return { found: true as const, rule: r.rule, tried: r.tried, scope: r.scope, certificate: certificateCore(r.certificate) };
  }),
  /** `{ scope, environment, mode, name?, certificateBase64, keyBase64, password, sealPassword? }` → the recorded certificate. */
  importPair: mutationProcedure
    .input(singleImportInput.extend({ certificateBase64: z.string().max(100_000), keyBase64: z.string().max(100_000) }))
    .mutation(async ({ ctx, input }) => {
      const request = singleImportRequest(ctx, input, {
        crt: decodeUpload("certificate", input.certificateBase64, MAX_PAIR_FILE_BYTES),
        key: decodeUpload("key", input.keyBase64, MAX_PAIR_FILE_BYTES),
      });
      const row = await importCertificatePairAs(ctx.db, ctx.principal, request, changeMeta(ctx));
      return { id: row.id, serialNumber: row.serialNumber };
    }),
  /** `{ scope, environment, mode, name?, pkcs12Base64, password, sealPassword? }` → the recorded certificate. */
  importPkcs12: mutationProcedure.input(singleImportInput.extend({ pkcs12Base64: z.string().max(400_000) })).mutation(async ({ ctx, input }) => {
    const request = singleImportRequest(ctx, input, { p12: decodeUpload("pkcs12", input.pkcs12Base64, MAX_PKCS12_BYTES) });
    const row = await importPkcs12As(ctx.db, ctx.principal, request, changeMeta(ctx));
    return { id: row.id, serialNumber: row.serialNumber };
  }),
  /** `{ id, scope }` → `{ certificateId, moved }`: to another branch/operator (or the company) of the same company. */
  assign: mutationProcedure.input(z.object({ id, scope: scopeInput })).mutation(async ({ ctx, input }) => {
    const r = await assignCertificateAs(ctx.db, ctx.principal, input.id, stripUndefined(input.scope), changeMeta(ctx));
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
    if (ksef !== undefined && clientOf === undefined) throw new KsefCertsError("UNSUPPORTED", msg("server.ksef.notConfigured"));
    const r = await revokeCertificateAs(ctx.db, ctx.principal, {
      certificateId: input.id,
      reason: input.reason,
      actor: actorOf(ctx.principal),
      at: ctx.services.clock(),
      ...(ksef === undefined || clientOf === undefined
        ? {}
        : { ksef: { client: clientOf, signingCertificateId: ksef.signingCertificateId, password: ksef.password, vault: ctx.services.vault } }),
    });
    return { certificate: certificateCore(r.certificate), promotedId: r.promoted?.certificateId ?? null, ksef: r.ksef };
  }),
  /**
   * `{ ids, adapterId, password?, destination?, replace? }` → `{ adapterId, exported, replaced, download? }`. Without `destination`
   * the export is a download (`download: { fileName, contentType, base64 }`: one file as it is, several as a ZIP); with one, it
   * is written into that configured export destination (picked by name: requests never name a server path), replacing files
   * with other content only when `replace` is set (audited). Core `exportCertificatesAs` checks write access to every
   * certificate (exporting hands out the key) and the destination's company.
   */
  export: mutationProcedure
    .input(
      z.object({
        ids: z.array(id).min(1).max(500),
        adapterId: z.string().max(64),
        password: z.string().max(1100).optional(),
        destination: z.string().min(1).max(64).optional(),
        replace: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const r = await exportCertificatesAs(ctx.db, ctx.principal, {
        certificateIds: input.ids,
        adapter: adapterById(input.adapterId),
        delivery:
          input.destination === undefined
            ? { kind: "download" }
            : { kind: "destination", name: input.destination, root: ctx.services.exportRoot, replace: input.replace === true },
        password: input.password,
        vault: ctx.services.vault,
        actor: actorOf(ctx.principal),
        at: ctx.services.clock(),
      });
      return {
        adapterId: r.adapterId,
        exported: r.exported,
        replaced: r.replaced,
        ...(r.download === undefined
          ? {}
          : { download: { fileName: r.download.fileName, contentType: r.download.contentType, base64: Buffer.from(r.download.bytes).toString("base64") } }),
      };
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
 * The core's request for a pair or `.p12` import, its scope still by ids (the use case authorizes it).
 * @param ctx the procedure's context
 * @param input the procedure's input
 * @param files the decoded uploaded files, as the core's fields
 */
function singleImportRequest<F extends object>(
  ctx: { readonly services: Pick<ServerServices, "vault"> },
  input: z.infer<typeof singleImportInput>,
  files: F,
): {
  scope: ScopeRef;
  environment: z.infer<typeof environmentInput>;
  mode: z.infer<typeof modeInput>;
  name?: string;
  password: string;
  sealPassword?: Vault;
} & F {
  return {
    scope: stripUndefined(input.scope),
    environment: input.environment,
    mode: input.mode,
    ...(input.name === undefined || input.name.trim() === "" ? {} : { name: input.name }),
    ...files,
    password: input.password,
    ...sealerOf(ctx.services.vault, input.sealPassword),
  };
}

/**
 * The `sealPassword` option of an import: the server's vault, or a VALIDATION error when no master key is configured.
 * @param vault the server's vault
 * @param wanted whether the person asked to seal
 */
function sealerOf(vault: Vault | undefined, wanted: boolean | undefined): { sealPassword?: Vault } {
  if (wanted !== true) return {};
  if (vault === undefined) {
    throw new KsefCertsError("VALIDATION", msg("server.sealPassword.noMasterKey"), {
      violations: [{ field: "sealPassword", rule: "masterKey.required", message: "No master key is configured on the server." }],
    });
  }
  return { sealPassword: vault };
}

/**
 * The `adapters` router: `list()` → `[{ id, description, capabilities, sourceKinds, targetKinds }]`; `import(...)` reads uploaded
 * files with an adapter and records the pairs, like `ksef-certs import`; `destinations` lists the configured export destinations.
 */
export const adaptersRouter = router({
  list: authedProcedure.query(() =>
    ADAPTER_IDS.map((a) => ({
      id: a,
      description: ADAPTERS[a].description,
      capabilities: ADAPTERS[a].capabilities,
      sourceKinds: ADAPTERS[a].sourceKinds,
      targetKinds: ADAPTERS[a].targetKinds,
    })),
  ),
  /**
   * `{ adapterId, files: [{ name, base64 }], scope?, environment?, mode?, perPair?, password?, sealPassword? }` → the import report
   * (`imported[]`, `failed[]` with each pair's typed error). The files are an upload (a folder's files with their relative
   * names, or one `.p12`/bundle): requests never name a server path. Core `importUploadAs` checks write access to `scope`;
   * without one the pairs go where the source's manifest says, which only a super-admin may do. All or nothing unless `perPair`.
   */
  import: mutationProcedure
    .input(
      z.object({
        adapterId: z.string().max(64),
        files: z
          .array(z.object({ name: z.string().min(1).max(1024), base64: z.string().max(16_000_000) }))
          .min(1)
          .max(MAX_UPLOAD_FILES),
        scope: scopeInput.optional(),
        environment: environmentInput.optional(),
        mode: modeInput.optional(),
        perPair: z.boolean().optional(),
        password: z.string().max(1100).optional(),
        sealPassword: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      // The scope must name one company; who may import where is core's rule.
      const scope = input.scope === undefined ? undefined : (await authorizeScopeRef(ctx.db, ctx.principal, stripUndefined(input.scope), "write")).scope;
      const report = await importUploadAs(ctx.db, ctx.principal, {
        adapter: adapterById(input.adapterId),
        files: input.files.map((f, i) => ({ name: f.name, bytes: decodeUpload(`files.${i}`, f.base64, MAX_UPLOAD_BYTES) })),
        ...(scope === undefined ? {} : { scope }),
        ...(input.environment === undefined ? {} : { environment: input.environment }),
        ...(input.mode === undefined ? {} : { mode: input.mode }),
        perPair: input.perPair === true,
        password: input.password,
        ...sealerOf(ctx.services.vault, input.sealPassword),
        actor: actorOf(ctx.principal),
        at: ctx.services.clock(),
      });
      return {
        adapterId: report.adapterId,
        imported: report.imported,
        failed: report.failed.map((f) => ({ ref: f.ref, code: f.error.code, message: f.error.message })),
      };
    }),
  /** The export destinations the caller may pick (names; the folder only for super-admins), and whether the server has an export root. */
  destinations: authedProcedure.query(async ({ ctx }) => ({
    configured: ctx.services.exportRoot !== undefined,
    destinations: await listExportDestinationsAs(ctx.db, ctx.principal),
  })),
  /** `{ name, path, companyId? }` → the destination (super-admin only, core `addExportDestination`). */
  addDestination: mutationProcedure
    .input(z.object({ name: z.string().max(200), path: z.string().max(1024), companyId: id.optional() }))
    .mutation(async ({ ctx, input }) => {
      const d = await addExportDestination(
        ctx.db,
        ctx.principal,
        { name: input.name, path: input.path, ...(input.companyId === undefined ? {} : { companyId: input.companyId }) },
        changeMeta(ctx),
      );
      return { id: d.id, name: d.name, path: d.path, companyId: d.companyId };
    }),
  /** `{ id }` → removes a destination (super-admin only; its files stay). */
  removeDestination: mutationProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    await removeExportDestination(ctx.db, ctx.principal, input.id, changeMeta(ctx));
    return { ok: true as const };
  }),
});

/** A timeline row's name as the web app shows it: the company with its NIP, or company / branch code and name, or company / operator. */
function timelineLabel(l: TimelineLabel): string {
  if (l.operatorName !== undefined) return `${l.companyName} / ${l.operatorName}`;
  if (l.branchCode !== undefined) return `${l.companyName} / ${l.branchCode} ${l.branchName ?? ""}`;
  return `${l.companyName} (NIP ${l.companyNip})`;
}
