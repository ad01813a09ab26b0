/**
 * Lists. Every list method returns a `Paginated<T>` at once, without a request:
 *
 * - iterate it (`for await (const item of client.apiKeys.list())`) to walk every item of
 *   every page, following `next_cursor` until the end, one request per page;
 * - or call `.page({ cursor, limit })` for exactly one page and its `nextCursor`, to
 *   page through a UI or resume later.
 *
 * Iterating twice lists twice (nothing is cached), so a `Paginated` is a reusable query.
 */
import { KeywardError } from "./errors.js";
import type { CallOptions, Page } from "./http.js";

/** Options of every list method. */
export interface ListOptions extends CallOptions {
  /** Items per page (the service's bounds apply: 1-100, or 1-1000 for namespace keys). */
  limit?: number;
  /** Start after this cursor (a `nextCursor` from an earlier page). */
  cursor?: string;
}

/** Options of {@link Paginated.page}: override the list's cursor, limit or signal for this page. */
export interface PageOptions extends CallOptions {
  /** The page after this cursor; `null` or absent: the list's first page. */
  cursor?: string | null;
  limit?: number;
}

/** Fetches one page (the endpoint module knows the path and filters). */
export type PageFetcher<T> = (options: PageOptions) => Promise<Page<T>>;

export class Paginated<T> implements AsyncIterable<T> {
  readonly #fetch: PageFetcher<T>;
  readonly #options: ListOptions;

  constructor(fetch: PageFetcher<T>, options: ListOptions = {}) {
    this.#fetch = fetch;
    this.#options = options;
  }

  /** One page: by default the first (or the one after the list's `cursor`). */
  page(options: PageOptions = {}): Promise<Page<T>> {
    const merged: PageOptions = { ...this.#options, ...options };
    if (options.cursor === null) delete merged.cursor;
    return this.#fetch(merged);
  }

  /** Every item of every page, in the service's order. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    let cursor: string | null = this.#options.cursor ?? null;
    const seen = new Set<string>();
    do {
      const page: Page<T> = await this.page({ cursor });
      yield* page.items;
      cursor = page.nextCursor;
      // A cursor handed out twice would loop forever: stop loudly instead.
      if (cursor !== null) {
        if (seen.has(cursor)) throw new KeywardError("the service repeated a page cursor", "unexpected_response");
        seen.add(cursor);
      }
    } while (cursor !== null);
  }
}
