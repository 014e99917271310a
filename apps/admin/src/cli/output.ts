/**
 * Human and `--json` output of the CLI, and how errors are shown.
 *
 * - Human: results on stdout; errors on stderr as `error: <message>`, `hint: <hint>` and one
 *   `  - <field>: <message>` line per violation.
 * - JSON: exactly one object on stdout, for results and for errors (`{ "error": … }` as `localizeError` gives it:
 *   code, message and hint in the run's language, with `messageId`/`params` for scripts that match on ids), so
 *   `ksef-certs … --json | jq` always parses; the exit code tells success from failure.
 * - Language: the run's locale (`io.locale`: `--lang`, else `LC_ALL`/`LC_MESSAGES`/`LANG`), English by default.
 *
 * Nothing here prints secrets: results are built by the commands from non-secret fields, and
 * {@link toJsonValue} refuses key objects outright.
 */
import { KeyObject } from "node:crypto";
import type { KeyDescription, KeyEncryption } from "@ksef-certs/ksef/crypto";
import { KsefCertsError, localizeError } from "@ksef-certs/ksef/errors";
import { msg, translate, type Locale, type MessageRef } from "@ksef-certs/ksef/messages";
import type { CliIo } from "./context.js";

/** A JSON value as printed. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Converts a result to plain JSON: `Date` → ISO string, `bigint` → decimal string, bytes → base64,
 * `undefined` fields dropped.
 * @param value a command's result
 * @throws {KsefCertsError} `INTERNAL` when a key object reached the output (a bug: keys are never printed)
 */
export function toJsonValue(value: unknown): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof KeyObject) throw new KsefCertsError("INTERNAL", msg("cli.output.keyObject"));
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v));
  if (typeof value === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined && typeof v !== "function") out[k] = toJsonValue(v);
    }
    return out;
  }
  return null;
}

/**
 * Lines `label: value`, labels padded to one column; rows whose value is `undefined` are skipped.
 * @param rows label/value pairs in display order
 * @param indent spaces before each line
 */
export function formatFields(rows: readonly (readonly [string, string | number | boolean | undefined])[], indent = 2): string[] {
  const shown = rows.filter((r): r is readonly [string, string | number | boolean] => r[1] !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${" ".repeat(indent)}${`${label}:`.padEnd(width + 2)}${String(value)}`);
}

/** Where a command writes its result and notes, in the mode the user chose. */
export class Output {
  /**
   * @param io the run's surface
   * @param json whether `--json` was given
   */
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /**
   * Prints the command's result: the JSON object, or the human lines.
   * @param data the JSON result (converted with {@link toJsonValue})
   * @param human the human text, one entry per line
   */
  result(data: unknown, human: readonly string[]): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(toJsonValue(data), null, 2)}\n`);
    else this.io.stdout.write(human.map((l) => `${l}\n`).join(""));
  }

  /**
   * A progress or advice note for people (stderr, human mode only), e.g. "wrote new.key".
   * @param line one line of text
   */
  note(line: string | MessageRef): void {
    if (!this.json) this.io.stderr.write(`${typeof line === "string" ? line : this.t(line)}\n`);
  }

  /**
   * A catalogue message in the run's language.
   * @param ref the message
   */
  t(ref: MessageRef): string {
    return translate(this.io.locale ?? "en", ref);
  }

  /**
   * Shows an error: JSON `{ "error": … }` on stdout, or `error:`/`hint:`/violations on stderr.
   * @param err the error (already a `KsefCertsError`; see {@link asKsefCertsError})
   */
  error(err: KsefCertsError): void {
    const locale = this.io.locale ?? "en";
    if (this.json) {
      this.io.stdout.write(`${JSON.stringify({ error: toJsonValue(localizeError(err, locale)) }, null, 2)}\n`);
      return;
    }
    this.io.stderr.write(
      humanError(err, locale)
        .map((l) => `${l}\n`)
        .join(""),
    );
  }
}

/**
 * The human lines of an error: `error: …`, `hint: …` (`błąd:`, `wskazówka:` in Polish), one `  - field: message` per violation.
 * @param err the error
 * @param locale the reader's language (English by default)
 */
export function humanError(err: KsefCertsError, locale: Locale = "en"): string[] {
  const shown = localizeError(err, locale);
  const lines = [`${translate(locale, msg("cli.error.label"))} ${shown.message}`];
  if (shown.hint !== undefined) lines.push(`${translate(locale, msg("cli.hint.label"))} ${shown.hint}`);
  for (const v of shown.violations ?? []) lines.push(`  - ${v.field}: ${v.message}`);
  return lines;
}

/**
 * Turns anything thrown into a `KsefCertsError` safe to show. An unexpected error becomes `INTERNAL`;
 * its own text is shown only with `KSEF_CERTS_DEBUG=1`, because a third-party message could quote
 * input it was given.
 * @param err anything caught
 * @param env the run's environment
 */
export function asKsefCertsError(err: unknown, env: Readonly<Record<string, string | undefined>>): KsefCertsError {
  if (err instanceof KsefCertsError) return err;
  const debug = env["KSEF_CERTS_DEBUG"] === "1";
  const name = err instanceof Error ? err.name : typeof err;
  const text = err instanceof Error ? err.message : String(err);
  return new KsefCertsError("INTERNAL", debug ? msg("cli.unexpected.debug", { name, text }) : msg("cli.unexpected", { name }), {
    hint: debug ? msg("cli.unexpected.debug.hint") : msg("cli.unexpected.hint"),
    cause: err,
  });
}

/**
 * A key description for people: `EC P-256`, `RSA 2048-bit`, plus "(KSeF does not accept this key)" when so.
 * @param d what the core says about the key
 * @param locale the reader's language (English by default)
 */
export function keyText(d: KeyDescription, locale: Locale = "en"): string {
  const base =
    d.type === "ec"
      ? `EC ${d.curve ?? translate(locale, msg("cli.key.unknownCurve"))}`
      : d.type === "rsa"
        ? translate(locale, msg("cli.key.rsaBits", { bits: d.bits ?? "?" }))
        : d.type.toUpperCase();
  return d.ksefAccepted ? base : translate(locale, msg("cli.key.notAccepted", { key: base }));
}

/**
 * An encryption description for people, e.g. `PBES2, PBKDF2 hmacWithSHA256, 100000 iterations, 16-byte salt, aes-256-cbc`.
 * @param e the encryption parameters the core found
 * @param locale the reader's language (English by default)
 */
export function encryptionText(e: KeyEncryption, locale: Locale = "en"): string {
  return [
    e.scheme,
    e.kdf === undefined ? undefined : `${e.kdf}${e.prf === undefined ? "" : ` ${e.prf}`}`,
    e.iterations === undefined ? undefined : translate(locale, msg("cli.key.iterations", { count: e.iterations })),
    e.saltBytes === undefined ? undefined : translate(locale, msg("cli.key.salt", { bytes: e.saltBytes })),
    e.cipher,
  ]
    .filter((x) => x !== undefined)
    .join(", ");
}
