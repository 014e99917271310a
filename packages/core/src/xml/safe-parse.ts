/**
 * Parsing untrusted XML (signed AuthTokenRequests from people, from KSeF's counterpart, from folders).
 *
 * The rules (DEVELOPERS.md "Security"; OWASP XXE cheat sheet): refuse any document type declaration
 * and any entity declaration before a parser sees the bytes, refuse input over a size limit, refuse
 * anything but UTF-8 (KSeF sends and expects UTF-8: ksef-api.md §2.3, error 21217), and turn every
 * parser warning about malformed markup into a typed error instead of a silently repaired tree.
 */
import { DOMParser } from "@xmldom/xmldom";
import { KsefCertsError } from "../errors.js";

/** Default size limit of {@link parseXmlSafely}: 1 MiB. A signed AuthTokenRequest is 3–12 KiB; Profil Zaufany's limit for whole documents is 10 MB. */
export const MAX_XML_BYTES = 1_048_576;

/** Options of {@link parseXmlSafely}. */
export interface ParseXmlOptions {
  /** Largest accepted input, bytes; default {@link MAX_XML_BYTES}. */
  readonly maxBytes?: number;
  /** What the input is, for error messages (e.g. a file name); default "the XML document". */
  readonly what?: string;
}

/** The result of {@link parseXmlSafely}: the DOM and the exact text it was parsed from. */
export interface ParsedXml {
  /** The parsed document (@xmldom/xmldom). */
  readonly document: Document;
  /** The input decoded as UTF-8 (BOM removed), exactly as parsed. */
  readonly text: string;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes and parses XML that came from outside, refusing what could hurt (DTDs, entities, oversize, bad encoding).
 * @param input the document bytes (a string is accepted for text already decoded by the caller)
 * @param options size limit and a name for messages
 * @returns the DOM and the decoded text
 * @throws {KsefCertsError} `TOO_LARGE` above the limit; `MALFORMED` for invalid UTF-8, a declared
 *   encoding other than UTF-8, a DOCTYPE or ENTITY declaration, or markup that is not well-formed
 */
export function parseXmlSafely(input: Uint8Array | string, options: ParseXmlOptions = {}): ParsedXml {
  const what = options.what ?? "the XML document";
  const maxBytes = options.maxBytes ?? MAX_XML_BYTES;
  const size = typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.byteLength;
  if (size > maxBytes) {
    throw new KsefCertsError("TOO_LARGE", `${capitalise(what)} is ${size} bytes; the limit is ${maxBytes} bytes.`, {
      hint: "An AuthTokenRequest, signed, is a few kilobytes: check that this is the right file.",
      details: { size, maxBytes },
    });
  }
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    try {
      text = UTF8.decode(input);
    } catch {
      throw new KsefCertsError("MALFORMED", `${capitalise(what)} is not valid UTF-8.`, {
        hint: "KSeF accepts UTF-8 only (error 21217). Save the file as UTF-8 without changing the signed content.",
      });
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const declared = /^<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/.exec(text)?.[1];
  if (declared !== undefined && declared.toLowerCase().replace(/[-_]/g, "") !== "utf8") {
    throw new KsefCertsError("MALFORMED", `${capitalise(what)} declares encoding "${declared}"; only UTF-8 is accepted.`, {
      hint: "KSeF accepts UTF-8 only (error 21217).",
    });
  }
  // A DTD can define entities (billion laughs, external entities); KSeF documents never carry one.
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new KsefCertsError("MALFORMED", `${capitalise(what)} contains a document type (DOCTYPE) or entity declaration, which is refused.`, {
      hint: "Signed AuthTokenRequests never contain a DTD; this file may be crafted to attack the parser.",
    });
  }
  const problems: string[] = [];
  const parser = new DOMParser({
    onError: (level, message) => {
      problems.push(`${level}: ${message}`);
    },
  });
  let document: Document;
  try {
    document = parser.parseFromString(text, "application/xml") as unknown as Document;
  } catch (error) {
    throw new KsefCertsError("MALFORMED", `${capitalise(what)} is not well-formed XML: ${(error as Error).message.split("\n")[0] ?? ""}`);
  }
  if (problems.length > 0 || (document.documentElement as Element | null) === null) {
    throw new KsefCertsError("MALFORMED", `${capitalise(what)} is not well-formed XML: ${problems[0]?.split("\n")[0] ?? "no root element"}`, {
      details: { problems: problems.map((p) => p.split("\n")[0]) },
    });
  }
  return { document, text };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
