// Benchmark peer: the reference OAuth 2.1 provider for Workers, configured as one Worker that is
// both authorization server and its only protected resource. /authorize approves at once for a
// fixed user (no UI), so a script can run the real code+PKCE flow and then load /api/*.
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";

const USER_ID = "bench-user"; // must not contain ':' (it separates the parts of issued tokens)

// Protected routes: ctx.props is what completeAuthorization() stored, ctx.auth the verified token.
const apiHandler = {
  fetch(request, env, ctx) {
    return Response.json({ user: ctx.props.userId, path: new URL(request.url).pathname, scope: ctx.auth.scope });
  },
};

// Everything that isn't the API or a provider-owned endpoint (token, register, metadata).
const defaultHandler = {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/authorize" || request.method !== "GET") return new Response("not found", { status: 404 });
    const oauthReq = await env.OAUTH_PROVIDER.parseAuthRequest(request); // validates client, redirect URI, PKCE
    const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
      request: oauthReq,
      userId: USER_ID,
      metadata: {},
      scope: oauthReq.scope,
      props: { userId: USER_ID },
    });
    return Response.redirect(redirectTo, 302);
  },
};

// 1.x requires the canonical resource (the token audience) at construction, but the port is
// only chosen at run time, so the provider is built on the first request from its origin.
// One origin per process: the library caches its helpers on env.OAUTH_PROVIDER, so a second
// instance for another origin would hand /authorize the first one's helpers.
let provider, providerOrigin;
export default {
  fetch(request, env, ctx) {
    const origin = new URL(request.url).origin;
    if (!provider) {
      providerOrigin = origin;
      provider = new OAuthProvider({
        apiRoute: "/api/",
        apiHandler,
        defaultHandler,
        authorizeEndpoint: "/authorize",
        tokenEndpoint: "/oauth/token",
        clientRegistrationEndpoint: "/oauth/register", // enables RFC 7591 dynamic registration
        resourceMetadata: { resource: origin }, // bare origin covers every path; http ok on loopback
      });
    }
    if (origin !== providerOrigin) return new Response(`this peer serves ${providerOrigin}`, { status: 421 });
    return provider.fetch(request, env, ctx);
  },
};
