import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { backoffDelayMs, classifyFetchFailure, parseRetryAfter } from "./retry.js";

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("30", now)).toBe(30_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("1.5", now)).toBe(1_500);
  });
  it("reads an HTTP-date relative to now, never negative", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 12:00:45 GMT", now)).toBe(45_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 11:00:00 GMT", now)).toBe(0);
  });
  it("ignores absent or unreadable values", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("2026", now)).toBe(2_026_000);
  });
});

describe("backoffDelayMs (full jitter)", () => {
  const policy = { baseDelayMs: 200, maxDelayMs: 5_000 };
  it("spans [0, base·2^(n−1)) and is capped", () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(1, policy, () => 0.999999)).toBe(199);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelayMs(10, policy, () => 0.999999)).toBe(4_999);
  });
});

describe("classifyFetchFailure", () => {
  it("a refused connection is 'not-sent' (real fetch to a closed port)", async () => {
    const srv = createServer();
    const port = await new Promise<number>((r) =>
      srv.listen(0, "127.0.0.1", () => {
        r((srv.address() as { port: number }).port);
      }),
    );
    await new Promise<void>((r) =>
      srv.close(() => {
        r();
      }),
    );
    const err: unknown = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(classifyFetchFailure(err, undefined)).toBe("not-sent");
  });
  it("a reset after connecting is 'unknown' (real server that drops the socket)", async () => {
    const srv = createServer((s) => {
      s.on("data", () => s.destroy());
    });
    const port = await new Promise<number>((r) =>
      srv.listen(0, "127.0.0.1", () => {
        r((srv.address() as { port: number }).port);
      }),
    );
    const err: unknown = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "x" }).catch((e: unknown) => e);
    await new Promise<void>((r) =>
      srv.close(() => {
        r();
      }),
    );
    expect(classifyFetchFailure(err, undefined)).toBe("unknown");
  });
  it("the caller's abort is 'aborted'", () => {
    const ac = new AbortController();
    ac.abort();
    expect(classifyFetchFailure(new Error("x"), ac.signal)).toBe("aborted");
  });
});
