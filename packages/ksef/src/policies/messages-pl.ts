/**
 * Polish wording of every policy violation, keyed by its stable `rule` id, for the web app and CLI.
 */
import type { Violation } from "../errors.js";

type Params = Readonly<Record<string, string | number>>;

/** Polish message builders by rule id. */
export const MESSAGES_PL: Readonly<Record<string, (p: Params) => string>> = {
  "certificateName.length": (p) => `Nazwa certyfikatu musi mieć od ${p.min ?? 5} do ${p.max ?? 100} znaków (ma ${p.actual ?? "?"}).`,
  "certificateName.characters": () => "Nazwa certyfikatu może zawierać tylko litery (także polskie), cyfry, spację, _ oraz -.",
  "certificateName.charactersNoDiacritics": () => "Nazwa certyfikatu może zawierać tylko litery bez polskich znaków, cyfry, spację, _ oraz -.",
  "password.length": (p) =>
    p.max === undefined ? `Hasło musi mieć co najmniej ${p.min ?? 12} znaków.` : `Hasło musi mieć od ${p.min ?? 15} do ${p.max} znaków.`,
  "password.upper": () => "Hasło musi zawierać co najmniej jedną wielką literę.",
  "password.lower": () => "Hasło musi zawierać co najmniej jedną małą literę.",
  "password.digit": () => "Hasło musi zawierać co najmniej jedną cyfrę.",
  "password.special": (p) =>
    p.specials === undefined ? "Hasło musi zawierać co najmniej jeden znak specjalny." : `Hasło musi zawierać co najmniej jeden ze znaków ${p.specials}`,
  "password.characters": (p) => `Hasło może zawierać tylko litery A–Z i a–z (bez polskich znaków), cyfry oraz ${p.specials ?? ""}`,
  "nip.format": () => "NIP składa się z dokładnie 10 cyfr, bez spacji i kresek.",
  "nip.pattern": () => "KSeF nie przyjmuje takiego NIP: nie może zaczynać się od 0 ani mieć 00 na 2. i 3. pozycji.",
  "nip.checksum": () => "Błędna cyfra kontrolna NIP: sprawdź, czy nie ma literówki.",
  "pesel.format": () => "PESEL składa się z dokładnie 11 cyfr.",
  "pesel.birthDate": () => "Pierwsze sześć cyfr numeru PESEL nie jest poprawną datą urodzenia.",
  "pesel.checksum": () => "Błędna cyfra kontrolna numeru PESEL: sprawdź, czy nie ma literówki.",
  "internalId.format": () => "Identyfikator wewnętrzny to NIP, kreska i 5 cyfr (np. 5265877635-00017).",
  "internalId.checksum": () => "Błędna cyfra kontrolna identyfikatora wewnętrznego: sprawdź, czy nie ma literówki.",
  // AuthTokenRequest (the auth.xml signed to log in to KSeF).
  "authTokenRequest.challenge.format": () => "Wyzwanie (challenge) ma postać RRRRMMDD-CR-XXXXXXXXXX-XXXXXXXXXX-XX: pobierz nowe z KSeF.",
  "authTokenRequest.contextIdentifier.type": (p) => `Typ identyfikatora kontekstu musi być jednym z: ${p.allowed ?? "Nip, InternalId, NipVatUe, PeppolId"}.`,
  "authTokenRequest.contextIdentifier.value": () => "Brak wartości identyfikatora kontekstu.",
  "authTokenRequest.subjectIdentifierType": () => "Typ identyfikatora podmiotu to certificateSubject albo certificateFingerprint.",
  "authTokenRequest.nipVatUe.format": () => "Identyfikator NIP-VAT UE to NIP, kreska i numer VAT UE (np. 5265877635-ATU12345678).",
  "authTokenRequest.peppolId.format": () => "Identyfikator dostawcy Peppol to P, dwie wielkie litery i sześć cyfr (np. PPL123456).",
  "authTokenRequest.namespace": () => "Wersja schematu musi być 2.0 albo 2.1.",
  "authTokenRequest.allowedIps.missing": () => "Polityka autoryzacji wymaga listy dozwolonych adresów IP.",
  "authTokenRequest.allowedIps.empty": () => "Lista dozwolonych adresów IP jest pusta: podaj adres, zakres albo maskę, albo usuń politykę.",
  "authTokenRequest.allowedIps.list": () => "Dozwolone adresy IP muszą być listą tekstów.",
  "authTokenRequest.allowedIps.count": (p) => `Można podać najwyżej ${p.max ?? 10} pozycji każdego rodzaju (podano ${p.actual ?? "?"}).`,
  "authTokenRequest.allowedIps.format": (p) => `Adres nie ma postaci ${p.example ?? "a.b.c.d"}.`,
  "authTokenRequest.allowedIps.rangeOrder": () => "Zakres adresów IP zaczyna się za swoim końcem: najpierw podaj niższy adres.",
  // XML read from outside (parseXmlSafely's structure limits).
  "xml.depth": (p) =>
    `Dokument XML ma elementy zagnieżdżone na więcej niż ${p.max ?? 64} poziomach, więc go odrzucono; podpisany wniosek AuthTokenRequest ma ich kilkanaście. Sprawdź, czy to właściwy plik.`,
  "xml.elements": (p) =>
    `Dokument XML ma więcej niż ${p.max ?? 10_000} elementów (licząc komentarze i instrukcje przetwarzania), więc go odrzucono; podpisany wniosek AuthTokenRequest ma ich najwyżej kilkaset. Sprawdź, czy to właściwy plik.`,
  "xml.attributes": (p) =>
    `Dokument XML ma więcej niż ${p.max ?? 10_000} atrybutów (licząc deklaracje przestrzeni nazw), więc go odrzucono; podpisany wniosek AuthTokenRequest ma ich kilkadziesiąt. Sprawdź, czy to właściwy plik.`,
  // XAdES signing.
  "xades.certificate.offline": () =>
    "Certyfikatem typu Offline nie można się uwierzytelnić w KSeF: użyj certyfikatu typu Authentication albo podpisu kwalifikowanego / Profilu Zaufanego.",
  "xades.signingTime": () => "Czas złożenia podpisu nie jest poprawną datą.",
  // KOD I / KOD II.
  "kod2.certificateType": () => "Link KOD II podpisuje się certyfikatem typu Offline, nie Authentication.",
  "kod2.certificateExpired": (p) => `Certyfikat Offline wygasł ${p.validTo ?? ""}: KSeF odrzuca linki KOD II wygasłych certyfikatów.`,
  "kod2.certificateNotYetValid": (p) => `Certyfikat Offline jest ważny dopiero od ${p.validFrom ?? ""}.`,
  "kod2.certificateSerial": (p) => `Numer seryjny certyfikatu ${p.serialNumber ?? ""} nie jest numerem certyfikatu KSeF (16 znaków szesnastkowych).`,
  "kod2.at": () => "Chwila sprawdzenia ważności certyfikatu nie jest poprawną datą.",
  "contextIdentifier.type": (p) => `Typ identyfikatora kontekstu musi być jednym z: ${p.allowed ?? "Nip, InternalId, NipVatUe, PeppolId"}.`,
  "nipVatUe.format": () => "Identyfikator NIP-VAT UE to NIP, kreska i numer VAT UE (np. 5265877635-ATU12345678).",
  "peppolId.format": () => "Identyfikator dostawcy Peppol to P, dwie wielkie litery i sześć cyfr (np. PPL123456).",
  "ksefNumber.format": () => "Numer KSeF ma postać NIP-RRRRMMDD-XXXXXXXXXXXX-XX.",
  "issueDate.format": () => "Data wystawienia (P_1) ma postać RRRR-MM-DD.",
  "invoice.empty": () => "Plik faktury jest pusty.",
  "invoice.sha256": () => "Skrót faktury to SHA-256 (32 bajty) pliku XML faktury dokładnie w tej postaci, w jakiej trafia do KSeF.",
  "qrBaseUrl.format": () => "Adres bazowy weryfikacji QR musi być adresem https bez końcowego ukośnika.",
  "qrLabel.characters": () => "Podpis pod kodem QR może zawierać tylko wielkie litery A–Z, cyfry i kreskę.",
  "qrLabel.length": (p) => `Podpis pod kodem QR może mieć najwyżej ${p.max ?? 64} znaków.`,
  "qr.capacity": () => "Link jest za długi, by zmieścić się w kodzie QR.",
  // Admin app: accounts, revocation, import and export (issues 5 and 7).
  "login.format": () => "Login musi mieć od 2 do 64 znaków: litery, cyfry, kropka, podkreślenie, @ lub kreska.",
  "login.unique": () => "Konto o takim loginie już istnieje.",
  "displayName.length": (p) => `Nazwa wyświetlana musi mieć od ${p.min ?? 1} do ${p.max ?? 200} znaków.`,
  "current.wrong": () => "Obecne hasło jest nieprawidłowe.",
  "password.required": () => "Podaj hasło.",
  "password.repeat": () => "Hasła nie są takie same.",
  "masterKey.required": () => "Na serwerze nie ma klucza głównego, więc hasła nie można zachować.",
  "role.known": () => "Nieznana rola.",
  "reason.oneOf": () => "Przyczyna unieważnienia musi być jedną z przyczyn KSeF: Unspecified, Superseded, KeyCompromise.",
  "signingCertificate.type": () => "Do KSeF loguje tylko certyfikat uwierzytelniający (Authentication).",
  "signingCertificate.valid": () => "Certyfikat do logowania nie jest ważny.",
  "signingCertificate.environment": () => "Certyfikat do logowania pochodzi z innego środowiska KSeF niż unieważniany.",
  "signingCertificate.identity": () => "KSeF pozwala unieważnić tylko własne certyfikaty: certyfikat do logowania wskazuje inną osobę lub firmę.",
  "signingCertificate.access": () =>
    "Logowanie do KSeF certyfikatem używa jego klucza prywatnego: Twoja rola może ten certyfikat oglądać, ale nie może go użyć.",
  // Input refused at the edge (the API's schemas and the request's text).
  "input.characters": () => "Tekst zawiera znaki, których nie można zapisać (znak NUL albo uszkodzony znak Unicode).",
  "input.encoding": () => "Żądanie nie jest poprawnym tekstem UTF-8.",
  "input.too_big": (p) => (p.max === undefined ? "Wartość jest za duża albo za długa." : `Najwyżej ${p.max} (znaków, pozycji albo jednostek).`),
  "input.too_small": (p) => (p.min === undefined ? "Wartość jest za mała albo za krótka." : `Co najmniej ${p.min} (znaków, pozycji albo jednostek).`),
  "input.invalid_type": () => "Ta wartość ma niewłaściwy typ.",
  "input.invalid_value": (p) => (p.allowed === undefined ? "Niedozwolona wartość." : `Dozwolone wartości: ${p.allowed}.`),
  "input.invalid_format": () => "Ta wartość ma niewłaściwy format.",
  "input.invalid_union": () => "Ta wartość nie pasuje do żadnej z dozwolonych postaci.",
  "input.unrecognized_keys": () => "Żądanie zawiera nieznane pola.",
  "input.not_multiple_of": () => "Ta liczba nie jest dozwoloną wielokrotnością.",
  "input.invalid_key": () => "Niedozwolony klucz.",
  "input.invalid_element": () => "Niedozwolony element.",
  "input.custom": () => "Niedozwolona wartość.",
  // Export destinations, uploads and the export root.
  "destination.name": (p) => `Nazwa miejsca eksportu ma od 1 do ${p.max ?? 64} znaków drukowalnych.`,
  "destination.path": () => "Folder to ścieżka względna wewnątrz katalogu eksportu, z ukośnikami /, bez „..”.",
  "destination.unique": () => "Ta nazwa jest już zajęta.",
  "destination.known": () => "Wybierz jedno z podanych miejsc eksportu.",
  "destination.company": () => "To miejsce eksportu przyjmuje tylko certyfikaty swojej firmy.",
  "exportRoot.absolute": () => "Katalog eksportu musi być ścieżką bezwzględną.",
  "exportRoot.folder": () => "Katalog eksportu musi być folderem.",
  "exportRoot.exists": () => "Katalog eksportu nie istnieje.",
  "exportRoot.filesystemRoot": () => "Katalogiem eksportu nie może być katalog główny systemu plików.",
  "exportRoot.dataDir": () => "Katalog eksportu musi leżeć poza folderem danych i nie może go zawierać.",
  "upload.empty": () => "Nie wybrano żadnego pliku.",
  "upload.size": (p) => `Przesyłka może mieć najwyżej ${p.maxFiles ?? 2000} plików i ${p.maxBytes ?? ""} bajtów.`,
  "upload.oneFile": () => "Ten format to jeden plik: wybierz dokładnie jeden.",
  "upload.name": () => "Nazwa jednego z plików jest niedozwolona.",
  "upload.duplicate": () => "Ten sam plik wybrano dwa razy.",
  "import.scopeRequired": () => "Wybierz firmę (oraz oddział lub operatora), dla której są te certyfikaty.",
  "adapter.import": () => "Ten format (adapter) służy tylko do eksportu.",
  "selection.empty": () => "Żaden certyfikat nie pasuje do wyboru; nie ma czego eksportować.",
  // The issuer decides the environment (ksef/issuers.ts).
  "certificate.environment": (p) =>
    p.belongsTo === "production"
      ? `Ten certyfikat wystawiło produkcyjne środowisko KSeF (${p.issuer ?? "CCK KSeF"}); zaimportuj go jako produkcyjny.`
      : `Ten certyfikat wystawiło testowe środowisko KSeF (${p.issuer ?? "TEST CCK KSeF"}), które podpisuje też certyfikaty środowiska demo; zaimportuj go jako testowy albo demo.`,
  "certificate.issuer": (p) =>
    `Ten certyfikat wystawił „${p.issuer ?? "?"}”, a nie produkcyjny urząd certyfikacji KSeF (${p.expected ?? "CCK KSeF"}); produkcyjny KSeF przyjmuje tylko certyfikaty wystawione przez siebie. Zaimportuj go jako testowy albo demo albo wybierz certyfikat pobrany z produkcyjnego KSeF.`,
};

/**
 * The Polish message of a violation; falls back to its English message for a rule without one.
 * @param violation a violation from any policy check
 */
export function violationMessagePl(violation: Violation): string {
  const build = MESSAGES_PL[violation.rule];
  return build ? build(violation.params ?? {}) : violation.message;
}
