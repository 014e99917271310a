/**
 * Test support: the real `xmlsec1` and `xmllint` CLIs as oracles for signed and unsigned
 * AuthTokenRequests. Files go to a private temporary directory. Not shipped (tsconfig.build.json
 * excludes __fixtures__).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Path of the xmlsec1 binary. */
export const XMLSEC1 = "/usr/bin/xmlsec1";
/** Path of the xmllint binary. */
export const XMLLINT = "/usr/bin/xmllint";

/** The repository's spec/ directory (official XSDs). */
export const SPEC_DIR = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../../../spec");

/** Namespace of XAdES 1.3.2, whose `SignedProperties` carries the `Id` the second Reference points at. */
const XADES_NS = "http://uri.etsi.org/01903/v1.3.2#";

/** Result of running a CLI: exit status and both output streams. */
export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A temporary directory with the oracles; call `cleanup()` when done. */
export class XmlToolsDir {
  readonly dir = mkdtempSync(join(tmpdir(), "ksef-certs-xmlsec-"));
  private counter = 0;
  private readonly schemas = new Map<string, string>();

  /**
   * Writes `data` to a fresh file and returns its path.
   * @param data content (bytes are written as is)
   * @param ext file extension
   */
  write(data: Uint8Array | string, ext = "xml"): string {
    const p = join(this.dir, `f${++this.counter}.${ext}`);
    writeFileSync(p, data);
    return p;
  }

  /**
   * `xmlsec1 --verify --insecure --id-attr:Id <xades>:SignedProperties --enabled-key-data x509 <file>`:
   * verifies both References and the SignatureValue with the key of the certificate in KeyInfo
   * (`--insecure`: no chain check; the test CA is not trusted).
   * @param signed the signed document bytes
   */
  xmlsecVerify(signed: Uint8Array | string): CliResult {
    const file = this.write(signed);
    return run(XMLSEC1, ["--verify", "--insecure", "--id-attr:Id", `${XADES_NS}:SignedProperties`, "--enabled-key-data", "x509", file]);
  }

  /**
   * `xmllint --noout --schema <xsd> <file>`.
   * @param xml the document
   * @param version `"2.0"` or `"2.1"`; see {@link XmlToolsDir.schemaPath}
   */
  validate(xml: Uint8Array | string, version: "2.0" | "2.1"): CliResult {
    return run(XMLLINT, ["--noout", "--schema", this.schemaPath(version), this.write(xml)]);
  }

  /**
   * `xmllint --noout --schema <official spec/ XSD> <file>`, without the repairs of {@link XmlToolsDir.schemaPath}.
   * @param xml the document
   * @param version schema version
   */
  validateOfficial(xml: Uint8Array | string, version: "2.0" | "2.1"): CliResult {
    return run(XMLLINT, ["--noout", "--schema", this.officialSchemaPath(version), this.write(xml)]);
  }

  /**
   * Path of the XSD used to validate `version`: the official spec/ file with two .NET-isms repaired,
   * because libxml2 implements XSD regexes as the standard says (implicitly anchored; `^` and `$` are
   * ordinary characters; `\b` does not exist):
   * 1. a leading `^` and trailing `$` are dropped from every pattern (`TPeppolId`, `TNipVatUE`, and
   *    2.0's IPv4 patterns), otherwise `PPL123456` would have to be written `^PPL123456$`;
   * 2. 2.0's three IPv4 patterns (with `\b`, which makes the 2.0 file fail to compile) are replaced by
   *    2.1's, which accept the same dotted quads (ksef-docs `uwierzytelnianie.md`: "only IPv4 regexes differ").
   * Namespaces, structure and every other facet are the official ones.
   * @param version schema version
   * @throws Error when the official files no longer have the expected three IPv4 patterns
   */
  schemaPath(version: "2.0" | "2.1"): string {
    const cached = this.schemas.get(version);
    if (cached !== undefined) return cached;
    const ipPatterns = (text: string): string[] =>
      Array.from(text.matchAll(/<xsd:pattern value="([^"]*)"\/>/g), (m) => m[1] ?? "").filter((p) => p.includes("25[0-5]"));
    let text = readFileSync(this.officialSchemaPath(version), "utf8");
    if (version === "2.0") {
      const v21 = ipPatterns(readFileSync(this.officialSchemaPath("2.1"), "utf8"));
      const old = ipPatterns(text);
      if (old.length !== 3 || v21.length !== 3) throw new Error("spec XSDs changed: expected three IPv4 patterns in each");
      old.forEach((p, i) => {
        text = text.replace(`value="${p}"`, `value="${v21[i] ?? ""}"`);
      });
    }
    text = text.replace(/<xsd:pattern value="\^?([^"]*?)\$?"\/>/g, '<xsd:pattern value="$1"/>');
    const path = this.write(text, "xsd");
    this.schemas.set(version, path);
    return path;
  }

  /**
   * Path of the unmodified official XSD in spec/.
   * @param version schema version
   */
  officialSchemaPath(version: "2.0" | "2.1"): string {
    return join(SPEC_DIR, version === "2.0" ? "schemat_auth_v2-0.xsd" : "schemat_auth_v2-1.xsd");
  }

  /** Removes the directory. */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs `bin` with `args`; a missing binary fails the test (status null and the spawn error in stderr).
 * @param bin absolute path of the executable
 * @param args arguments
 */
export function run(bin: string, args: readonly string[]): CliResult {
  const r = spawnSync(bin, args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  // On a spawn failure (missing binary) node leaves stdout/stderr null despite the typings.
  const out = r.stdout as string | null;
  const err = r.stderr as string | null;
  return { status: r.status, stdout: out ?? "", stderr: `${err ?? ""}${r.error === undefined ? "" : String(r.error)}` };
}
