/**
 * Step of state `requested`: a new key of the requested algorithm (EC P-256 by default, or RSA-2048), stored encrypted with the key password before anything is
 * sent to KSeF (→ `key_generated`).
 */
import { encryptPrivateKeyPem, generateKeyPair } from "@ksef-certs/ksef/crypto";
import type { EnrollmentRow } from "../model.js";
import { said, utf8, type RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";
import { needPassword } from "./key.js";

/**
 * Generates and stores the enrollment's key.
 * @returns the row in `key_generated`
 * @throws {Stop} `waiting` when the key password is unknown
 */
export async function generateKey(d: StepDeps, row: EnrollmentRow, ctx: RunContext): Promise<EnrollmentRow> {
  const password = needPassword(d, row, ctx);
  const keys = await generateKeyPair(row.keyAlgorithm);
  const keyFile = utf8.encode(await encryptPrivateKeyPem(keys.privateKey, password));
  const publicKeySpki = new Uint8Array(keys.publicKey.export({ type: "spki", format: "der" }));
  const next = await d.save(
    row,
    "key_generated",
    { keyFile, publicKeySpki, csrDer: null },
    ctx,
    said("key.generated", {}, `New ${row.keyAlgorithm} key generated and stored encrypted.`),
  );
  ctx.privateKey = keys.privateKey;
  return next;
}
