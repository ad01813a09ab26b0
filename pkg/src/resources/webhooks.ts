/**
 * `/v1/account/webhook-secret` and `/v1/webhooks`: the org's signing secret and the
 * endpoints its events go to (owners and admins).
 */
import { type CallOptions, type Transport, callOptions } from "../http.js";
import { type ListOptions, Paginated } from "../pages.js";
import { path } from "../path.js";

/** The org's Standard Webhooks secret (`whsec_…`): give it to `verifyWebhook`. */
export interface WebhookSecret {
  secret: string;
  created_at: string;
  rotated_at: string | null;
  /** When the next rotation is allowed (one per 60 minutes), or `null`. */
  next_rotation_at: string | null;
}

/** An endpoint. Times are RFC 3339. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  /** `["*"]` (every event) or event names such as `key.minted`. */
  event_types: string[];
  enabled: boolean;
  /** Why the service disabled it, when it was not by hand. */
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** `POST /v1/webhooks`. */
export interface CreateWebhookInput {
  /** `https://`; never a private, loopback or link-local address. */
  url: string;
  description?: string;
  /** Default `["*"]`. */
  event_types?: string[];
  /** Default `true`. */
  enabled?: boolean;
}

/** `PATCH /v1/webhooks/{id}`: only the fields given change. */
export type UpdateWebhookInput = Partial<CreateWebhookInput>;

export class WebhookSecrets {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** The org's secret, created on the first read. */
  async get(options?: CallOptions): Promise<WebhookSecret> {
    return this.#http.json({ method: "GET", path: "/v1/account/webhook-secret", ...callOptions(options) });
  }

  /** A new secret; the old one stops signing at once. `RateLimitError` within 60 minutes of the last. */
  async rotate(options?: CallOptions): Promise<WebhookSecret> {
    return this.#http.json({ method: "POST", path: "/v1/account/webhook-secret/rotate", ...callOptions(options) });
  }
}

export class Webhooks {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  async create(input: CreateWebhookInput, options?: CallOptions): Promise<WebhookEndpoint> {
    return this.#http.json({ method: "POST", path: "/v1/webhooks", json: input, ...callOptions(options) });
  }

  list(options: ListOptions = {}): Paginated<WebhookEndpoint> {
    return new Paginated(
      (page) => this.#http.page({ method: "GET", path: "/v1/webhooks", query: { limit: page.limit, cursor: page.cursor }, ...callOptions(page) }),
      options,
    );
  }

  async get(id: string, options?: CallOptions): Promise<WebhookEndpoint> {
    return this.#http.json({ method: "GET", path: path`/v1/webhooks/${id}`, ...callOptions(options) });
  }

  async update(id: string, input: UpdateWebhookInput, options?: CallOptions): Promise<WebhookEndpoint> {
    return this.#http.json({ method: "PATCH", path: path`/v1/webhooks/${id}`, json: input, ...callOptions(options) });
  }

  async delete(id: string, options?: CallOptions): Promise<{ id: string; deleted: true }> {
    return this.#http.json({ method: "DELETE", path: path`/v1/webhooks/${id}`, ...callOptions(options) });
  }
}
