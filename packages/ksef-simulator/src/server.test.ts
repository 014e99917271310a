import { afterEach, describe, expect, it } from "vitest";
import { sharedAuthority } from "./__fixtures__/harness.js";
import { startSimulator, type RunningSimulator } from "./app.js";
import { runCli } from "./cli.js";

const running: RunningSimulator[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe("startSimulator over HTTP", () => {
  it("listens on 127.0.0.1 at a free port, answers under /v2 with the socket's client address, and closes", async () => {
    const sim = await startSimulator({ ca: await sharedAuthority() });
    running.push(sim);
    expect(sim.url).toBe(`http://127.0.0.1:${String(sim.port)}/v2`);
    expect(sim.port).toBeGreaterThan(0);
    const res = await fetch(`${sim.url}/auth/challenge`, { method: "POST", headers: { "X-Forwarded-For": "198.51.100.9" } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { clientIp: string };
    // Over HTTP the socket address counts, not a header a client could forge.
    expect(body.clientIp).toBe("127.0.0.1");
    sim.setFaults({ errorRate: 1 });
    expect((await fetch(`${sim.url}/auth/challenge`, { method: "POST" })).status).toBe(500);
    const faults = await fetch(`http://127.0.0.1:${String(sim.port)}/__simulator/faults`, { method: "POST", body: JSON.stringify({}) });
    expect(faults.status).toBe(200);
    expect((await fetch(`${sim.url}/auth/challenge`, { method: "POST" })).status).toBe(200);
    expect(sim.state.openApiViolations.response).toEqual([]);
    await sim.close();
    running.pop();
    await expect(fetch(`${sim.url}/auth/challenge`, { method: "POST" })).rejects.toThrow();
  });
});

describe("ksef-simulator command", () => {
  it("starts with --port 0 --json and prints one JSON line with the URL", async () => {
    const out: string[] = [];
    const sim = await runCli(["--port", "0", "--json", "--no-rate-limits", "--enrollment-delay-ms", "0"], { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(sim).toBeDefined();
    if (sim === undefined) return;
    running.push(sim);
    expect(out).toHaveLength(1);
    const printed = JSON.parse(out[0] ?? "") as { url: string; port: number };
    expect(printed.url).toBe(sim.url);
    for (let i = 0; i < 65; i++) expect((await fetch(`${printed.url}/auth/challenge`, { method: "POST" })).status).toBe(200);
  });

  it("prints help and refuses a bad port without starting", async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    expect(await runCli(["--help"], io)).toBeUndefined();
    expect(out.join("\n")).toMatch(/--enrollment-delay-ms/);
    out.length = 0;
    expect(await runCli(["--port", "99999"], io)).toBeUndefined();
    expect(out.join("\n")).toMatch(/--port/);
    process.exitCode = 0;
  });
});
