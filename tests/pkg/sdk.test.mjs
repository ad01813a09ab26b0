// The package `keyward` in Node: the RFC vectors through the public API, typed errors,
// and webhook verification as a receiver uses it. The package is imported by path (this
// checkout's build): node_modules/keyward may be a link to another checkout's pkg/.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  KeywardError,
  ValidationError,
  WebhookVerificationError,
  checkNamespaceKey,
  checkNamespaceName,
  keyPrefix,
  parseKey,
  pkce,
  signWebhook,
  verifyWebhook,
} from "../../pkg/dist/node.js";

const RFC7636 = {
  verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
  challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
};
const SW = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

test("PKCE: RFC 7636 Appendix B", () => {
  assert.equal(pkce.challenge(RFC7636.verifier), RFC7636.challenge);
  assert.equal(pkce.verify(RFC7636.challenge, RFC7636.verifier), true);
  assert.equal(pkce.verify(RFC7636.challenge, RFC7636.verifier.replace(/k$/, "K")), false);
});

test("PKCE: plain and malformed values are refused with codes", () => {
  assert.throws(() => pkce.verify(RFC7636.challenge, RFC7636.verifier, "plain"), {
    name: "ValidationError",
    code: "unsupported_challenge_method",
  });
  assert.throws(() => pkce.challenge("too-short"), { code: "malformed_code_verifier" });
  const pair = pkce.createPair();
  assert.equal(pair.method, "S256");
  assert.match(pair.verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(pkce.verify(pair.challenge, pair.verifier), true);
  assert.notEqual(pkce.generateVerifier(), pkce.generateVerifier());
});

test("parseKey: both schemes, the seed's key, strictness", () => {
  const seed = "ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0";
  assert.deepEqual(parseKey(seed), { scheme: "lookup", keyPrefix: "ptmc_zI7yqBg", credentialId: null });
  const idSecret = `atom_${"0f".repeat(16)}_${"a1".repeat(32)}`;
  assert.deepEqual(parseKey(idSecret, { prefix: "atom" }), {
    scheme: "id_secret",
    keyPrefix: "atom_0f0f0f0",
    credentialId: "0f".repeat(16),
  });
  for (const bad of [seed.slice(0, -1), `${seed}=`, seed.replace(/0$/, "1"), idSecret.toUpperCase(), "", "ptmc_oat_x"]) {
    assert.throws(() => parseKey(bad), (err) => err instanceof ValidationError && err instanceof KeywardError && typeof err.code === "string", bad);
  }
  assert.throws(() => parseKey(seed, { prefix: "prim" }), { code: "unknown_token_shape" });
  assert.equal(keyPrefix(seed), "ptmc_zI7yqBg");
});

test("verifyWebhook: the Standard Webhooks example, as headers object and record", () => {
  assert.equal(signWebhook(SW.body, SW.id, SW.timestamp, SW.secret), SW.signature);
  const headers = new Headers({
    "webhook-id": SW.id,
    "webhook-timestamp": String(SW.timestamp),
    "webhook-signature": `v1,bm9wZQ== ${SW.signature}`,
  });
  assert.deepEqual(verifyWebhook(SW.body, headers, SW.secret, { now: SW.timestamp }), { test: 2432232314 });
  const record = { "Webhook-Id": SW.id, "Webhook-Timestamp": String(SW.timestamp), "Webhook-Signature": SW.signature };
  assert.deepEqual(verifyWebhook(new TextEncoder().encode(SW.body), record, SW.secret, { now: SW.timestamp + 299 }), {
    test: 2432232314,
  });
});

test("namespace names and keys: checked offline by the core, with the service's codes", () => {
  checkNamespaceName("myapp");
  checkNamespaceName("a.b_c-9");
  checkNamespaceKey("a/b c%2e");
  for (const bad of ["", "MyApp", "-a", "a/b", "x".repeat(64)]) {
    assert.throws(() => checkNamespaceName(bad), (err) => err instanceof ValidationError && err.code === "invalid_namespace", bad);
  }
  for (const bad of ["", "a\u0000b", "a\nb", "é".repeat(201)]) {
    assert.throws(() => checkNamespaceKey(bad), (err) => err instanceof ValidationError && err.code === "invalid_key", JSON.stringify(bad));
  }
});

test("verifyWebhook: tampering, staleness and missing headers fail with codes", () => {
  const headers = { "webhook-id": SW.id, "webhook-timestamp": String(SW.timestamp), "webhook-signature": SW.signature };
  const fails = (fn, code) => assert.throws(fn, (err) => err instanceof WebhookVerificationError && err.code === code);
  fails(() => verifyWebhook('{"test": 2432232315}', headers, SW.secret, { now: SW.timestamp }), "no_matching_signature");
  fails(() => verifyWebhook(SW.body, headers, SW.secret, { now: SW.timestamp + 301 }), "timestamp_out_of_tolerance");
  fails(() => verifyWebhook(SW.body, { ...headers, "webhook-timestamp": "" }, SW.secret, { now: SW.timestamp }), "malformed_timestamp");
  fails(() => verifyWebhook(SW.body, { ...headers, "webhook-id": undefined }, SW.secret, { now: SW.timestamp }), "malformed_message_id");
  fails(() => verifyWebhook(SW.body, headers, "whsec_short", { now: SW.timestamp }), "malformed_secret");
  fails(() => verifyWebhook(SW.body, headers, SW.secret.replace("M", "N"), { now: SW.timestamp }), "no_matching_signature");
});
