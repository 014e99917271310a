/**
 * Writing a private file (the master key, the audit checkpoint) so that it never exists half-written:
 * the bytes go to a temporary file in the same folder, flushed to disk, which the caller then moves
 * into place (`link` to never replace, `rename` to replace atomically).
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes `data` to a new file beside `path` (mode 0600, flushed), creating the folder (mode 0700) when
 * missing. The caller moves it into place and then removes the temporary name (`unlink`); when writing
 * fails, it is removed here.
 * @param path the final path
 * @param data the content
 * @returns the temporary file's path
 * @throws the file system's error (the caller wraps it)
 */
export async function writePrivateTemp(path: string, data: string | Uint8Array): Promise<string> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const handle = await open(tmp, "wx", 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return tmp;
}
