/**
 * The sentences a person reads about a file they dropped into the hand-off inbox (in `<name>.reason.txt`
 * beside a failed file, in the signer agent's notifications, in the CLI): Polish first, English second.
 */
import type { KsefCertsError } from "../errors.js";
import { violationMessagePl } from "../policies/messages-pl.js";
import type { KsefIdentity } from "../xades/identity.js";
import type { XadesRejectionReason } from "../xades/verify.js";
import type { ClassifiedFile, ExpectedSigner } from "./classify.js";

/** What happened to an inbox file that was not a successful hand-off (see `InboxProblem`). */
export type InboxProblemKind =
  | Exclude<ClassifiedFile["kind"], "signed">
  | "duplicate"
  | "too-large"
  | "too-complex"
  | "check-failed"
  | "unreadable"
  | "submit-failed"
  | "move-failed"
  | "watch-error";

/** A message in both languages. */
export interface BilingualMessage {
  /** Polish sentence(s). */
  readonly pl: string;
  /** English sentence(s). */
  readonly en: string;
}

/**
 * Polish explanation of each verifier rejection (the English one is the verifier's own message). Keyed by
 * every {@link XadesRejectionReason}; a test checks none is missing.
 */
export const REJECTION_REASONS_PL: Readonly<Record<XadesRejectionReason, string>> = {
  "too-large": "plik jest za duży jak na podpisany wniosek AuthTokenRequest",
  "too-complex": "plik XML jest zagnieżdżony zbyt głęboko albo ma zbyt wiele elementów lub atrybutów jak na podpisany wniosek AuthTokenRequest",
  "not-xml": "plik nie jest poprawnym dokumentem XML",
  "dtd-or-entity": "plik zawiera deklarację DOCTYPE lub encji, czego nie przyjmujemy ze względów bezpieczeństwa",
  "not-utf8":
    "plik nie jest zapisany w kodowaniu UTF-8 (KSeF odrzuciłby go błędem 21217); użyj pliku dokładnie takiego, jaki zapisała strona podpisu, bez otwierania go w edytorze",
  "not-auth-token-request": "plik nie zawiera wniosku AuthTokenRequest",
  "xsd-violation": "wniosek AuthTokenRequest jest niezgodny ze schematem XSD",
  "no-signature": "wniosek nie jest podpisany",
  "multiple-signatures": "plik zawiera więcej niż jeden podpis, a KSeF przyjmuje dokładnie jeden; podpisz niepodpisany plik auth.xml tylko raz",
  detached:
    "podpis nie zawiera podpisanego wniosku (podpis zewnętrzny), a KSeF przyjmuje tylko podpis otoczony lub otaczający; przy podpisie wybierz format XAdES otoczony",
  "reference-not-covering-root": "podpis nie obejmuje całego wniosku",
  "signature-wrapping": "plik wygląda na zmieniony po podpisaniu (dodano niepodpisaną treść)",
  "digest-mismatch": "treść wniosku zmieniono po podpisaniu (skrót się nie zgadza); nie otwieraj i nie zapisuj podpisanego pliku w edytorze",
  "signature-invalid": "podpis jest nieprawidłowy",
  "unsupported-algorithm": "podpis używa algorytmu lub przekształcenia, którego nie obsługujemy",
  "certificate-missing": "w podpisie brakuje certyfikatu podpisującego",
  "certificate-invalid": "certyfikat podpisującego jest nieważny albo nie służy do uwierzytelnienia (np. certyfikat Offline)",
  "signing-certificate-mismatch": "certyfikat w podpisie nie zgadza się z certyfikatem wskazanym we właściwościach podpisu",
  "subject-identifier-invalid": "z podpisu nie da się odczytać NIP ani PESEL podpisującego",
  "challenge-mismatch": "podpisany wniosek dotyczy innego wyzwania (challenge) niż oczekiwane",
  "context-mismatch": "podpisany wniosek dotyczy innego kontekstu (NIP lub identyfikatora) niż oczekiwany",
};

/**
 * Why a valid signature by the wrong person is refused (classification `wrong-signer`), e.g. "The file was signed
 * by PESEL 02070803628, but this request is for Jan Kowalski (PESEL 44051401458)…". A fingerprint identity
 * (a seal or a certificate naming no person) gets its own sentence.
 * @param signer the identity KSeF would derive from the signature (`VerifiedAuthTokenRequest.identity`)
 * @param expected the operator on record
 * @returns Polish and English text (identifiers and the operator's name only)
 */
export function wrongSignerMessage(signer: KsefIdentity, expected: ExpectedSigner): BilingualMessage {
  const ids = [
    expected.pesel === undefined || expected.pesel === "" ? undefined : `PESEL ${expected.pesel}`,
    expected.nip === undefined || expected.nip === "" ? undefined : `NIP ${expected.nip}`,
  ];
  const who = `${expected.name} (${ids.filter((i) => i !== undefined).join(", ")})`;
  const tailPl = `KSeF wystawia certyfikat temu, kto podpisał plik, więc ten plik auth.xml musi podpisać ${expected.name}. Pliku nie wysłano do KSeF.`;
  const tailEn = `KSeF issues the certificate to whoever signs, so ${expected.name} must sign this auth.xml. The file was not sent to KSeF.`;
  if (signer.type === "Fingerprint") {
    return {
      pl: `Z podpisu nie da się odczytać PESEL ani NIP podpisującego (np. pieczęć firmowa lub certyfikat rozpoznawany po odcisku), a ten wniosek dotyczy operatora ${who}. ${tailPl}`,
      en: `The signature does not name the signer by PESEL or NIP (e.g. a company seal, or a certificate identified by its fingerprint), but this request is for ${who}. ${tailEn}`,
    };
  }
  const id = `${signer.type === "Pesel" ? "PESEL" : "NIP"} ${signer.value}`;
  return {
    pl: `Plik podpisał(a) ${id}, a ten wniosek dotyczy operatora ${who}. ${tailPl}`,
    en: `The file was signed by ${id}, but this request is for ${who}. ${tailEn}`,
  };
}

/** Parameters some messages name. */
export interface ProblemMessageParams {
  /** The file's name as the person saw it. */
  readonly fileName?: string;
  /** For `duplicate`: the name of the file handled first. */
  readonly firstFile?: string;
  /** For `too-large`: the file's size and the limit, bytes. */
  readonly size?: number;
  readonly limitBytes?: number;
  /** For `rejected` and `wrong-signer`: the verdict. */
  readonly classification?: ClassifiedFile;
  /** For `too-complex`: the parser's refusal (its violation names the limit, `xml.depth`, `xml.elements` or `xml.attributes`). */
  readonly error?: KsefCertsError;
}

/**
 * The person-facing sentences for an inbox problem.
 * @param kind what happened
 * @param params the names, sizes and verdict the sentence mentions
 * @returns Polish and English text (no secrets: file names, sizes and KSeF codes only)
 */
export function problemMessage(kind: InboxProblemKind, params: ProblemMessageParams = {}): BilingualMessage {
  switch (kind) {
    case "duplicate":
      return {
        pl: `Ten plik jest kopią pliku już obsłużonego${params.firstFile === undefined ? "" : ` (${params.firstFile})`}; nie został wysłany ponownie.`,
        en: `This file is a copy of one already handled${params.firstFile === undefined ? "" : ` (${params.firstFile})`}; it was not sent again.`,
      };
    case "unsigned":
      return {
        pl: "Plik nie jest podpisany: to wniosek auth.xml przed podpisaniem. Podpisz go na stronie gov.pl (Profil Zaufany) lub podpisem kwalifikowanym i zapisz podpisany plik w tym folderze.",
        en: "The file is not signed: it is the auth.xml request before signing. Sign it on the gov.pl page (Profil Zaufany) or with a qualified signature and save the signed file into this folder.",
      };
    case "expired":
      return {
        pl: "Wyzwanie (challenge) w tym pliku wygasło (jest ważne 10 minut), więc KSeF go nie przyjmie. Zostanie przygotowany nowy plik auth.xml do podpisania.",
        en: "The challenge in this file has expired (it is valid for 10 minutes), so KSeF would refuse it. A new auth.xml will be issued for signing.",
      };
    case "unknown-challenge":
      return {
        pl: "Ten plik dotyczy wyzwania (challenge), na które nic nie czeka: to stary lub obcy wniosek. Podpisz najnowszy plik auth.xml.",
        en: "This file is for a challenge nothing is waiting for: an old or foreign request. Sign the newest auth.xml.",
      };
    case "rejected": {
      const c = params.classification;
      if (c?.kind === "rejected") {
        return {
          pl: `Podpis odrzucony: ${REJECTION_REASONS_PL[c.reason]} (kod KSeF ${c.ksefExceptionCode}).`,
          en: `Signature refused: ${c.message} (KSeF code ${c.ksefExceptionCode}).`,
        };
      }
      return { pl: "Podpis odrzucony.", en: "Signature refused." };
    }
    case "wrong-signer": {
      const c = params.classification;
      if (c?.kind === "wrong-signer") return wrongSignerMessage(c.verified.identity, c.expected);
      return {
        pl: "Plik podpisała inna osoba niż ta, której dotyczy wniosek.",
        en: "The file was signed by someone other than the person this request is for.",
      };
    }
    case "not-auth-request":
      return {
        pl: "Plik nie jest wnioskiem AuthTokenRequest (auth.xml) ani jego podpisaną wersją, więc go pominięto.",
        en: "The file is neither an AuthTokenRequest (auth.xml) nor its signed version, so it was set aside.",
      };
    case "too-large":
      return {
        pl: `Plik ma ${params.size ?? "?"} bajtów, a podpisany wniosek ma najwyżej ${params.limitBytes ?? "?"} bajtów: to nie jest właściwy plik.`,
        en: `The file is ${params.size ?? "?"} bytes, while a signed request is at most ${params.limitBytes ?? "?"} bytes: this is not the right file.`,
      };
    case "too-complex": {
      const violation = params.error?.violations[0];
      return {
        pl: `${violation === undefined ? "Plik XML jest zagnieżdżony zbyt głęboko albo ma zbyt wiele elementów lub atrybutów." : violationMessagePl(violation)} Pliku nie sprawdzano dalej ani nie wysłano.`,
        en: `${params.error?.message ?? "The XML file is nested too deep or holds too many elements or attributes."} The file was not checked further or sent.`,
      };
    }
    case "check-failed":
      return {
        pl: "Nie udało się sprawdzić tego pliku (błąd programu); odłożono go, by nie sprawdzać go w kółko. Zgłoś to administratorowi, podając nazwę pliku.",
        en: "This file could not be checked (a program error); it was set aside so it is not checked over and over. Report it to the administrator with the file's name.",
      };
    case "unreadable":
      return {
        pl: "Nie udało się odczytać pliku (może jest otwarty w innym programie); ponowimy próbę.",
        en: "The file could not be read (another program may hold it open); it will be tried again.",
      };
    case "submit-failed":
      return {
        pl: "Nie udało się przekazać podpisanego pliku dalej; plik zostaje w folderze i ponowimy próbę.",
        en: "The signed file could not be passed on; it stays in the folder and will be tried again.",
      };
    case "move-failed":
      return {
        pl: "Nie udało się przenieść pliku do folderu processed lub failed; spróbujemy ponownie.",
        en: "The file could not be moved into the processed or failed folder; it will be tried again.",
      };
    case "watch-error":
      return {
        pl: "Błąd obserwowania folderu; pliki zostaną sprawdzone przy następnym przeglądzie folderu.",
        en: "Watching the folder failed; files will be checked at the next rescan.",
      };
  }
}
