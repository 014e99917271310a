import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { KsefCertsError } from "../errors.js";
import { msg } from "../messages/index.js";
import { TRANSIENT_ERRNO, TRANSIENT_OR_LOCKED_ERRNO, errnoOf, ioError, placeFile, syncFolder, writeFileAtomic, writeTempBeside } from "./index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ksef-files-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const posix = process.platform !== "win32";
const temps = (folder = dir): string[] => readdirSync(folder).filter((f) => f.endsWith(".tmp"));
const modeOf = (path: string): number => statSync(path).mode & 0o777;
const errnoError = (code: string): Error => Object.assign(new Error(code), { code });

/** Runs `work` under `mask`, restoring the umask after (the forks pool runs tests in a process that may set it). */
async function withUmask<T>(mask: number, work: () => Promise<T>): Promise<T> {
  const before = process.umask(mask);
  try {
    return await work();
  } finally {
    process.umask(before);
  }
}

describe("writeFileAtomic", () => {
  test.skipIf(!posix).each([
    [0o077, 0o644],
    [0o077, 0o600],
    [0o000, 0o600],
    [0o000, 0o644],
    [0o022, 0o640],
  ])("under umask %o writes the content with exactly mode %o", async (mask, mode) => {
    const path = join(dir, "out.bin");
    await withUmask(mask, () => writeFileAtomic(path, new Uint8Array([1, 2, 3]), { mode }));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(modeOf(path)).toBe(mode);
    expect(temps()).toEqual([]);
  });

  test("writes a string as UTF-8 and answers placed", async () => {
    const path = join(dir, "a.txt");
    expect(await writeFileAtomic(path, "zażółć\n", { mode: 0o600 })).toBe("placed");
    expect(readFileSync(path, "utf8")).toBe("zażółć\n");
  });

  test("without replace never clobbers an existing file, whatever its content, and leaves no temp file", async () => {
    const path = join(dir, "a.txt");
    writeFileSync(path, "theirs");
    expect(await writeFileAtomic(path, "mine", { mode: 0o600 })).toBe("existed");
    expect(readFileSync(path, "utf8")).toBe("theirs");
    expect(temps()).toEqual([]);
  });

  test("with replace replaces an existing file and gives it the new mode", async () => {
    const path = join(dir, "a.txt");
    writeFileSync(path, "old", { mode: 0o644 });
    expect(await writeFileAtomic(path, "new", { mode: 0o600, replace: true })).toBe("placed");
    expect(readFileSync(path, "utf8")).toBe("new");
    if (posix) expect(modeOf(path)).toBe(0o600);
    expect(temps()).toEqual([]);
  });

  test("fails with ENOENT when the folder is missing, leaving nothing behind", async () => {
    const missing = join(dir, "nope");
    await expect(writeFileAtomic(join(missing, "a.txt"), "x", { mode: 0o600 })).rejects.toMatchObject({ code: "ENOENT" });
    expect(readdirSync(dir)).toEqual([]);
  });

  test("creates a missing folder with folderMode when asked", async () => {
    const folder = join(dir, "a", "b");
    await writeFileAtomic(join(folder, "c.txt"), "x", { mode: 0o600, folderMode: 0o700 });
    expect(readFileSync(join(folder, "c.txt"), "utf8")).toBe("x");
    if (posix) expect(modeOf(folder)).toBe(0o700);
  });

  test("removes the temp file when placing fails (the target is a folder)", async () => {
    const target = join(dir, "taken");
    mkdirSync(target);
    await expect(writeFileAtomic(target, "x", { mode: 0o600, replace: true })).rejects.toHaveProperty("code");
    expect(temps()).toEqual([]);
  });

  test("concurrent replacing writers never leave a torn file, and a reader only ever sees a whole one", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 200_000 }), { minLength: 2, maxLength: 6 }), async (sizes) => {
        const path = join(dir, "shared.bin");
        rmSync(path, { force: true });
        // Each writer's content is one repeated byte, so any mix of two writers is detectable.
        const contents = sizes.map((size, i) => Buffer.alloc(size, i + 1));
        const seen: Buffer[] = [];
        const state = { done: false };
        const reader = (async () => {
          while (!state.done) {
            const bytes = await readFile(path).catch((error: unknown) => {
              if (errnoOf(error) === "ENOENT") return undefined;
              throw error;
            });
            if (bytes !== undefined) seen.push(bytes);
            await new Promise((r) => setImmediate(r));
          }
        })();
        await Promise.all(contents.map((c) => writeFileAtomic(path, c, { mode: 0o600, replace: true })));
        state.done = true;
        await reader;
        const isWhole = (b: Buffer): boolean => contents.some((c) => c.equals(b));
        expect(isWhole(readFileSync(path))).toBe(true);
        for (const b of seen) expect(isWhole(b)).toBe(true);
        expect(temps()).toEqual([]);
      }),
      { numRuns: 15 },
    );
  });

  test("of concurrent writers that never replace, exactly one places its file, whole", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 100_000 }), async (writers, size) => {
        const path = join(dir, "once.bin");
        rmSync(path, { force: true });
        const contents = Array.from({ length: writers }, (_, i) => Buffer.alloc(size, i + 1));
        const results = await Promise.all(contents.map((c) => writeFileAtomic(path, c, { mode: 0o600 })));
        const placed = results.flatMap((r, i) => (r === "placed" ? [i] : []));
        expect(placed).toHaveLength(1);
        expect(readFileSync(path).equals(contents[placed[0] ?? -1] ?? Buffer.alloc(0))).toBe(true);
        expect(temps()).toEqual([]);
      }),
      { numRuns: 15 },
    );
  });
});

describe("writeTempBeside", () => {
  test("writes a hidden temp file in the target's folder, with the mode", async () => {
    const temp = await writeTempBeside(join(dir, "key.pem"), "k", 0o600);
    expect(temp.startsWith(join(dir, ".key.pem."))).toBe(true);
    expect(temp).toMatch(/\.key\.pem\.[0-9a-f]{12}\.tmp$/);
    expect(readFileSync(temp, "utf8")).toBe("k");
    if (posix) expect(modeOf(temp)).toBe(0o600);
  });

  test("removes its temp file when writing throws", async () => {
    // Content writeFile refuses (a number), after the temp file was created.
    await expect(writeTempBeside(join(dir, "a"), 42 as unknown as string, 0o600)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("placeFile", () => {
  test("links without replacing; the temp name is left for the caller", async () => {
    const temp = await writeTempBeside(join(dir, "t"), "new", 0o600);
    expect(await placeFile(temp, join(dir, "t"))).toBe("placed");
    expect(readFileSync(join(dir, "t"), "utf8")).toBe("new");
    expect(readFileSync(temp, "utf8")).toBe("new");
  });

  test("answers existed and leaves both files as they were when the target is there", async () => {
    writeFileSync(join(dir, "t"), "old");
    const temp = await writeTempBeside(join(dir, "t"), "new", 0o600);
    expect(await placeFile(temp, join(dir, "t"))).toBe("existed");
    expect(readFileSync(join(dir, "t"), "utf8")).toBe("old");
    expect(readFileSync(temp, "utf8")).toBe("new");
    // The caller may then decide to replace with the same temp file.
    expect(await placeFile(temp, join(dir, "t"), { replace: true })).toBe("placed");
    expect(readFileSync(join(dir, "t"), "utf8")).toBe("new");
    expect(temps()).toEqual([]);
  });

  describe.each(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"])("on a file system without hard links (%s)", (code) => {
    const noLinks = (): Promise<void> => Promise.reject(errnoError(code));

    test("renames into a free name", async () => {
      const temp = await writeTempBeside(join(dir, "t"), "new", 0o600);
      expect(await placeFile(temp, join(dir, "t"), { link: noLinks })).toBe("placed");
      expect(readFileSync(join(dir, "t"), "utf8")).toBe("new");
      expect(temps()).toEqual([]);
    });

    test("does not replace an existing file", async () => {
      writeFileSync(join(dir, "t"), "old");
      const temp = await writeTempBeside(join(dir, "t"), "new", 0o600);
      expect(await placeFile(temp, join(dir, "t"), { link: noLinks })).toBe("existed");
      expect(readFileSync(join(dir, "t"), "utf8")).toBe("old");
    });
  });

  test("passes other link failures through", async () => {
    const temp = await writeTempBeside(join(dir, "t"), "new", 0o600);
    const failing = (): Promise<void> => Promise.reject(errnoError("EIO"));
    await expect(placeFile(temp, join(dir, "t"), { link: failing })).rejects.toMatchObject({ code: "EIO" });
  });
});

describe("syncFolder", () => {
  test("ignores a folder it cannot open", async () => {
    await expect(syncFolder(join(dir, "missing"))).resolves.toBeUndefined();
    await expect(syncFolder(dir)).resolves.toBeUndefined();
  });
});

describe("errnoOf and ioError", () => {
  test("errnoOf reads a string code only", () => {
    expect(errnoOf(errnoError("EBUSY"))).toBe("EBUSY");
    expect(errnoOf({ code: 5 })).toBeUndefined();
    expect(errnoOf(null)).toBeUndefined();
    expect(errnoOf(undefined)).toBeUndefined();
  });

  test("ioError is IO, retryable for the errno set given, with the errno in details", () => {
    const message = msg("handoff.read", { path: "x" });
    const busy = ioError(message, errnoError("EBUSY"));
    expect(busy.code).toBe("IO");
    expect(busy.retryable).toBe(true);
    expect(busy.details).toEqual({ errno: "EBUSY" });
    expect(ioError(message, errnoError("EACCES")).retryable).toBe(false);
    expect(ioError(message, errnoError("EACCES"), TRANSIENT_OR_LOCKED_ERRNO).retryable).toBe(true);
    expect(ioError(message, new Error("no code"), TRANSIENT_ERRNO).retryable).toBe(false);
    expect(ioError(message, new Error("no code")).details).toEqual({});
  });

  test("ioError passes a KsefCertsError through", () => {
    const own = new KsefCertsError("CONFLICT", msg("handoff.read", { path: "x" }));
    expect(ioError(msg("handoff.read", { path: "y" }), own)).toBe(own);
  });
});
