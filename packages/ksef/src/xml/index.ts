/**
 * `@ksef-certs/ksef/xml`: safe parsing of XML that comes from outside (no DTD, no entities, size
 * limit, nesting and width limits, UTF-8 only), shared by the XAdES verifier, the simulator and the
 * signing hand-off, and a walk over the parsed tree that does not recurse.
 */
export {
  MAX_XML_ATTRIBUTES,
  MAX_XML_BYTES,
  MAX_XML_DEPTH,
  MAX_XML_ELEMENTS,
  XML_LIMIT_RULES,
  parseXmlSafely,
  xmlLimitOf,
  type ParseXmlOptions,
  type ParsedXml,
  type XmlLimit,
} from "./safe-parse.js";
export { elementsInDocumentOrder } from "./walk.js";
