/** English catalogue, section for enrollment runs, their steps and the vault (sealing, unsealing, opening held keys). Parameters are written `{{name}}`. */
export const enrollment = {
  // Requesting an enrollment: checks of the input and the registry rules.
  "enrollment.request.invalid": "The enrollment cannot be requested: {{reasons}}",
  "enrollment.request.notInserted": "The enrollment insert returned no row.",
  "enrollment.request.signerUnfit": "The certificate cannot sign this authentication: {{reasons}}",
  "enrollment.request.workstationOtherCompany": "The workstation belongs to another company.",
  "enrollment.slot.maxActive_one":
    "This {{scopeType}} scope, {{environment}}, {{certificateType}} already has {{count}} active certificates (at most {{max}}).",
  "enrollment.slot.maxActive_other":
    "This {{scopeType}} scope, {{environment}}, {{certificateType}} already has {{count}} active certificates (at most {{max}}).",
  "enrollment.slot.maxActive.hint": "Revoke one of them first, or wait until one expires.",
  "enrollment.slot.queuedNeedsCurrent":
    "A queued certificate needs a current one in the same scope, environment and type; this {{scopeType}} scope, {{environment}}, {{certificateType}} has none.",
  "enrollment.slot.queuedNeedsCurrent.hint": "Request the certificate as current instead.",
  "enrollment.slot.oneQueued": "This {{scopeType}} scope, {{environment}}, {{certificateType}} already has a queued certificate.",
  "enrollment.slot.oneQueued.hint": "Revoke the queued certificate first.",
  "enrollment.slot.oneCurrent": "This {{scopeType}} scope, {{environment}}, {{certificateType}} already has a current certificate (valid to {{validTo}}).",
  "enrollment.slot.oneCurrent.hint": "Request the new certificate as queued: it takes over when the current one ends.",
  // Running an enrollment.
  "enrollment.run.alreadyRunning": "Enrollment {{id}} is already running.",
  "enrollment.run.unsettled": "Enrollment {{id}} did not settle within {{steps}} steps.",
  "enrollment.run.unknownState": 'Enrollment {{id}} is in unknown state "{{state}}".',
  "enrollment.run.cancelled.enrolling": "Cancelled while enrolling; the enrollment can be resumed.",
  "enrollment.run.cancelled.waitingAuthXml": "Cancelled while waiting for the signed auth.xml; the enrollment can be resumed.",
  "enrollment.run.concurrentChange": "Enrollment {{id}} was changed by someone else while this step ran.",
  "enrollment.run.concurrentChange.hint": "Another process is probably running it; let that one finish, or run it again later.",
  "enrollment.notFound.enrollment": "No enrollment with id {{id}}.",
  "enrollment.notFound.certificate": "No certificate with id {{id}}.",
  "enrollment.notFound.workstation": "No workstation with id {{id}}.",
  "enrollment.notFound.company": "No company with id {{id}}.",
  // Steps: authentication, submission, polling, download, storing.
  "enrollment.auth.noHandoff": "This program has no folder hand-off configured.",
  "enrollment.auth.noSigner": "Automatic authentication needs a signer.",
  "enrollment.auth.signerMissing": "Automatic authentication needs the signing certificate and a signer.",
  "enrollment.auth.signerMissing.hint": "The signing certificate was deleted, or this program was started without a signer; enroll again through the hand-off.",
  "enrollment.auth.handoffMissing": "The hand-off needs a workstation and a configured folder hand-off.",
  "enrollment.auth.handoffMissing.hint": "The workstation was deleted, or this program was started without the hand-off; request the enrollment again.",
  "enrollment.auth.noSession": "Authentication ended without a session.",
  "enrollment.submit.limitReached":
    "KSeF does not let this person request a certificate now (enrollment requests left: {{enrollmentRemaining}} of {{enrollmentLimit}}; certificates left: {{certificateRemaining}} of {{certificateLimit}}).",
  "enrollment.submit.limitReached.hint": "Revoke certificates no longer needed, or ask MF to raise the limit.",
  "enrollment.key.missing": "Enrollment {{id}} is in state {{state}} without a key.",
  "enrollment.poll.noReference": "Enrollment {{id}} is submitted without a KSeF reference number.",
  "enrollment.download.noSerial": "Enrollment {{id}} has no certificate serial number to retrieve.",
  "enrollment.download.empty": "KSeF returned no certificate for serial {{serial}}.",
  "enrollment.download.empty.hint": "Try again in a moment.",
  "enrollment.store.keyMismatch": "KSeF certificate {{serial}} does not certify the key of enrollment {{id}}.",
  "enrollment.store.keyMismatch.hint": "Report this to MF support quoting the serial and the enrollment reference number.",
  "enrollment.store.typeMismatch": "KSeF certificate {{serial}} is of type {{actual}}, not {{requested}} as requested.",
  "enrollment.store.noKey": "Enrollment {{id}} has no key to pair with the certificate.",
  // The vault.
  "vault.passwordNotSealed": "The signing certificate's key password is not sealed, so the server cannot sign in with it by itself.",
  // Rules only the enrollment request checks.
} as const;
