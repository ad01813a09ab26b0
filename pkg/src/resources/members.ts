/**
 * `/v1/members` and `/v1/invitations`: owners and admins add people by email (an
 * existing account joins at once, an unknown address is invited by mail: the answer is
 * the same either way), list and remove them, and manage pending invitations.
 */
import { type CallOptions, type Transport, callOptions } from "../http.js";
import { type ListOptions, Paginated } from "../pages.js";
import { path } from "../path.js";

export type Role = "owner" | "admin" | "member";

/** A person's membership of the org. */
export interface Member {
  id: string;
  email: string | null;
  email_verified: boolean;
  name: string;
  role: Role;
  status: "active" | "inactive" | "suspended" | "deleted";
  joined_at: string;
}

/** `POST /v1/members`. */
export interface AddMemberInput {
  email: string;
  /** Default `member`. */
  role?: Role;
  /** Default: the address's local part. */
  name?: string;
}

/** The one answer of `members.add`, whether the address had an account or was invited. */
export interface MemberAddition {
  email: string;
  role: Role;
  status: "accepted";
  message: string;
}

/** A pending (or past) invitation. */
export interface Invitation {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: "pending" | "accepted" | "withdrawn" | "expired";
  invited_by: string;
  created_at: string;
  expires_at: string;
}

export class Members {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Adds a person by email, or invites them. Never retried (POST). */
  async add(input: AddMemberInput, options?: CallOptions): Promise<MemberAddition> {
    return this.#http.json({ method: "POST", path: "/v1/members", json: input, ...callOptions(options) });
  }

  list(options: ListOptions = {}): Paginated<Member> {
    return new Paginated(
      (page) => this.#http.page({ method: "GET", path: "/v1/members", query: { limit: page.limit, cursor: page.cursor }, ...callOptions(page) }),
      options,
    );
  }

  /** Removes a person from the org: their keys, certificates and sessions here end. */
  async remove(id: string, options?: CallOptions): Promise<Member> {
    return this.#http.json({ method: "DELETE", path: path`/v1/members/${id}`, ...callOptions(options) });
  }
}

export class Invitations {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Pending invitations. */
  list(options: ListOptions = {}): Paginated<Invitation> {
    return new Paginated(
      (page) => this.#http.page({ method: "GET", path: "/v1/invitations", query: { limit: page.limit, cursor: page.cursor }, ...callOptions(page) }),
      options,
    );
  }

  /** Withdraws an invitation: its token stops working. */
  async withdraw(id: string, options?: CallOptions): Promise<Invitation> {
    return this.#http.json({ method: "DELETE", path: path`/v1/invitations/${id}`, ...callOptions(options) });
  }
}
