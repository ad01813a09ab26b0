/**
 * `/v1/namespaces`: the org's namespaces (owners and admins create and delete them) and
 * the values inside them (raw bytes, at most 1 MiB; docs/namespaces.md).
 */
import { type CallOptions, type Transport, callOptions } from "../http.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { type ListOptions, Paginated } from "../pages.js";
import { path } from "../path.js";

/** A namespace of the org. */
export interface Namespace {
  name: string;
  created_at: string;
  /** The entity that created it. */
  created_by: string;
}

/** A namespace value: bytes, or a string sent as UTF-8. */
export type NamespaceValue = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/** The answer to `putKey`. */
export interface PutKeyResult {
  namespace: string;
  key: string;
  /** Bytes stored. */
  size: number;
}

/** The answer to `deleteKey`. */
export interface DeleteKeyResult {
  namespace: string;
  key: string;
  deleted: true;
}

/** Options of `listKeys`. */
export interface ListKeysOptions extends ListOptions {
  /** Only keys starting with this. */
  prefix?: string;
}

export class Namespaces {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Creates a namespace (owners and admins; 409 `ConflictError` if the name is taken). Never retried. */
  async create(name: string, options?: CallOptions): Promise<Namespace> {
    return this.#http.json({ method: "POST", path: "/v1/namespaces", json: { name }, ...callOptions(options) });
  }

  /** The org's namespaces this credential may use, by name. */
  list(options: ListOptions = {}): Paginated<Namespace> {
    return new Paginated(
      (page) => this.#http.page({ method: "GET", path: "/v1/namespaces", query: { limit: page.limit, cursor: page.cursor }, ...callOptions(page) }),
      options,
    );
  }

  /** Deletes a namespace and its values (owners and admins). */
  async delete(name: string, options?: CallOptions): Promise<{ name: string; deleted: true }> {
    return this.#http.json({ method: "DELETE", path: path`/v1/namespaces/${name}`, ...callOptions(options) });
  }
}

/** The values of namespaces: what `Client.putKey`, `getKey`, `deleteKey` and `listKeys` do. */
export class NamespaceValues {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  async put(namespace: string, key: string, value: NamespaceValue, options?: CallOptions): Promise<PutKeyResult> {
    return this.#http.json({ method: "PUT", path: path`/v1/namespaces/${namespace}/keys/${key}`, bytes: toBytes(value), ...callOptions(options) });
  }

  async get(namespace: string, key: string, options?: CallOptions): Promise<Uint8Array | null> {
    try {
      return await this.#http.bytes({ method: "GET", path: path`/v1/namespaces/${namespace}/keys/${key}`, ...callOptions(options) });
    } catch (err) {
      // The service answers the same 404 for a missing key and for a missing namespace
      // the credential may use (a key limited to named namespaces gets 403 for others).
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  async delete(namespace: string, key: string, options?: CallOptions): Promise<DeleteKeyResult> {
    return this.#http.json({ method: "DELETE", path: path`/v1/namespaces/${namespace}/keys/${key}`, ...callOptions(options) });
  }

  list(namespace: string, options: ListKeysOptions = {}): Paginated<string> {
    const { prefix } = options;
    return new Paginated(async (page) => {
      const { items, nextCursor } = await this.#http.page<{ key: string }>({
        method: "GET",
        path: path`/v1/namespaces/${namespace}/keys`,
        query: { prefix, limit: page.limit, cursor: page.cursor },
        ...callOptions(page),
      });
      return { items: items.map((item) => item.key), nextCursor };
    }, options);
  }
}

function toBytes(value: NamespaceValue): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new ValidationError("a namespace value is a Uint8Array, an ArrayBuffer, a typed array or a string", "invalid_argument");
}
