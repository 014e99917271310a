import type { server as en } from "../en/server.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for the admin server (HTTP, tRPC, the agent API) (same ids and parameters as the English one). */
export const server = {
  "server.agent.bodyTooLarge": "Treść żądania przekracza {{limitBytes}} bajtów.",
  "server.agent.internal": "Nieoczekiwany błąd serwera; szczegóły są w jego dzienniku.",
  "server.agent.invalidBody": "Treść żądania jest niepoprawna: {{problems}}",
  "server.agent.noRoute": "API agenta nie ma ścieżki {{method}} {{path}}.",
  "server.agent.notJson": "Treść żądania nie jest w formacie JSON.",
  "server.agent.notJson.hint": "Wyślij obiekt JSON z nagłówkiem Content-Type: application/json.",
  "server.agent.pairThrottled": "Zbyt wiele błędnych kodów parowania z tego komputera; odczekaj przed kolejną próbą.",
  "server.agent.pairThrottled.hint": "Spróbuj ponownie za {{seconds}} s z nowym kodem od administratora.",
  "server.agent.uploadContentType": "Prześlij podpisany plik jako dokładne bajty z nagłówkiem Content-Type: application/octet-stream.",
  "server.agent.uploadSha256": "Nagłówek X-Content-SHA256 musi zawierać skrót SHA-256 pliku (64 cyfry szesnastkowe).",
  "server.agent.waitMs": "waitMs musi być całkowitą liczbą milisekund od 0 do {{max}}.",
  "server.csrf": "Brak tokenu CSRF lub jest on błędny; odśwież stronę.",
  "server.enrollments.notConfigured": "Ten serwer nie obsługuje wniosków o certyfikaty.",
  "server.input.unstorable": "Tekst zawiera znaki, których nie można zapisać (znak NUL lub uszkodzony surogat UTF-16).",
  "server.ksef.notConfigured": "Ten serwer nie łączy się z KSeF.",
  "server.listen.failed": "Nie można nasłuchiwać na {{host}}: {{reason}}",
  "server.listen.portInUse": "Port {{port}} na {{host}} jest zajęty.",
  "server.listen.portInUse.hint": "Zatrzymaj drugi serwer albo wybierz inny --port.",
  "server.publicOrigin": "Publiczny adres musi być adresem http(s), np. https://ksef.example.pl.",
  "server.sealPassword.noMasterKey": "Nie skonfigurowano klucza głównego, więc nie można zachować hasła.",
  "server.stopping": "Serwer się zatrzymuje.",
  "server.upload.notBase64": "Przesłany plik {{field}} jest pusty albo nie jest zakodowany w base64.",
  "server.upload.tooLarge": "Plik {{field}} ma {{bytes}} bajtów; przyjmujemy najwyżej {{max}}.",
  "server.adapter.unknown": "Nieznany format (adapter) {{adapter}}.",
  "server.adapter.unknown.hint": "Użyj jednego z: {{allowed}}.",
  "server.enrollment.signingPassword.hint": "Zaimportuj certyfikat do logowania z zapieczętowanym hasłem albo użyj przekazania pliku do podpisu.",
  "server.host.refused": "Ten serwer nie odpowiada pod tą nazwą hosta.",
  "server.host.refused.hint": "Otwórz go pod adresem wypisanym przy starcie albo skonfiguruj jego publiczny adres (--public-origin).",
} as const satisfies PolishSection<typeof en>;
