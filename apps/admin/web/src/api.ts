/**
 * The tRPC client of the web app: queries and mutations batched over `/trpc`, subscriptions over SSE
 * (router contract: `httpBatchLink` + `httpSubscriptionLink` via `splitLink`). The session rides in the
 * HttpOnly cookie; every mutation carries the CSRF token `auth.login`/`auth.me` returned, in `x-csrf-token`, and
 * every request the UI language in `x-ksef-certs-locale` (the server words violations in it).
 */
import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../src/server/router";
import { isMessageId, type MessageId, type MessageParams } from "@ksef-certs/ksef/messages";
import { localeOf, tId, webI18n, type T, type ViolationLike } from "./i18n";

/** Inputs of every procedure, by path. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Outputs of every procedure, by path. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

let csrfToken = "";

/**
 * Remembers the CSRF token to send with mutations (from `auth.login` / `auth.me`).
 * @param token the token; empty after sign-out
 */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** The one query cache; failed requests are not retried (errors are shown, not hidden behind retries). */
export const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false, staleTime: 5_000 } },
});

const client = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === "subscription",
      true: httpSubscriptionLink({ url: "/trpc" }),
      false: httpBatchLink({
        url: "/trpc",
        headers: ({ opList }) => ({
          "x-ksef-certs-locale": localeOf(webI18n),
          ...(opList.some((op) => op.type === "mutation") ? { "x-csrf-token": csrfToken } : {}),
        }),
      }),
    }),
  ],
});

/** Typed query/mutation/subscription options for every procedure (`trpc.org.tree.queryOptions()`). */
export const trpc = createTRPCOptionsProxy<AppRouter>({ client, queryClient });

/** What the server puts in `error.data.ksef` for a core `KsefCertsError` (the message and hint also by id, once their code is in the catalogue). */
export interface KsefErrorData {
  readonly code: string;
  /** The server's sentence, in English. */
  readonly message: string;
  readonly messageId?: MessageId | undefined;
  readonly params?: MessageParams | undefined;
  readonly hint?: string | undefined;
  readonly hintId?: MessageId | undefined;
  readonly hintParams?: MessageParams | undefined;
  readonly violations: readonly ViolationLike[];
  /** Seconds to wait before signing in again (throttled sign-ins). */
  readonly retryAfterSeconds?: number | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Message parameters from the wire: strings and numbers only, anything else dropped. */
function paramsOf(value: unknown): MessageParams | undefined {
  if (!isRecord(value)) return undefined;
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string | number] => typeof e[1] === "string" || typeof e[1] === "number"));
}

/** A message id from the wire, when the catalogue of this build has it. */
function idOf(value: unknown): MessageId | undefined {
  return typeof value === "string" && isMessageId(value) ? value : undefined;
}

/**
 * The `error.data.ksef` of a failed call, when the server sent one.
 * @param error anything a query or mutation failed with
 */
export function ksefErrorOf(error: unknown): KsefErrorData | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data: unknown = error.data;
  if (!isRecord(data) || !isRecord(data.ksef)) return undefined;
  const ksef = data.ksef;
  const violations = Array.isArray(ksef.violations)
    ? ksef.violations.filter((v): v is ViolationLike => isRecord(v) && typeof v.field === "string" && typeof v.rule === "string")
    : [];
  return {
    code: typeof ksef.code === "string" ? ksef.code : "INTERNAL",
    message: typeof ksef.message === "string" ? ksef.message : error.message,
    messageId: idOf(ksef.messageId),
    params: paramsOf(ksef.params),
    hint: typeof ksef.hint === "string" ? ksef.hint : undefined,
    hintId: idOf(ksef.hintId),
    hintParams: paramsOf(ksef.hintParams),
    violations,
    retryAfterSeconds: typeof ksef.retryAfterSeconds === "number" ? ksef.retryAfterSeconds : undefined,
  };
}

/** A failed call as the UI says it: sentence, hint and the rules broken. */
export interface ErrorText {
  readonly message: string;
  readonly hint?: string | undefined;
  readonly violations: readonly ViolationLike[];
}

/**
 * A failed call in the UI language. A message (and hint) the server names by id is rendered from the catalogue;
 * errors whose code is not in the catalogue yet are recognised by their shape (failed or throttled sign-in, ended
 * session, refused input, server failure, no connection) and said with the app's own sentences; anything else
 * shows the server's own words.
 * @param t the bound translator
 * @param error anything a query or mutation failed with
 */
export function errorText(t: T, error: unknown): ErrorText {
  const ksef = ksefErrorOf(error);
  const trpcCode = error instanceof TRPCClientError && isRecord(error.data) && typeof error.data.code === "string" ? error.data.code : undefined;
  if (ksef !== undefined) {
    const { violations } = ksef;
    if (ksef.messageId !== undefined) {
      const hint = ksef.hintId !== undefined ? tId(t, ksef.hintId, ksef.hintParams) : ksef.hint;
      return { message: tId(t, ksef.messageId, ksef.params), hint, violations };
    }
    // Known shapes of errors not yet named by id: the server's English hint would not match the sentence, so none.
    if (trpcCode === "UNAUTHORIZED" && ksef.code === "FORBIDDEN") return { message: t("web.error.credentials"), violations };
    if (trpcCode === "TOO_MANY_REQUESTS") return { message: t("web.error.throttled", { seconds: ksef.retryAfterSeconds ?? 60 }), violations };
    if (ksef.code === "INTERNAL") return { message: t("web.error.internal"), violations };
    if (ksef.code === "VALIDATION" && violations.length > 0) return { message: t("web.error.invalidInput"), violations };
    return { message: ksef.message, hint: ksef.hint, violations };
  }
  if (error instanceof TRPCClientError) {
    if (trpcCode === "UNAUTHORIZED") return { message: t("web.error.signInFirst"), violations: [] };
    if (trpcCode === "NOT_FOUND") return { message: t("web.common.notFound"), violations: [] };
    if (trpcCode === "PAYLOAD_TOO_LARGE") return { message: t("web.error.tooLarge"), violations: [] };
    if (trpcCode === "INTERNAL_SERVER_ERROR") return { message: t("web.error.internal"), violations: [] };
    // No tRPC answer at all: the request never reached the server (or its answer was not JSON).
    if (trpcCode === undefined) return { message: t("web.error.unreachable"), violations: [] };
    return { message: error.message, violations: [] };
  }
  return { message: error instanceof Error ? error.message : JSON.stringify(error), violations: [] };
}

/**
 * Whether a failed call was answered NOT_FOUND (also what an id outside the caller's scope answers).
 * @param error anything a query failed with
 */
export function isNotFound(error: unknown): boolean {
  if (!(error instanceof TRPCClientError)) return false;
  const data: unknown = error.data;
  return (isRecord(data) && data.code === "NOT_FOUND") || ksefErrorOf(error)?.code === "NOT_FOUND";
}
