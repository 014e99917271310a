import type { adapters as en } from "../en/adapters.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the ERP adapters and the KSeF simulator (same ids and parameters as the English one). */
export const adapters = {
  "adapters.bundle.tooManyEntries": "Pakiet zawiera zbyt wiele pozycji (limit: {{limit}}).",
  "adapters.bundle.notAFile": "Pakiet zawiera pozycję typu {{type}} ({{entry}}); przyjmujemy tylko pliki.",
  "adapters.bundle.tooLarge": "Pakiet po rozpakowaniu przekracza limit {{limit}} B.",
  "adapters.bundle.damaged": "Archiwum pakietu jest uszkodzone.",
  "adapters.bundle.entryMissing": "W pakiecie brakuje pliku {{entry}}.",
  "adapters.bundle.entryTooLarge": "Plik {{entry}} w pakiecie przekracza limit {{limit}} B.",
  "adapters.read.unexpected.pair": "Nieoczekiwany błąd podczas odczytu pary plików.",
  "adapters.read.unexpected.tree": "Nieoczekiwany błąd podczas odczytu drzewa folderów.",
  "adapters.read.unexpected.pkcs12": "Nieoczekiwany błąd podczas odczytu pliku PKCS#12.",
  "adapters.file.notFormat": "Plik {{ref}} nie jest w formacie {{format}}.",
  "adapters.pemPair.halfMissing": "{{name}}: obok pliku {{present}} brakuje pliku {{missing}}.",
  "adapters.pemPair.notKsef": "Plik {{ref}} nie jest certyfikatem KSeF (jego rozszerzenie Key Usage nie wskazuje typu certyfikatu KSeF).",
  "adapters.pkcs12.notKsef": "Plik {{ref}} nie zawiera certyfikatu KSeF (jego rozszerzenie Key Usage nie wskazuje typu certyfikatu KSeF).",
  "adapters.f2000.noScope": "Certyfikat {{serialNumber}} nie ma określonego środowiska lub zakresu, a drzewo F2000 ich wymaga.",
  "adapters.f2000.manifest.tooLarge": "Manifest przekracza limit {{limit}} B.",
  "adapters.f2000.manifest.notJson": "Manifest F2000 nie jest poprawnym plikiem JSON.",
  "adapters.f2000.manifest.exportAgain.hint": "Plik jest uszkodzony; wyeksportuj drzewo ponownie.",
  "adapters.f2000.manifest.wrongFormat": "To nie jest manifest w formacie {{format}}.",
  "adapters.f2000.manifest.wrongFormat.hint": "Plik jest uszkodzony albo pochodzi z innego programu.",
  "adapters.f2000.manifest.version": "Manifest ma wersję {{version}}; ta wersja ksef-certs odczytuje wersję {{supported}}.",
  "adapters.f2000.manifest.tooManyCertificates": "Manifest wymienia zbyt wiele certyfikatów (limit: {{limit}}).",
  "adapters.f2000.manifest.entryIncomplete": "Jedna z pozycji manifestu F2000 jest niekompletna.",
  "simulator.openapi.unreadable": "Nie można odczytać dokumentu OpenAPI {{path}}.",
  "simulator.openapi.unreadable.hint": "Podaj w specPath ścieżkę do pliku spec/open-api.json z repozytorium.",
  "simulator.openapi.tooLarge": "Dokument OpenAPI {{path}} przekracza 16 MiB.",
  "simulator.openapi.notJson": "Plik {{path}} nie jest poprawnym plikiem JSON.",
  "simulator.openapi.notOpenApi3": "Plik {{path}} nie jest dokumentem OpenAPI 3.",
} as const satisfies PolishSection<typeof en>;
