/**
 * Parsing untrusted XML (signed AuthTokenRequests from people, from KSeF's counterpart, from folders).
 *
 * The rules (OWASP XXE cheat sheet): refuse any document type declaration and any entity declaration
 * before a parser sees the bytes, refuse input over a size limit, refuse anything but UTF-8 (KSeF sends
 * and expects UTF-8: ksef-docs `auth/podpis-xades.md`, error 21217), refuse documents nested too deep or holding too many
 * elements or attributes (a linear pre-scan, before the DOM is built: the DOM, canonicalisation and our
 * own readers walk trees, some of them recursively, so a 100 000-level document would exhaust the stack
 * and a 200 000-sibling one the CPU), and turn every parser warning about malformed markup into a typed
 * error instead of a silently repaired tree.
 */
import { DOMParser } from "@xmldom/xmldom";
import { KsefCertsError } from "../errors.js";

/** Default size limit of {@link parseXmlSafely}: 1 MiB. A signed AuthTokenRequest is 3–12 KiB; Profil Zaufany's limit for whole documents is 10 MB. */
export const MAX_XML_BYTES = 1_048_576;

/**
 * Default nesting limit of {@link parseXmlSafely}: 64 levels (the root element is level 1). The deepest
 * element of a signed AuthTokenRequest sits 10–15 levels down (enveloping packaging: Signature, Object,
 * QualifyingProperties, SignedProperties, SignedSignatureProperties, SigningCertificateV2, Cert, CertDigest,
 * DigestMethod; Profil Zaufany's PodpisZP block in a ClaimedRole adds about five), so 64 is four times that,
 * while every recursive walk over the tree (xmldom's `textContent` and `cloneNode`, xadesjs canonicalisation,
 * XPath) stays a few dozen frames deep.
 */
export const MAX_XML_DEPTH = 64;

/**
 * Default limit of {@link parseXmlSafely} on elements, counting comments, processing instructions and CDATA
 * sections too (each becomes a DOM node that canonicalisation visits): 10 000. A signed AuthTokenRequest holds
 * a few dozen elements, a few hundred nodes with a certificate chain; 10 000 is far above any signer's output,
 * while building and canonicalising that many nodes stays well under a second.
 */
export const MAX_XML_ELEMENTS = 10_000;

/**
 * Default limit of {@link parseXmlSafely} on attributes in the whole document, namespace declarations
 * included: 10 000. A signed AuthTokenRequest carries a few dozen (Ids, Algorithms, URIs, xmlns).
 */
export const MAX_XML_ATTRIBUTES = 10_000;

/** Which structure limit a document broke: nesting `depth`, the number of `elements` (and other markup nodes) or of `attributes`. */
export type XmlLimit = "depth" | "elements" | "attributes";

/** The stable rule id of each {@link XmlLimit} (the `rule` of the error's violation and `details.rule`; Polish wording in `MESSAGES_PL`). */
export const XML_LIMIT_RULES: Readonly<Record<XmlLimit, string>> = {
  depth: "xml.depth",
  elements: "xml.elements",
  attributes: "xml.attributes",
};

/** Options of {@link parseXmlSafely}. */
export interface ParseXmlOptions {
  /** Largest accepted input, bytes; default {@link MAX_XML_BYTES}. */
  readonly maxBytes?: number;
  /** Deepest accepted nesting of elements, levels (the root is 1); default {@link MAX_XML_DEPTH}. */
  readonly maxDepth?: number;
  /** Most elements (comments, processing instructions and CDATA sections included) accepted; default {@link MAX_XML_ELEMENTS}. */
  readonly maxElements?: number;
  /** Most attributes (namespace declarations included) accepted in the whole document; default {@link MAX_XML_ATTRIBUTES}. */
  readonly maxAttributes?: number;
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
 * Decodes and parses XML that came from outside, refusing what could hurt (DTDs, entities, oversize, bad
 * encoding, nesting or width beyond the structure limits). The structure limits are checked by a linear scan
 * of the text before the DOM parser sees it, so a hostile megabyte is refused in milliseconds.
 * @param input the document bytes (a string is accepted for text already decoded by the caller)
 * @param options size and structure limits and a name for messages
 * @returns the DOM and the decoded text
 * @throws {KsefCertsError} `TOO_LARGE` above the size limit; `MALFORMED` for invalid UTF-8, a declared
 *   encoding other than UTF-8, a DOCTYPE or ENTITY declaration, or markup that is not well-formed;
 *   `MALFORMED` with `details.limit` (an {@link XmlLimit}), `details.max`, `details.rule` and one violation
 *   of that rule when a structure limit is exceeded (see {@link xmlLimitOf})
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
  checkStructure(
    text,
    {
      depth: options.maxDepth ?? MAX_XML_DEPTH,
      elements: options.maxElements ?? MAX_XML_ELEMENTS,
      attributes: options.maxAttributes ?? MAX_XML_ATTRIBUTES,
    },
    what,
  );
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

/**
 * The structure limit a {@link parseXmlSafely} refusal names, or `undefined` for any other error (so callers can
 * tell "too deep or too wide" from "not XML" and answer it as a refusal of the file, never as a retryable fault).
 * @param err anything caught
 * @returns `depth`, `elements` or `attributes`, or `undefined`
 */
export function xmlLimitOf(err: unknown): XmlLimit | undefined {
  if (!(err instanceof KsefCertsError) || err.code !== "MALFORMED") return undefined;
  const limit = err.details["limit"];
  return typeof limit === "string" && Object.hasOwn(XML_LIMIT_RULES, limit) && err.details["rule"] === XML_LIMIT_RULES[limit as XmlLimit]
    ? (limit as XmlLimit)
    : undefined;
}

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f; // /
const BANG = 0x21; // !
const QUESTION = 0x3f; // ?
const EQUALS = 0x3d; // =
const QUOT = 0x22; // "
const APOS = 0x27; // '

/**
 * Counts nesting, markup nodes and attributes of the text in one pass, without building anything, and throws at
 * the first limit crossed. Tokens end where the XML grammar ends them and where xmldom ends them too: comments at
 * the first `-->`, CDATA at `]]>`, processing instructions at `?>`, tags at the first `>` outside a quoted
 * attribute value. For well-formed text the counts are exact; text that is not well-formed can only be
 * over-counted (every `<` starts something), and the parser refuses it anyway. An unterminated token ends the
 * scan: the rest is one comment, value or tag, and the parser reports it as malformed.
 */
function checkStructure(text: string, limits: Readonly<Record<XmlLimit, number>>, what: string): void {
  let depth = 0;
  let nodes = 0;
  let attributes = 0;
  for (let i = text.indexOf("<"); i !== -1; ) {
    const next = text.charCodeAt(i + 1);
    let end: number;
    if (next === SLASH) {
      end = text.indexOf(">", i + 2);
      if (depth > 0) depth--;
    } else if (next === BANG || next === QUESTION) {
      if (text.startsWith("!--", i + 1)) end = endOf(text, "-->", i + 4);
      else if (text.startsWith("![CDATA[", i + 1)) end = endOf(text, "]]>", i + 9);
      else if (next === QUESTION) end = endOf(text, "?>", i + 2);
      else end = text.indexOf(">", i + 2);
      if (++nodes > limits.elements) throw limitExceeded("elements", limits.elements, what);
    } else {
      if (++nodes > limits.elements) throw limitExceeded("elements", limits.elements, what);
      if (++depth > limits.depth) throw limitExceeded("depth", limits.depth, what);
      end = -1;
      for (let j = i + 1; j < text.length; j++) {
        const c = text.charCodeAt(j);
        if (c === GT) {
          end = j;
          break;
        }
        if (c === QUOT || c === APOS) {
          j = text.indexOf(c === QUOT ? '"' : "'", j + 1);
          if (j === -1) break;
        } else if (c === EQUALS && ++attributes > limits.attributes) {
          throw limitExceeded("attributes", limits.attributes, what);
        } else if (c === LT) {
          // A tag never contains "<": count the new one on its own (the parser refuses the text anyway).
          end = j - 1;
          break;
        }
      }
      if (end !== -1 && text.charCodeAt(end) === GT && text.charCodeAt(end - 1) === SLASH) depth--;
    }
    if (end === -1) return;
    i = text.indexOf("<", end + 1);
  }
}

/** Index of the last character of `terminator` at or after `from`, or -1. */
function endOf(text: string, terminator: string, from: number): number {
  const at = text.indexOf(terminator, from);
  return at === -1 ? -1 : at + terminator.length - 1;
}

const LIMIT_TEXT: Readonly<Record<XmlLimit, (max: number) => string>> = {
  depth: (max) => `nests elements more than ${max} levels deep`,
  elements: (max) => `holds more than ${max} elements (comments, CDATA sections and processing instructions included)`,
  attributes: (max) => `holds more than ${max} attributes (namespace declarations included)`,
};

function limitExceeded(limit: XmlLimit, max: number, what: string): KsefCertsError {
  const rule = XML_LIMIT_RULES[limit];
  const message = `${capitalise(what)} ${LIMIT_TEXT[limit](max)}; it is refused before parsing.`;
  return new KsefCertsError("MALFORMED", message, {
    hint: "A signed AuthTokenRequest is 10–15 levels deep with a few hundred elements and attributes: check that this is the right file (one built like this may be crafted to exhaust the parser).",
    violations: [{ field: "xml", rule, message, params: { max } }],
    details: { limit, max, rule },
  });
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
