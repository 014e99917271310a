import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import type { CliIo } from "./context.js";
import { readInput, writeOutputs } from "./files.js";
import { outcomeCode } from "./__fixtures__/harness.js";

const dir = mkdtempSync(join(tmpdir(), "ksef-certs-files-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const io: CliIo = {
  stdin: Readable.from([]),
  stdinIsTTY: false,
  stdout: { write: () => undefined },
  stderr: { write: () => undefined },
  env: {},
  cwd: dir,
  prompt: () => Promise.reject(new Error("no prompt")),
};

describe("readInput", () => {
  it("reads relative to cwd and refuses files over the limit before reading", async () => {
    writeFileSync(join(dir, "in.bin"), Buffer.alloc(100, 1));
    expect((await readInput(io, "in.bin", 100, "thing")).byteLength).toBe(100);
    expect(await outcomeCode(readInput(io, "in.bin", 99, "thing"))).toBe("TOO_LARGE");
    expect(await outcomeCode(readInput(io, "missing.bin", 100, "thing"))).toBe("NOT_FOUND");
    mkdirSync(join(dir, "adir"), { recursive: true });
    expect(await outcomeCode(readInput(io, "adir", 100, "thing"))).toBe("IO");
  });
});

describe("writeOutputs", () => {
  it("writes with the requested mode and leaves no temporary file", async () => {
    await writeOutputs(
      io,
      [
        { path: "k.key", data: "secret-ish", mode: 0o600 },
        { path: "c.crt", data: new Uint8Array([1, 2, 3]), mode: 0o644 },
      ],
      false,
    );
    expect(statSync(join(dir, "k.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "c.crt")).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(dir, "c.crt"))).toEqual(Buffer.from([1, 2, 3]));
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
  it("refuses to overwrite without force, writing nothing, and replaces with force", async () => {
    writeFileSync(join(dir, "exists.key"), "old");
    expect(
      await outcomeCode(
        writeOutputs(
          io,
          [
            { path: "fresh.key", data: "new", mode: 0o600 },
            { path: "exists.key", data: "new", mode: 0o600 },
          ],
          false,
        ),
      ),
    ).toBe("CONFLICT");
    expect(readFileSync(join(dir, "exists.key"), "utf8")).toBe("old");
    expect(readdirSync(dir)).not.toContain("fresh.key");
    await writeOutputs(io, [{ path: "exists.key", data: "new", mode: 0o600 }], true);
    expect(readFileSync(join(dir, "exists.key"), "utf8")).toBe("new");
    expect(statSync(join(dir, "exists.key")).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
  it("rejects two outputs with one name and a missing directory", async () => {
    expect(
      await outcomeCode(
        writeOutputs(
          io,
          [
            { path: "same", data: "a", mode: 0o600 },
            { path: join(dir, "same"), data: "b", mode: 0o600 },
          ],
          false,
        ),
      ),
    ).toBe("VALIDATION");
    expect(await outcomeCode(writeOutputs(io, [{ path: "no-such-dir/x.key", data: "a", mode: 0o600 }], false))).toBe("NOT_FOUND");
  });
});
