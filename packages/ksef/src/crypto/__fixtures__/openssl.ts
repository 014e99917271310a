/**
 * Test support: runs the real OpenSSL CLI in a private temporary directory. Passwords go through
 * files (`-passin file:`), never argv. Not shipped (tsconfig.build.json excludes __fixtures__).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Path of the OpenSSL binary the interop tests use. */
export const OPENSSL = "/usr/bin/openssl";

/** A temporary working directory with helpers to run openssl in it; call `cleanup()` when done. */
export class OpensslDir {
  readonly dir = mkdtempSync(join(tmpdir(), "ksef-certs-openssl-"));

  /**
   * Absolute path of `name` inside the directory.
   * @param name file name
   */
  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Writes `data` to `name` and returns its path.
   * @param name file name
   * @param data content
   */
  write(name: string, data: Uint8Array | string): string {
    const p = this.path(name);
    writeFileSync(p, data);
    return p;
  }

  /**
   * Reads file `name`.
   * @param name file name
   */
  read(name: string): Buffer {
    return readFileSync(this.path(name));
  }

  /**
   * Runs openssl with `args` in the directory and returns stdout (stderr is captured, not printed).
   * @param args command-line arguments
   * @param env extra environment variables (for `-passin env:NAME`)
   */
  run(args: readonly string[], env: Record<string, string> = {}): Buffer {
    return execFileSync(OPENSSL, args, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } });
  }

  /**
   * Runs openssl and returns stdout followed by stderr (where `pkcs12 -info` prints its report).
   * @param args command-line arguments
   * @throws Error when openssl exits with a non-zero status
   */
  runBoth(args: readonly string[]): string {
    const r = spawnSync(OPENSSL, args, { cwd: this.dir, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`openssl ${args[0] ?? ""} failed: ${r.stderr}`);
    return `${r.stdout}\n${r.stderr}`;
  }

  /** Removes the directory. */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One line of `openssl asn1parse` output. */
export interface Asn1Line {
  readonly offset: number;
  readonly depth: number;
  readonly length: number;
  readonly constructed: boolean;
  /** e.g. `SEQUENCE`, `OBJECT`, `INTEGER`, `OCTET STRING`, `NULL`, `cont [ 0 ]` */
  readonly type: string;
  /** Text after the type's colon: OID name, INTEGER hex, `[HEX DUMP]:…`; empty when none. */
  readonly value: string;
}

/**
 * Runs `openssl asn1parse -inform DER` on `der` and parses its output.
 * @param dir the working directory
 * @param der the DER bytes
 */
export function asn1parse(dir: OpensslDir, der: Uint8Array): Asn1Line[] {
  const file = dir.write(`asn1-${Date.now()}-${Math.random().toString(36).slice(2)}.der`, der);
  const out = dir.run(["asn1parse", "-inform", "DER", "-in", file]).toString("utf8");
  return out
    .split("\n")
    .filter((l) => l.trim().length > 0)
    .map((line) => {
      const m = /^\s*(\d+):d=(\d+)\s+hl=\s*(\d+)\s+l=\s*(\d+)\s+(prim|cons):\s*(.*)$/.exec(line);
      if (m === null) throw new Error(`unexpected asn1parse line: ${line}`);
      // "OBJECT            :PBES2", "OCTET STRING      [HEX DUMP]:B514…", "cont [ 0 ]        "
      const parts = /^(.+?)(\s{2,}.*|:.*)?$/.exec(m[6] ?? "");
      const tail = (parts?.[2] ?? "")
        .trim()
        .replace(/^\[HEX DUMP\]/, "")
        .replace(/^:/, "")
        .trim();
      return {
        offset: Number(m[1]),
        depth: Number(m[2]),
        length: Number(m[4]),
        constructed: m[5] === "cons",
        type: (parts?.[1] ?? "").trim(),
        value: tail,
      };
    });
}
