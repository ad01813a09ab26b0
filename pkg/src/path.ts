/**
 * Request paths with caller-given segments (ids, namespace names, keys), each one
 * percent-encoded whole: a `/` inside a key travels as `%2F` and stays one segment, as
 * the service decodes it exactly once (docs/namespaces.md).
 */
import { ValidationError } from "./errors.js";

/**
 * A tagged template: `path\`/v1/keys/${id}\`` encodes every substitution with
 * `encodeURIComponent`.
 *
 * A segment that is `.` or `..` cannot be sent at all: every URL parser (fetch's
 * included) resolves it, and its `%2E` spellings, as a dot segment and would send the
 * request to another path. Such a segment throws `ValidationError`
 * (`unaddressable_segment`) instead of silently reaching the wrong resource.
 */
export function path(strings: TemplateStringsArray, ...segments: string[]): string {
  // Checked at run time too: JavaScript callers may pass `undefined` or a number.
  let out = strings[0] ?? "";
  segments.forEach((segment, i) => {
    if (typeof segment !== "string") {
      throw new ValidationError(`a path segment must be a string, not ${typeof segment}`, "invalid_argument");
    }
    if (segment === "." || segment === "..") {
      throw new ValidationError(
        `${JSON.stringify(segment)} cannot be sent as a path segment: URLs resolve it as a dot segment`,
        "unaddressable_segment",
      );
    }
    out += encodeURIComponent(segment) + (strings[i + 1] ?? "");
  });
  return out;
}
