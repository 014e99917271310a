import { describe, expect, it } from "vitest";
import { assertNoViolations, isKsefCertsError, KsefCertsError } from "./errors.js";

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

  it("isKsefCertsError narrows by code", () => {
    const err = new KsefCertsError("MALFORMED", "x");
    expect(isKsefCertsError(err)).toBe(true);
    expect(isKsefCertsError(err, "MALFORMED", "TOO_LARGE")).toBe(true);
    expect(isKsefCertsError(err, "WRONG_PASSWORD")).toBe(false);
    expect(isKsefCertsError(new Error("x"))).toBe(false);
  });

  it("assertNoViolations throws every violation at once", () => {
    expect(() => { assertNoViolations([], "ok"); }).not.toThrow();
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
});
