/**
 * `@ksef-certs/testing/xml`: hostile XML documents (entity expansion, deep nesting, many attributes or siblings) for
 * the parsers' limits (implemented in `@ksef-certs/ksef/testing`).
 */
export { deeplyNestedXml, hostileXmlDocuments, manyAttributesXml, manySiblingsXml, type HostileXml } from "@ksef-certs/ksef/testing";
