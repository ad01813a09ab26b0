/**
 * How the CLI answers: `--json` prints exactly the data as JSON (one document, for
 * scripts); otherwise readable tables and lines. Errors go to stderr, with an exit code
 * that says what kind of failure it was.
 */
import {
  AuthenticationError,
  KeywardError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
} from "../errors.js";

/** Exit codes (documented in `keyward --help`). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  authentication: 3,
  permission: 4,
  notFound: 5,
  network: 6,
} as const;

/** A mistake in the command line: printed with the command's usage, exit 2. */
export class UsageError extends Error {}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof AuthenticationError) return EXIT.authentication;
  if (err instanceof PermissionError) return EXIT.permission;
  if (err instanceof NotFoundError) return EXIT.notFound;
  if (err instanceof NetworkError) return EXIT.network;
  return EXIT.failure;
}

/** The one line (and hint) a failure prints on stderr. */
export function describeError(err: unknown): string {
  if (err instanceof UsageError) return `error: ${err.message}`;
  if (err instanceof KeywardError) {
    const hint =
      err instanceof AuthenticationError
        ? "\nhint: run `keyward login`, or set KEYWARD_TOKEN"
        : err instanceof RateLimitError && err.retryAfter !== undefined
          ? `\nhint: retry in ${err.retryAfter} s`
          : "";
    const request = err.requestId ? ` (request ${err.requestId})` : "";
    return `error: ${err.message}${request}${hint}`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

/** A table of `rows` under `columns` (header, then aligned cells; `-` for empty). */
export function table(columns: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined || c === "" ? "-" : String(c))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join("\n");
}

/** `key: value` lines, aligned. */
export function fields(entries: [string, unknown][]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries
    .map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v === null || v === undefined || v === "" ? "-" : Array.isArray(v) ? v.join(", ") || "-" : String(v)}`)
    .join("\n");
}
