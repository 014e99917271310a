/**
 * The ERP adapter contract: an adapter is a plain object with a literal `id`, a
 * description, its capabilities, and `import` / `export` over a small source/target description.
 *
 * What moves through an adapter is a certificate pair: the certificate (DER), the private key file
 * exactly as encrypted PKCS#8 (never decrypted at rest), and metadata (type, environment, scope by
 * NIP / branch code / PESEL, mode, name). Passwords are never part of a pair: a format that needs
 * one (PKCS#12, the bundle) asks `ctx.password(...)` and forgets it.
 */
import type { KsefCertsError } from "../errors.js";
import type { WrittenChange } from "./fs.js";
import type { CertificateTypeName, Environment } from "../vocabulary.js";

/**
 * Where an import reads from.
 * - `folder`: a directory; the adapter finds its files in it (never following links out of it).
 * - `file`: one file (a `.p12`, a bundle).
 * - `stream`: bytes from elsewhere (an upload); `name` is what to call it in reports.
 */
export type AdapterSource =
  | { readonly kind: "folder"; readonly path: string }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "stream"; readonly stream: AsyncIterable<Uint8Array>; readonly name?: string };

/**
 * Where an export writes to.
 * - `folder`: a directory (created 0700 when missing); files are written to a temp name and renamed.
 * - `file`: one file, written to a temp name and renamed.
 * - `stream`: `write` receives the whole output once (a download); `name` is what to call it in records.
 */
export type AdapterTarget =
  | { readonly kind: "folder"; readonly path: string }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "stream"; readonly write: (bytes: Uint8Array) => Promise<void>; readonly name?: string };

/** Who a certificate is held for, by the identifiers an ERP knows (NIP, branch code, operator PESEL). */
export interface AdapterScope {
  /** The company's NIP (10 digits). */
  readonly companyNip: string;
  /** Set for a branch's certificate. */
  readonly branchCode?: string;
  /** Set for an operator's certificate (11 digits). */
  readonly operatorPesel?: string;
}

/** What is known about a pair besides its bytes. Formats that cannot carry a field leave it out. */
export interface AdapterMetadata {
  /** Read from the certificate's keyUsage (ksef-docs `certyfikaty-KSeF.md`); always present. */
  readonly certificateType: CertificateTypeName;
  readonly environment?: Environment;
  readonly scope?: AdapterScope;
  readonly mode?: "current" | "queued";
  /** The registry name (1–100 characters). */
  readonly name?: string;
}

/** One certificate pair as adapters move it. */
export interface AdapterPair {
  /** The certificate, DER. */
  readonly certificateDer: Uint8Array;
  /** The private key file, encrypted PKCS#8 (PEM text bytes or DER), bytes exactly as stored or read. */
  readonly keyFile: Uint8Array;
  readonly metadata: AdapterMetadata;
}

/** A pair an export gets: with the registry id it came from. */
export interface ExportPair extends AdapterPair {
  /** The registry certificate id (UUID). */
  readonly certificateId: string;
  /** KSeF serial (16 uppercase hex), handy for file names. */
  readonly serialNumber: string;
}

/** A pair an import found, with where it came from (a path relative to the source, an archive entry). */
export interface ImportedPair extends AdapterPair {
  readonly ref: string;
}

/** Something an adapter could not read, reported instead of stopping the whole import. */
export interface AdapterFailure {
  readonly ref: string;
  readonly error: KsefCertsError;
}

/** What `import` returns: every pair it read, and what it could not read. */
export interface AdapterImportResult {
  readonly pairs: readonly ImportedPair[];
  readonly failures: readonly AdapterFailure[];
}

/** What `export` returns: where each certificate went (a path or a name, never a secret). */
export interface AdapterExportResult {
  readonly written: readonly { readonly certificateId: string; readonly ref: string }[];
}

/**
 * Why a password is asked.
 * - `key`: the existing password of one key file (`ref` names the pair; `certificateId` on export).
 * - `file`: the existing password of a protected file being read (a `.p12`, a bundle).
 * - `new`: a new password for a protected file being written (a bundle).
 */
export interface PasswordRequest {
  readonly purpose: "key" | "file" | "new";
  readonly ref: string;
  readonly certificateId?: string;
}

/** Where an adapter may write notes. Never passwords or key material (the conformance suite checks). */
export interface AdapterLogger {
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** What an adapter gets besides the source or target. */
export interface AdapterContext {
  /**
   * Asks the caller for a password (prompt, file, sealed store…); the adapter uses it and forgets it.
   * @throws {KsefCertsError} PASSWORD_REQUIRED when none can be given
   */
  password(request: PasswordRequest): Promise<string>;
  readonly logger?: AdapterLogger;
  /** Progress of the adapter's own work (files read or written). */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Export only: the person asked explicitly to replace files with other content already at the target (default: such
   * a file is a CONFLICT and nothing is overwritten). Pass it on to `writeFileAtomic` / `writeTargetBytes`.
   */
  readonly replace?: boolean;
  /** Export only: told about each file replaced (its path), for the audit log. */
  readonly onReplaced?: (path: string) => void;
  /** Export only: told about every file and folder created or replaced, so a failed export can be undone. */
  readonly onWritten?: (change: WrittenChange) => void;
}

/** What an adapter can do. */
export interface AdapterCapabilities {
  readonly import: boolean;
  readonly export: boolean;
  readonly certificateTypes: readonly CertificateTypeName[];
  /** Whether the format itself is password-protected (PKCS#12, bundle): export asks `ctx.password`. */
  readonly carriesPasswords: boolean;
}

/**
 * An ERP adapter. `import` and `export` throw only `KsefCertsError`: `IO` (with `retryable`) for
 * file-system failures, `MALFORMED` / `TOO_LARGE` / `FORBIDDEN` for bad input, `WRONG_PASSWORD` /
 * `PASSWORD_REQUIRED` for passwords, `UNSUPPORTED` for what the format cannot hold.
 */
export interface CertificateAdapter<Id extends string = string> {
  /** Stable literal id (`pem-pair`, `pkcs12`, …), recorded in `certificate_exports.adapter_id`. */
  readonly id: Id;
  /** One sentence for people. */
  readonly description: string;
  readonly capabilities: AdapterCapabilities;
  /** Which source kinds `import` accepts. */
  readonly sourceKinds: readonly AdapterSource["kind"][];
  /** Which target kinds `export` accepts. */
  readonly targetKinds: readonly AdapterTarget["kind"][];
  /**
   * Reads pairs from `source`. Damaged entries are reported in `failures`; the source as a whole
   * being unusable (missing folder, wrong archive password) throws.
   */
  import(source: AdapterSource, ctx: AdapterContext): Promise<AdapterImportResult>;
  /** Writes `pairs` to `target` (temp name + rename for every file). */
  export(pairs: readonly ExportPair[], target: AdapterTarget, ctx: AdapterContext): Promise<AdapterExportResult>;
}

/**
 * Types an adapter object keeping its literal id (`const` type parameter), so a registry keyed by ids
 * can check it at compile time.
 * @param adapter the adapter
 * @returns the same object
 * @example
 * export const myAdapter = defineAdapter({ id: "my-erp", description: "…", capabilities: {…}, sourceKinds: ["folder"], targetKinds: ["folder"], import, export });
 */
export function defineAdapter<const Id extends string>(adapter: CertificateAdapter<Id>): CertificateAdapter<Id> {
  return adapter;
}
