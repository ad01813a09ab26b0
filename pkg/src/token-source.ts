/**
 * Where a `Client` gets its bearer token. A plain string is a fixed token (an API key, a
 * session JWT); a `TokenSource` hands out a token that may change, such as an OAuth
 * access token that refreshes itself.
 */
export interface TokenSource {
  /**
   * The token to send. With `forceRefresh`, the current one was refused (401): refresh it
   * if that is possible, else throw `AuthenticationError`. Called once per request (and
   * once more after a 401); implementations share one refresh among parallel callers.
   */
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
}
