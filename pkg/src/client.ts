/**
 * `Client`: the service's HTTP API. It loads no wasm (names and keys are checked by the
 * service, which answers `ValidationError` with the core's code), so importing it costs
 * only this JavaScript.
 *
 * The namespace values carry the Primatomic seed's names (`putKey`, `getKey`,
 * `deleteKey`, `listKeys`); every other area is a property named after its path:
 * `apiKeys` (`/v1/keys`), `namespaces`, `audit`, `grants`, `members`, `invitations`,
 * `webhookSecret` (`/v1/account/webhook-secret`), `webhooks`,
 * `entities`, `credentials` and `auth`. Request and answer fields keep the service's
 * names (`rate_limit_rpm`, `plain_key`…), exactly as the HTTP documentation shows them.
 */
import { type CallOptions, Transport, callOptions } from "./http.js";
import { type ClientOptions, resolveOptions } from "./options.js";
import type { Paginated } from "./pages.js";
import { ApiKeys } from "./resources/api-keys.js";
import { Audit } from "./resources/audit.js";
import { Auth } from "./resources/auth.js";
import { Credentials, Entities } from "./resources/entities.js";
import { Grants } from "./resources/grants.js";
import { WebhookSecrets, Webhooks } from "./resources/webhooks.js";
import { Invitations, Members } from "./resources/members.js";
import {
  type DeleteKeyResult,
  type ListKeysOptions,
  type NamespaceValue,
  NamespaceValues,
  Namespaces,
  type PutKeyResult,
} from "./resources/namespaces.js";
import type { Role } from "./resources/members.js";
import type { TokenSource } from "./token-source.js";

/** What the presented credential resolves to (`GET /v1/whoami`). */
export interface Whoami {
  org_id: string;
  /** The entity acting. */
  user_id: string;
  role: Role;
  request_id: string;
  auth_method: "api_key" | "certificate" | "session" | "oauth";
  /** The credential: key id, certificate id, session id or grant id. */
  key_id: string;
  key_prefix: string;
  /** The namespaces the credential may use (`["*"]`: all of the org's). */
  namespaces: string[];
  /** The OAuth client, for an OAuth access token; else `null`. */
  client_id: string | null;
}

export class Client {
  /** The base URL every request goes to (`host:port` resolved to `https://host:port`). */
  readonly endpoint: string;
  /** `/v1/keys`: the caller's API keys. */
  readonly apiKeys: ApiKeys;
  /** `/v1/namespaces`: create, list, delete (values: `putKey`, `getKey`, `deleteKey`, `listKeys`). */
  readonly namespaces: Namespaces;
  /** `/v1/audit`. */
  readonly audit: Audit;
  /** `/v1/grants`: the caller's connected apps. */
  readonly grants: Grants;
  /** `/v1/account/webhook-secret`: the org's signing secret. */
  readonly webhookSecret: WebhookSecrets;
  /** `/v1/webhooks`: the org's webhook endpoints and their delivery logs. */
  readonly webhooks: Webhooks;
  /** `/v1/members`. */
  readonly members: Members;
  /** `/v1/invitations`. */
  readonly invitations: Invitations;
  /** `/entities`. */
  readonly entities: Entities;
  /** `/entities/{id}/credentials`. */
  readonly credentials: Credentials;
  /** `/auth/*`: login and the person's account. */
  readonly auth: Auth;

  readonly #options: ClientOptions;
  readonly #http: Transport;
  readonly #values: NamespaceValues;

  /**
   * `new Client({ endpoint, token })`, or `new Client()` in Node to read
   * `KEYWARD_ENDPOINT` and `KEYWARD_TOKEN`. Throws `ValidationError` for a missing or
   * malformed setting.
   */
  constructor(options: ClientOptions = {}) {
    const config = resolveOptions(options);
    this.#options = { ...options, endpoint: config.baseUrl, token: config.token };
    this.#http = new Transport(config);
    this.endpoint = config.baseUrl;
    this.apiKeys = new ApiKeys(this.#http);
    this.namespaces = new Namespaces(this.#http);
    this.audit = new Audit(this.#http);
    this.grants = new Grants(this.#http);
    this.webhookSecret = new WebhookSecrets(this.#http);
    this.webhooks = new Webhooks(this.#http);
    this.members = new Members(this.#http);
    this.invitations = new Invitations(this.#http);
    this.entities = new Entities(this.#http);
    this.credentials = new Credentials(this.#http);
    this.auth = new Auth(this.#http);
    this.#values = new NamespaceValues(this.#http);
  }

  /** The same client with another credential (e.g. the session token `auth.login` returned). */
  withToken(token: string | TokenSource | null): Client {
    return new Client({ ...this.#options, token });
  }

  /** What the credential resolves to: org, entity, role, method and namespaces. */
  async whoami(options?: CallOptions): Promise<Whoami> {
    return this.#http.json({ method: "GET", path: "/v1/whoami", ...callOptions(options) });
  }

  /**
   * Stores `value` (bytes, or a string as UTF-8; at most 1 MiB) under `key` in
   * `namespace`. `PermissionError` if the credential may not use the namespace. A PUT is
   * idempotent, so it is retried (KV's one-write-per-second answers 429 `Retry-After: 1`).
   */
  putKey(namespace: string, key: string, value: NamespaceValue, options?: CallOptions): Promise<PutKeyResult> {
    return this.#values.put(namespace, key, value, options);
  }

  /**
   * The value's bytes, or `null` when the service answers 404 (no such key; also no such
   * namespace, for a credential allowed every namespace). Decode text with `TextDecoder`.
   */
  getKey(namespace: string, key: string, options?: CallOptions): Promise<Uint8Array | null> {
    return this.#values.get(namespace, key, options);
  }

  /** Deletes a value (idempotent: deleting a missing key succeeds). */
  deleteKey(namespace: string, key: string, options?: CallOptions): Promise<DeleteKeyResult> {
    return this.#values.delete(namespace, key, options);
  }

  /**
   * The key names of a namespace in byte order: `for await (const key of
   * client.listKeys("ns", { prefix }))`, or `.page({ cursor, limit })` for one page.
   */
  listKeys(namespace: string, options?: ListKeysOptions): Paginated<string> {
    return this.#values.list(namespace, options);
  }
}
