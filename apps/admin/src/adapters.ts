/**
 * The app's adapter registry: every id the CLI (and the admin API) offers, each with its adapter.
 * `ADAPTERS` is checked against `ADAPTER_IDS` at compile time: a listed id without an adapter, or an
 * adapter under the wrong id, does not compile.
 */
import { bundleAdapter, f2000Adapter, pemPairAdapter, pkcs12Adapter } from "@ksef-certs/adapters";
import type { CertificateAdapter } from "@ksef-certs/ksef/adapters";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";

/** The adapter ids this app offers, in the order help texts list them. */
export const ADAPTER_IDS = ["pem-pair", "pkcs12", "f2000", "bundle"] as const;

/** One of {@link ADAPTER_IDS}. */
export type AdapterId = (typeof ADAPTER_IDS)[number];

/** Each offered id's adapter (its own `id` must equal the key). */
export const ADAPTERS = {
  "pem-pair": pemPairAdapter,
  pkcs12: pkcs12Adapter,
  f2000: f2000Adapter,
  bundle: bundleAdapter,
} satisfies { readonly [K in AdapterId]: CertificateAdapter<K> };

/**
 * The adapter of an id given by a person or a client.
 * @param id e.g. `pem-pair`
 * @throws {KsefCertsError} VALIDATION for an unknown id (the violation lists the known ones)
 */
export function adapterById(id: string): CertificateAdapter {
  if ((ADAPTER_IDS as readonly string[]).includes(id)) return ADAPTERS[id as AdapterId];
  const allowed = ADAPTER_IDS.join(", ");
  throw new KsefCertsError("VALIDATION", msg("server.adapter.unknown", { adapter: JSON.stringify(id) }), {
    hint: msg("server.adapter.unknown.hint", { allowed }),
    violations: [violation("adapter", "adapter.known", { allowed })],
  });
}
