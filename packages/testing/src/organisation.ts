/**
 * `@ksef-certs/testing/organisation`: the one organisation factory: a company with its branches, workstations,
 * operators and accounts with scoped roles (implemented in `@ksef-certs/domain/testing`).
 */
export {
  createTestOrganisation,
  type TestBranchSpec,
  type TestOperatorSpec,
  type TestOrganisation,
  type TestOrganisationSpec,
  type TestUserSpec,
} from "@ksef-certs/domain/testing";
