import type { access as en } from "../en/access.js";
import type { PolishSection } from "../types.js";

/** Polish catalogue, section for access rules, reports and the use cases behind the admin server's procedures (same ids and parameters as the English one). */
export const access = {
  "access.audit.chooseScope": "Wybierz firmę lub obiekt: Twoja rola pozwala czytać tylko część dziennika zdarzeń.",
  "access.audit.companyLogForbidden": "Cały dziennik zdarzeń firmy czytają tylko jej administratorzy i audytorzy.",
  "access.audit.noEntity": "Nie ma obiektu o identyfikatorze {{id}}.",
  "access.audit.verifyForbidden": "Twoja rola nie pozwala sprawdzać dziennika zdarzeń.",
  "access.certificates.badCursor": "Ten kursor nie pochodzi z tego serwera.",
  "access.certificates.countCap": "countCap musi być dodatnią liczbą całkowitą.",
  "access.certificates.expiringWithinDays": "expiringWithinDays musi być liczbą dni od 0 do 36500.",
  "access.certificates.limit": "limit musi być liczbą całkowitą od 1 do 200.",
  "access.certificates.search": "Tekst wyszukiwania może mieć najwyżej 100 znaków.",
  "access.company.addSuperAdminOnly": "Firmy dodaje tylko superadministrator.",
  "access.audit.limit": "limit musi być liczbą całkowitą od {{min}} do {{max}}.",
  "access.audit.cursor": "Kursor stronicowania jest nieprawidłowy.",
} as const satisfies PolishSection<typeof en>;
