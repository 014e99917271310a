/**
 * KOD II link signing benchmark (speed target: ≥ 10 000 EC links/s per core).
 * Called from run.ts by the lead: `import { benchKod2 } from "./qr.js"; check("KOD II EC links/s", (await benchKod2()).targetMet);`.
 *
 * Baselines are one raw `crypto.sign` with a KeyObject prepared once over the same signed text our
 * links sign (the link without `https://`, about 130 bytes). Every link is
 * verified once before timing, so what is timed is known to be correct.
 */
import { constants, createHash, sign, type KeyObject } from "node:crypto";
import { VerificationLinkService } from "ksef-client-ts";
import { generateKeyPair } from "../crypto/keys.js";
import { encryptPrivateKeyPem } from "../crypto/pkcs8.js";
import { issueKsefLikeCertificate } from "../testing/ksef-like-certificate.js";
import type { EnrollmentData } from "../crypto/types.js";
import { KSEF_ENDPOINTS } from "../api/environments.js";
import { prepareKod2Signer, type Kod2Signer } from "../qr/kod2.js";
import { UnlockedKeyCache } from "../xades/signing-key.js";
import { verifyKod2Url } from "../qr/parse.js";
import { benchGroup, type ContenderResult } from "../testing/bench.js";

/** Links per second per core that KOD II with an EC key must reach. */
export const KOD2_EC_TARGET_LINKS_PER_SEC = 10_000;

/** What {@link benchKod2} measured. */
export interface Kod2BenchResult {
  /** Median links/s of the prepared EC signer (hash given). */
  readonly ecLinksPerSec: number;
  /** Median links/s of the prepared RSA-2048 (PSS) signer (hash given). */
  readonly rsaLinksPerSec: number;
  /** Whether {@link ecLinksPerSec} ≥ {@link KOD2_EC_TARGET_LINKS_PER_SEC}. */
  readonly targetMet: boolean;
  /** Every contender of both groups. */
  readonly results: readonly ContenderResult[];
}

const NIP = "5265877635";
const enrollmentData: EnrollmentData = {
  commonName: "Firma Bench",
  countryName: "PL",
  organizationIdentifier: `VATPL-${NIP}`,
  organizationName: "Firma Bench",
};

/**
 * Measures KOD II signing in two interleaved groups (EC P-256, RSA-2048), prints them and a target
 * line "≥ 10 000 EC links/s per core".
 * @returns links/s of both prepared signers, whether the EC target was met, and all rows
 * @throws Error when a produced link does not verify (then the timing would be meaningless)
 */
export async function benchKod2(): Promise<Kod2BenchResult> {
  const [ec, rsa] = await Promise.all([generateKeyPair("EC-P256"), generateKeyPair("RSA-2048")]);
  const [ecCert, rsaCert] = await Promise.all([
    issueKsefLikeCertificate({ certificateType: "Offline", keys: ec, enrollmentData }),
    issueKsefLikeCertificate({ certificateType: "Offline", keys: rsa, enrollmentData }),
  ]);
  const invoiceXml = new TextEncoder().encode(`<?xml version="1.0" encoding="UTF-8"?><Faktura>${"<Wiersz>pozycja</Wiersz>".repeat(160)}</Faktura>`);
  const invoice = { sha256: createHash("sha256").update(invoiceXml).digest() };
  const common = { environment: "test", contextIdentifier: { type: "Nip", value: NIP }, sellerNip: NIP } as const;
  const ecSigner = prepareKod2Signer({ ...common, certificate: ecCert.der, privateKey: ec.privateKey });
  const rsaSigner = prepareKod2Signer({ ...common, certificate: rsaCert.der, privateKey: rsa.privateKey });

  for (const [link, cert] of [
    [ecSigner.link(invoice), ecCert.der],
    [ecSigner.link(invoiceXml), ecCert.der],
    [rsaSigner.link(invoice), rsaCert.der],
  ] as const) {
    if (!verifyKod2Url(link, cert).valid) throw new Error("benchKod2: a produced KOD II link does not verify");
  }
  const sample = ecSigner.link(invoice);
  const signed = Buffer.from(sample.slice("https://".length, sample.lastIndexOf("/")), "utf8");
  const ecKey = { key: ec.privateKey, dsaEncoding: "ieee-p1363" } as const;
  const rsaKey = { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };

  // The peer ksef-client-ts (devDependency of the bench only) takes the key as PEM on every call.
  const PASSWORD = "Bench-Hasło-2026!";
  const peer = new VerificationLinkService(KSEF_ENDPOINTS.test.qrBaseUrl);
  const hashBase64 = Buffer.from(invoice.sha256).toString("base64");
  const ecPem = ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const rsaPem = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const ecEncrypted = await encryptPrivateKeyPem(ec.privateKey, PASSWORD);
  const peerLink = (pem: string, serial: string, password?: string): string =>
    peer.buildCertificateVerificationUrl("Nip", NIP, NIP, serial, hashBase64, pem, password);
  const ecSerial = ecSigner.certificateSerial;
  const rsaSerial = rsaSigner.certificateSerial;
  for (const [link, cert] of [
    [peerLink(ecPem, ecSerial), ecCert.der],
    [peerLink(rsaPem, rsaSerial), rsaCert.der],
  ] as const) {
    if (!verifyKod2Url(link, cert).valid) throw new Error("benchKod2: a ksef-client-ts KOD II link does not verify");
  }
  // Starting from the encrypted .key: unlock once (UnlockedKeyCache), prepare once per unlocked key.
  const cache = new UnlockedKeyCache({ ttlMs: 60_000 });
  const preparedFor = new WeakMap<KeyObject, Kod2Signer>();
  const oursFromKey = async (): Promise<string> => {
    const privateKey = await cache.unlock(ecEncrypted, PASSWORD);
    let signer = preparedFor.get(privateKey);
    if (signer === undefined) {
      signer = prepareKod2Signer({ ...common, certificate: ecCert.der, privateKey });
      preparedFor.set(privateKey, signer);
    }
    return signer.link(invoice);
  };
  if (!verifyKod2Url(await oursFromKey(), ecCert.der).valid) throw new Error("benchKod2: a link from the encrypted key does not verify");

  const ecGroup = await benchGroup(`KOD II link, EC P-256 (IEEE P1363), signed text ${signed.length} bytes`, [
    { name: `raw crypto.sign P1363 of the ${signed.length}-byte link text`, run: () => sign("sha256", signed, ecKey) },
    { name: "ours prepared signer .link({ sha256 })", run: () => ecSigner.link(invoice) },
    { name: "peer ksef-client-ts buildCertificateVerificationUrl", run: () => peerLink(ecPem, ecSerial) },
    { name: `ours prepared signer .link(invoice XML ${invoiceXml.length} B)`, run: () => ecSigner.link(invoiceXml) },
    {
      name: "ours kod2Url-style prepare + link per call",
      run: () => prepareKod2Signer({ ...common, certificate: ecCert.der, privateKey: ec.privateKey }).link(invoice),
    },
  ]);
  const rsaGroup = await benchGroup("KOD II link, RSA-2048 (RSASSA-PSS SHA-256, salt 32)", [
    { name: `raw crypto.sign PSS of the ${signed.length}-byte link text`, run: () => sign("sha256", signed, rsaKey) },
    { name: "ours prepared signer .link({ sha256 })", run: () => rsaSigner.link(invoice) },
    { name: "peer ksef-client-ts buildCertificateVerificationUrl", run: () => peerLink(rsaPem, rsaSerial) },
  ]);
  await benchGroup(
    "KOD II link, EC P-256, starting from the encrypted .key (PBKDF2 100 000)",
    [
      { name: `raw crypto.sign P1363 of the ${signed.length}-byte link text`, run: () => sign("sha256", signed, ecKey) },
      { name: "peer buildCertificateVerificationUrl(…, password)", run: () => peerLink(ecEncrypted, ecSerial, PASSWORD) },
      { name: "ours UnlockedKeyCache.unlock + prepared .link", run: oursFromKey },
    ],
    { rounds: 5 },
  );
  cache.clear();

  const ecLinksPerSec = ecGroup.results[1]?.opsPerSec ?? 0;
  const rsaLinksPerSec = rsaGroup.results[1]?.opsPerSec ?? 0;
  const targetMet = ecLinksPerSec >= KOD2_EC_TARGET_LINKS_PER_SEC;
  console.log(`\n  KOD II links/s: EC ${Math.round(ecLinksPerSec)}, RSA ${Math.round(rsaLinksPerSec)} (one core)`);
  console.log(`  target ≥ 10 000 EC links/s per core: ${targetMet ? "met" : "MISSED"}`);
  return { ecLinksPerSec, rsaLinksPerSec, targetMet, results: [...ecGroup.results, ...rsaGroup.results] };
}
