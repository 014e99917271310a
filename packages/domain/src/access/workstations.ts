/**
 * The signer agent's workstations as a principal manages them: pairing codes, agent tokens and the signing requests
 * handed out through a workstation. Reading needs read access to the workstation's branch (any admin of it, an
 * auditor); pairing and revoking need write access (company admin of its company, branch admin of its branch,
 * super-admin). A workstation or token the principal may not see does not exist for it (NOT_FOUND).
 */
import { isKsefCertsError, KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { createPairingCode, listWorkstationTokens, revokeWorkstationToken, workstationTokenInfo, type WorkstationTokenInfo } from "../agent/pairing.js";
import { listSigningRequests, type SigningRequestView } from "../agent/requests.js";
import type { Db } from "../store/db.js";
import { authorizeEntity, type Principal } from "./rules.js";

/**
 * A one-time pairing code for the workstation's signer agent (replaces an unused earlier one); audited.
 * @param db the database
 * @param principal who asks: write access to the workstation
 * @param input the workstation, the audit actor and the clock
 * @returns the code (`XXXX-XXXX`, shown once) and when it expires (10 minutes)
 * @throws {KsefCertsError} NOT_FOUND for a workstation the principal may not read; FORBIDDEN when it may only read it
 */
export async function createPairingCodeAs(
  db: Db,
  principal: Principal,
  input: { readonly workstationId: string; readonly actor: string; readonly now: Date },
): Promise<{ code: string; expiresAt: Date }> {
  await authorizeEntity(db, principal, "workstation", input.workstationId, "write");
  return createPairingCode(db, input);
}

/**
 * The workstation's agent tokens (never the tokens themselves), revoked ones included, newest first.
 * @param db the database
 * @param principal who asks: read access to the workstation
 * @param workstationId the workstation
 * @throws {KsefCertsError} NOT_FOUND for a workstation the principal may not read
 */
export async function listWorkstationTokensAs(db: Db, principal: Principal, workstationId: string): Promise<WorkstationTokenInfo[]> {
  await authorizeEntity(db, principal, "workstation", workstationId, "read");
  return listWorkstationTokens(db, workstationId);
}

/**
 * Revokes an agent token at once (the agent is refused at its next request); revoking a revoked token changes
 * nothing. Audited.
 * @param db the database
 * @param principal who asks: write access to the token's workstation
 * @param input the token, the audit actor and the clock
 * @returns the token after revocation
 * @throws {KsefCertsError} NOT_FOUND for an unknown token or one of a workstation the principal may not read (the
 *   same answer, naming no workstation); FORBIDDEN when it may only read the workstation
 */
export async function revokeWorkstationTokenAs(
  db: Db,
  principal: Principal,
  input: { readonly tokenId: string; readonly actor: string; readonly now: Date },
): Promise<WorkstationTokenInfo> {
  let token: WorkstationTokenInfo;
  try {
    token = await workstationTokenInfo(db, input.tokenId);
    await authorizeEntity(db, principal, "workstation", token.workstationId, "read");
  } catch (err) {
    // A token of a workstation the principal cannot see does not exist for it (not even which workstation it is).
    if (isKsefCertsError(err, "NOT_FOUND")) {
      throw new KsefCertsError("NOT_FOUND", msg("agent.token.notFound", { id: JSON.stringify(input.tokenId) }), {
        details: { entity: "workstationToken", id: input.tokenId },
      });
    }
    throw err;
  }
  await authorizeEntity(db, principal, "workstation", token.workstationId, "write");
  return revokeWorkstationToken(db, input);
}

/**
 * The signing requests handed out through a workstation, newest first, without their XML.
 * @param db the database
 * @param principal who asks: read access to the workstation
 * @param input the workstation and how many (1..1000, default 100)
 * @throws {KsefCertsError} NOT_FOUND for a workstation the principal may not read
 */
export async function listSigningRequestsAs(
  db: Db,
  principal: Principal,
  input: { readonly workstationId: string; readonly limit?: number },
): Promise<SigningRequestView[]> {
  await authorizeEntity(db, principal, "workstation", input.workstationId, "read");
  return listSigningRequests(db, { workstationId: input.workstationId, limit: input.limit ?? 100 });
}
