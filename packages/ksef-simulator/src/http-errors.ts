/**
 * KSeF's error bodies, in its two formats (ksef-docs `limity/limity-api.md`, SPEC components):
 * - legacy (default, `application/json`, SPEC `ExceptionResponse`, marked deprecated):
 *   `{exception:{exceptionDetailList:[{exceptionCode, exceptionDescription, details}], referenceNumber,
 *   serviceCode, serviceCtx, serviceName, timestamp}}`;
 * - Problem Details (`application/problem+json`, RFC 9457) when the request carries
 *   `X-Error-Format: problem-details` (SPEC `BadRequestProblemDetails`, `TooManyRequestsProblemDetails`);
 *   401, 403 and 410 are always Problem Details (SPEC `UnauthorizedProblemDetails`, `ForbiddenProblemDetails`,
 *   `GoneProblemDetails`).
 */
import { errorReference, traceId } from "./ids.js";

/** KSeF exception descriptions, verbatim from the SPEC's 400 tables (Polish, as KSeF sends them). */
export const EXCEPTION_DESCRIPTIONS: Readonly<Record<number, string>> = {
  9101: "Nieprawidłowy dokument.",
  9102: "Brak podpisu.",
  9103: "Przekroczona liczba dozwolonych podpisów.",
  9105: "Nieprawidłowy podpis.",
  21001: "Nieczytelna treść.",
  21111: "Nieprawidłowe wyzwanie autoryzacyjne.",
  21115: "Nieprawidłowy certyfikat.",
  21117: "Nieprawidłowy identyfikator podmiotu dla wskazanego typu kontekstu.",
  21217: "Nieprawidłowe kodowanie znaków.",
  21301: "Brak autoryzacji.",
  21304: "Brak uwierzytelnienia.",
  21308: "Próba wykorzystania metod autoryzacyjnych osoby zmarłej.",
  21401: "Dokument nie jest zgodny ze schemą (xsd).",
  21405: "Błąd walidacji danych wejściowych.",
  21406: "Konflikt podpisu i typu uwierzytelnienia.",
  21418: "Przekazany token kontynuacji ma nieprawidłowy format.",
  25001: "Brak możliwości pobrania danych do CSR dla wykorzystanego sposobu uwierzytelnienia.",
  25002: "Brak możliwości złożenia wniosku certyfikacyjnego dla wykorzystanego sposobu uwierzytelnienia.",
  25003: "Dane w CSR nie zgadzają się z danymi w użytym wektorze uwierzytelniającym.",
  25004: "Niepoprawny format CSR lub niepoprawny podpis CSR.",
  25005: "Wniosek certyfikacyjny o podanym numerze referencyjnym nie istnieje.",
  25006: "Osiągnięto limit możliwych do złożenia wniosków certyfikacyjnych.",
  25007: "Osiągnięto limit dopuszczalnej liczby posiadanych certyfikatów.",
  25008: "Certyfikat o podanym numerze seryjnym nie istnieje.",
  25009: "Nie można odwołać wskazanego certyfikatu, ponieważ jest już odwołany, zablokowany lub nieważny.",
  25010: "Nieprawidłowy typ lub długość klucza.",
  25011: "Nieprawidłowy algorytm podpisu CSR.",
};

/** `reasonCode` values of SPEC `ForbiddenProblemDetails`. */
export type ForbiddenReason =
  | "missing-permissions"
  | "ip-not-allowed"
  | "insufficient-resource-access"
  | "auth-method-not-allowed"
  | "security-service-blocked"
  | "context-type-not-allowed";

/**
 * An error answer of the simulated API. Thrown inside route handlers and rendered by the route
 * wrapper in the format the request asked for. Not a library error: it never leaves the simulator.
 */
export class KsefErrorReply extends Error {
  override readonly name = "KsefErrorReply";
  /**
   * @param status HTTP status (400, 401, 403, 410, 429, 500)
   * @param code KSeF exception code for 400 (e.g. 25003); ignored for other statuses
   * @param details the `details` strings of the exception (never secrets or document bytes)
   * @param extra `reasonCode` for 403, `retryAfterSeconds` for 429
   */
  constructor(
    readonly status: 400 | 401 | 403 | 410 | 429 | 500,
    readonly code: number | undefined,
    readonly details: readonly string[] = [],
    readonly extra: { readonly reasonCode?: ForbiddenReason; readonly retryAfterSeconds?: number; readonly detail?: string } = {},
  ) {
    super(code === undefined ? `HTTP ${String(status)}` : `KSeF ${String(code)}: ${EXCEPTION_DESCRIPTIONS[code] ?? "error"}`);
  }
}

/**
 * Shorthand for a 400 with one KSeF exception code.
 * @param code the exception code (see {@link EXCEPTION_DESCRIPTIONS})
 * @param details optional detail strings
 */
export function badRequest(code: number, ...details: string[]): KsefErrorReply {
  return new KsefErrorReply(400, code, details);
}

/** A rendered response: status, media type, JSON body (or none) and extra headers. */
export interface Reply {
  readonly status: number;
  /** `application/json`, `application/problem+json`, or undefined for an empty body. */
  readonly contentType?: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Renders an error as KSeF would send it.
 * @param err the error
 * @param problemDetails whether the request asked for Problem Details (`X-Error-Format: problem-details`)
 * @param instance the request path, for `instance`
 * @param serviceName the operation name for the legacy body's `serviceName`
 * @param now the current time (`timestamp`)
 */
export function renderError(err: KsefErrorReply, problemDetails: boolean, instance: string, serviceName: string, now: Date): Reply {
  const timestamp = now.toISOString();
  const trace = traceId();
  switch (err.status) {
    case 401:
      return {
        status: 401,
        contentType: "application/problem+json",
        body: { title: "Unauthorized", status: 401, detail: err.extra.detail ?? "Wymagane jest uwierzytelnienie.", instance, traceId: trace, timestamp },
      };
    case 403:
      return {
        status: 403,
        contentType: "application/problem+json",
        body: {
          title: "Forbidden",
          status: 403,
          detail: err.extra.detail ?? "Brak dostępu do wskazanego zasobu.",
          instance,
          reasonCode: err.extra.reasonCode ?? "insufficient-resource-access",
          traceId: trace,
          timestamp,
        },
      };
    case 410:
      return {
        status: 410,
        contentType: "application/problem+json",
        body: { title: "Gone", status: 410, instance, detail: "Operacja wygasła i nie jest już dostępna.", timestamp, traceId: trace },
      };
    case 429: {
      const seconds = err.extra.retryAfterSeconds ?? 1;
      const detail = err.details[0] ?? `Przekroczono limit liczby żądań. Spróbuj ponownie po ${String(seconds)} sekundach.`;
      const headers = { "Retry-After": String(seconds) };
      return problemDetails
        ? {
            status: 429,
            contentType: "application/problem+json",
            headers,
            body: { title: "Too Many Requests", status: 429, instance, detail, timestamp, traceId: trace },
          }
        : { status: 429, contentType: "application/json", headers, body: { status: { code: 429, description: "Too Many Requests", details: [detail] } } };
    }
    case 500:
      // Not documented by the SPEC; shaped like KSeF's other Problem Details answers.
      return {
        status: 500,
        contentType: "application/problem+json",
        body: {
          title: "Internal Server Error",
          status: 500,
          instance,
          detail: err.details[0] ?? "Wystąpił nieoczekiwany błąd. Spróbuj ponownie.",
          timestamp,
          traceId: trace,
        },
      };
    case 400: {
      const code = err.code ?? 21405;
      const description = EXCEPTION_DESCRIPTIONS[code] ?? "Błąd.";
      if (problemDetails) {
        return {
          status: 400,
          contentType: "application/problem+json",
          body: {
            title: "Bad Request",
            status: 400,
            instance,
            detail: "Żądanie jest nieprawidłowe.",
            errors: [{ code, description, details: [...err.details] }],
            timestamp,
            traceId: trace,
          },
        };
      }
      return {
        status: 400,
        contentType: "application/json",
        body: {
          exception: {
            exceptionDetailList: [{ exceptionCode: code, exceptionDescription: description, details: [...err.details] }],
            referenceNumber: errorReference(),
            serviceCode: `00-${trace}-${trace.slice(0, 16)}-00`,
            serviceCtx: "srvKSEFSIM",
            serviceName: serviceName,
            timestamp,
          },
        },
      };
    }
  }
}
