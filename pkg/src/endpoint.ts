/**
 * The service's address. Users write it as the Primatomic seed does (`host:port`, which
 * means https) or as a URL. Plain `http://` is accepted only on a loopback host, so a
 * bearer token never crosses a network in clear text by a typo.
 */
import { ValidationError } from "./errors.js";

/** The hosts on which `http://` is allowed (the same loopback rule as the service's redirect URIs). */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Parses `endpoint` into the base URL every request path is appended to (no trailing
 * slash). Throws `ValidationError` (`code`: `invalid_endpoint`) for anything else.
 *
 * - `auth.example.com:443`, `auth.example.com` → `https://auth.example.com`
 * - `https://auth.example.com/base/` → `https://auth.example.com/base`
 * - `http://127.0.0.1:8787` → itself; `http://auth.example.com` → refused
 */
export function parseEndpoint(endpoint: string): string {
  const text = endpoint.trim();
  if (text === "") throw invalid(endpoint, "it is empty");
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  let url: URL;
  try {
    url = new URL(hasScheme ? text : `https://${text}`);
  } catch {
    throw invalid(endpoint, "it is neither host:port nor a URL");
  }
  if (url.protocol === "http:") {
    if (!LOOPBACK.has(url.hostname)) {
      throw invalid(endpoint, "http:// is allowed only on localhost, 127.0.0.1 or [::1]; use https://");
    }
  } else if (url.protocol !== "https:") {
    throw invalid(endpoint, `the scheme must be https:// (or http:// on loopback), not ${url.protocol}//`);
  }
  if (url.username !== "" || url.password !== "") throw invalid(endpoint, "it must not carry credentials");
  if (url.search !== "" || url.hash !== "") throw invalid(endpoint, "it must not have a query or a fragment");
  if (!hasScheme && url.pathname !== "/") throw invalid(endpoint, "host:port takes no path; write a URL");
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function invalid(endpoint: string, why: string): ValidationError {
  return new ValidationError(`invalid endpoint ${JSON.stringify(endpoint)}: ${why}`, "invalid_endpoint");
}
