import { describe, expect, it } from "vitest";
import { parseSystemWarnings } from "./warnings.js";

describe("parseSystemWarnings", () => {
  it("splits `[code]: message | [code]: message`", () => {
    expect(parseSystemWarnings("[sig-001]: Format podpisu niezgodny z akceptowanymi profilami XAdES | [x-2]: Druga wiadomosc")).toEqual([
      { code: "sig-001", message: "Format podpisu niezgodny z akceptowanymi profilami XAdES" },
      { code: "x-2", message: "Druga wiadomosc" },
    ]);
  });
  it("returns [] for absent, empty or unreadable headers", () => {
    expect(parseSystemWarnings(null)).toEqual([]);
    expect(parseSystemWarnings("")).toEqual([]);
    expect(parseSystemWarnings("no brackets here")).toEqual([]);
  });
});
