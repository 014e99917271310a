/**
 * The states of an enrollment and what each one promises about the row, so that
 * `run` can resume from any of them after a crash:
 *
 * | state                | persisted so far                                         | resume does                                   |
 * |----------------------|----------------------------------------------------------|-----------------------------------------------|
 * | `requested`          | scope, type, mode, name, auth method (sealed password?)   | generates a key                               |
 * | `key_generated`      | + encrypted key (`keyFile`), `publicKeySpki`             | authenticates                                 |
 * | `authenticating`     | + challenge (automatic signing in progress)              | authenticates again (new challenge)           |
 * | `awaiting_signature` | + challenge, expiry, the hand-off file                   | waits for the same file while it is valid     |
 * | `authenticated`      | + auth reference (sealed session when a vault exists)   | reads enrollment data, makes and sends the CSR |
 * | `submitting`         | + CSR, `submittedAt` (set BEFORE the request is sent)    | reconciles: adopts or discards the key        |
 * | `submitted`          | + KSeF `ksefReferenceNumber` (serial once issued)        | polls, retrieves, pairs and records           |
 * | `completed`          | + `certificateId` (certificate recorded in the registry) | nothing                                       |
 * | `failed`             | + `failureCode` (KSeF code) and `failureReason`          | nothing                                       |
 */

import { ENROLLMENT_STATES, type EnrollmentState } from "@ksef-certs/ksef/vocabulary";

export { ENROLLMENT_STATES, type EnrollmentState };

/**
 * States in which the enrollment still needs the new key's password: to make the key, open it to sign the CSR, or
 * replace it after a reconciliation finds KSeF never received the request. From `submitted` on, KSeF holds the
 * request and the key is only paired with the certificate, which needs no password.
 */
export const STATES_NEEDING_KEY_PASSWORD: readonly EnrollmentState[] = ENROLLMENT_STATES.slice(0, ENROLLMENT_STATES.indexOf("submitted"));

/** States `run` does not leave again. */
export const FINAL_ENROLLMENT_STATES: readonly EnrollmentState[] = ["completed", "failed"];

/** States in which KSeF may already hold the enrollment request: a failure there must never lose its reference. */
export const SENT_ENROLLMENT_STATES: readonly EnrollmentState[] = ["submitting", "submitted"];

/**
 * Whether `state` is a known enrollment state.
 * @param state the stored text
 */
export function isEnrollmentState(state: string): state is EnrollmentState {
  return (ENROLLMENT_STATES as readonly string[]).includes(state);
}
