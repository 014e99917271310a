/**
 * X.501 distinguished names as KSeF uses them: the attribute table, an exact reader (every attribute
 * with its ASN.1 string type, values byte-exact), a one-line display form, and a builder that
 * writes exactly the string types the official clients write.
 *
 * Sources: RFC 5280 §4.1.2.4 (Name), X.520 (attribute types), RFC 4514 §2.4 (escaping),
 * ksef-docs `certyfikaty-KSeF.md` (attributes and string types of the KSeF CSR), CIRFMF/ksef-client-csharp (order).
 */
import * as asn1js from "asn1js";
import { type AsnNode, malformed, readOid, readSequence, sequence } from "./asn1.js";
import type { DnAttribute } from "./types.js";

/** An entry of {@link DN_ATTRIBUTES}. */
export interface DnAttributeType {
  /** Dotted OID. */
  readonly oid: string;
  /** Short name used in {@link DnAttribute.name} and {@link formatName} (`CN`, `SN`, `G`, …). */
  readonly name: string;
  /** The X.520 / PKCS#9 long name (`commonName`, `surname`, …). */
  readonly longName: string;
  /**
   * The string type the official KSeF clients write for this attribute (ksef-docs `certyfikaty-KSeF.md`):
   * PrintableString for countryName and serialNumber, UTF8String for every other KSeF attribute;
   * absent for attributes KSeF does not use (display only).
   */
  readonly ksefStringType?: "UTF8String" | "PrintableString";
}

/**
 * Attribute types known by name. The first eight are the KSeF subject attributes (ksef-docs `certyfikaty-KSeF.md`);
 * the rest are common in qualified certificates and only used for display.
 */
export const DN_ATTRIBUTES: readonly DnAttributeType[] = [
  { oid: "2.5.4.3", name: "CN", longName: "commonName", ksefStringType: "UTF8String" },
  { oid: "2.5.4.4", name: "SN", longName: "surname", ksefStringType: "UTF8String" },
  { oid: "2.5.4.5", name: "serialNumber", longName: "serialNumber", ksefStringType: "PrintableString" },
  { oid: "2.5.4.6", name: "C", longName: "countryName", ksefStringType: "PrintableString" },
  { oid: "2.5.4.10", name: "O", longName: "organizationName", ksefStringType: "UTF8String" },
  { oid: "2.5.4.42", name: "G", longName: "givenName", ksefStringType: "UTF8String" },
  { oid: "2.5.4.45", name: "uniqueIdentifier", longName: "uniqueIdentifier", ksefStringType: "UTF8String" },
  { oid: "2.5.4.97", name: "organizationIdentifier", longName: "organizationIdentifier", ksefStringType: "UTF8String" },
  { oid: "2.5.4.11", name: "OU", longName: "organizationalUnitName", ksefStringType: "UTF8String" },
  { oid: "2.5.4.7", name: "L", longName: "localityName" },
  { oid: "2.5.4.8", name: "ST", longName: "stateOrProvinceName" },
  { oid: "2.5.4.9", name: "street", longName: "streetAddress" },
  { oid: "2.5.4.12", name: "title", longName: "title" },
  { oid: "2.5.4.17", name: "postalCode", longName: "postalCode" },
  { oid: "2.5.4.43", name: "initials", longName: "initials" },
  { oid: "2.5.4.46", name: "dnQualifier", longName: "dnQualifier" },
  { oid: "2.5.4.65", name: "pseudonym", longName: "pseudonym" },
  { oid: "1.2.840.113549.1.9.1", name: "emailAddress", longName: "emailAddress" },
  { oid: "0.9.2342.19200300.100.1.25", name: "DC", longName: "domainComponent" },
  { oid: "0.9.2342.19200300.100.1.1", name: "UID", longName: "userId" },
];

/** OIDs of the KSeF subject attributes, by their KSeF enrollment-data field name (SPEC `CertificateEnrollmentDataResponse`). */
export const DN_OID = {
  commonName: "2.5.4.3",
  surname: "2.5.4.4",
  serialNumber: "2.5.4.5",
  countryName: "2.5.4.6",
  organizationName: "2.5.4.10",
  organizationalUnitName: "2.5.4.11",
  givenName: "2.5.4.42",
  uniqueIdentifier: "2.5.4.45",
  organizationIdentifier: "2.5.4.97",
} as const;

const BY_OID = new Map(DN_ATTRIBUTES.map((a) => [a.oid, a]));

/**
 * The attribute type for `oid`, if it is in {@link DN_ATTRIBUTES}.
 * @param oid dotted OID
 */
export function dnAttributeType(oid: string): DnAttributeType | undefined {
  return BY_OID.get(oid);
}

/** ASN.1 universal tag numbers of the string types a Name may carry, and their names. */
const STRING_TYPES: Readonly<Record<number, string>> = {
  3: "BitString",
  12: "UTF8String",
  18: "NumericString",
  19: "PrintableString",
  20: "TeletexString",
  22: "IA5String",
  26: "VisibleString",
  28: "UniversalString",
  30: "BMPString",
};

/** Tag numbers by string-type name (for {@link encodeName}). */
const STRING_TAGS: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(STRING_TYPES).map(([tag, name]) => [name, Number(tag)]));

/** PrintableString's alphabet (X.680 §41.4): `A-Z a-z 0-9 space ' ( ) + , - . / : = ?`. */
export const PRINTABLE_STRING = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const UTF16BE = new TextDecoder("utf-16be", { fatal: true, ignoreBOM: true });

function decodeValue(node: AsnNode, what: string): { value: string; stringType: string } {
  const tag = node.idBlock.tagNumber;
  const stringType = node.idBlock.tagClass === 1 ? STRING_TYPES[tag] : undefined;
  if (stringType === undefined || node.idBlock.isConstructed) throw malformed(what, "an attribute value is not a string type a name may carry");
  const bytes = (node.valueBlock as unknown as { valueHexView?: Uint8Array }).valueHexView ?? new Uint8Array(0);
  try {
    switch (stringType) {
      case "UTF8String":
        return { value: UTF8.decode(bytes), stringType };
      case "BMPString":
        return { value: UTF16BE.decode(bytes), stringType };
      case "UniversalString": {
        if (bytes.length % 4 !== 0) throw new Error("bad length");
        let value = "";
        for (let i = 0; i < bytes.length; i += 4) value += String.fromCodePoint(Buffer.from(bytes.subarray(i, i + 4)).readUInt32BE(0));
        return { value, stringType };
      }
      case "BitString":
        // X.520 uniqueIdentifier is a BIT STRING; shown as hex of its bytes (asn1js keeps the unused-bits count apart).
        return { value: Buffer.from(bytes).toString("hex").toUpperCase(), stringType };
      default:
        // PrintableString, IA5String, VisibleString, NumericString are ASCII subsets; TeletexString is read as Latin-1 as most tools do.
        return { value: Buffer.from(bytes).toString("latin1"), stringType };
    }
  } catch (cause) {
    throw malformed(what, `a ${stringType} value is not valid text`, cause);
  }
}

/**
 * Reads a Name (`SEQUENCE OF RelativeDistinguishedName`, RFC 5280 §4.1.2.4): every attribute of every
 * RDN in encoding order, with its decoded value and the ASN.1 string type it was written with.
 * Values are returned exactly as encoded (no trimming or normalisation).
 * @param node the Name node (e.g. the subject of a TBSCertificate)
 * @param what the field, for the message (e.g. "certificate subject")
 * @returns the attributes, flattened (KSeF writes one attribute per RDN)
 * @throws {KsefCertsError} `MALFORMED` when the structure is not a Name or a value is not valid text for its type
 */
export function readName(node: AsnNode | undefined, what = "distinguished name"): DnAttribute[] {
  const attrs: DnAttribute[] = [];
  for (const rdn of readSequence(node, what)) {
    const set = readSequence(rdn, what, true);
    if (set.length === 0) throw malformed(what, "a relative distinguished name is empty");
    for (const atv of set) {
      const items = readSequence(atv, what);
      if (items.length !== 2) throw malformed(what, "an attribute must have a type and one value");
      const oid = readOid(items[0], what);
      const { value, stringType } = decodeValue(items[1] as AsnNode, what);
      attrs.push({ oid, name: BY_OID.get(oid)?.name ?? oid, value, stringType });
    }
  }
  return attrs;
}

/**
 * Escapes a value for the one-line form (RFC 4514 §2.4): `, + " \ < > ;` everywhere, a leading `#`
 * or space and a trailing space; NUL and other control characters as `\XX` hex pairs.
 */
function escapeValue(value: string): string {
  let out = value.replace(/[,+"\\<>;]/g, (c) => `\\${c}`);
  // NUL must be escaped (RFC 4514 §2.4); other controls too, as hex pairs, so a name cannot break the one line it is shown on.
  out = Array.from(out, (ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? `\\${code.toString(16).toUpperCase().padStart(2, "0")}` : ch;
  }).join("");
  if (out.startsWith("#") || out.startsWith(" ")) out = `\\${out}`;
  if (out.endsWith(" ") && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/**
 * One-line display form of a name: `CN=Jan Kowalski, O=Firma, C=PL`, in the order the attributes
 * appear in the certificate (not RFC 4514's reversed order), with RFC 4514 §2.4 escaping of values.
 * @param attrs attributes from {@link readName}
 * @returns the text; empty for an empty name
 */
export function formatName(attrs: readonly DnAttribute[]): string {
  return attrs.map((a) => `${a.name}=${escapeValue(a.value)}`).join(", ");
}

/**
 * Whether `text` is well-formed Unicode (no lone UTF-16 surrogates), i.e. can be written as UTF-8
 * without replacement characters. With the `u` flag a paired surrogate is one code point, so the
 * class matches only unpaired halves.
 * @param text any string
 */
export function isWellFormedText(text: string): boolean {
  return !/[\uD800-\uDFFF]/u.test(text);
}

/** One attribute to write with {@link encodeName}. */
export interface NameAttributeInput {
  /** Dotted OID. */
  readonly oid: string;
  /** The value, written byte for byte (UTF-8 for UTF8String, one byte per character for PrintableString). */
  readonly value: string;
  /** `UTF8String` or `PrintableString`. */
  readonly stringType: "UTF8String" | "PrintableString";
}

/**
 * Builds a Name with one attribute per RDN, in the given order, each value in its given string type.
 * Callers must have validated the values: this function refuses what it cannot encode faithfully.
 * @param attrs the attributes in order
 * @returns the asn1js Name node (DER via `toDer`)
 * @throws {Error} (a bug, not user input) when a PrintableString value is outside the alphabet or a UTF8String value is not well-formed Unicode
 */
export function encodeName(attrs: readonly NameAttributeInput[]): asn1js.Sequence {
  return sequence(
    attrs.map((a) => {
      let bytes: Uint8Array;
      if (a.stringType === "PrintableString") {
        if (!PRINTABLE_STRING.test(a.value)) throw new Error(`encodeName: ${a.oid} is not a PrintableString`);
        bytes = Buffer.from(a.value, "latin1");
      } else {
        if (!isWellFormedText(a.value)) throw new Error(`encodeName: ${a.oid} is not well-formed Unicode`);
        bytes = new TextEncoder().encode(a.value);
      }
      const value = new asn1js.Primitive({ idBlock: { tagClass: 1, tagNumber: STRING_TAGS[a.stringType] ?? 12 }, valueHex: bytes });
      return new asn1js.Set({ value: [sequence([new asn1js.ObjectIdentifier({ value: a.oid }), value])] });
    }),
  );
}
