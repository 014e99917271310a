/**
 * `X-System-Warning` response header (KSeF 2.6.0; spec `components.schemas.SystemWarning`): technical
 * warnings that do not change the operation's result, e.g. `[sig-001]` for a signature format KSeF
 * will soon stop accepting (ksef-docs `auth/podpis-xades.md`). Format `[code]: message | [code]: message`, ASCII-folded.
 */

/** One warning from `X-System-Warning`. */
export interface SystemWarning {
  /** KSeF's warning code, e.g. `sig-001`. */
  readonly code: string;
  /** KSeF's message (ASCII-folded Polish). */
  readonly message: string;
}

/** The spec's regex for one warning: `\[(?<code>[^\]]+)\]: (?<message>[^|]+)`. */
const WARNING = /\[([^\]]+)\]: ([^|]+)/g;

/**
 * Parses an `X-System-Warning` header value.
 * @param value the header, or null when absent
 * @returns the warnings in header order; `[]` when absent or unreadable. Values over 8 KiB are cut
 *   there first (a header is not a place for more, and the regex stays cheap).
 */
export function parseSystemWarnings(value: string | null | undefined): SystemWarning[] {
  if (value === null || value === undefined || value === "") return [];
  const out: SystemWarning[] = [];
  for (const m of value.slice(0, 8192).matchAll(WARNING)) {
    const code = (m[1] ?? "").trim();
    const message = (m[2] ?? "").trim();
    if (code !== "") out.push({ code, message });
  }
  return out;
}
