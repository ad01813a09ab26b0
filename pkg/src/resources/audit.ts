/** `GET /v1/audit`: the org's audit log, newest first (owners and admins). */
import type { Transport } from "../http.js";
import { callOptions } from "../http.js";
import { type ListOptions, Paginated } from "../pages.js";

/** One audit entry: ids and key prefixes, never a secret. */
export interface AuditEvent {
  id: number;
  /** RFC 3339. */
  at: string;
  /** e.g. `key.minted`, `auth.failed`, `namespace.created`. */
  event: string;
  /** The precise reason of a failure (the 401 itself never tells). */
  reason: string | null;
  actor_id: string | null;
  credential_id: string | null;
  key_prefix: string | null;
  request_id: string;
  detail: unknown;
}

/** Filters of {@link Audit.list}. */
export interface AuditListOptions extends ListOptions {
  /** Only this event name. */
  event?: string;
  /** Only entries of this key, by id or by key prefix. */
  key?: string;
}

export class Audit {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  list(options: AuditListOptions = {}): Paginated<AuditEvent> {
    const { event, key } = options;
    return new Paginated(
      (page) => this.#http.page({ method: "GET", path: "/v1/audit", query: { event, key, limit: page.limit, cursor: page.cursor }, ...callOptions(page) }),
      options,
    );
  }
}
