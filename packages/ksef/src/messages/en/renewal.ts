/** English catalogue, section for renewals: policies, the plan, the scheduler, and how the CLI and the web app show them. Parameters are written `{{name}}`. */
export const renewal = {
  // Policies.
  "renewal.policy.invalid": "The renewal policy is not valid: {{reasons}}",
  "renewal.policy.workstation": "The workstation must belong to the scope's company.",
  // Why a renewal waits or is blocked (the plan's reasons).
  "renewal.blocked": "The renewal cannot go on by itself.",
  "renewal.blocked.noMasterKey": "No master key is configured: nothing can be signed or sealed unattended.",
  "renewal.blocked.passwordNotSealed":
    "The key's password is not sealed under the master key, and the policy reuses it: seal it or choose a generated password.",
  "renewal.blocked.noWorkstation": "A person must sign, but the policy names no workstation.",
  "renewal.blocked.noSignerOffline":
    "No valid Authentication certificate of the holder with a sealed password can sign, and the policy names no workstation for a person.",
  "renewal.blocked.slotFull": "The scope already holds {{max}} active certificates of this kind (the most allowed): revoke one first.",
  "renewal.blocked.refused": "The enrollment was refused: {{reason}}",
  "renewal.waiting.approval": "Waits for an admin's approval (the policy asks first).",
  "renewal.waiting.password": "Waits for an admin to approve and give the new key's password.",
  "renewal.waiting.signature": "Waits for a person's signature at the workstation; asked again each day until signed.",
  "renewal.retrying": "Stopped by a passing fault, retried later: {{reason}}",
  "renewal.failed": "Renewal given up after repeated failures: {{reason}}",
  "renewal.failed.gone": "The certificate expired or was revoked before a successor was enrolled.",
  "renewal.enrollmentFailed": "The renewal's enrollment failed: {{reason}}",
  // Approvals.
  "renewal.approve.notWaiting": "This renewal is not waiting for approval.",
  "renewal.approve.passwordNeeded": "The policy asks for the new key's password: give it with the approval.",
  "renewal.notFound": "No such renewal.",
} as const;
