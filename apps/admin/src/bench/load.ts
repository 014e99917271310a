/**
 * The load generator of the admin benchmark, run as a SECOND process (`node dist/bench/load.js`) so
 * the server's event loop is not shared with the client: one autocannon run per scenario given as JSON
 * on argv[2]; prints one JSON line of results per scenario.
 */
import autocannon from "autocannon";

/** One scenario: a GET with the session cookie. */
export interface LoadScenario {
  readonly name: string;
  readonly url: string;
  readonly cookie: string;
  readonly connections: number;
  readonly durationSeconds: number;
}

/** What one scenario measured. */
export interface LoadResult {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
}

const scenarios = JSON.parse(process.argv[2] ?? "[]") as LoadScenario[];
for (const s of scenarios) {
  const r = await autocannon({ url: s.url, connections: s.connections, duration: s.durationSeconds, headers: { cookie: s.cookie } });
  const latency = r.latency as unknown as Record<string, number>;
  const result: LoadResult = {
    name: s.name,
    requestsPerSecond: r.requests.average,
    p50Ms: latency["p50"] ?? NaN,
    // autocannon reports p90, p97_5 and p99; p95 is interpolated between p90 and p97.5.
    p95Ms: (latency["p90"] ?? NaN) + ((latency["p97_5"] ?? NaN) - (latency["p90"] ?? NaN)) * (5 / 7.5),
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
