/**
 * `/v1/account/webhook-secret` and `/v1/webhooks`: the org's signing secret, the
 * endpoints its events go to and each endpoint's delivery log (owners and admins).
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

/** What happened: the `type` of a {@link WebhookEvent}, and the names `event_types` lists. */
export type WebhookEventType =
  | "key.minted"
  | "key.updated"
  | "key.revoked"
  | "credential.created"
  | "credential.revoked"
  | "entity.status_changed"
  | "signup.completed"
  | "oauth.grant_issued"
  | "oauth.grant_revoked"
  | "oauth.refresh_reuse_detected"
  | "webhook_secret.rotated";

/**
 * The JSON body of a delivery, as `verifyWebhook` returns it (it returns `unknown`, as it
 * checks the signature, not the shape). Every attempt and redelivery of an event sends the
 * same body under the same `webhook-id` (its `msg_id`): deduplicate on that id.
 */
export interface WebhookEvent {
  type: WebhookEventType;
  /** When the event happened (RFC 3339), not when this attempt was sent. */
  timestamp: string;
  /** Ids and key prefixes only, never a secret; the fields depend on `type`. */
  data: Record<string, unknown>;
}

/** An endpoint. Times are RFC 3339. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  /** `["*"]` (every event) or {@link WebhookEventType} names such as `key.minted`. */
  event_types: string[];
  enabled: boolean;
  /** Why the service disabled it, when it was not by hand: `failing` after a day of failed deliveries. */
  disabled_reason: string | null;
  /** When it was disabled, by hand or by the service; `null` while enabled. */
  disabled_at: string | null;
  /**
   * When the current run of failed deliveries began (`null` once one succeeds): the
   * service disables the endpoint when the run lasts a day, so this is the warning to act on.
   */
  failing_since: string | null;
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

/** One event's delivery to one endpoint, as its log lists it. Times are RFC 3339. */
export interface WebhookDelivery {
  /** `msg_` + 32 hex: the event's id, sent as `webhook-id`, the same at every attempt. */
  msg_id: string;
  event_type: WebhookEventType;
  /** `pending`: queued or waiting to retry; `failed`: the retry schedule ran out. */
  status: "pending" | "delivered" | "failed";
  /** Attempts over the delivery's life: a redelivery continues the count. */
  attempts: number;
  /** When the next attempt is due; `null` once delivered or failed. */
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

/** One attempt of a delivery. */
export interface WebhookAttempt {
  /** 1, 2, … over the delivery's life. */
  attempt: number;
  at: string;
  /** The endpoint's HTTP status; `null` when no answer came. */
  status_code: number | null;
  duration_ms: number;
  /**
   * `null` on success (a 2xx), else why it failed: a status that is not 2xx, a redirect
   * (never followed), no answer in time, no connection, or the URL refused by the check
   * every attempt makes again.
   */
  error: null | "http_status" | "redirect" | "timeout" | "connection" | "url_refused";
  /** When this failure scheduled the next attempt; `null` on success or when it gave up. */
  next_attempt_at: string | null;
}

/** `GET /v1/webhooks/{id}/deliveries/{msg_id}`: the delivery and every attempt, oldest first. */
export interface WebhookDeliveryDetail extends WebhookDelivery {
  attempt_log: WebhookAttempt[];
}

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

  /** The endpoint's delivery log, newest event first. */
  deliveries(id: string, options: ListOptions = {}): Paginated<WebhookDelivery> {
    return new Paginated(
      (page) => this.#http.page({ method: "GET", path: path`/v1/webhooks/${id}/deliveries`, query: { limit: page.limit, cursor: page.cursor }, ...callOptions(page) }),
      options,
    );
  }

  /** One delivery with its attempt log, to see why it failed. `NotFoundError` if the endpoint never had it. */
  async delivery(id: string, msgId: string, options?: CallOptions): Promise<WebhookDeliveryDetail> {
    return this.#http.json({ method: "GET", path: path`/v1/webhooks/${id}/deliveries/${msgId}`, ...callOptions(options) });
  }

  /**
   * Queues the event for the endpoint again, due at once and at the start of the retry
   * schedule. Any event of the org may be sent, even one the endpoint never had (it was
   * disabled, or created later). `ConflictError` while the endpoint is disabled (enable
   * it first); `NotFoundError` if the org has no such event. Like every POST it is not
   * retried; after a `NetworkError` calling again is safe: at worst the event is sent
   * once more, under the same `webhook-id`.
   */
  async redeliver(id: string, msgId: string, options?: CallOptions): Promise<WebhookDelivery> {
    return this.#http.json({ method: "POST", path: path`/v1/webhooks/${id}/deliveries/${msgId}/redeliver`, ...callOptions(options) });
  }
}
