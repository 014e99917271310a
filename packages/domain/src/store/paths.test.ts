import { homedir } from "node:os";
import { describe, expect, it } from "vitest";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { databaseDir, defaultDataDir, lockFilePath, masterKeyFilePath, resolveDataDir } from "./paths.js";

describe("data folder", () => {
  it("follows each platform's convention", () => {
    expect(defaultDataDir({ platform: "linux", homeDir: "/home/ala", env: {} })).toBe("/home/ala/.local/share/ksef-certs");
    expect(defaultDataDir({ platform: "linux", homeDir: "/home/ala", env: { XDG_DATA_HOME: "/data/xdg" } })).toBe("/data/xdg/ksef-certs");
    // The XDG spec says relative values are invalid and must be ignored.
    expect(defaultDataDir({ platform: "linux", homeDir: "/home/ala", env: { XDG_DATA_HOME: "rel/xdg" } })).toBe("/home/ala/.local/share/ksef-certs");
    expect(defaultDataDir({ platform: "freebsd", homeDir: "/home/ala", env: {} })).toBe("/home/ala/.local/share/ksef-certs");
    expect(defaultDataDir({ platform: "darwin", homeDir: "/Users/ala", env: {} })).toBe("/Users/ala/Library/Application Support/ksef-certs");
    expect(defaultDataDir({ platform: "win32", homeDir: "C:\\Users\\ala", env: { APPDATA: "C:\\Users\\ala\\AppData\\Roaming" } })).toBe(
      "C:\\Users\\ala\\AppData\\Roaming\\ksef-certs",
    );
    expect(defaultDataDir({ platform: "win32", homeDir: "C:\\Users\\ala", env: {} })).toBe("C:\\Users\\ala\\AppData\\Roaming\\ksef-certs");
  });

  it("prefers the explicit folder, then KSEF_CERTS_DATA_DIR, then the default", () => {
    expect(resolveDataDir("/x", { KSEF_CERTS_DATA_DIR: "/y" })).toBe("/x");
    expect(resolveDataDir(undefined, { KSEF_CERTS_DATA_DIR: "/y" })).toBe("/y");
    expect(resolveDataDir(":memory:", { KSEF_CERTS_DATA_DIR: "/y" })).toBe(":memory:");
    expect(resolveDataDir(undefined, { XDG_DATA_HOME: "/xdg", KSEF_CERTS_DATA_DIR: "" })).toBe(
      defaultDataDir({ platform: process.platform, homeDir: homedir(), env: { XDG_DATA_HOME: "/xdg" } }),
    );
    for (const bad of ["", "  ", "a\0b", "/".repeat(5000)]) {
      expect(() => resolveDataDir(bad, {})).toThrow(KsefCertsError);
    }
  });

  it("names the files inside a data folder", () => {
    expect(databaseDir("/d")).toBe("/d/db");
    expect(lockFilePath("/d")).toBe("/d/ksef-certs.lock");
    expect(masterKeyFilePath("/d")).toBe("/d/master.key");
  });
});
