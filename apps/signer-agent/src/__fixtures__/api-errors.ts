/** Test-only: the API client's error mapping, driven through a fetch that answers with a given status and body. */
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { AgentApiClient } from "../api.js";

/**
 * The error {@link AgentApiClient} throws for an answer.
 * @param status HTTP status
 * @param body JSON body, or undefined for none
 */
export function errorFromStatusForTest(status: number, body: unknown): Promise<KsefCertsError> {
  const fetchImpl = (() => Promise.resolve(new Response(body === undefined ? null : JSON.stringify(body), { status }))) as typeof fetch;
  return new AgentApiClient("http://127.0.0.1:1", "token-xxxxxxxxxxxxxxxx", fetchImpl).workstation().then(
    () => {
      throw new Error("expected an error");
    },
    (e: unknown) => e as KsefCertsError,
  );
}
