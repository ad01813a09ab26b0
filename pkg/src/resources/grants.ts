/** `/v1/grants`: the caller's connected apps (OAuth grants), and revoking one. */
import { type CallOptions, type Transport, callOptions } from "../http.js";
import { type ListOptions, Paginated } from "../pages.js";
import { path } from "../path.js";

/** One OAuth grant: one client's access to the caller's account in this org. */
export interface Grant {
  id: string;
  client_id: string;
  client_name: string | null;
  scope: string;
  status: "active" | "revoked";
  /** How it ended (revoked, reuse detected, …), or `null` while active. */
  ending: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export class Grants {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  list(options: ListOptions = {}): Paginated<Grant> {
    return new Paginated(
      (page) => this.#http.page({ method: "GET", path: "/v1/grants", query: { limit: page.limit, cursor: page.cursor }, ...callOptions(page) }),
      options,
    );
  }

  /** Revokes the grant and every token it holds (idempotent). */
  async revoke(id: string, options?: CallOptions): Promise<Grant> {
    return this.#http.json({ method: "DELETE", path: path`/v1/grants/${id}`, ...callOptions(options) });
  }
}
