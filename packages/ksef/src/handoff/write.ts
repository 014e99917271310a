/**
 * Writing `auth.xml` (the unsigned AuthTokenRequest a person signs with Profil Zaufany or a qualified
 * signature) into a workstation's outbox folder.
 *
 * The write is atomic (temp file in the same folder, fsync, then a link/rename) so that the person, the
 * gov.pl upload dialog or a sync client never sees a half-written file, and it never replaces a different file: a name in the outbox names one challenge.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { KsefCertsError, violation } from "../errors.js";
import { TRANSIENT_OR_LOCKED_ERRNO, errnoOf, ioError, writeFileAtomic, type Placement } from "../files/index.js";
import { msg } from "../messages/index.js";

/** Largest `auth.xml` {@link writeAuthRequest} writes: 1 MiB (an unsigned AuthTokenRequest is under 1 KiB). */
export const MAX_AUTH_REQUEST_BYTES = 1_048_576;

/** Longest file name {@link writeAuthRequest} accepts and {@link handoffFileName} produces (many file systems stop at 255 bytes). */
export const MAX_HANDOFF_FILE_NAME_LENGTH = 160;

/** Characters a hand-off file name may contain: safe on Windows, macOS and Linux and in every shell. */
const FILE_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/** Polish letters transliterated in file names (they are outside `[A-Za-z0-9._-]`). */
const POLISH: Readonly<Record<string, string>> = {
  ą: "a",
  ć: "c",
  ę: "e",
  ł: "l",
  ń: "n",
  ó: "o",
  ś: "s",
  ź: "z",
  ż: "z",
  Ą: "A",
  Ć: "C",
  Ę: "E",
  Ł: "L",
  Ń: "N",
  Ó: "O",
  Ś: "S",
  Ź: "Z",
  Ż: "Z",
};

/** Turns free text into `[A-Za-z0-9-]` words joined by `-` (Polish letters transliterated, the rest dropped). */
function slug(text: string, maxLength: number): string {
  const ascii = text
    .replace(/[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]/g, (c) => POLISH[c] ?? c)
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "");
  return ascii
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxLength)
    .replace(/-+$/, "");
}

/** What {@link handoffFileName} builds a name from. */
export interface HandoffFileNameInput {
  /** The context the login is for, e.g. a NIP `5265877635` or an InternalId `5265877635-00001`. */
  readonly context: string;
  /** Who signs (an operator's name or login), when known; Polish letters are transliterated. */
  readonly operator?: string;
  /** The KSeF challenge (36 characters, `YYYYMMDD-CR-XXXXXXXXXX-XXXXXXXXXX-XX`); its last 13 characters end the name. */
  readonly challenge: string;
  /** First word of the name; default `auth`. */
  readonly prefix?: string;
}

/**
 * A file name that says what an outbox file is for: `auth-<context>-<operator>-<challenge suffix>.xml`,
 * e.g. `auth-5265877635-Jan-Kowalski-DA48AE4124-46.xml`. Only `[A-Za-z0-9._-]`, at most
 * {@link MAX_HANDOFF_FILE_NAME_LENGTH} characters; the challenge suffix (its random part) keeps names of
 * successive challenges apart.
 * @param input context, optional operator, challenge, optional prefix
 * @returns the file name (no folder)
 * @throws {KsefCertsError} VALIDATION when the challenge or context leaves nothing usable after cleaning
 */
export function handoffFileName(input: HandoffFileNameInput): string {
  const challenge = slug(input.challenge.slice(-13), 13);
  const context = slug(input.context, 40);
  if (challenge === "" || context === "") {
    throw new KsefCertsError("VALIDATION", msg("handoff.fileName.parts"), {
      violations: [
        ...(context === "" ? [violation("context", "handoff.fileName.context")] : []),
        ...(challenge === "" ? [violation("challenge", "handoff.fileName.challenge")] : []),
      ],
    });
  }
  const prefix = slug(input.prefix ?? "auth", 20) || "auth";
  const operator = input.operator === undefined ? "" : slug(input.operator, 60);
  return [prefix, context, operator, challenge].filter((p) => p !== "").join("-") + ".xml";
}

/**
 * Checks a hand-off file name: `[A-Za-z0-9._-]` only, not starting with a dot (watchers ignore dotfiles),
 * at most {@link MAX_HANDOFF_FILE_NAME_LENGTH} characters, not ending in a temp suffix the inbox watcher ignores.
 * @throws {KsefCertsError} VALIDATION naming the rule the name breaks
 */
export function assertHandoffFileName(fileName: string): void {
  // Each problem is a variant (`context`) of the rule's sentence and of the error's.
  const problem =
    fileName.length === 0 || fileName.length > MAX_HANDOFF_FILE_NAME_LENGTH
      ? "length"
      : !FILE_NAME_PATTERN.test(fileName)
        ? "characters"
        : fileName.startsWith(".")
          ? "dot"
          : /\.(tmp|part|crdownload|swp)$/i.test(fileName)
            ? "tempSuffix"
            : undefined;
  if (problem !== undefined) {
    const params = { max: MAX_HANDOFF_FILE_NAME_LENGTH, ...(problem === "length" ? {} : { context: problem }) };
    throw new KsefCertsError(
      "VALIDATION",
      { id: "handoff.fileName.invalid", params: { ...params, fileName: fileName.slice(0, 80) } },
      {
        hint: msg("handoff.fileName.invalid.hint"),
        violations: [violation("fileName", "handoff.fileName", params)],
      },
    );
  }
}

/** What {@link writeAuthRequest} writes. */
export interface AuthRequestFile {
  /** The file name (see {@link handoffFileName}); no folder part. */
  readonly fileName: string;
  /** The document, written byte for byte (UTF-8 XML as `buildAuthTokenRequest` returns it, encoded). */
  readonly xml: Uint8Array;
}

/** The result of {@link writeAuthRequest}. */
export interface WrittenAuthRequest {
  /** Absolute or caller-relative path of the file (`outboxDir` joined with the name). */
  readonly path: string;
  /** `false` when the same bytes were already there under that name (a repeated call is harmless). */
  readonly created: boolean;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/**
 * Writes `auth.xml` into the outbox atomically: a hidden temp file (`.<name>.<random>.tmp`) in the same
 * folder, written, fsynced and set to mode 0644 (readable by the person's browser whatever the umask),
 * then linked to its final name (which fails instead of replacing an existing file) — or, where the file
 * system has no hard links, renamed after a check — and the folder fsynced (POSIX; skipped where unsupported).
 * @param outboxDir the workstation's outbox folder; must exist
 * @param file the name and bytes
 * @returns the path and whether the file was created (an identical existing file counts as written)
 * @throws {KsefCertsError} VALIDATION for a bad file name (see {@link assertHandoffFileName})
 * @throws {KsefCertsError} TOO_LARGE above {@link MAX_AUTH_REQUEST_BYTES}
 * @throws {KsefCertsError} NOT_FOUND when the outbox folder does not exist (or is not a folder)
 * @throws {KsefCertsError} CONFLICT when a different file already has that name
 * @throws {KsefCertsError} IO when the file system refuses the write (`retryable` for EBUSY/EAGAIN/EMFILE/ENFILE, and for
 *   EPERM/EACCES: on Windows an antivirus or sync client holds a new file for a moment)
 */
export async function writeAuthRequest(outboxDir: string, file: AuthRequestFile): Promise<WrittenAuthRequest> {
  assertHandoffFileName(file.fileName);
  if (file.xml.byteLength > MAX_AUTH_REQUEST_BYTES) {
    throw new KsefCertsError("TOO_LARGE", msg("handoff.outbox.tooLarge", { size: file.xml.byteLength, limitBytes: MAX_AUTH_REQUEST_BYTES }), {
      details: { size: file.xml.byteLength, limitBytes: MAX_AUTH_REQUEST_BYTES },
    });
  }
  const dirStat = await stat(outboxDir).catch(() => undefined);
  if (dirStat?.isDirectory() !== true) {
    throw new KsefCertsError("NOT_FOUND", msg("handoff.outbox.missing", { folder: outboxDir }), {
      // A typo in the workstation's configuration would otherwise put the file where nobody looks.
      hint: msg("handoff.outbox.missing.hint"),
      details: { folder: outboxDir },
    });
  }
  const target = join(outboxDir, file.fileName);
  const existing = await readExisting(target);
  if (existing !== undefined) return sameOrConflict(target, existing, file.xml);

  // A person's desktop tools (antivirus, sync clients) lock new files for a moment on Windows: EPERM/EACCES retry too.
  const writeFailed = (error: unknown): KsefCertsError =>
    ioError(msg("handoff.outbox.write", { fileName: file.fileName, folder: outboxDir }), error, TRANSIENT_OR_LOCKED_ERRNO);
  let placement: Placement;
  try {
    // Linked into place, never replacing: a name in the outbox names one challenge.
    placement = await writeFileAtomic(target, file.xml, { mode: 0o644 });
  } catch (error) {
    throw writeFailed(error);
  }
  if (placement === "placed") return { path: target, created: true };
  // Another writer got there first: the same bytes are fine, other bytes are a conflict.
  const now = await readExisting(target);
  if (now !== undefined) return sameOrConflict(target, now, file.xml);
  // It vanished again in between: report the refused write rather than guess.
  throw writeFailed(Object.assign(new Error("the file existed"), { code: "EEXIST" }));
}

async function readExisting(path: string): Promise<Uint8Array | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile() || s.size > MAX_AUTH_REQUEST_BYTES) return new Uint8Array(0);
    return await readFile(path);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw ioError(msg("handoff.read", { path }), error, TRANSIENT_OR_LOCKED_ERRNO);
  }
}

function sameOrConflict(target: string, existing: Uint8Array, wanted: Uint8Array): WrittenAuthRequest {
  if (sameBytes(existing, wanted)) return { path: target, created: false };
  throw new KsefCertsError("CONFLICT", msg("handoff.outbox.exists", { path: target }), {
    hint: msg("handoff.outbox.exists.hint"),
    details: { path: target },
  });
}
