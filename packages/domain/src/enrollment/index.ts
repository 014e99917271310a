/**
 * `@ksef-certs/domain/enrollment`: enrollment of KSeF certificates as a persisted, resumable state
 * machine. Wire it with `createEnrollmentService({ db, client, signerFor, handoff, vault })`;
 * progress comes as English sentences with machine-readable events (`ENROLLMENT_EVENTS`, `EnrollmentEventKind`).
 */
export { createEnrollmentService } from "./service.js";
export {
  CHALLENGE_LIFETIME_MS,
  enrollmentPasswordAad,
  enrollmentSessionAad,
  summarizeEnrollment,
  type EnrollmentDeps,
  type EnrollmentEnvironment,
  type EnrollmentHandoff,
  type EnrollmentKsefClient,
  type EnrollmentOutcome,
  type EnrollmentProgress,
  type EnrollmentRequestInput,
  type EnrollmentRequestMeta,
  type EnrollmentRow,
  type EnrollmentRunOptions,
  type EnrollmentRunResult,
  type EnrollmentService,
  type EnrollmentSummary,
} from "./model.js";
export {
  ENROLLMENT_EVENTS,
  enrollmentEvent,
  enrollmentStateEvent,
  isEnrollmentProgressEvent,
  type EnrollmentEventKind,
  type EnrollmentEventParams,
  type EnrollmentProgressEvent,
} from "./events.js";
export {
  ENROLLMENT_STATES,
  FINAL_ENROLLMENT_STATES,
  SENT_ENROLLMENT_STATES,
  STATES_NEEDING_KEY_PASSWORD,
  isEnrollmentState,
  type EnrollmentState,
} from "./states.js";
export { createFolderHandoff, type FolderHandoffOptions } from "./folder-handoff.js";
