/**
 * The new key's password and private key for the steps that need them: the password given to `run`, else
 * the one this service was given with `request`, else the sealed one; the key is opened once per run.
 */
import type { KeyObject } from "node:crypto";
import { readPrivateKey } from "@ksef-certs/ksef/crypto";
import { KsefCertsError, isKsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { enrollmentPasswordAad, type EnrollmentRow } from "../model.js";
import { Stop, said, utf8Decoder, type RunContext } from "./common.js";
import type { StepDeps } from "./deps.js";

/** The key password of `row`, if this run can know it. */
export function passwordFor(d: StepDeps, row: EnrollmentRow, ctx: RunContext): string | undefined {
  if (ctx.keyPassword !== undefined) return ctx.keyPassword;
  const remembered = d.passwords.get(row.id);
  if (remembered !== undefined) return remembered;
  if (row.sealedPassword !== null && d.vault !== undefined) return utf8Decoder.decode(d.vault.unseal(row.sealedPassword, enrollmentPasswordAad(row.id)));
  return undefined;
}

/**
 * The key password of `row`.
 * @throws {Stop} `waiting` when no password is known
 */
export function needPassword(d: StepDeps, row: EnrollmentRow, ctx: RunContext): string {
  const password = passwordFor(d, row, ctx);
  if (password === undefined) {
    throw new Stop("waiting", said("password.needed", {}, `The key password of enrollment ${row.id} is needed to continue; run it again with the password.`));
  }
  return password;
}

/**
 * The private key of `row`, opened with its password (kept in `ctx` for the rest of the run).
 * @throws {Stop} `waiting` when the password is unknown or wrong
 * @throws {KsefCertsError} INTERNAL when the row has no key
 */
export async function privateKeyOf(d: StepDeps, row: EnrollmentRow, ctx: RunContext): Promise<KeyObject> {
  if (ctx.privateKey !== undefined) return ctx.privateKey;
  if (row.keyFile === null) throw new KsefCertsError("INTERNAL", msg("enrollment.key.missing", { id: row.id, state: row.state }));
  const password = needPassword(d, row, ctx);
  try {
    ctx.privateKey = (await readPrivateKey(row.keyFile, { password })).key;
  } catch (err) {
    if (isKsefCertsError(err, "WRONG_PASSWORD"))
      throw new Stop(
        "waiting",
        said("password.wrong", {}, `The password given does not open the key of enrollment ${row.id}; run it again with the right one.`),
        err,
      );
    throw err;
  }
  return ctx.privateKey;
}
