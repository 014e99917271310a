/**
 * XAdES benchmark: signing and verifying AuthTokenRequests, EC P-256
 * and RSA-2048, beside the raw node:crypto signature cost and beside the peer TypeScript client
 * `ksef-client-ts` (devDependency of the bench only), all in the same run.
 *
 * Targets: with the key in memory, our signing at least as fast as the peer (≤ 1.00x of its time);
 * starting from an encrypted KSeF `.key` (PBKDF2 100 000), at least 10x the peer's throughput
 * (≤ 0.10x of its time) — the peer re-derives the key on every call, we unlock it once and hold the
 * KeyObject for a bounded time (UnlockedKeyCache). Every contender's output is verified once before
 * timing (by our verifier), so what is timed is known to be correct.
 */
import { createPrivateKey, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import { SignatureService } from "ksef-client-ts";
import { generateKeyPair, type KeyPair } from "../crypto/keys.js";
import { encryptPrivateKeyPem } from "../crypto/pkcs8.js";
import { issueKsefLikeCertificate } from "../testing/ksef-like-certificate.js";
import type { EnrollmentData } from "../crypto/types.js";
import { buildAuthTokenRequest, type AuthTokenRequestInput } from "../api/auth-token-request.js";
import { signAuthTokenRequest } from "../xades/sign.js";
import { UnlockedKeyCache } from "../xades/signing-key.js";
import { prepareXadesSigner } from "../xades/template.js";
import { verifySignedAuthTokenRequest } from "../xades/verify.js";
import { benchGroup } from "../testing/bench.js";

const PASSWORD = "Bench-Hasło-2026!";
const NIP = "5265877635";
const enrollmentData: EnrollmentData = { commonName: "Jan Kowalski", givenName: "Jan", surname: "Kowalski", serialNumber: `TINPL-${NIP}`, countryName: "PL" };
const request: AuthTokenRequestInput = {
  challenge: "20250625-CR-20F5EE4000-DA48AE4124-46",
  contextIdentifier: { type: "Nip", value: NIP },
  subjectIdentifierType: "certificateSubject",
};

interface Fixture {
  readonly keys: KeyPair;
  readonly certificatePem: string;
  readonly certificateDer: Uint8Array;
  readonly plainKeyPem: string;
  readonly encryptedKeyPem: string;
}

async function fixture(algorithm: "EC-P256" | "RSA-2048"): Promise<Fixture> {
  const keys = await generateKeyPair(algorithm);
  const cert = await issueKsefLikeCertificate({ certificateType: "Authentication", keys, enrollmentData });
  return {
    keys,
    certificatePem: cert.certificate,
    certificateDer: cert.der,
    plainKeyPem: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    encryptedKeyPem: await encryptPrivateKeyPem(keys.privateKey, PASSWORD),
  };
}

async function mustVerify(what: string, signed: Uint8Array | string): Promise<void> {
  const bytes = typeof signed === "string" ? new TextEncoder().encode(signed) : signed;
  try {
    await verifySignedAuthTokenRequest(bytes, { challenge: request.challenge, contextIdentifier: request.contextIdentifier });
  } catch (error) {
    throw new Error(`benchXades: ${what} produced a signature our verifier rejects: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Runs the XAdES groups (sign EC, sign RSA, sign from an encrypted .key, verify EC and RSA) and
 * prints them with their targets.
 * @returns the names of missed targets (empty when all are met)
 * @throws Error when a contender's output does not verify
 */
export async function benchXades(): Promise<string[]> {
  const missed: string[] = [];
  const unsignedXml = buildAuthTokenRequest(request);
  const digest = randomBytes(32);
  for (const algorithm of ["EC-P256", "RSA-2048"] as const) {
    const f = await fixture(algorithm);
    const prepared = prepareXadesSigner({ privateKey: f.keys.privateKey, certificate: f.certificateDer });
    const dsaEncoding = algorithm === "EC-P256" ? "ieee-p1363" : undefined;
    const rawSign = (key: KeyObject): Buffer => sign("sha256", digest, dsaEncoding === undefined ? key : { key, dsaEncoding });
    const cache = new UnlockedKeyCache({ ttlMs: 60_000 });

    const ours = (): Promise<Uint8Array> => signAuthTokenRequest(request, prepared);
    const oursXadesjs = (): Promise<Uint8Array> => signAuthTokenRequest(request, prepared, { engine: "xadesjs" });
    const peer = (): string => SignatureService.sign(unsignedXml, f.certificatePem, f.plainKeyPem);
    const oursEncrypted = async (): Promise<Uint8Array> => {
      const privateKey = await cache.unlock(f.encryptedKeyPem, PASSWORD);
      return signAuthTokenRequest(request, { privateKey, certificate: f.certificateDer });
    };
    const peerEncrypted = (): string => SignatureService.sign(unsignedXml, f.certificatePem, f.encryptedKeyPem, PASSWORD);
    await mustVerify("ours (template)", await ours());
    await mustVerify("ours (xadesjs)", await oursXadesjs());
    await mustVerify("ours from the encrypted .key", await oursEncrypted());
    await mustVerify("ksef-client-ts", peer());
    await mustVerify("ksef-client-ts from the encrypted .key", peerEncrypted());

    const inMemory = await benchGroup(
      `XAdES sign an AuthTokenRequest, ${algorithm}, key in memory`,
      [
        { name: "raw crypto.sign(sha256) of 32 bytes", run: () => rawSign(f.keys.privateKey) },
        { name: "raw createPrivateKey(PEM) + crypto.sign", run: () => rawSign(createPrivateKey(f.plainKeyPem)) },
        { name: "peer ksef-client-ts SignatureService.sign", run: peer },
        { name: "ours signAuthTokenRequest (template)", run: ours },
        { name: "ours signAuthTokenRequest (xadesjs engine)", run: oursXadesjs },
      ],
      { target: { contender: "ours signAuthTokenRequest (template)", maxRatio: 1, relativeTo: "peer ksef-client-ts SignatureService.sign" } },
    );
    if (inMemory.targetMet === false) missed.push(`XAdES sign ${algorithm} in memory`);

    const fromKey = await benchGroup(
      `XAdES sign an AuthTokenRequest, ${algorithm}, starting from the encrypted .key (PBKDF2 100 000)`,
      [
        { name: "raw crypto.sign(sha256) of 32 bytes", run: () => rawSign(f.keys.privateKey) },
        { name: "raw createPrivateKey({ passphrase }) + crypto.sign", run: () => rawSign(createPrivateKey({ key: f.encryptedKeyPem, passphrase: PASSWORD })) },
        { name: "peer SignatureService.sign(…, passphrase)", run: peerEncrypted },
        { name: "ours UnlockedKeyCache.unlock + sign (template)", run: oursEncrypted },
      ],
      {
        rounds: 5,
        target: { contender: "ours UnlockedKeyCache.unlock + sign (template)", maxRatio: 0.1, relativeTo: "peer SignatureService.sign(…, passphrase)" },
      },
    );
    if (fromKey.targetMet === false) missed.push(`XAdES sign ${algorithm} from the encrypted .key`);
    cache.clear();

    const signed = await ours();
    const publicKey = f.keys.publicKey;
    const rawSignature = rawSign(f.keys.privateKey);
    await benchGroup(`XAdES verify a signed AuthTokenRequest, ${algorithm} (the peer has no verification API)`, [
      {
        name: "raw crypto.verify(sha256) of 32 bytes",
        run: () => verify("sha256", digest, dsaEncoding === undefined ? publicKey : { key: publicKey, dsaEncoding }, rawSignature),
      },
      { name: "ours verifySignedAuthTokenRequest (xadesjs)", run: () => verifySignedAuthTokenRequest(signed, { challenge: request.challenge }) },
    ]);
  }
  return missed;
}
