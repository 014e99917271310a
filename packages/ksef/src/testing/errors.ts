/**
 * Test support: capture the KsefCertsError a call throws (anything else is re-thrown, and not
 * throwing at all fails the test).
 */
import { isKsefCertsError, type KsefCertsError } from "../errors.js";

/**
 * Runs `fn` and returns the KsefCertsError it throws.
 * @param fn the call expected to throw
 * @throws Error when `fn` returns normally; the original error when it is not a KsefCertsError
 */
export function thrown(fn: () => unknown): KsefCertsError {
  try {
    fn();
  } catch (err) {
    if (isKsefCertsError(err)) return err;
    throw err;
  }
  throw new Error("expected a KsefCertsError to be thrown");
}

/**
 * Awaits `promise` and returns the KsefCertsError it rejects with.
 * @param promise the operation expected to reject
 * @throws Error when it resolves; the original error when it is not a KsefCertsError
 */
export async function rejection(promise: Promise<unknown>): Promise<KsefCertsError> {
  try {
    await promise;
  } catch (err) {
    if (isKsefCertsError(err)) return err;
    throw err;
  }
  throw new Error("expected a KsefCertsError rejection");
}
