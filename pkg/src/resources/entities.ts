/**
 * `/entities` and their credentials: the Atom seed's family (bare JSON bodies, errors as
 * `{"error": {...}}`). Admins manage the principals of their org (people, services,
 * devices); anyone reads themselves.
 */
import { type CallOptions, type Transport, callOptions } from "../http.js";
import { type ListOptions, Paginated } from "../pages.js";
import { path } from "../path.js";
import type { Role } from "./members.js";

export type EntityKind = "human" | "service" | "device";
export type EntityStatus = "active" | "inactive" | "suspended" | "deleted";

/** A principal of the org. */
export interface Entity {
  id: string;
  org_id: string;
  kind: EntityKind;
  name: string;
  /** A human's login email; `null` for services and devices. */
  email: string | null;
  email_verified: boolean;
  role: Role;
  status: EntityStatus;
  created_at: string;
  updated_at: string;
}

/** `POST /entities`. */
export interface CreateEntityInput {
  kind: EntityKind;
  name: string;
  /** Humans only: creates their account. */
  email?: string;
  /** Default `member`. */
  role?: Role;
}

/** `PATCH /entities/{id}`: a status change fails every credential of the entity on the next request. */
export interface UpdateEntityInput {
  name?: string;
  role?: Role;
  status?: EntityStatus;
}

/** A credential's metadata (the Atom seed's list item): never a hash or a secret. */
export interface Credential {
  id: string;
  kind: "password" | "api_key" | "certificate";
  /** A key's prefix + `...`, a certificate's `sha256:<fingerprint>`, a password's login email. */
  identifier: string | null;
  status: "active" | "revoked";
  expires_at: string | null;
  created_at: string;
}

/** `POST /entities/{id}/credentials/api-keys`. */
export interface CreateCredentialApiKeyInput {
  description?: string;
  /** RFC 3339, in the future. */
  expires_at?: string;
  rate_limit_rpm?: number;
}

/** An `id_secret` key just created: `key` is shown this once. */
export interface CreatedCredentialApiKey {
  credential_id: string;
  key: string;
  expires_at: string | null;
}

/** A password just set. */
export interface CreatedPassword {
  credential_id: string;
  kind: "password";
  created_at: string;
}

/** `POST /entities/{id}/credentials/certificates`. */
export interface AddCertificateInput {
  /** The client certificate, PEM. */
  pem: string;
  /** Default: the certificate's subject. */
  description?: string;
}

/** A client certificate registered by its SHA-256 fingerprint. */
export interface CreatedCertificate {
  credential_id: string;
  kind: "certificate";
  identifier: string;
  fingerprint_sha256: string;
  subject: string;
  issuer: string;
  not_before: string;
  not_after: string;
  expires_at: string;
  created_at: string;
}

export class Entities {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Creates an entity (admins). Never retried (POST). */
  async create(input: CreateEntityInput, options?: CallOptions): Promise<Entity> {
    return this.#http.json({ method: "POST", path: "/entities", json: input, ...callOptions(options) });
  }

  /** Every entity of the org (admins). */
  list(options: ListOptions = {}): Paginated<Entity> {
    return new Paginated(
      (page) => this.#http.page({ method: "GET", path: "/entities", query: { limit: page.limit, cursor: page.cursor }, ...callOptions(page) }),
      options,
    );
  }

  async get(id: string, options?: CallOptions): Promise<Entity> {
    return this.#http.json({ method: "GET", path: path`/entities/${id}`, ...callOptions(options) });
  }

  /** Renames, changes the role or the status. Not retried (PATCH). */
  async update(id: string, input: UpdateEntityInput, options?: CallOptions): Promise<Entity> {
    return this.#http.json({ method: "PATCH", path: path`/entities/${id}`, json: input, ...callOptions(options) });
  }
}

/** `/entities/{id}/credentials`: passwords, `id_secret` API keys and client certificates of an entity. */
export class Credentials {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Every credential of the entity, metadata only (not paginated by the service). */
  async list(entityId: string, options?: CallOptions): Promise<Credential[]> {
    const body = await this.#http.json<{ items: Credential[] }>({ method: "GET", path: path`/entities/${entityId}/credentials`, ...callOptions(options) });
    return body.items;
  }

  /** Sets the person's password (SPEC §5 rules; a common password is refused with its reason). */
  async setPassword(entityId: string, password: string, options?: CallOptions): Promise<CreatedPassword> {
    return this.#http.json({ method: "POST", path: path`/entities/${entityId}/credentials/password`, json: { password }, ...callOptions(options) });
  }

  /** Creates an `id_secret` API key for the entity; `key` is shown this once. */
  async createApiKey(entityId: string, input: CreateCredentialApiKeyInput = {}, options?: CallOptions): Promise<CreatedCredentialApiKey> {
    return this.#http.json({ method: "POST", path: path`/entities/${entityId}/credentials/api-keys`, json: input, ...callOptions(options) });
  }

  /** Registers a client certificate (mTLS) by its fingerprint. */
  async addCertificate(entityId: string, input: AddCertificateInput, options?: CallOptions): Promise<CreatedCertificate> {
    return this.#http.json({ method: "POST", path: path`/entities/${entityId}/credentials/certificates`, json: input, ...callOptions(options) });
  }

  /** Revokes a credential: it is refused from the next request on (idempotent). */
  async revoke(entityId: string, credentialId: string, options?: CallOptions): Promise<Credential> {
    return this.#http.json({ method: "DELETE", path: path`/entities/${entityId}/credentials/${credentialId}`, ...callOptions(options) });
  }
}
