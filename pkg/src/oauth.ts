/**
 * OAuth for public clients of a Keyward service (SDK §9): discovery from a 401's
 * `resource_metadata` (RFC 9728 → RFC 8414), dynamic registration (RFC 7591), the
 * Authorization Code flow with PKCE S256 (the verifier from the wasm core), the code
 * exchange, refresh with rotation, and revocation (RFC 7009).
 *
 * The protocol is oauth4webapi's, which validates every response; this module only
 * wires it to Keyward's defaults and to a {@link TokenStore}. {@link OAuthSession} is the
 * `TokenSource` a `Client` takes: it hands out the access token and refreshes it before
 * it expires, with one refresh at a time per store (in this process, and, with a store
 * that can lock, across processes), so honest parallel use never presents the same
 * refresh token twice and never trips the server's reuse detection.
 */
import * as oauth from "oauth4webapi";
import { AuthenticationError, KeywardError, NetworkError, ValidationError } from "./errors.js";
import * as pkce from "./pkce.js";
import { ready } from "./wasm.js";
import type { TokenSource } from "./token-source.js";

/** What is kept between runs: the client registered at the server, and the tokens. */
export interface StoredTokens {
  /** The authorization server's issuer (RFC 8414). */
  issuer: string;
  clientId: string;
  accessToken: string;
  refreshToken?: string;
  /** When the access token expires, in ms since the epoch. */
  expiresAt: number;
  /** When it was obtained (ms since the epoch): its lifetime sets how early it is refreshed. */
  obtainedAt?: number;
  scope?: string;
}

/** Where an {@link OAuthSession} keeps its tokens. */
export interface TokenStore {
  load(): Promise<StoredTokens | undefined>;
  save(tokens: StoredTokens): Promise<void>;
  clear(): Promise<void>;
  /**
   * Runs `task` while no other holder of this store (another process sharing a token
   * file) runs one. Stores that only live in one process may run it at once.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
}

/** Tokens in memory: the only store in browsers (never `localStorage`). */
export class MemoryTokenStore implements TokenStore {
  #tokens: StoredTokens | undefined;

  constructor(tokens?: StoredTokens) {
    this.#tokens = tokens;
  }
  async load(): Promise<StoredTokens | undefined> {
    return this.#tokens;
  }
  async save(tokens: StoredTokens): Promise<void> {
    this.#tokens = tokens;
  }
  async clear(): Promise<void> {
    this.#tokens = undefined;
  }
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return task();
  }
}

/** The server's OAuth endpoints, found from its API. */
export interface Discovered {
  authorizationServer: oauth.AuthorizationServer;
  /** Scopes the protected resource documents (RFC 9728 `scopes_supported`). */
  scopes: string[];
}

/** Options shared by the calls below. */
export interface OAuthOptions {
  /** Another `fetch` (tests, proxies). */
  fetch?: typeof fetch;
  /** Abort the call. */
  signal?: AbortSignal;
}

/**
 * oauth4webapi's request options for `url`: `http:` is allowed on loopback hosts only
 * (local development), as everywhere in the SDK; the caller's `fetch` and `signal`.
 */
function httpOptions<M extends string, B>(url: URL, options: OAuthOptions): oauth.HttpRequestOptions<M, B> {
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol === "http:" && !loopback) {
    throw new ValidationError(`http:// is only allowed for loopback hosts: ${url.origin}`, "insecure_endpoint");
  }
  const request: oauth.HttpRequestOptions<M, B> = {};
  if (url.protocol === "http:") request[oauth.allowInsecureRequests] = true;
  if (options.fetch) request[oauth.customFetch] = options.fetch as NonNullable<oauth.HttpRequestOptions<M, B>[typeof oauth.customFetch]>;
  if (options.signal) request.signal = options.signal;
  return request;
}

/** Runs an oauth4webapi call, turning its errors into the SDK's typed errors. */
async function protocol<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof KeywardError) throw err;
    if (err instanceof oauth.ResponseBodyError) {
      const ErrorType = err.error === "invalid_grant" || err.error === "invalid_client" ? AuthenticationError : ValidationError;
      throw new ErrorType(`${what}: ${err.error}${err.error_description ? `: ${err.error_description}` : ""}`, err.error, err.status);
    }
    if (err instanceof TypeError || (err instanceof Error && err.name === "AbortError")) {
      throw new NetworkError(`${what}: ${err.message}`, "network_error");
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new ValidationError(`${what}: ${message}`, "oauth_protocol_error");
  }
}

/**
 * Finds the authorization server of the Keyward API at `endpoint` the way any client
 * of a protected resource does: an unauthenticated call answers 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"`, that document (RFC 9728) names the
 * authorization server, whose metadata (RFC 8414) names the endpoints.
 */
export async function discover(endpoint: string | URL, options: OAuthOptions = {}): Promise<Discovered> {
  const base = new URL(endpoint);
  const doFetch = options.fetch ?? fetch;
  const probe = await doFetch(new URL("/v1/whoami", base), options.signal ? { signal: options.signal } : {}).catch((err: unknown) => {
    throw new NetworkError(`discovery: ${err instanceof Error ? err.message : String(err)}`, "network_error");
  });
  const challenge = probe.headers.get("www-authenticate") ?? "";
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
  if (probe.status !== 401 || !metadataUrl) {
    throw new ValidationError(`discovery: ${base.origin} did not answer 401 with resource_metadata`, "discovery_failed");
  }
  const resourceUrl = new URL(metadataUrl);
  if (resourceUrl.origin !== base.origin) {
    throw new ValidationError("discovery: the resource metadata is on another origin", "discovery_failed");
  }
  const resource = await protocol("protected resource metadata", async () =>
    oauth.processResourceDiscoveryResponse(base, await oauth.resourceDiscoveryRequest(base, httpOptions(base, options))),
  );
  const issuer = new URL(resource.authorization_servers?.[0] ?? base.origin);
  const authorizationServer = await protocol("authorization server metadata", async () =>
    oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...httpOptions(issuer, options), algorithm: "oauth2" })),
  );
  return { authorizationServer, scopes: resource.scopes_supported ?? [] };
}

/** Registers a public client (RFC 7591) for `redirectUris`; resolves to its `client_id`. */
export async function register(
  as: oauth.AuthorizationServer,
  metadata: { redirectUris: string[]; clientName?: string },
  options: OAuthOptions = {},
): Promise<string> {
  const client = await protocol("client registration", async () =>
    oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          redirect_uris: metadata.redirectUris,
          token_endpoint_auth_method: "none",
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          ...(metadata.clientName ? { client_name: metadata.clientName } : {}),
        },
        httpOptions(new URL(as.registration_endpoint ?? as.issuer), options),
      ),
    ),
  );
  return client.client_id;
}

/** An authorization request in progress: send the person to `url`, keep the rest. */
export interface AuthorizationRequest {
  url: URL;
  state: string;
  /** The PKCE verifier (a secret until the exchange). */
  verifier: string;
  redirectUri: string;
}

/**
 * Builds the authorization request: `response_type=code`, PKCE S256 with the verifier
 * from the wasm core (loaded first if needed), and `state`.
 */
export async function authorizationRequest(
  as: oauth.AuthorizationServer,
  clientId: string,
  redirectUri: string,
  scope?: string,
): Promise<AuthorizationRequest> {
  if (!as.authorization_endpoint) throw new ValidationError("the server has no authorization endpoint", "discovery_failed");
  await ready();
  const pair = pkce.createPair();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: pair.challenge,
    code_challenge_method: pair.method,
    state,
    ...(scope ? { scope } : {}),
  }).toString();
  return { url, state, verifier: pair.verifier, redirectUri };
}

function stored(as: oauth.AuthorizationServer, clientId: string, answer: oauth.TokenEndpointResponse, previous?: StoredTokens): StoredTokens {
  const refreshToken = answer.refresh_token ?? previous?.refreshToken;
  const scope = answer.scope ?? previous?.scope;
  const now = Date.now();
  return {
    issuer: as.issuer,
    clientId,
    accessToken: answer.access_token,
    obtainedAt: now,
    expiresAt: now + (answer.expires_in ?? 3600) * 1000,
    ...(refreshToken ? { refreshToken } : {}),
    ...(scope ? { scope } : {}),
  };
}

/**
 * Finishes the flow: checks the callback (`state`, `iss`, no `error`) and exchanges the
 * code with the verifier. Resolves to the tokens to store.
 */
export async function exchangeCode(
  as: oauth.AuthorizationServer,
  clientId: string,
  request: AuthorizationRequest,
  callback: URL,
  options: OAuthOptions = {},
): Promise<StoredTokens> {
  const client: oauth.Client = { client_id: clientId, token_endpoint_auth_method: "none" };
  return protocol("code exchange", async () => {
    const params = oauth.validateAuthResponse(as, client, callback, request.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      request.redirectUri,
      request.verifier,
      httpOptions(new URL(as.token_endpoint ?? as.issuer), options),
    );
    return stored(as, clientId, await oauth.processAuthorizationCodeResponse(as, client, response));
  });
}

/** One refresh (rotation): the old refresh token is spent, the answer replaces it. */
export async function refreshTokens(as: oauth.AuthorizationServer, tokens: StoredTokens, options: OAuthOptions = {}): Promise<StoredTokens> {
  if (!tokens.refreshToken) throw new AuthenticationError("authentication expired: no refresh token; sign in again", "no_refresh_token");
  const client: oauth.Client = { client_id: tokens.clientId, token_endpoint_auth_method: "none" };
  const refreshToken = tokens.refreshToken;
  return protocol("refresh", async () => {
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, httpOptions(new URL(as.token_endpoint ?? as.issuer), options));
    return stored(as, tokens.clientId, await oauth.processRefreshTokenResponse(as, client, response), tokens);
  });
}

/** Revokes the grant (RFC 7009: any of its tokens revokes all of them). */
export async function revoke(as: oauth.AuthorizationServer, tokens: StoredTokens, options: OAuthOptions = {}): Promise<void> {
  const client: oauth.Client = { client_id: tokens.clientId, token_endpoint_auth_method: "none" };
  const token = tokens.refreshToken ?? tokens.accessToken;
  await protocol("revocation", async () => {
    const response = await oauth.revocationRequest(as, client, oauth.None(), token, httpOptions(new URL(as.revocation_endpoint ?? as.issuer), options));
    await oauth.processRevocationResponse(response);
  });
}

/**
 * Whether an access token should be refreshed before use: within 30 s of its expiry (a
 * quarter of its lifetime, for short-lived ones), so a request never carries a dying one.
 */
function isFresh(tokens: StoredTokens, now = Date.now()): boolean {
  const lifetime = tokens.expiresAt - (tokens.obtainedAt ?? tokens.expiresAt - 120_000);
  return tokens.expiresAt - Math.min(30_000, lifetime / 4) > now;
}

/**
 * A `TokenSource` over a {@link TokenStore}: the current access token, refreshed (with
 * rotation) shortly before it expires or when the server refused it. One refresh runs at
 * a time per session in this process; under the store's `exclusive` lock the store is
 * read again first, so a refresh another process already made is used, not repeated.
 */
export class OAuthSession implements TokenSource {
  readonly #server: () => Promise<oauth.AuthorizationServer>;
  readonly #store: TokenStore;
  readonly #options: OAuthOptions;
  #refreshing: Promise<StoredTokens> | undefined;

  /**
   * `server` is the authorization server's metadata, or a function that finds it (e.g.
   * `() => discover(endpoint)`), called only when a refresh or a sign-out needs it.
   */
  constructor(server: oauth.AuthorizationServer | (() => Promise<oauth.AuthorizationServer>), store: TokenStore, options: OAuthOptions = {}) {
    let found: Promise<oauth.AuthorizationServer> | undefined;
    const find = (lookup: () => Promise<oauth.AuthorizationServer>) => () =>
      (found ??= lookup().catch((err: unknown) => {
        found = undefined; // a failed discovery is tried again next time
        throw err;
      }));
    this.#server = typeof server === "function" ? find(server) : async () => server;
    this.#store = store;
    this.#options = options;
  }

  async getToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    const tokens = await this.#store.load();
    if (!tokens) throw new AuthenticationError("authentication required: not signed in", "not_signed_in");
    if (isFresh(tokens) && !options.forceRefresh) return tokens.accessToken;
    return (await this.#refresh(tokens.accessToken)).accessToken;
  }

  /** Refreshes unless the stored access token is no longer `stale` (someone else did). */
  #refresh(stale: string): Promise<StoredTokens> {
    this.#refreshing ??= this.#store
      .exclusive(async () => {
        const current = await this.#store.load();
        if (!current) throw new AuthenticationError("authentication required: signed out", "not_signed_in");
        if (current.accessToken !== stale && isFresh(current)) return current;
        const next = await refreshTokens(await this.#server(), current, this.#options);
        await this.#store.save(next);
        return next;
      })
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  /** Revokes the grant at the server, then forgets the tokens. */
  async signOut(): Promise<void> {
    const tokens = await this.#store.load();
    if (tokens) await revoke(await this.#server(), tokens, this.#options);
    await this.#store.clear();
  }
}
