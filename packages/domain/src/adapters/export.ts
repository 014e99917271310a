/**
 * `exportWithAdapter` and `listCertificateExports`: hands registry pairs to an adapter and records
 * where each went (`certificate_exports`, so an admin sees which ERP exports a certificate went to) with an audit
 * entry `certificate.export`, in one transaction after the adapter has written everything.
 */
import { and, desc, eq, inArray } from "drizzle-orm";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { listCertificates, sealedPasswordAad, type CertificateFilter } from "../registry/certificates.js";
import { inTransaction, isUuid, notFound } from "../registry/internal.js";
import { appendAuditBatch } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { branches, certificateExports, certificates, companies, operators } from "../store/schema.js";
import type { AdapterContext, AdapterTarget, CertificateAdapter, ExportPair } from "@ksef-certs/ksef/adapters";
import { undoWrites, type WrittenChange } from "@ksef-certs/ksef/adapters";
import type { BatchProgress } from "./import.js";
import type { Vault } from "../vault/index.js";

/** Input of {@link exportWithAdapter}: `certificateIds` or `filter` (a registry {@link CertificateFilter}) says which. */
export interface ExportWithAdapterInput {
  readonly db: Db;
  readonly adapter: CertificateAdapter;
  readonly target: AdapterTarget;
  /** Passwords: `key` (a key's password, for formats that re-encrypt: PKCS#12), `new` (a bundle's password). */
  readonly ctx: AdapterContext;
  readonly certificateIds?: readonly string[];
  readonly filter?: CertificateFilter;
  /** Audit actor and clock (default now). */
  readonly actor: string;
  readonly at?: Date;
  /**
   * Opens sealed key passwords (`vaultFromMasterKey` of `./vault`): when given, a `key` request for a certificate with
   * a sealed password is answered from it instead of `ctx.password`.
   */
  readonly vault?: Pick<Vault, "unseal"> | undefined;
  readonly onProgress?: (progress: BatchProgress) => void;
  /** Replace files with other content already at the target (default false: a CONFLICT, nothing overwritten); each replacement is audited. */
  readonly replace?: boolean;
  /** What to record as the target of a written ref (default the ref itself), e.g. a download's name instead of a staging path. */
  readonly describeRef?: (ref: string) => string;
}

/** What {@link exportWithAdapter} did: one entry per certificate, with where it went. */
export interface ExportReport {
  readonly adapterId: string;
  readonly exported: readonly { readonly certificateId: string; readonly serialNumber: string; readonly ref: string }[];
  /** Files that held other content and were replaced (only with `replace`), as recorded. */
  readonly replaced: readonly string[];
}

/** One `certificate_exports` row. */
export interface CertificateExportRecord {
  readonly id: string;
  readonly certificateId: string;
  readonly adapterId: string;
  /** Where it went (a path or a download name), never a secret. */
  readonly target: string;
  readonly actor: string;
  readonly at: Date;
}

const CHUNK = 1000;

async function loadPairs(db: Db, ids: readonly string[]): Promise<{ pairs: ExportPair[]; sealed: Map<string, Uint8Array> }> {
  const rows: (typeof certificates.$inferSelect)[] = [];
  for (let i = 0; i < ids.length; i += CHUNK)
    rows.push(
      ...(await db
        .select()
        .from(certificates)
        .where(inArray(certificates.id, ids.slice(i, i + CHUNK)))),
    );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const companyIds = [...new Set(rows.map((r) => r.companyId))];
  const nips = new Map<string, string>();
  const codes = new Map<string, string>();
  const pesels = new Map<string, string | null>();
  if (companyIds.length > 0) {
    for (const c of await db.select({ id: companies.id, nip: companies.nip }).from(companies).where(inArray(companies.id, companyIds))) nips.set(c.id, c.nip);
    for (const b of await db.select({ id: branches.id, code: branches.code }).from(branches).where(inArray(branches.companyId, companyIds)))
      codes.set(b.id, b.code);
    for (const o of await db.select({ id: operators.id, pesel: operators.pesel }).from(operators).where(inArray(operators.companyId, companyIds)))
      pesels.set(o.id, o.pesel);
  }
  const sealed = new Map<string, Uint8Array>();
  const pairs = ids.map((id): ExportPair => {
    const r = byId.get(id);
    if (r === undefined) throw notFound("certificate", id);
    if (r.sealedPassword !== null) sealed.set(r.id, r.sealedPassword);
    const companyNip = nips.get(r.companyId) ?? "";
    let scope: ExportPair["metadata"]["scope"] = { companyNip };
    if (r.scopeType === "branch" && r.branchId !== null) scope = { companyNip, branchCode: codes.get(r.branchId) ?? "" };
    if (r.scopeType === "operator" && r.operatorId !== null) {
      const pesel = pesels.get(r.operatorId);
      if (pesel === null || pesel === undefined) {
        throw new KsefCertsError("UNSUPPORTED", msg("export.operatorWithoutPesel", { serial: r.serialNumber }), {
          hint: msg("export.operatorWithoutPesel.hint"),
          details: { certificateId: r.id },
        });
      }
      scope = { companyNip, operatorPesel: pesel };
    }
    return {
      certificateId: r.id,
      serialNumber: r.serialNumber,
      certificateDer: r.certificateDer,
      keyFile: r.keyFile,
      metadata: { certificateType: r.certificateType, environment: r.environment, mode: r.mode, name: r.name, scope },
    };
  });
  return { pairs, sealed };
}

/**
 * Exports registry certificates with an adapter, then records one `certificate_exports` row and one
 * audit entry (`certificate.export`, after: adapter id and target) per certificate, and `export.replace` listing
 * replaced files, in one transaction. When the adapter or the recording fails, every file and folder the adapter
 * wrote is undone (created ones removed, replaced ones restored) and nothing is recorded.
 * @param input see {@link ExportWithAdapterInput}
 * @returns where each certificate went
 * @throws {KsefCertsError} VALIDATION when neither or both of `certificateIds` / `filter` are given, or nothing matches;
 *   NOT_FOUND for an unknown id; UNSUPPORTED when the adapter does not export (or a pair cannot be identified);
 *   whatever the adapter throws (WRONG_PASSWORD, PASSWORD_REQUIRED, IO with `retryable`, FORBIDDEN, CONFLICT)
 */
export async function exportWithAdapter(input: ExportWithAdapterInput): Promise<ExportReport> {
  const at = input.at ?? new Date();
  if (!input.adapter.capabilities.export)
    throw new KsefCertsError("UNSUPPORTED", msg("export.notExporter", { adapterId: input.adapter.id }), { details: { adapterId: input.adapter.id } });
  if ((input.certificateIds === undefined) === (input.filter === undefined)) {
    throw new KsefCertsError("VALIDATION", msg("export.selection.one"), {
      violations: [violation("certificateIds", "selection.one")],
    });
  }
  const ids =
    input.certificateIds !== undefined ? [...new Set(input.certificateIds)] : (await listCertificates(input.db, { ...input.filter, at })).map((c) => c.id);
  for (const id of ids) if (!isUuid(id)) throw notFound("certificate", String(id));
  if (ids.length === 0) {
    throw new KsefCertsError("VALIDATION", msg("export.selection.empty"), {
      violations: [{ field: "filter", rule: "selection.empty", message: "No certificate matches." }],
    });
  }
  const { pairs, sealed } = await loadPairs(input.db, ids);
  const vault = input.vault;
  const ctx: AdapterContext =
    vault === undefined
      ? input.ctx
      : {
          ...input.ctx,
          password: async (request) => {
            const blob = request.purpose === "key" && request.certificateId !== undefined ? sealed.get(request.certificateId) : undefined;
            if (blob === undefined || request.certificateId === undefined) return input.ctx.password(request);
            return new TextDecoder().decode(vault.unseal(blob, sealedPasswordAad(request.certificateId)));
          },
        };
  // Every file and folder the adapter writes is journalled: a failure anywhere before the records commit undoes them,
  // so an export is either complete, recorded and audited, or leaves nothing behind.
  const changes: WrittenChange[] = [];
  const replaced: string[] = [];
  const describe = input.describeRef ?? ((ref: string) => ref);
  try {
    const result = await input.adapter.export(pairs, input.target, {
      ...ctx,
      replace: input.replace === true,
      onReplaced: (path) => {
        replaced.push(path);
        ctx.onReplaced?.(path);
      },
      onWritten: (change) => {
        changes.push(change);
        ctx.onWritten?.(change);
      },
      onProgress: (done, total) => {
        input.onProgress?.({ phase: "write", done, total });
        ctx.onProgress?.(done, total);
      },
    });
    const refs = new Map(result.written.map((w) => [w.certificateId, describe(w.ref)]));
    for (const p of pairs) {
      if (!refs.has(p.certificateId))
        throw new KsefCertsError("INTERNAL", msg("export.unreported", { adapterId: input.adapter.id, certificateId: p.certificateId }));
    }
    await inTransaction(input.db, async (tx) => {
      for (let i = 0; i < pairs.length; i += CHUNK) {
        await tx
          .insert(certificateExports)
          .values(
            pairs
              .slice(i, i + CHUNK)
              .map((p) => ({ certificateId: p.certificateId, adapterId: input.adapter.id, target: refs.get(p.certificateId) ?? "", actor: input.actor, at })),
          );
      }
      await appendAuditBatch(tx, [
        ...pairs.map((p) => ({
          actor: input.actor,
          action: "certificate.export",
          entityType: "certificate",
          entityId: p.certificateId,
          after: { adapterId: input.adapter.id, target: refs.get(p.certificateId) ?? "" },
          at,
        })),
        ...(replaced.length === 0
          ? []
          : [
              { actor: input.actor, action: "export.replace", entityType: "export", after: { adapterId: input.adapter.id, files: replaced.map(describe) }, at },
            ]),
      ]);
    });
    return {
      adapterId: input.adapter.id,
      exported: pairs.map((p) => ({ certificateId: p.certificateId, serialNumber: p.serialNumber, ref: refs.get(p.certificateId) ?? "" })),
      replaced: replaced.map(describe),
    };
  } catch (err) {
    await undoWrites(changes);
    throw err;
  }
}

/**
 * Where one certificate was exported to, newest first.
 * @param db the database
 * @param certificateId the certificate id
 * @param adapterId only exports by this adapter
 * @returns the `certificate_exports` rows (an unknown id has none)
 */
export async function listCertificateExports(db: Db, certificateId: string, adapterId?: string): Promise<CertificateExportRecord[]> {
  if (!isUuid(certificateId)) return [];
  const where =
    adapterId === undefined
      ? eq(certificateExports.certificateId, certificateId)
      : and(eq(certificateExports.certificateId, certificateId), eq(certificateExports.adapterId, adapterId));
  return db.select().from(certificateExports).where(where).orderBy(desc(certificateExports.at), desc(certificateExports.id));
}
