/**
 * `@ksef-certs/core/testing`: test fixtures for other packages' tests (never for production use):
 * a test CA that issues certificates the way KSeF does, self-signed certificates, and hostile XML documents.
 */
export {
  createTestCertificateAuthority,
  issueKsefLikeCertificate,
  selfSignedCertificate,
  testCertificateAuthority,
  type IssueKsefLikeCertificateOptions,
  type IssuedTestCertificate,
  type TestCertificateAuthority,
} from "./ksef-like-certificate.js";
export type { NameAttributeInput } from "../dn.js";
export { createScratchDatabase, type ScratchDatabase } from "../../store/testing.js";
export { deeplyNestedXml, hostileXmlDocuments, manyAttributesXml, manySiblingsXml, type HostileXml } from "../../xml/testing.js";
