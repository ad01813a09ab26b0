/** `/v1/keys`: the caller's API keys (mint, list, inspect, update, revoke). */
import { type CallOptions, type Transport, callOptions } from "../http.js";
import { type ListOptions, Paginated } from "../pages.js";
import { path } from "../path.js";

/** A key's metadata, as the service shows it: never the key itself. Times are RFC 3339. */
export interface ApiKey {
  id: string;
  name: string;
  /** The first 12 characters: safe to log and display. */
  key_prefix: string;
  scheme: "lookup" | "id_secret";
  rate_limit_rpm: number;
  /** The namespaces the key may use (`["*"]`: all of the org's). */
  namespaces: string[];
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** A key just minted: the only time `plain_key` is ever shown. */
export interface CreatedApiKey extends ApiKey {
  plain_key: string;
}

/** `POST /v1/keys`. */
export interface CreateApiKeyInput {
  name: string;
  /** Default 60; members up to 60, owners and admins up to 100,000. */
  rate_limit_rpm?: number;
  /** RFC 3339, in the future. */
  expires_at?: string;
  /** Default `[]` (no namespace); never wider than the caller's own. */
  namespaces?: string[];
  /** Default: the deployment's `DEFAULT_KEY_SCHEME`. */
  scheme?: "lookup" | "id_secret";
}

/** `PATCH /v1/keys/{id}`: only the fields given change; `expires_at: null` removes the expiry. */
export interface UpdateApiKeyInput {
  name?: string;
  rate_limit_rpm?: number;
  expires_at?: string | null;
  namespaces?: string[];
}

export class ApiKeys {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Mints a key for the caller; the answer holds `plain_key`, shown this once. Never retried. */
  async create(input: CreateApiKeyInput, options?: CallOptions): Promise<CreatedApiKey> {
    return this.#http.json({ method: "POST", path: "/v1/keys", json: input, ...callOptions(options) });
  }

  /** The caller's own keys, oldest first. */
  list(options: ListOptions = {}): Paginated<ApiKey> {
    return new Paginated(
      (page) => this.#http.page({ method: "GET", path: "/v1/keys", query: { limit: page.limit, cursor: page.cursor }, ...callOptions(page) }),
      options,
    );
  }

  async get(id: string, options?: CallOptions): Promise<ApiKey> {
    return this.#http.json({ method: "GET", path: path`/v1/keys/${id}`, ...callOptions(options) });
  }

  /** Renames, changes the rate limit, the expiry or the namespaces. Not retried (PATCH). */
  async update(id: string, input: UpdateApiKeyInput, options?: CallOptions): Promise<ApiKey> {
    return this.#http.json({ method: "PATCH", path: path`/v1/keys/${id}`, json: input, ...callOptions(options) });
  }

  /** Revokes for good (idempotent: revoking twice answers the same key). */
  async revoke(id: string, options?: CallOptions): Promise<ApiKey> {
    return this.#http.json({ method: "DELETE", path: path`/v1/keys/${id}`, ...callOptions(options) });
  }
}
