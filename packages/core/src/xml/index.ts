/**
 * `@ksef-certs/core/xml`: safe parsing of XML that comes from outside (no DTD, no entities, size
 * limit, UTF-8 only), shared by the XAdES verifier, the simulator and the signing hand-off.
 */
export { MAX_XML_BYTES, parseXmlSafely, type ParseXmlOptions, type ParsedXml } from "./safe-parse.js";
