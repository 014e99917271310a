import { describe, expect, it } from "vitest";
import { defaultLocale, langArgument } from "./locale.js";

describe("the agent's language", () => {
  it("reads --lang in both spellings, the last one winning, never after --", () => {
    expect(langArgument(["status", "--lang", "pl"])).toBe("pl");
    expect(langArgument(["--lang=en", "status"])).toBe("en");
    expect(langArgument(["--lang", "pl", "status", "--lang=en"])).toBe("en");
    expect(langArgument(["status", "--lang"])).toBe("");
    expect(langArgument(["give-up", "--", "--lang=pl"])).toBeUndefined();
    expect(langArgument(["status"])).toBeUndefined();
  });

  it("follows LC_ALL, LC_MESSAGES and LANG, and on Windows without them the system language", () => {
    expect(defaultLocale({ LANG: "pl_PL.UTF-8" }, "linux", "en-US")).toBe("pl");
    expect(defaultLocale({ LC_ALL: "en_US.UTF-8", LANG: "pl_PL.UTF-8" }, "win32", "pl-PL")).toBe("en");
    expect(defaultLocale({}, "win32", "pl-PL")).toBe("pl");
    expect(defaultLocale({ LANG: "" }, "win32", "pl")).toBe("pl");
    expect(defaultLocale({}, "win32", "de-DE")).toBe("en");
    expect(defaultLocale({}, "linux", "pl-PL")).toBe("en");
    expect(defaultLocale({}, "darwin", "pl-PL")).toBe("en");
  });
});
