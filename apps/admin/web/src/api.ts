/**
 * The tRPC client of the web app: queries and mutations batched over `/trpc`, subscriptions over SSE
 * (router contract: `httpBatchLink` + `httpSubscriptionLink` via `splitLink`). The session rides in the
 * HttpOnly cookie; every mutation carries the CSRF token `auth.login`/`auth.me` returned, in `x-csrf-token`.
 */
import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../src/server/router";
import type { ViolationLike } from "./i18n";

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
        headers: ({ opList }) => (opList.some((op) => op.type === "mutation") ? { "x-csrf-token": csrfToken } : {}),
      }),
    }),
  ],
});

/** Typed query/mutation/subscription options for every procedure (`trpc.org.tree.queryOptions()`). */
export const trpc = createTRPCOptionsProxy<AppRouter>({ client, queryClient });

/** What the server puts in `error.data.ksef` for a core `KsefCertsError`. */
export interface KsefErrorData {
  readonly code: string;
  readonly message: string;
  readonly hint?: string | undefined;
  readonly violations: readonly ViolationLike[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
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
    hint: typeof ksef.hint === "string" ? ksef.hint : undefined,
    violations,
  };
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
