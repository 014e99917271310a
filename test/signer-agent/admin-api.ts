/**
 * The admin's side of the operator-flow suite: the admin server's tRPC API over plain HTTP, in the wire format
 * of the web app's `httpBatchLink` (tRPC 11, no transformer): a query is `GET /trpc/<path>?batch=1&input={"0":…}`,
 * a mutation `POST /trpc/<path>?batch=1` with body `{"0":…}`, each answered with `[{ result: { data } }]` or
 * `[{ error: { message, data: { code } } }]`. The session is the `ksef_certs_session` cookie that `auth.login`
 * sets; every mutation carries the CSRF token it returns in `x-csrf-token`. (The test package does not depend on
 * `@trpc/client`; this is the same wire, so the server is driven exactly as the browser drives it.)
 */

/** A signed-in admin: `query` and `mutation` by procedure path (`"org.addCompany"`); they throw on tRPC errors. */
export interface AdminApi {
  query<T>(path: string, input?: unknown): Promise<T>;
  mutation<T>(path: string, input?: unknown): Promise<T>;
}

interface Answer {
  readonly result?: { readonly data: unknown };
  readonly error?: { readonly message: string; readonly data?: { readonly code?: string } };
}

async function call(
  base: string,
  path: string,
  init: { method: "GET" | "POST"; input: unknown; headers: Record<string, string> },
): Promise<{ data: unknown; response: Response }> {
  const batch = JSON.stringify({ 0: init.input });
  const url = `${base}/trpc/${path}?batch=1${init.method === "GET" ? `&input=${encodeURIComponent(batch)}` : ""}`;
  const response = await fetch(url, {
    method: init.method,
    headers: { ...init.headers, ...(init.method === "POST" ? { "content-type": "application/json" } : {}) },
    ...(init.method === "POST" ? { body: batch } : {}),
  });
  const text = await response.text();
  let answers: Answer[];
  try {
    answers = JSON.parse(text) as Answer[];
  } catch {
    throw new Error(`${path}: HTTP ${String(response.status)}, not a tRPC answer: ${text.slice(0, 500)}`);
  }
  const [answer] = answers;
  if (answer?.error !== undefined) throw new Error(`${path}: ${answer.error.data?.code ?? "ERROR"} ${answer.error.message}`);
  if (answer?.result === undefined) throw new Error(`${path}: HTTP ${String(response.status)} without a result: ${text.slice(0, 500)}`);
  return { data: answer.result.data, response };
}

/**
 * Signs in through `auth.login` and returns a client carrying the session cookie and the CSRF token.
 * @param base the server's URL (`http://127.0.0.1:PORT`)
 * @param login the account's login
 * @param password its password
 * @throws Error when sign-in fails or sets no session cookie
 */
export async function signInAdmin(base: string, login: string, password: string): Promise<AdminApi> {
  const { data, response } = await call(base, "auth.login", { method: "POST", input: { login, password }, headers: {} });
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0] ?? "")
    .find((c) => c.startsWith("ksef_certs_session="));
  if (cookie === undefined) throw new Error("auth.login set no session cookie");
  const csrf = (data as { csrfToken: string }).csrfToken;
  return {
    query: async <T>(path: string, input?: unknown) => (await call(base, path, { method: "GET", input, headers: { cookie } })).data as T,
    mutation: async <T>(path: string, input?: unknown) =>
      (await call(base, path, { method: "POST", input, headers: { cookie, "x-csrf-token": csrf } })).data as T,
  };
}

/**
 * Polls `read` every `intervalMs` until `done` holds (an enrollment's state over `enrollments.get`, say), failing
 * after `timeoutMs` with the last value and `logs()` (the server's, for the failure message).
 * @param what what is waited for, for the message
 * @param read reads the current value
 * @param done whether the value is the awaited one
 * @param options `timeoutMs` (default 30 s), `intervalMs` (default 200 ms), `logs`
 * @returns the first value `done` accepts
 * @throws Error on timeout
 */
export async function pollUntil<T>(
  what: string,
  read: () => Promise<T>,
  done: (v: T) => boolean,
  options: { readonly timeoutMs?: number; readonly intervalMs?: number; readonly logs?: () => string } = {},
): Promise<T> {
  const end = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}\n${options.logs?.() ?? ""}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}

/** What the suites read of `enrollments.get` / `enrollments.list` (the server sends more). */
export interface EnrollmentView {
  readonly id: string;
  readonly state: string;
  readonly certificateId: string | null;
  readonly certificateSerialNumber: string | null;
  readonly failureReason: string | null;
  readonly workstationId: string | null;
}
