/**
 * Test fixtures (never for production use): XML an attacker sends to exhaust a reader, each an AuthTokenRequest
 * on the outside (root element and namespace of schema 2.0), so code that looks for the request by name or by
 * its namespace is led past the first glance, and each under the 1 MiB size limits, so only the structure
 * limits stand in the way.
 */
import type { XmlLimit } from "./safe-parse.js";

const OPEN = '<AuthTokenRequest xmlns="http://ksef.mf.gov.pl/auth/token/2.0">';
const CLOSE = "</AuthTokenRequest>";

/** A hostile document and the structure limit it breaks. */
export interface HostileXml {
  /** A file name that says what it is, e.g. `deep-100000.xml`. */
  readonly name: string;
  /** The limit `parseXmlSafely` must name (`details.limit`). */
  readonly limit: XmlLimit;
  /** The document, UTF-8. */
  readonly bytes: Uint8Array;
}

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "utf8"));

/**
 * Elements nested `levels` deep inside the request (100 000 levels: about 700 KB).
 * @param levels nesting below the root element
 */
export function deeplyNestedXml(levels = 100_000): HostileXml {
  return { name: `deep-${levels}.xml`, limit: "depth", bytes: utf8(OPEN + "<a>".repeat(levels) + "</a>".repeat(levels) + CLOSE) };
}

/**
 * `count` empty sibling elements inside the request (200 000: about 800 KB).
 * @param count how many siblings
 */
export function manySiblingsXml(count = 200_000): HostileXml {
  return { name: `wide-${count}.xml`, limit: "elements", bytes: utf8(OPEN + "<a/>".repeat(count) + CLOSE) };
}

/**
 * One element carrying `count` attributes, inside the request (100 000: about 900 KB).
 * @param count how many attributes
 */
export function manyAttributesXml(count = 100_000): HostileXml {
  const attributes = Array.from({ length: count }, (_, i) => ` a${i.toString(36)}=""`).join("");
  return { name: `attributes-${count}.xml`, limit: "attributes", bytes: utf8(`${OPEN}<a${attributes}/>${CLOSE}`) };
}

/** The three hostile documents at their default sizes: 100 000 levels deep, 200 000 siblings, 100 000 attributes. */
export function hostileXmlDocuments(): HostileXml[] {
  return [deeplyNestedXml(), manySiblingsXml(), manyAttributesXml()];
}
