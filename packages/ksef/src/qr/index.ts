/**
 * `@ksef-certs/ksef/qr`: KSeF QR codes for invoices shown outside KSeF (ksef-docs `kody-qr.md`).
 *
 * - KOD I (`kod1Url`): invoice verification link, on every invoice; label = KSeF number or `OFFLINE`.
 * - KOD II (`prepareKod2Signer`, `kod2Url`): issuer verification link signed with an Offline
 *   certificate, on offline invoices; label = `CERTYFIKAT`.
 * - Reading back (`parseKodUrl`, `verifyKod2Url`) and drawing (`renderQr`, PNG or SVG).
 */
export {
  KOD2_CONTEXT_TYPES,
  MAX_INVOICE_BYTES,
  checkKod2ContextIdentifier,
  type InvoiceInput,
  type Kod2ContextIdentifier,
  type Kod2ContextType,
  type QrTarget,
} from "./common.js";
export { kod1Url, type Kod1Input } from "./kod1.js";
export { KOD2_RSA_PSS_SALT_BYTES, kod2Url, prepareKod2Signer, type Kod2Algorithm, type Kod2Input, type Kod2Signer, type Kod2SignerInput } from "./kod2.js";
export { MAX_KOD_URL_CHARS, parseKodUrl, verifyKod2Url, type Kod1Parts, type Kod2Parts, type Kod2Verification, type KodUrlParts } from "./parse.js";
export { KOD1_OFFLINE_LABEL, KOD2_LABEL, MAX_LABEL_CHARS, MAX_QR_PAYLOAD_BYTES, kod1Label, renderQr, type RenderQrOptions } from "./render.js";
