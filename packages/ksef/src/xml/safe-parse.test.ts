import { performance } from "node:perf_hooks";
import { describe, expect, test } from "vitest";
import { KsefCertsError } from "../errors.js";
import { MESSAGES_PL, violationMessagePl } from "../policies/messages-pl.js";
import { MAX_XML_ATTRIBUTES, MAX_XML_BYTES, MAX_XML_DEPTH, MAX_XML_ELEMENTS, XML_LIMIT_RULES, parseXmlSafely, xmlLimitOf } from "./safe-parse.js";
import { deeplyNestedXml, hostileXmlDocuments, manyAttributesXml, manySiblingsXml } from "./testing.js";
import { elementsInDocumentOrder } from "./walk.js";

/** What parseXmlSafely threw (a test failure when it returned or threw something else). */
function refusal(input: Uint8Array | string, options: Parameters<typeof parseXmlSafely>[1] = {}): KsefCertsError {
  try {
    parseXmlSafely(input, options);
  } catch (error) {
    if (error instanceof KsefCertsError) return error;
    throw error;
  }
  throw new Error("expected parseXmlSafely to refuse the document");
}

/** The fastest of three runs, ms: the algorithm's time, not the scheduler's on a shared machine. */
function fastestRefusalMs(input: Uint8Array | string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    refusal(input);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** Deepest element level (root = 1) of a parsed tree, measured on the DOM without recursion. */
function depthOf(root: Element): number {
  let max = 0;
  for (const e of elementsInDocumentOrder(root)) {
    let d = 0;
    for (let n: Node | null = e; n !== null && n.nodeType === 1; n = n.parentNode) d++;
    max = Math.max(max, d);
  }
  return max;
}

const nested = (levels: number): string => "<a>".repeat(levels) + "</a>".repeat(levels);
const siblings = (count: number): string => `<r>${"<a/>".repeat(count - 1)}</r>`;
const attributes = (count: number): string => `<r${Array.from({ length: count }, (_, i) => ` a${i.toString(36)}="${i}"`).join("")}/>`;

describe("parseXmlSafely: structure limits, checked before the DOM is built", () => {
  test.each(hostileXmlDocuments())("$name is refused as MALFORMED naming the $limit limit, with a rule id the UI translates", (doc) => {
    const error = refusal(doc.bytes, { what: "the file" });
    expect(error.code).toBe("MALFORMED");
    expect(xmlLimitOf(error)).toBe(doc.limit);
    const max = { depth: MAX_XML_DEPTH, elements: MAX_XML_ELEMENTS, attributes: MAX_XML_ATTRIBUTES }[doc.limit];
    expect(error.details).toEqual({ limit: doc.limit, max, rule: XML_LIMIT_RULES[doc.limit] });
    // The violation is the rule's own sentence (`rule.xml.*`), about any XML document; the message names this one.
    expect(error.violations.map((v) => [v.field, v.rule, v.params])).toEqual([["xml", XML_LIMIT_RULES[doc.limit], { max }]]);
    expect(error.violations[0]?.message).toMatch(/^The XML document /);
    expect(error.violations[0]?.message).toContain(String(max));
    expect(error.message).toMatch(/^The file (nests elements more than 64 levels deep|holds more than 10000 (elements|attributes))/);
    expect(error.hint).toContain("AuthTokenRequest");
    const violation = error.violations[0];
    if (violation === undefined) throw new Error("no violation");
    expect(MESSAGES_PL[violation.rule]).toBeDefined();
    expect(violationMessagePl(violation)).toContain(String(max));
  });

  test("a hostile megabyte is refused in well under 100 ms, however it is built", () => {
    const megabyte = [
      "<a>".repeat(149_000) + "</a>".repeat(149_000),
      "<a>".repeat(349_000),
      `<r>${"<a/>".repeat(262_000)}</r>`,
      `<r>${"<!---->".repeat(149_000)}</r>`,
      `<r>${"<?p?>".repeat(209_000)}</r>`,
      `<r>${"<![CDATA[]]>".repeat(87_000)}</r>`,
      `<r${Array.from({ length: 110_000 }, (_, i) => ` a${i.toString(36)}=""`).join("")}/>`,
      `<r${Array.from({ length: 60_000 }, (_, i) => ` xmlns:p${i.toString(36)}="u"`).join("")}/>`,
    ];
    for (const text of megabyte) {
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_XML_BYTES);
      expect(fastestRefusalMs(text), text.slice(0, 40)).toBeLessThan(100);
    }
  });

  test("limits are inclusive: 64 levels, 10 000 elements and 10 000 attributes parse, one more is refused", () => {
    const deep = parseXmlSafely(nested(MAX_XML_DEPTH)).document.documentElement;
    expect(depthOf(deep)).toBe(MAX_XML_DEPTH);
    expect(xmlLimitOf(refusal(nested(MAX_XML_DEPTH + 1)))).toBe("depth");
    expect(elementsInDocumentOrder(parseXmlSafely(siblings(MAX_XML_ELEMENTS)).document.documentElement)).toHaveLength(MAX_XML_ELEMENTS);
    expect(xmlLimitOf(refusal(siblings(MAX_XML_ELEMENTS + 1)))).toBe("elements");
    expect(parseXmlSafely(attributes(MAX_XML_ATTRIBUTES)).document.documentElement.attributes.length).toBe(MAX_XML_ATTRIBUTES);
    expect(xmlLimitOf(refusal(attributes(MAX_XML_ATTRIBUTES + 1)))).toBe("attributes");
  });

  test("comments, CDATA sections and processing instructions count as elements; namespace declarations as attributes", () => {
    expect(xmlLimitOf(refusal("<r><!--1--><![CDATA[2]]><?p 3?></r>", { maxElements: 3 }))).toBe("elements");
    expect(parseXmlSafely("<r><!--1--><![CDATA[2]]><?p 3?></r>", { maxElements: 4 }).document.documentElement.childNodes.length).toBe(3);
    expect(xmlLimitOf(refusal('<r xmlns="u" xmlns:p="v" p:a="1"/>', { maxAttributes: 2 }))).toBe("attributes");
  });

  test("markup inside comments, CDATA, processing instructions and quoted values is not counted: an AuthTokenRequest with the usual extras is not refused", () => {
    const tricky =
      '<?xml version="1.0" encoding="UTF-8"?><!-- <a><a><a> --><r a=">/>" b=\'"/>\' c="x/"><s/><![CDATA[<a><a><a>]]><?p <a><a><a>?><t d="/"/>></r>';
    const { document } = parseXmlSafely(tricky, { maxDepth: 2, maxElements: 7, maxAttributes: 4 });
    expect(depthOf(document.documentElement)).toBe(2);
    expect(document.documentElement.getAttribute("a")).toBe(">/>");
    expect(xmlLimitOf(refusal(tricky, { maxDepth: 1 }))).toBe("depth");
    expect(xmlLimitOf(refusal(tricky, { maxAttributes: 3 }))).toBe("attributes");
  });

  test("the limits apply to text given as a string as they do to bytes, and the typed refusal is the only outcome", () => {
    const deep = deeplyNestedXml(1000);
    expect(xmlLimitOf(refusal(Buffer.from(deep.bytes).toString("utf8")))).toBe("depth");
    expect(xmlLimitOf(refusal(manySiblingsXml(MAX_XML_ELEMENTS).bytes))).toBe("elements"); // the request's root is one more
    expect(xmlLimitOf(refusal(manyAttributesXml(MAX_XML_ATTRIBUTES).bytes))).toBe("attributes"); // and so is its xmlns
    expect(xmlLimitOf(new KsefCertsError("MALFORMED", "x", { details: { limit: "depth" } }))).toBeUndefined();
    expect(xmlLimitOf(new RangeError("Maximum call stack size exceeded"))).toBeUndefined();
  });

  test("an unterminated comment, value or tag ends the scan; the parser still calls the text malformed", () => {
    for (const text of ["<r><!-- <a><a>", '<r a="<a><a>', "<r><a", "<r><![CDATA[<a>", "<r><?p <a>"]) {
      const error = refusal(text, { maxDepth: 2 });
      expect(error.code, text).toBe("MALFORMED");
      expect(xmlLimitOf(error), text).toBeUndefined();
    }
  });
});

describe("elementsInDocumentOrder", () => {
  test("lists elements in document order without recursion, even 100 000 levels deep", () => {
    const { document } = parseXmlSafely("<r><a><b/>t<!--c--></a><d/></r>");
    expect(elementsInDocumentOrder(document.documentElement).map((e) => e.localName)).toEqual(["r", "a", "b", "d"]);
    const a = document.getElementsByTagName("a")[0];
    if (a === undefined) throw new Error("no a");
    expect(elementsInDocumentOrder(a).map((e) => e.localName)).toEqual(["a", "b"]);
    // A tree built in code (bottom up, as xmldom checks the new parent's ancestors), deeper than any stack.
    let chain: Element = document.createElement("x");
    for (let i = 1; i < 100_000; i++) chain = document.createElement("x").appendChild(chain).parentNode as Element;
    document.documentElement.appendChild(chain);
    const all = elementsInDocumentOrder(document.documentElement);
    expect(all).toHaveLength(100_004);
    expect(all.at(-1)?.firstChild).toBeNull();
  });
});
