/**
 * Moving certificate pairs in and out through the admin server without any request naming a server path:
 *
 * - **downloads**: the adapter writes into a private staging folder (mode 0700, under the OS temp folder); one file
 *   leaves as it is (a bundle), several as one ZIP archive (pairs, `.p12` files, an F2000 tree); the staging folder
 *   is removed whatever happens;
 * - **export destinations**: server folders a super-admin configured by name, below a fixed export root outside the
 *   data folder (an F2000 share per company, say); other roles pick one by name, never a path, and may be limited
 *   to one company; files there are never replaced unless the person asks (audited, `export.replace`);
 * - **uploads**: the files a person picked (a folder's files with their relative paths, or one `.p12`/bundle) are
 *   written into a private staging folder for the adapter to read, and removed afterwards.
 *
 * Refusals name the destination and the export's own file names, never a server path, so nothing is learnt about
 * what exists on the server's disk. Who may do what is decided here: write access to every exported certificate
 * (exporting hands out its key), write access to an import's scope, and only a super-admin imports pairs wherever
 * a source's manifest says or manages destinations.
 */
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { asc, eq, inArray } from "drizzle-orm";
import { strToU8, zipSync, type Zippable } from "fflate";
import { authorizeEntity, canRead, hasRole, type Principal } from "../access/rules.js";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg, type MessageParams, type MessageRef } from "@ksef-certs/ksef/messages";
import type { Vault } from "../vault/index.js";
import { isUuid, type Environment } from "../registry/internal.js";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { certificates, exportDestinations } from "../store/schema.js";
import type { AdapterTarget, CertificateAdapter, PasswordRequest } from "@ksef-certs/ksef/adapters";
import { exportWithAdapter, type ExportReport, type ExportWithAdapterInput } from "./export.js";
import { assertSafeRelativePath } from "@ksef-certs/ksef/adapters";
import { importWithAdapter, type ImportReport } from "./import.js";

/** Largest total of the files of one upload (bytes): 12 MiB, what a 16 MiB request carries as base64. */
export const MAX_UPLOAD_BYTES = 12 * 1024 * 1024;
/** Most files in one upload. */
export const MAX_UPLOAD_FILES = 2_000;
/** Longest destination name (characters). */
export const MAX_DESTINATION_NAME = 64;

/** A configured export destination (no absolute path: that is the server's business). */
export interface ExportDestination {
  readonly id: string;
  readonly name: string;
  /** The folder relative to the export root (shown to super-admins only by the edges). */
  readonly path: string;
  /** Limited to this company's certificates; null: any the exporter may write. */
  readonly companyId: string | null;
  readonly createdAt: Date;
}

function onlySuperAdmin(principal: Principal, refusal: MessageRef): void {
  if (!hasRole(principal, "super_admin")) throw new KsefCertsError("FORBIDDEN", refusal, { hint: msg("transfer.superAdminOnly.hint") });
}

/**
 * Checks the export root a server is started with: an absolute, existing folder that neither lies inside the data
 * folder nor contains it (an export must never reach the database, the master key or the audit checkpoint).
 * @param root the configured root
 * @param dataDir the embedded database's data folder, when there is one
 * @returns the root's real path
 * @throws {KsefCertsError} VALIDATION (rule `exportRoot.*`) when it is not usable
 */
export async function checkExportRoot(root: string, dataDir: string | undefined): Promise<string> {
  const fail = (problem: "absolute" | "folder" | "exists" | "filesystemRoot" | "dataDir"): never => {
    throw new KsefCertsError("VALIDATION", msg(`transfer.exportRoot.${problem}`), {
      violations: [violation("exportRoot", `exportRoot.${problem}`)],
      hint: msg("transfer.exportRoot.hint"),
    });
  };
  if (!isAbsolute(root)) fail("absolute");
  let real = "";
  try {
    real = await realpath(root);
    if (!(await stat(real)).isDirectory()) fail("folder");
  } catch (err) {
    if (err instanceof KsefCertsError) throw err;
    fail("exists");
  }
  if (real === sep || real === dirname(real)) fail("filesystemRoot");
  if (dataDir !== undefined && dataDir !== ":memory:") {
    const data = await realpath(dataDir).catch(() => resolve(dataDir));
    const inside = (a: string, b: string): boolean => a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
    if (inside(real, data) || inside(data, real)) fail("dataDir");
  }
  return real;
}

/**
 * The destinations `principal` may export to: all for a super-admin, else those of no company or of a company it may read.
 * @param db the database
 * @param principal who asks
 */
export async function listExportDestinations(db: Db, principal: Principal): Promise<ExportDestination[]> {
  const rows = await db.select().from(exportDestinations).orderBy(asc(exportDestinations.name));
  return rows.filter((d) => d.companyId === null || canRead(principal, { kind: "company", companyId: d.companyId }));
}

/** Input of {@link addExportDestination}. */
export interface AddExportDestinationInput {
  /** What people pick, 1–{@link MAX_DESTINATION_NAME} characters, unique. */
  readonly name: string;
  /** The folder below the export root, forward slashes (`f2000/5265877635`). */
  readonly path: string;
  readonly companyId?: string;
}

/**
 * Configures an export destination (super-admin only), audited as `exportDestination.add`.
 * @param db the database
 * @param principal who acts
 * @param input name, relative folder, optional company
 * @param meta audit actor and clock
 * @throws {KsefCertsError} FORBIDDEN for any other role; VALIDATION for a bad name or path; NOT_FOUND for an unknown company;
 *   CONFLICT when the name is taken
 */
export async function addExportDestination(
  db: Db,
  principal: Principal,
  input: AddExportDestinationInput,
  meta: { readonly actor: string; readonly at: Date },
): Promise<ExportDestination> {
  onlySuperAdmin(principal, msg("transfer.superAdminOnly.destinations"));
  const name = typeof input.name === "string" ? input.name.trim() : "";
  if (name.length === 0 || name.length > MAX_DESTINATION_NAME || /[\p{Cc}\p{Cs}]/u.test(name)) {
    throw new KsefCertsError("VALIDATION", msg("transfer.destination.name", { max: MAX_DESTINATION_NAME }), {
      violations: [violation("name", "destination.name", { max: MAX_DESTINATION_NAME })],
    });
  }
  try {
    assertSafeRelativePath(input.path, "destination");
  } catch {
    throw new KsefCertsError("VALIDATION", msg("transfer.destination.path"), { violations: [violation("path", "destination.path")] });
  }
  if (input.companyId !== undefined) await authorizeEntity(db, principal, "company", input.companyId, "read");
  const [taken] = await db.select({ id: exportDestinations.id }).from(exportDestinations).where(eq(exportDestinations.name, name));
  if (taken !== undefined) {
    throw new KsefCertsError("CONFLICT", msg("transfer.destination.taken", { name }), {
      violations: [violation("name", "destination.unique")],
    });
  }
  return db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    const [row] = await tx
      .insert(exportDestinations)
      .values({ id: randomUUID(), name, path: input.path, companyId: input.companyId ?? null, createdAt: meta.at })
      .returning();
    if (row === undefined) throw new KsefCertsError("INTERNAL", msg("transfer.destination.noRow"));
    await appendAudit(tx, {
      actor: meta.actor,
      action: "exportDestination.add",
      entityType: "exportDestination",
      entityId: row.id,
      after: { name, path: row.path, companyId: row.companyId },
      at: meta.at,
    });
    return row;
  });
}

/**
 * Removes an export destination (super-admin only; the files there stay), audited as `exportDestination.remove`.
 * @param db the database
 * @param principal who acts
 * @param id the destination's id
 * @param meta audit actor and clock
 * @throws {KsefCertsError} FORBIDDEN for any other role; NOT_FOUND for an unknown id
 */
export async function removeExportDestination(db: Db, principal: Principal, id: string, meta: { readonly actor: string; readonly at: Date }): Promise<void> {
  onlySuperAdmin(principal, msg("transfer.superAdminOnly.destinations"));
  if (!isUuid(id)) throw new KsefCertsError("NOT_FOUND", msg("transfer.destination.notFound"), { details: { id } });
  await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    const [row] = await tx.delete(exportDestinations).where(eq(exportDestinations.id, id)).returning();
    if (row === undefined) throw new KsefCertsError("NOT_FOUND", msg("transfer.destination.notFound"), { details: { id } });
    await appendAudit(tx, {
      actor: meta.actor,
      action: "exportDestination.remove",
      entityType: "exportDestination",
      entityId: id,
      before: { name: row.name, path: row.path, companyId: row.companyId },
      at: meta.at,
    });
  });
}

/** How an export leaves the server. */
export type ExportDelivery =
  | { readonly kind: "download" }
  /** `root` is the server's export root (undefined: none configured → UNSUPPORTED). */
  | { readonly kind: "destination"; readonly name: string; readonly root: string | undefined; readonly replace?: boolean };

/** Input of {@link exportCertificatesAs}. */
export interface ExportCertificatesInput {
  readonly certificateIds: readonly string[];
  readonly adapter: CertificateAdapter;
  readonly delivery: ExportDelivery;
  /** A key password (`pkcs12`) or the new file's password (`bundle`) typed for this export; sealed key passwords are used first. */
  readonly password?: string | undefined;
  /** Opens sealed key passwords; undefined when no master key is configured. */
  readonly vault?: Vault | undefined;
  readonly actor: string;
  readonly at: Date;
}

/** What {@link exportCertificatesAs} did; `download` is set for a download. */
export interface ExportCertificatesResult extends ExportReport {
  readonly download?: { readonly fileName: string; readonly contentType: string; readonly bytes: Uint8Array };
}

/**
 * Exports certificates on behalf of `principal` as a download or into a configured destination. Needs write access to
 * every certificate (exporting hands out the key); a destination limited to a company takes only its certificates.
 * Complete, recorded and audited, or nothing written and nothing recorded.
 * @param db the database
 * @param principal who acts
 * @param input certificates, adapter, delivery, passwords, audit actor and clock
 * @returns the export report (refs are `download:NAME` or `destination:NAME/relative/path`) and the download's bytes
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN from the authorization; NOT_FOUND for an unknown destination;
 *   UNSUPPORTED when no export root is configured; CONFLICT when the destination holds other files of the same names
 *   (their names relative to the destination); PASSWORD_REQUIRED (violation on `password`); the adapter's errors
 */
export async function exportCertificatesAs(db: Db, principal: Principal, input: ExportCertificatesInput): Promise<ExportCertificatesResult> {
  const ids = [...new Set(input.certificateIds)];
  for (const id of ids) await authorizeEntity(db, principal, "certificate", id, "write");
  const password = input.password;
  const common = {
    db,
    adapter: input.adapter,
    certificateIds: ids,
    actor: input.actor,
    at: input.at,
    ctx: {
      password: (req: PasswordRequest) => {
        if (password !== undefined && password !== "") return Promise.resolve(password);
        const message = req.purpose === "new" ? msg("transfer.password.newFile") : msg("transfer.password.keyNotSealed");
        return Promise.reject(
          new KsefCertsError("PASSWORD_REQUIRED", message, {
            violations: [violation("password", "password.required")],
          }),
        );
      },
    },
    vault: input.vault,
  };
  if (input.delivery.kind === "download") return exportAsDownload(common, input.at);
  const delivery = input.delivery;
  if (delivery.root === undefined) {
    throw new KsefCertsError("UNSUPPORTED", msg("transfer.noExportRoot"), {
      hint: msg("transfer.noExportRoot.hint"),
    });
  }
  const destination = (await listExportDestinations(db, principal)).find((d) => d.name === delivery.name);
  if (destination === undefined) {
    throw new KsefCertsError("NOT_FOUND", msg("transfer.destination.unknown", { name: delivery.name }), {
      violations: [violation("destination", "destination.known")],
    });
  }
  if (destination.companyId !== null) {
    const rows = await db.select({ id: certificates.id, companyId: certificates.companyId }).from(certificates).where(inArray(certificates.id, ids));
    const foreign = rows.filter((r) => r.companyId !== destination.companyId);
    if (foreign.length > 0) {
      throw new KsefCertsError("VALIDATION", msg("transfer.destination.otherCompany", { name: destination.name }), {
        violations: [violation("destination", "destination.company")],
        details: { certificateIds: foreign.map((r) => r.id) },
      });
    }
  }
  const folder = await destinationFolder(delivery.root, destination);
  const label = `destination:${destination.name}`;
  const show = (path: string): string => `${label}/${relative(folder, path).split(sep).join("/")}`;
  const target: AdapterTarget = input.adapter.targetKinds.includes("folder")
    ? { kind: "folder", path: folder }
    : { kind: "file", path: join(folder, exportFileName(input.adapter, input.at)) };
  try {
    return await exportWithAdapter({ ...common, target, replace: delivery.replace === true, describeRef: show });
  } catch (err) {
    throw withoutServerPaths(err, folder, label);
  }
}

/** The real folder of a destination below the root (created when missing), refusing anything that leads outside. */
async function destinationFolder(root: string, destination: ExportDestination): Promise<string> {
  const unusable = (cause?: unknown): KsefCertsError =>
    new KsefCertsError("IO", msg("transfer.destination.unwritable", { name: destination.name }), {
      hint: msg("transfer.destination.unwritable.hint"),
      cause,
      details: { destination: destination.name },
    });
  try {
    const realRoot = await realpath(root);
    const wanted = join(realRoot, ...assertSafeRelativePath(destination.path, "destination").split("/"));
    await mkdir(wanted, { recursive: true, mode: 0o700 });
    const real = await realpath(wanted);
    // A link inside the root that leads out of it must not carry keys elsewhere.
    if (real !== realRoot && !real.startsWith(realRoot + sep)) throw unusable();
    return real;
  } catch (err) {
    throw err instanceof KsefCertsError && err.code === "IO" ? err : unusable(err);
  }
}

/** An error with every server path below `folder` replaced by `label` (and `details.path` made relative). */
function withoutServerPaths(err: unknown, folder: string, label: string): unknown {
  if (!(err instanceof KsefCertsError)) return err;
  const scrub = (text: string): string =>
    text
      .split(folder + sep)
      .join(`${label}/`)
      .split(folder)
      .join(label);
  const scrubRef = (ref: MessageRef | undefined, english: string): MessageRef => {
    if (ref === undefined) return msg("error.legacy", { text: scrub(english) });
    if (ref.params === undefined) return ref;
    const params: MessageParams = Object.fromEntries(Object.entries(ref.params).map(([k, v]) => [k, typeof v === "string" ? scrub(v) : v]));
    return { id: ref.id, params };
  };
  const path = err.details["path"];
  return new KsefCertsError(err.code, scrubRef(err.messageRef, err.message), {
    ...(err.hint === undefined ? {} : { hint: scrubRef(err.hintRef, err.hint) }),
    violations: err.violations,
    retryable: err.retryable,
    details: { ...err.details, ...(typeof path === "string" ? { path: scrub(path) } : {}) },
    cause: err,
  });
}

function exportFileName(adapter: CertificateAdapter, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  return `ksef-certs-${adapter.id}-${stamp}${adapter.id === "bundle" ? ".p7m" : ".bin"}`;
}

async function exportAsDownload(common: Omit<ExportWithAdapterInput, "target">, at: Date): Promise<ExportCertificatesResult> {
  const staging = await mkdtemp(join(tmpdir(), "ksef-certs-export-"));
  try {
    const folderKind = common.adapter.targetKinds.includes("folder");
    const single = folderKind ? undefined : exportFileName(common.adapter, at);
    const root = join(staging, "out");
    const target: AdapterTarget = folderKind ? { kind: "folder", path: root } : { kind: "file", path: join(staging, single ?? "export") };
    // The file name is decided before the adapter runs, so the records can name the download.
    const files: { path: string; bytes: Uint8Array }[] = [];
    const zipName = `ksef-certs-${common.adapter.id}-${at.toISOString().slice(0, 10)}.zip`;
    const fileName = single ?? zipName;
    const report = await exportWithAdapter({
      ...common,
      target,
      describeRef: (ref) => (single !== undefined ? `download:${fileName}` : `download:${fileName}/${relative(root, ref).split(sep).join("/")}`),
    }).catch((err: unknown) => {
      throw withoutServerPaths(err, staging, "download");
    });
    if (single !== undefined) {
      return { ...report, download: { fileName: single, contentType: "application/pkcs7-mime", bytes: new Uint8Array(await readFile(join(staging, single))) } };
    }
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) {
        const full = join(entry.parentPath, entry.name);
        files.push({ path: relative(root, full).split(sep).join("/"), bytes: new Uint8Array(await readFile(full)) });
      }
    }
    const tree: Zippable = {};
    for (const f of files.sort((a, b) => (a.path < b.path ? -1 : 1))) tree[f.path] = [f.bytes, { mtime: at }];
    if (files.length === 0) tree["README.txt"] = strToU8("Nothing was exported.\n");
    return { ...report, download: { fileName: zipName, contentType: "application/zip", bytes: zipSync(tree, { level: 6 }) } };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** One uploaded file: its path relative to what the person picked (a folder's files keep their subfolders). */
export interface UploadedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Input of {@link importUploadAs}. */
export interface ImportUploadInput {
  readonly adapter: CertificateAdapter;
  readonly files: readonly UploadedFile[];
  /** Hold every pair for this scope; without one, pairs go where the source's manifest says (super-admin only). */
  readonly scope?:
    | { readonly type: "company"; readonly companyId: string }
    | { readonly type: "branch"; readonly branchId: string }
    | { readonly type: "operator"; readonly operatorId: string };
  readonly environment?: Environment;
  readonly mode?: "current" | "queued";
  readonly perPair?: boolean;
  /** The keys' (or the protected file's) password. */
  readonly password?: string | undefined;
  readonly sealPassword?: Pick<Vault, "seal">;
  readonly actor: string;
  readonly at: Date;
}

/**
 * Imports uploaded files with an adapter on behalf of `principal`: write access to `scope`, and only a super-admin may
 * import without one (the pairs then go wherever the source's manifest says, any company). The files are staged in a
 * private temporary folder that is removed afterwards; the adapter's rules apply (paths inside the upload only, sizes).
 * @param db the database
 * @param principal who acts
 * @param input adapter, files, scope, environment, mode, passwords, audit actor and clock
 * @returns the import report (refs relative to the upload)
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN from the authorization; VALIDATION for an empty upload, a bad file name or
 *   several files for a one-file format; TOO_LARGE over {@link MAX_UPLOAD_BYTES} / {@link MAX_UPLOAD_FILES}; the import's errors
 */
export async function importUploadAs(db: Db, principal: Principal, input: ImportUploadInput): Promise<ImportReport> {
  const scope = input.scope;
  if (scope === undefined) {
    if (!hasRole(principal, "super_admin")) {
      throw new KsefCertsError("FORBIDDEN", msg("transfer.import.scopeRequired"), {
        hint: msg("transfer.import.scopeRequired.hint"),
        violations: [violation("scope", "import.scopeRequired")],
      });
    }
  } else if (scope.type === "company") await authorizeEntity(db, principal, "company", scope.companyId, "write");
  else if (scope.type === "branch") await authorizeEntity(db, principal, "branch", scope.branchId, "write");
  else await authorizeEntity(db, principal, "operator", scope.operatorId, "write");
  if (!input.adapter.capabilities.import) {
    throw new KsefCertsError("UNSUPPORTED", msg("transfer.import.exportOnly", { adapterId: input.adapter.id }), {
      violations: [violation("adapterId", "adapter.import")],
    });
  }
  if (input.files.length === 0)
    throw new KsefCertsError("VALIDATION", msg("transfer.upload.empty"), {
      violations: [violation("files", "upload.empty")],
    });
  const total = input.files.reduce((n, f) => n + f.bytes.byteLength, 0);
  if (total > MAX_UPLOAD_BYTES || input.files.length > MAX_UPLOAD_FILES) {
    throw new KsefCertsError("TOO_LARGE", msg("transfer.upload.tooLarge", { maxFiles: MAX_UPLOAD_FILES, maxBytes: MAX_UPLOAD_BYTES }), {
      violations: [violation("files", "upload.size", { maxBytes: MAX_UPLOAD_BYTES, maxFiles: MAX_UPLOAD_FILES })],
    });
  }
  const folderSource = input.adapter.sourceKinds.includes("folder");
  if (!folderSource && input.files.length !== 1) {
    throw new KsefCertsError("VALIDATION", msg("transfer.upload.oneFile", { adapterId: input.adapter.id }), {
      violations: [violation("files", "upload.oneFile")],
    });
  }
  const names = new Set<string>();
  for (const f of input.files) {
    try {
      assertSafeRelativePath(f.name, "upload");
    } catch {
      throw new KsefCertsError("VALIDATION", msg("transfer.upload.name"), {
        violations: [violation("files", "upload.name")],
      });
    }
    if (names.has(f.name))
      throw new KsefCertsError("VALIDATION", msg("transfer.upload.duplicate"), {
        violations: [violation("files", "upload.duplicate")],
      });
    names.add(f.name);
  }
  const staging = await mkdtemp(join(tmpdir(), "ksef-certs-upload-"));
  try {
    const root = join(staging, "in");
    for (const f of input.files) {
      const full = join(root, ...f.name.split("/"));
      await mkdir(dirname(full), { recursive: true, mode: 0o700 });
      await writeFile(full, f.bytes, { mode: 0o600, flag: "wx" });
    }
    const only = input.files[0]?.name ?? "";
    const password = input.password;
    const report = await importWithAdapter({
      db,
      adapter: input.adapter,
      source: folderSource ? { kind: "folder", path: root } : { kind: "file", path: join(root, ...only.split("/")) },
      ctx: {
        password: () =>
          password !== undefined && password !== ""
            ? Promise.resolve(password)
            : Promise.reject(
                new KsefCertsError("PASSWORD_REQUIRED", msg("transfer.password.import"), {
                  violations: [violation("password", "password.required")],
                }),
              ),
      },
      atomic: input.perPair === true ? "per-pair" : true,
      actor: input.actor,
      at: input.at,
      ...(scope === undefined ? {} : { scope }),
      ...(input.environment === undefined ? {} : { environment: input.environment }),
      ...(input.mode === undefined ? {} : { mode: input.mode }),
      ...(input.sealPassword === undefined ? {} : { sealPassword: input.sealPassword }),
    }).catch((err: unknown) => {
      throw withoutServerPaths(err, root, "upload");
    });
    return { ...report, failed: report.failed.map((f) => ({ ...f, error: withoutServerPaths(f.error, root, "upload") as KsefCertsError })) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
