/**
 * `@ksef-certs/domain/testing`: test support for other packages' suites (never for production use): scratch
 * PostgreSQL databases and the organisation factory. Test authors outside ksef and domain import these through
 * `@ksef-certs/testing`.
 */
export { createScratchDatabase, schema, type ScratchDatabase } from "../store/testing.js";
export {
  createTestOrganisation,
  type TestBranchSpec,
  type TestOperatorSpec,
  type TestOrganisation,
  type TestOrganisationSpec,
  type TestUserSpec,
} from "./organisation.js";
