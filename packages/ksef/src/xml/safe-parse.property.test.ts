import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KsefCertsError } from "../errors.js";
import {
  MAX_XML_ATTRIBUTES,
  MAX_XML_BYTES,
  MAX_XML_DEPTH,
  MAX_XML_ELEMENTS,
  parseXmlSafely,
  xmlLimitOf,
  type ParseXmlOptions,
  type XmlLimit,
} from "./safe-parse.js";

// A model of documents: what the pre-scan must count exactly for well-formed text.
type XNode =
  | {
      readonly t: "el";
      readonly name: string;
      readonly attrs: readonly { readonly q: '"' | "'"; readonly v: string }[];
      readonly selfClose: boolean;
      readonly children: readonly XNode[];
    }
  | { readonly t: "text" | "comment" | "cdata" | "pi"; readonly v: string };

interface Doc {
  readonly declaration: boolean;
  readonly prolog: readonly XNode[];
  readonly root: XNode & { readonly t: "el" };
  readonly epilog: readonly XNode[];
}

type Counts = Record<XmlLimit, number>;
type Limits = Counts;

// Characters that look like markup where markup is not (">" and "/" in values and text, "<" in comments, CDATA, PIs).
const chars = (alphabet: string, maxLength = 8): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...Array.from(alphabet)), maxLength });
const attr = fc.record({ q: fc.constantFrom('"' as const, "'" as const), v: chars("x>/= '\"") }).map(({ q, v }) => ({ q, v: v.replaceAll(q, "") }));
const leaf: fc.Arbitrary<XNode> = fc.oneof(
  chars("x>/=\"' ?-").map((v) => ({ t: "text" as const, v })),
  chars("x<>a/ ![]").map((v) => ({ t: "comment" as const, v })),
  // xmldom makes no node of an empty CDATA section (the pre-scan counts one: it may over-count, never under-count).
  fc.string({ unit: fc.constantFrom(...Array.from("x<>a/ !-[")), minLength: 1, maxLength: 8 }).map((v) => ({ t: "cdata" as const, v })),
  chars("x<>a/ -!").map((v) => ({ t: "pi" as const, v })),
);
const misc = fc.array(
  leaf.filter((n) => n.t === "comment" || n.t === "pi"),
  { maxLength: 2 },
);
const { element } = fc.letrec<{ element: XNode & { t: "el" }; node: XNode }>((tie) => ({
  element: fc.record({
    t: fc.constant("el" as const),
    name: fc.constantFrom("a", "b", "p:c"),
    attrs: fc.array(attr, { maxLength: 4 }),
    selfClose: fc.boolean(),
    children: fc.array(tie("node"), { maxLength: 5 }),
  }),
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("element")),
}));
const doc: fc.Arbitrary<Doc> = fc.record({ declaration: fc.boolean(), prolog: misc, root: element, epilog: misc });
const limits: fc.Arbitrary<Limits> = fc.record({
  depth: fc.integer({ min: 1, max: 8 }),
  elements: fc.integer({ min: 1, max: 40 }),
  attributes: fc.integer({ min: 0, max: 20 }),
});

function serialise(n: XNode, nsDeclared = false): string {
  switch (n.t) {
    case "text":
      return n.v;
    case "comment":
      return `<!--${n.v}-->`;
    case "cdata":
      return `<![CDATA[${n.v}]]>`;
    case "pi":
      return `<?p ${n.v}?>`;
    case "el": {
      // The root declares the one prefix used, so every document is namespace-well-formed.
      const ns = nsDeclared ? "" : ' xmlns:p="urn:p"';
      const open = `<${n.name}${ns}${n.attrs.map((a, i) => ` x${i}=${a.q}${a.v}${a.q}`).join("")}`;
      if (n.children.length === 0 && n.selfClose) return `${open}/>`;
      return `${open}>${n.children.map((c) => serialise(c, true)).join("")}</${n.name}>`;
    }
  }
}

function text(d: Doc): string {
  return (
    (d.declaration ? '<?xml version="1.0" encoding="UTF-8"?>' : "") +
    d.prolog.map((n) => serialise(n)).join("") +
    serialise(d.root) +
    d.epilog.map((n) => serialise(n)).join("")
  );
}

/** Depth, markup nodes (elements, comments, CDATA, PIs, the declaration) and attributes (the root's xmlns:p included), as the limits count them. */
function counts(d: Doc): Counts {
  const c: Counts = { depth: 0, elements: (d.declaration ? 1 : 0) + d.prolog.length + d.epilog.length, attributes: 1 };
  const stack: [XNode, number][] = [[d.root, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [n, level] = item;
    if (n.t === "text") continue;
    c.elements++;
    if (n.t !== "el") continue;
    c.depth = Math.max(c.depth, level);
    c.attributes += n.attrs.length;
    for (const child of n.children) stack.push([child, level + 1]);
  }
  return c;
}

/** The same counts measured on the DOM xmldom built (the declaration is no node there). */
function measured(document: Document): Counts {
  const c: Counts = { depth: 0, elements: 0, attributes: 0 };
  const stack: [Node, number][] = [];
  for (let n = document.firstChild; n !== null; n = n.nextSibling) stack.push([n, 1]);
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [n, level] = item;
    if (n.nodeType === 7 && (n as ProcessingInstruction).target === "xml") continue;
    if (n.nodeType === 1 || n.nodeType === 4 || n.nodeType === 7 || n.nodeType === 8) c.elements++;
    if (n.nodeType !== 1) continue;
    c.depth = Math.max(c.depth, level);
    c.attributes += (n as Element).attributes.length;
    for (let k = n.firstChild; k !== null; k = k.nextSibling) stack.push([k, level + 1]);
  }
  return c;
}

const options = (l: Limits): ParseXmlOptions => ({ maxDepth: l.depth, maxElements: l.elements, maxAttributes: l.attributes });

/** Parses, or returns the KsefCertsError; anything else thrown fails the property. */
function outcome(input: string, o: ParseXmlOptions): { document: Document } | { error: KsefCertsError } {
  try {
    return { document: parseXmlSafely(input, o).document };
  } catch (error) {
    if (error instanceof KsefCertsError) return { error };
    throw error;
  }
}

const exceeded = (c: Counts, l: Limits): XmlLimit[] => (["depth", "elements", "attributes"] as const).filter((k) => c[k] > l[k]);

describe("parseXmlSafely over random structures (fast-check)", () => {
  it("a well-formed document parses exactly when it is within the limits; a refusal names a limit it really breaks", () => {
    fc.assert(
      fc.property(doc, limits, (d, l) => {
        const model = counts(d);
        const over = exceeded(model, l);
        const result = outcome(text(d), options(l));
        if ("error" in result) {
          expect(over).toContain(xmlLimitOf(result.error));
          return;
        }
        expect(over).toEqual([]);
        expect(measured(result.document)).toEqual({ ...model, elements: model.elements - (d.declaration ? 1 : 0) });
      }),
      { numRuns: 2000 },
    );
  });

  it("garbage and damaged documents: a DOM within the limits or a KsefCertsError, nothing else, quickly", () => {
    const fragment = fc.constantFrom(
      "<",
      "</",
      ">",
      "/>",
      "a",
      "b",
      " ",
      "=",
      '"',
      "'",
      "<!--",
      "-->",
      "<![CDATA[",
      "]]>",
      "<?",
      "?>",
      '<a x="1">',
      "</a>",
      "<b/>",
      "&",
      "&amp;",
      "<!",
      "\u0000",
      "é",
    );
    const garbage = fc.oneof(
      fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join("")),
      fc.tuple(doc, fc.array(fc.tuple(fc.nat(), fragment, fc.nat({ max: 3 })), { maxLength: 4 })).map(([d, edits]) => {
        let s = text(d);
        for (const [at, insert, cut] of edits) {
          const i = at % (s.length + 1);
          s = s.slice(0, i) + insert + s.slice(i + cut);
        }
        return s;
      }),
    );
    fc.assert(
      fc.property(garbage, limits, (input, l) => {
        const started = performance.now();
        const result = outcome(input, options(l));
        // Tiny inputs: the bound only catches a blow-up (a quadratic or exponential path), with room for a busy machine.
        expect(performance.now() - started).toBeLessThan(250);
        if ("document" in result) expect(exceeded(measured(result.document), l)).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it("large shapes up to 100 000 levels, 200 000 siblings and 100 000 attributes: beyond a default limit refused in well under 100 ms", () => {
    const shape = fc.record({
      depth: fc.oneof(fc.integer({ min: 1, max: MAX_XML_DEPTH + 2 }), fc.integer({ min: 1, max: 100_000 })),
      width: fc.oneof(fc.integer({ min: 0, max: MAX_XML_ELEMENTS + 2 }), fc.integer({ min: 0, max: 200_000 })),
      attributes: fc.oneof(fc.integer({ min: 0, max: MAX_XML_ATTRIBUTES + 2 }), fc.integer({ min: 0, max: 100_000 })),
      closed: fc.boolean(),
      tail: fc.string({ maxLength: 20 }),
    });
    fc.assert(
      fc.property(shape, (s) => {
        const width = Math.min(s.width, Math.floor((MAX_XML_BYTES - 7 * s.depth - 10 * s.attributes) / 4));
        const attrs = Array.from({ length: s.attributes }, (_, i) => ` a${i.toString(36)}=""`).join("");
        const body = `${"<a>".repeat(s.depth - 1)}<b${attrs}>${"<c/>".repeat(Math.max(0, width))}</b>${s.closed ? "</a>".repeat(s.depth - 1) : ""}${s.tail.replaceAll("<", "")}`;
        const model: Counts = { depth: s.depth + (width > 0 ? 1 : 0), elements: s.depth + Math.max(0, width), attributes: s.attributes };
        const over = exceeded(model, { depth: MAX_XML_DEPTH, elements: MAX_XML_ELEMENTS, attributes: MAX_XML_ATTRIBUTES });
        let best = Number.POSITIVE_INFINITY;
        let result: ReturnType<typeof outcome> | undefined;
        for (let i = 0; i < (over.length > 0 ? 3 : 1); i++) {
          const started = performance.now();
          result = outcome(body, {});
          best = Math.min(best, performance.now() - started);
        }
        if (result === undefined) throw new Error("not run");
        if (over.length === 0) {
          // Within the limits: parsed when well-formed, else refused as malformed; never a limit.
          if ("error" in result) expect(xmlLimitOf(result.error)).toBeUndefined();
          return;
        }
        expect("error" in result && (xmlLimitOf(result.error) !== undefined || result.error.code === "TOO_LARGE")).toBe(true);
        expect(best).toBeLessThan(100);
      }),
      { numRuns: 40 },
    );
  });
});
