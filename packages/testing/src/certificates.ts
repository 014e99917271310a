/**
 * `@ksef-certs/testing/certificates`: a test CA that issues certificates the way KSeF does, and self-signed
 * certificates (implemented in `@ksef-certs/ksef/testing`).
 */
export {
  createTestCertificateAuthority,
  issueKsefLikeCertificate,
  selfSignedCertificate,
  testCertificateAuthority,
  type IssueKsefLikeCertificateOptions,
  type IssuedTestCertificate,
  type NameAttributeInput,
  type TestCertificateAuthority,
} from "@ksef-certs/ksef/testing";
