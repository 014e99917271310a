import { describe, expect, it } from "vitest";
import { assertNoViolations, errorForLog, isKsefCertsError, KsefCertsError, localizeError } from "./errors.js";
import { msg } from "./messages/index.js";

describe("KsefCertsError", () => {
  it("carries code, hint and violations, and serialises without its cause", () => {
    const cause = new Error("secret-bearing low-level text");
    const err = new KsefCertsError("WRONG_PASSWORD", "The password does not decrypt this key.", { hint: "Try again.", cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe("WRONG_PASSWORD");
    expect(err.cause).toBe(cause);
    expect(JSON.stringify(err)).not.toContain("secret-bearing");
    expect(err.toJSON()).toEqual({ code: "WRONG_PASSWORD", message: "The password does not decrypt this key.", hint: "Try again." });
  });

  it("carries its message and hint by id: English in message/hint, any locale through localizeError, ids kept for clients", () => {
    const err = new KsefCertsError("VALIDATION", msg("input.characters", { field: "login" }), { hint: msg("error.internal") });
    expect(err.message).toBe("login contains a NUL character or an unpaired surrogate.");
    expect(err.hint).toBe("Something went wrong inside ksef-certs. The details are in the log.");
    expect(localizeError(err, "pl")).toEqual({
      code: "VALIDATION",
      message: "Pole login zawiera znak NUL lub niesparowany surogat.",
      messageId: "input.characters",
      params: { field: "login" },
      hint: "W ksef-certs wystąpił nieoczekiwany błąd. Szczegóły są w dzienniku.",
      hintId: "error.internal",
    });
    expect(err.toJSON()).toMatchObject({ message: err.message, messageId: "input.characters", hintId: "error.internal" });
  });

  it("isKsefCertsError narrows by code", () => {
    const err = new KsefCertsError("MALFORMED", "x");
    expect(isKsefCertsError(err)).toBe(true);
    expect(isKsefCertsError(err, "MALFORMED", "TOO_LARGE")).toBe(true);
    expect(isKsefCertsError(err, "WRONG_PASSWORD")).toBe(false);
    expect(isKsefCertsError(new Error("x"))).toBe(false);
  });

  it("assertNoViolations throws every violation at once", () => {
    expect(() => {
      assertNoViolations([], "ok");
    }).not.toThrow();
    const violations = [
      { field: "password", rule: "password.minLength", message: "at least 15 characters" },
      { field: "password", rule: "password.digit", message: "at least one digit" },
    ];
    try {
      assertNoViolations(violations, "The password breaks the rules");
      expect.unreachable();
    } catch (e) {
      expect(isKsefCertsError(e, "VALIDATION")).toBe(true);
      expect((e as KsefCertsError).violations).toEqual(violations);
      expect((e as KsefCertsError).message).toContain("at least one digit");
    }
  });

  it("errorForLog keeps what helps and drops bound values, PostgreSQL details and value fields, also in causes", () => {
    const secret = "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI";
    const pg = Object.assign(new Error('new row for relation "certificates" violates check constraint "x"'), {
      code: "23514",
      constraint: "x",
      detail: `Failing row contains (${secret}).`,
      where: secret,
    });
    const drizzle = Object.assign(new Error(`Failed query: insert into "certificates" ("key_file") values ($1)\nparams: ${secret}`), {
      query: 'insert into "certificates"',
      params: [secret],
      cause: pg,
    });
    const core = new KsefCertsError("INTERNAL", "The certificate could not be stored.", { cause: drizzle, details: { id: "c1" } });
    const logged = JSON.stringify(errorForLog(core));
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain(secret.slice(0, 16));
    const out = errorForLog(core) as {
      type: string;
      details: unknown;
      cause: { message: string; paramsOmitted: boolean; cause: { code: string; constraint: string; detailOmitted: boolean } };
    };
    expect(out.type).toBe("KsefCertsError");
    expect(out.details).toEqual({ id: "c1" });
    expect(out.cause.message).toBe('Failed query: insert into "certificates" ("key_file") values ($1)');
    expect(out.cause.paramsOmitted).toBe(true);
    expect(out.cause.cause).toMatchObject({ code: "23514", constraint: "x", detailOmitted: true });
    expect(errorForLog("plain text\nparams: 1,2,3")).toEqual({ type: "string", message: "plain text" });
  });
});
