/**
 * The enrollment steps, one per state (see `states.ts`): each takes the steps' dependencies, the row and the
 * run's memory, does one thing, persists it and returns the row in its next state. `stepFor` picks the step
 * of a row; the service's driver loops over it.
 */
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { EnrollmentRow } from "../model.js";
import type { EnrollmentState } from "../states.js";
import { authenticate } from "./authenticate.js";
import type { RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";
import { download } from "./download.js";
import { generateKey } from "./generate-key.js";
import { privateKeyOf } from "./key.js";
import { awaitIssuance } from "./poll.js";
import { reconcile } from "./reconcile.js";
import { submit } from "./submit.js";

/** One step: persists what it did and returns the row as left (in its next state, or the same one with more data). */
export type EnrollmentStep = (d: StepDeps, row: EnrollmentRow, ctx: RunContext) => Promise<EnrollmentRow>;

/** Authentication, after opening the key: nobody should sign for an enrollment that then stops for a password. */
const authenticateWithKey: EnrollmentStep = async (d, row, ctx) => {
  await privateKeyOf(d, row, ctx);
  return authenticate(d, row, ctx);
};

/**
 * The step that carries `row` on from its state.
 * @param row a stored enrollment, not `completed` or `failed`
 * @throws {KsefCertsError} INTERNAL for a final or unknown state
 */
export function stepFor(row: EnrollmentRow): EnrollmentStep {
  switch (row.state as EnrollmentState) {
    case "requested":
      return generateKey;
    case "key_generated":
    case "authenticating":
    case "awaiting_signature":
      return authenticateWithKey;
    case "authenticated":
      return submit;
    case "submitting":
      return reconcile;
    case "submitted":
      return row.certificateSerialNumber === null ? awaitIssuance : download;
    default:
      throw new KsefCertsError("INTERNAL", msg("enrollment.run.unknownState", { id: row.id, state: row.state }));
  }
}
