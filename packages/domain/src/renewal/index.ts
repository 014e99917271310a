/**
 * Autopilot renewal (`@ksef-certs/domain/renewal`): renewal policies per company, branch and operator, the renewal
 * plan, the scheduler that renews due certificates through the enrollment state machine (claimed once across
 * processes), approvals, and the KSeF rate limiter shared through the database. docs/renewal.md describes the whole.
 */
export {
  DEFAULT_RENEWAL_POLICY,
  RENEWAL_POLICY_FIELDS,
  effectivePolicy,
  getRenewalPolicyAs,
  loadPolicyBook,
  policyScopeKey,
  setRenewalPolicyAs,
  type EffectiveRenewalPolicy,
  type PolicyBook,
  type PolicyScope,
  type RenewalPolicyField,
  type RenewalPolicyPatch,
  type RenewalPolicySource,
  type RenewalPolicyValues,
  type RenewalPolicyView,
} from "./policy.js";
export {
  decideRenewal,
  renewalPlan,
  type DecisionContext,
  type PlanCertificate,
  type RenewalDecision,
  type RenewalPlanFilter,
  type RenewalPlanItem,
  type RenewalProgress,
  type RenewalReason,
  type RenewalRoute,
} from "./plan.js";
export {
  DEFAULT_RENEWAL_LEASE_MS,
  DEFAULT_RENEWAL_RECHECK_MS,
  DEFAULT_RENEWAL_RETRY_DELAYS_MS,
  MAX_RENEWAL_ATTEMPTS,
  RENEWAL_ACTOR,
  claimRenewals,
  enrollmentsOfOpenRenewals,
  openDueRenewals,
  renewalInstanceId,
  runDueRenewals,
  type RenewalEvent,
  type RenewalPassResult,
  type RenewalSchedulerDeps,
} from "./scheduler.js";
export { approveRenewalAs, renewalPlanAs } from "./use-cases.js";
export { createSharedRateLimiter, type SharedRateLimiterOptions } from "./pacing.js";
