/**
 * Access-token handling: client methods that need `Authorization: Bearer <accessToken>` take either
 * the token string or an {@link AccessTokenSource}; {@link KsefSession} is the source built from a
 * redeemed authentication, refreshing its short-lived access token (≈15 min) with the refresh token
 * (≤ 7 days) when it has expired or KSeF answers 401 (ksef-docs `uwierzytelnianie.md`).
 */
import type { components } from "../openapi.js";
import type { Clock } from "./clock.js";

/** Something that can hand out a current access token. */
export interface AccessTokenSource {
  /**
   * Returns an access token valid now.
   * @param options `forceRefresh`: the last token was refused (401), get a new one; `signal` cancels the refresh
   */
  accessToken(options?: { readonly forceRefresh?: boolean; readonly signal?: AbortSignal | undefined }): Promise<string>;
}

/** A bearer access token: the JWT string itself, or a source that refreshes it. */
export type AccessToken = string | AccessTokenSource;

type TokenInfo = components["schemas"]["TokenInfo"];
type TokensResponse = components["schemas"]["AuthenticationTokensResponse"];
type RefreshResponse = components["schemas"]["AuthenticationTokenRefreshResponse"];

/** Exchanges a refresh token for a new access token (normally {@link KsefClient.refreshAccessToken}). */
export type RefreshFunction = (refreshToken: string, signal: AbortSignal | undefined) => Promise<RefreshResponse>;

/**
 * The tokens of one KSeF authentication, refreshing the access token on demand. Concurrent callers
 * share one refresh. Holds tokens in memory only; never put it in logs (it has no `toJSON` on purpose
 * beyond the non-secret expiry dates).
 */
export class KsefSession implements AccessTokenSource {
  private access: TokenInfo;
  private readonly refresh: TokenInfo;
  private inFlight: Promise<string> | undefined;

  /**
   * @param tokens the answer of `POST /auth/token/redeem`
   * @param refreshFn how to refresh
   * @param clock time source for expiry checks
   * @param skewMs refresh this long (ms) before `validUntil`, for clock drift and request time. Default 60 000.
   */
  constructor(
    tokens: TokensResponse,
    private readonly refreshFn: RefreshFunction,
    private readonly clock: Clock,
    private readonly skewMs = 60_000,
  ) {
    this.access = tokens.accessToken;
    this.refresh = tokens.refreshToken;
  }

  /** The refresh token (for `revokeCurrentSession` or to persist the session; it is a secret). */
  get refreshToken(): string {
    return this.refresh.token;
  }

  /** When the current access token expires (ISO 8601, as KSeF sent it). */
  get accessTokenValidUntil(): string {
    return this.access.validUntil;
  }

  /** When the refresh token, and so the session, expires (ISO 8601). */
  get refreshTokenValidUntil(): string {
    return this.refresh.validUntil;
  }

  /**
   * Returns the access token, refreshing it first when it expires within the skew or `forceRefresh` is set.
   * @param options see {@link AccessTokenSource.accessToken}
   * @throws {KsefApiError} when the refresh fails (e.g. 401: the session was revoked or the refresh token expired)
   */
  async accessToken(options: { readonly forceRefresh?: boolean; readonly signal?: AbortSignal | undefined } = {}): Promise<string> {
    const expires = Date.parse(this.access.validUntil);
    const fresh = Number.isFinite(expires) && expires - this.skewMs > this.clock.now();
    if (fresh && options.forceRefresh !== true) return this.access.token;
    this.inFlight ??= this.refreshFn(this.refresh.token, options.signal)
      .then((r) => {
        this.access = r.accessToken;
        return r.accessToken.token;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
