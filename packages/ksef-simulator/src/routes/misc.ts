/**
 * The remaining operations: effective subject limits (`GET /limits/subject`), the ministry's public
 * encryption keys (`GET /security/public-key-certificates`), the TEST-only limit overrides
 * (`POST`/`DELETE /testdata/limits/subject/certificate`), and the simulator's own fault control
 * (`GET`/`POST /__simulator/faults`, outside `/v2` and outside the KSeF contract).
 */
import { generateKeyPair, type KeyPair } from "@ksef-certs/ksef/crypto";
import { selfSignedCertificate } from "@ksef-certs/ksef/testing";
import { createHash } from "node:crypto";
import { KsefErrorReply } from "../http-errors.js";
import type { Simulator } from "../simulator.js";
import { type Faults, identityKey } from "../state.js";

/** One of the ministry's public-key certificates, with its private key so tests can decrypt. */
export interface PublicKeyCertificateEntry {
  readonly usage: "KsefTokenEncryption" | "SymmetricKeyEncryption";
  readonly keys: KeyPair;
  readonly der: Uint8Array;
  readonly validFrom: Date;
  readonly validTo: Date;
}

const FAULT_NUMBERS = ["errorRate", "errorAfterProcessingRate", "latencyMs", "authStatus550", "enrollmentStatus550", "enrollmentStatus500"] as const;

/** Checks a fault object from outside (HTTP); returns readable problems. */
export function faultProblems(value: unknown): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return ["faults must be a JSON object"];
  const f = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(f)) {
    if (!(FAULT_NUMBERS as readonly string[]).includes(key) && key !== "rateLimitStorm") problems.push(`unknown fault "${key}"`);
  }
  for (const key of FAULT_NUMBERS) {
    const v = f[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) problems.push(`${key} must be a non-negative number`);
    else if ((key === "errorRate" || key === "errorAfterProcessingRate") && v > 1) problems.push(`${key} must be between 0 and 1`);
    else if (key === "latencyMs" && v > 60_000) problems.push("latencyMs must be at most 60000");
  }
  const storm = f["rateLimitStorm"];
  if (storm !== undefined) {
    const s = storm as Record<string, unknown> | null;
    if (
      s === null ||
      typeof s !== "object" ||
      !Number.isInteger(s["requests"]) ||
      !Number.isInteger(s["retryAfterSeconds"]) ||
      (s["requests"] as number) < 0 ||
      (s["retryAfterSeconds"] as number) < 0
    ) {
      problems.push("rateLimitStorm must be {requests: integer ≥ 0, retryAfterSeconds: integer ≥ 0}");
    }
  }
  return problems;
}

/**
 * Installs the limits, security, test-data and fault-control operations.
 * @param sim the simulator
 */
export function registerMiscRoutes(sim: Simulator): void {
  let publicKeys: Promise<PublicKeyCertificateEntry[]> | undefined;

  async function makePublicKeys(): Promise<PublicKeyCertificateEntry[]> {
    const now = sim.now();
    const validFrom = new Date(now.getTime() - 86_400_000);
    const entries: PublicKeyCertificateEntry[] = [];
    for (const usage of ["KsefTokenEncryption", "SymmetricKeyEncryption"] as const) {
      const keys = await generateKeyPair("RSA-2048");
      const cert = await selfSignedCertificate(
        keys,
        [
          { oid: "2.5.4.6", value: "PL", stringType: "PrintableString" },
          { oid: "2.5.4.10", value: "Ministerstwo Finansów", stringType: "UTF8String" },
          { oid: "2.5.4.3", value: `KSeF Simulator ${usage}`, stringType: "UTF8String" },
        ],
        { validFrom, validityDays: 1460 },
      );
      entries.push({ usage, keys, der: cert.der, validFrom, validTo: new Date(validFrom.getTime() + 1460 * 86_400_000) });
    }
    return entries;
  }

  sim.route("GET", "/security/public-key-certificates", {}, async () => {
    publicKeys ??= makePublicKeys();
    const entries = await publicKeys;
    return {
      status: 200,
      contentType: "application/json",
      body: entries.map((e) => ({
        certificate: Buffer.from(e.der).toString("base64"),
        certificateId: createHash("sha256").update(e.der).digest("base64"),
        publicKeyId: createHash("sha256")
          .update(e.keys.publicKey.export({ type: "spki", format: "der" }))
          .digest("base64"),
        validFrom: new Date(Math.floor(e.validFrom.getTime() / 1000) * 1000).toISOString(),
        validTo: new Date(Math.floor(e.validTo.getTime() / 1000) * 1000).toISOString(),
        usage: [e.usage],
      })),
    };
  });

  sim.route("GET", "/limits/subject", { token: "access" }, ({ auth }) => {
    if (auth === undefined) throw new KsefErrorReply(401, undefined);
    const limits = sim.limitsOf(auth.operation.identity);
    return {
      status: 200,
      contentType: "application/json",
      body: { enrollment: { maxEnrollments: limits.maxEnrollments }, certificate: { maxCertificates: limits.maxCertificates } },
    };
  });

  sim.route("POST", "/testdata/limits/subject/certificate", { token: "access" }, ({ auth, body }) => {
    if (auth === undefined) throw new KsefErrorReply(401, undefined);
    const b = (body ?? {}) as { enrollment?: { maxEnrollments?: number | null } | null; certificate?: { maxCertificates?: number | null } | null };
    const override: { maxEnrollments?: number; maxCertificates?: number } = {};
    const e = b.enrollment?.maxEnrollments;
    const c = b.certificate?.maxCertificates;
    if (typeof e === "number") override.maxEnrollments = e;
    if (typeof c === "number") override.maxCertificates = c;
    sim.state.limitOverrides.set(identityKey(auth.operation.identity), override);
    return { status: 200 };
  });

  sim.route("DELETE", "/testdata/limits/subject/certificate", { token: "access" }, ({ auth }) => {
    if (auth === undefined) throw new KsefErrorReply(401, undefined);
    sim.state.limitOverrides.delete(identityKey(auth.operation.identity));
    return { status: 200 };
  });

  sim.app.get("/__simulator/faults", (c) => c.json({ faults: sim.state.faults, counters: sim.state.counters }));
  sim.app.post("/__simulator/faults", async (c) => {
    const text = await c.req.text();
    if (text.length > 4096) return c.json({ errors: ["body larger than 4096 characters"] }, 400);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return c.json({ errors: ["body is not JSON"] }, 400);
    }
    const problems = faultProblems(parsed);
    if (problems.length > 0) return c.json({ errors: problems }, 400);
    sim.setFaults(parsed as Faults);
    return c.json({ faults: sim.state.faults });
  });

  /** Test access to the ministry keys (private keys included), generated on first use. */
  sim.publicKeyCertificates = (): Promise<PublicKeyCertificateEntry[]> => {
    publicKeys ??= makePublicKeys();
    return publicKeys;
  };
}
