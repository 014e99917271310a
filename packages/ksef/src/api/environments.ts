/**
 * KSeF environments and their hosts (sources: ksef-docs `srodowiska.md`,
 * `kody-qr.md`, SPEC `servers`, the official C# client's `KsefEnviromentsUris.cs` and
 * `KsefQREnviromentsUris.cs`).
 */

import { ENVIRONMENTS, type KsefEnvironment } from "../vocabulary.js";

export type { KsefEnvironment };

/** Every environment, in a stable order (the vocabulary's {@link ENVIRONMENTS}). */
export const KSEF_ENVIRONMENTS: readonly KsefEnvironment[] = ENVIRONMENTS;

/** Where an environment lives: the API base URL (paths such as `/auth/challenge` are appended) and the QR verification host. */
export interface KsefEndpoints {
  /** API base URL without a trailing slash, e.g. `https://api-test.ksef.mf.gov.pl/v2`. */
  readonly apiBaseUrl: string;
  /** QR verification base URL without a trailing slash, e.g. `https://qr-test.ksef.mf.gov.pl` (KOD I and KOD II). */
  readonly qrBaseUrl: string;
}

/** The official hosts of each environment (valid since RC6.1, December 2025). */
export const KSEF_ENDPOINTS: Readonly<Record<KsefEnvironment, KsefEndpoints>> = {
  test: { apiBaseUrl: "https://api-test.ksef.mf.gov.pl/v2", qrBaseUrl: "https://qr-test.ksef.mf.gov.pl" },
  demo: { apiBaseUrl: "https://api-demo.ksef.mf.gov.pl/v2", qrBaseUrl: "https://qr-demo.ksef.mf.gov.pl" },
  production: { apiBaseUrl: "https://api.ksef.mf.gov.pl/v2", qrBaseUrl: "https://qr.ksef.mf.gov.pl" },
};

/**
 * Whether a string names a KSeF environment.
 * @param value anything, e.g. a CLI option
 */
export function isKsefEnvironment(value: unknown): value is KsefEnvironment {
  return typeof value === "string" && (KSEF_ENVIRONMENTS as readonly string[]).includes(value);
}
