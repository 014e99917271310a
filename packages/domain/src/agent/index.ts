/**
 * `@ksef-certs/domain/agent`: the server side of the signer agent hand-off: pairing a
 * workstation by a one-time code, its bearer tokens (stored as SHA-256, revocable), signing requests the agent
 * receives and answers with the signed file, and `createAgentHandoff`, the enrollment's hand-off port over them.
 * The HTTP contract over these use cases is `@ksef-certs/ksef/agent-protocol`, served by apps/admin (`createAgentApi`).
 */
export {
  PAIRING_CODE_TTL_MS,
  agentWorkstation,
  authenticateWorkstation,
  createPairingCode,
  listWorkstationTokens,
  normalizePairingCode,
  pairWorkstation,
  revokeWorkstationToken,
  secretHash,
  workstationTokenInfo,
  type AgentWorkstation,
  type WorkstationTokenInfo,
} from "./pairing.js";
export {
  acceptSignedFile,
  challengeExpiredError,
  createSigningRequest,
  getSigningRequest,
  listSigningRequests,
  markSigningRequestFailed,
  pendingSigningRequests,
  sha256Hex,
  waitForSigningRequests,
  type AcceptSignedFileInput,
  type AcceptedSignedFile,
  type CreateSigningRequestInput,
  type DeliveredSigningRequest,
  type ListSigningRequestsFilter,
  type PendingSigningRequests,
  type SignerSummary,
  type SigningRequestView,
  type WaitForSigningRequestsOptions,
} from "./requests.js";
export { createSigningRequestNotifier, type SigningRequestEvent, type SigningRequestNotifier, type SigningRequestStatus } from "./notifier.js";
export { createAgentHandoff, type AgentHandoffOptions } from "./handoff.js";
