/**
 * `@ksef-certs/ksef/handoff`: the folder hand-off of `auth.xml`, one piece used by
 * the enrollment use case on the server and by the signer agent on the workstation: write the unsigned
 * request atomically into the outbox, watch the inbox, classify dropped files by content, verify them
 * against the pending challenge, and move them to `processed/` or `failed/` with a reason.
 */
export {
  MAX_AUTH_REQUEST_BYTES,
  MAX_HANDOFF_FILE_NAME_LENGTH,
  assertHandoffFileName,
  handoffFileName,
  writeAuthRequest,
  type AuthRequestFile,
  type HandoffFileNameInput,
  type WrittenAuthRequest,
} from "./write.js";
export {
  MAX_HANDOFF_FILE_BYTES,
  classifySignedFile,
  isExpectedSigner,
  type ClassifiedFile,
  type ClassifyOptions,
  type ExpectedSigner,
  type PendingSignature,
} from "./classify.js";
export {
  REJECTION_REASONS_PL,
  problemMessage,
  wrongSignerMessage,
  type BilingualMessage,
  type InboxProblemKind,
  type ProblemMessageParams,
} from "./messages.js";
export {
  FAILED_DIR,
  PROCESSED_DIR,
  REASON_SUFFIX,
  isIgnoredInboxName,
  watchInbox,
  type InboxFile,
  type InboxProblem,
  type InboxWatcher,
  type WatchInboxOptions,
} from "./watch.js";
export { awaitSignature, type AwaitSignatureOptions, type SignedHandoff } from "./session.js";
