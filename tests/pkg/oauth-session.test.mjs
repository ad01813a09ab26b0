// OAuthSession (the SDK's self-refreshing TokenSource) with an injected fetch standing in
// for the token endpoint: a fresh token is handed out as is; parallel callers of a stale
// one share exactly one refresh; a forced refresh after a 401 rotates once; the rotated
// tokens are saved; signOut revokes, then clears the store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AuthenticationError, MemoryTokenStore, OAuthSession } from "../../pkg/dist/node.js";
import { FileTokenStore } from "../../pkg/dist/token-store-file.js";

const as = {
  issuer: "https://auth.example",
  token_endpoint: "https://auth.example/oauth/token",
  revocation_endpoint: "https://auth.example/oauth/revoke",
};

/** A token endpoint that rotates: each refresh token works once. */
function tokenEndpoint({ delayMs = 20 } = {}) {
  const calls = { refresh: 0, revoke: 0, presented: [] };
  let n = 0;
  const fetch = async (url, init) => {
    const body = new URLSearchParams(init.body.toString());
    if (url.toString().endsWith("/oauth/revoke")) {
      calls.revoke++;
      return new Response(null, { status: 200 });
    }
    calls.refresh++;
    calls.presented.push(body.get("refresh_token"));
    await new Promise((r) => setTimeout(r, delayMs));
    n++;
    return Response.json({ access_token: `at-${n}`, refresh_token: `rt-${n}`, token_type: "Bearer", expires_in: 3600 }, { headers: { "cache-control": "no-store" } });
  };
  return { fetch, calls };
}

const stale = () => ({ issuer: as.issuer, clientId: "cli_1", accessToken: "at-0", refreshToken: "rt-0", obtainedAt: Date.now() - 3_600_000, expiresAt: Date.now() - 1000 });

test("a fresh token is handed out without a request; a stale one is refreshed once for 20 parallel callers", async () => {
  const { fetch, calls } = tokenEndpoint();
  const fresh = new MemoryTokenStore({ ...stale(), accessToken: "fresh", obtainedAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
  assert.equal(await new OAuthSession(as, fresh, { fetch }).getToken(), "fresh");
  assert.equal(calls.refresh, 0);

  const store = new MemoryTokenStore(stale());
  const session = new OAuthSession(as, store, { fetch });
  const tokens = await Promise.all(Array.from({ length: 20 }, () => session.getToken()));
  assert.deepEqual(new Set(tokens), new Set(["at-1"]));
  assert.equal(calls.refresh, 1, "one refresh for every parallel caller");
  assert.deepEqual(calls.presented, ["rt-0"]);
  assert.equal((await store.load()).refreshToken, "rt-1", "the rotated refresh token is saved");
  assert.equal(await session.getToken({ forceRefresh: true }), "at-2", "a 401 forces one rotation");
  assert.deepEqual(calls.presented, ["rt-0", "rt-1"], "each refresh token presented once");
});

test("two sessions on one token file (two processes) present the refresh token once; the file is 0600", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "keyward-store-"));
  try {
    const file = path.join(dir, "keyward", "profile.json");
    const { fetch, calls } = tokenEndpoint({ delayMs: 50 });
    await new FileTokenStore(file).save(stale());
    const a = new OAuthSession(as, new FileTokenStore(file), { fetch });
    const b = new OAuthSession(as, new FileTokenStore(file), { fetch });
    const [ta, tb] = await Promise.all([a.getToken(), b.getToken()]);
    assert.equal(ta, "at-1");
    assert.equal(tb, "at-1", "the second waited for the lock and used the first's refresh");
    assert.equal(calls.refresh, 1);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    await a.signOut();
    assert.equal(calls.revoke, 1);
    assert.equal(await new FileTokenStore(file).load(), undefined, "signed out: the file is gone");
    await assert.rejects(b.getToken(), AuthenticationError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
