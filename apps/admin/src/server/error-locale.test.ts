// Error bodies by message id: the tRPC error formatter puts the message and hint ids (with their parameters) in
// `data.ksef` beside the English sentences, words violations in the request's language, and never names an
// internal error's message; the request's language comes from the web app's header, then Accept-Language, then Polish.
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { CATALOGUES, msg, translate, type Locale } from "@ksef-certs/ksef/messages";
import { appRouter } from "./router.js";
import { LOCALE_HEADER, localizeViolations, requestLocale } from "./trpc.js";

interface KsefData {
  code: string;
  message: string;
  messageId?: string;
  params?: Record<string, string | number>;
  hint: string | null;
  hintId?: string;
  hintParams?: Record<string, string | number>;
  violations: { field: string; rule: string; message: string }[];
}

/** The formatted error body of `cause` thrown by a procedure, for a request in `locale` (none: an in-process caller). */
function format(cause: KsefCertsError, locale?: Locale): { message: string; data: { ksef: KsefData | null } } {
  const error = new TRPCError({ code: cause.code === "INTERNAL" ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST", message: cause.message, cause });
  return appRouter._def._config.errorFormatter({
    error,
    type: "mutation",
    path: "org.addCompany",
    input: undefined,
    ctx: locale === undefined ? undefined : { locale },
    shape: { message: "", code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400, path: "org.addCompany" } },
  } as never) as unknown as { message: string; data: { ksef: KsefData | null } };
}

describe("error bodies by message id", () => {
  const refused = (): KsefCertsError =>
    new KsefCertsError("VALIDATION", msg("error.validation", { count: 1, rules: "nip.format" }), {
      hint: msg("input.encoding"),
      violations: [{ field: "nip", rule: "nip.notInAnyCatalogue", message: "As reported." }],
    });

  it("carries the message and hint ids with their parameters, the English sentences unchanged", () => {
    const body = format(refused(), "pl");
    const ksef = body.data.ksef;
    expect(ksef).toMatchObject({
      code: "VALIDATION",
      messageId: "error.validation",
      params: { count: 1, rules: "nip.format" },
      hintId: "input.encoding",
      message: translate("en", msg("error.validation", { count: 1, rules: "nip.format" })),
      hint: translate("en", msg("input.encoding")),
    });
    expect(body.message).toBe(ksef?.message);
    // A rule the catalogue does not know keeps the words it was reported with.
    expect(ksef?.violations).toEqual([{ field: "nip", rule: "nip.notInAnyCatalogue", message: "As reported." }]);
  });

  it("names no id for an error given as plain text, and none for an internal error (its message stays hidden)", () => {
    expect(format(new KsefCertsError("CONFLICT", "Plain text."), "en").data.ksef).not.toHaveProperty("messageId");
    const internal = format(new KsefCertsError("INTERNAL", msg("error.validation", { count: 2, rules: "a, b" })), "en");
    expect(internal.data.ksef).not.toHaveProperty("messageId");
    expect(internal.data.ksef).not.toHaveProperty("params");
    expect(internal.data.ksef?.message).toBe("Internal error.");
  });

  // Rule sentences live in the catalogue's rules section; this runs once it holds one.
  const ruleIds = Object.keys(CATALOGUES.en).filter(
    (k) => k.startsWith("rule.") && !/\{\{/.test(CATALOGUES.en[k] ?? "") && CATALOGUES.pl[k] !== CATALOGUES.en[k],
  );
  it.runIf(ruleIds.length > 0)("words each violation in the request's language (Polish for a caller that names none)", () => {
    const rule = (ruleIds[0] ?? "").slice("rule.".length);
    const cause = new KsefCertsError("VALIDATION", "Refused.", { violations: [violation("field", rule)] });
    expect(format(cause, "pl").data.ksef?.violations[0]?.message).toBe(CATALOGUES.pl[`rule.${rule}`]);
    expect(format(cause, "en").data.ksef?.violations[0]?.message).toBe(CATALOGUES.en[`rule.${rule}`]);
    expect(format(cause).data.ksef?.violations[0]?.message).toBe(CATALOGUES.pl[`rule.${rule}`]);
    expect(localizeViolations(cause.violations, "en")).toEqual(cause.violations);
  });

  it("takes the request's language from the app's header, then Accept-Language by quality, then Polish", () => {
    const locale = (headers: Record<string, string>): Locale => requestLocale(new Headers(headers));
    expect(locale({ [LOCALE_HEADER]: "en", "accept-language": "pl-PL" })).toBe("en");
    expect(locale({ [LOCALE_HEADER]: "pl", "accept-language": "en" })).toBe("pl");
    expect(locale({ [LOCALE_HEADER]: "de", "accept-language": "en-GB,en;q=0.9" })).toBe("en");
    expect(locale({ "accept-language": "de-DE, pl;q=0.5, en;q=0.8" })).toBe("en");
    expect(locale({ "accept-language": "de-DE, en;q=0, pl;q=0.3" })).toBe("pl");
    expect(locale({ "accept-language": "*" })).toBe("pl");
    expect(locale({})).toBe("pl");
  });
});
