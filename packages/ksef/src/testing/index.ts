/**
 * `@ksef-certs/ksef/testing`: test fixtures for other packages' tests (never for production use):
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
export type { NameAttributeInput } from "../crypto/dn.js";
export { deeplyNestedXml, hostileXmlDocuments, manyAttributesXml, manySiblingsXml, type HostileXml } from "../xml/testing.js";
export { rejection, thrown } from "./errors.js";
export { JAN_PESEL, NIP, OTHER_PESEL, makeJanAndEwa, makePerson, newChallenge, pendingFor, signedFor, unsignedFor, type Person } from "./signer.js";
export { benchGroup, formatMs, type Contender, type ContenderResult, type GroupOptions } from "./bench.js";
