// The wasm core loads on first use, never at import: `Client` works without it, the
// first helper call compiles and instantiates it once (synchronously, in Node), and a
// browser bundle of an app that only uses `Client` contains none of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { measure } from "../../scripts/pkg-size.mjs";

// Count compilations and instantiations from here on (this file runs in its own process).
const counts = { compiled: 0, instantiated: 0 };
const count = (Target, name) =>
  new Proxy(Target, {
    construct(target, args) {
      counts[name] += 1;
      return Reflect.construct(target, args);
    },
  });
WebAssembly.Module = count(WebAssembly.Module, "compiled");
WebAssembly.Instance = count(WebAssembly.Instance, "instantiated");

test("Node: importing the package and using Client loads no wasm; the first helper loads it once, synchronously", async () => {
  const kw = await import("../../pkg/dist/node.js");
  const client = new kw.Client({
    endpoint: "https://kw.example",
    token: "ptmc_test",
    fetch: async () => Response.json({ success: true, data: { org_id: "org_1" } }),
  });
  assert.deepEqual(await client.whoami(), { org_id: "org_1" });
  assert.deepEqual(counts, { compiled: 0, instantiated: 0 }, "no wasm for Client");

  assert.equal(kw.keyPrefix("ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0"), "ptmc_zI7yqBg");
  assert.deepEqual(counts, { compiled: 1, instantiated: 1 }, "loaded on first use");
  kw.pkce.createPair();
  kw.checkNamespaceName("myapp");
  await kw.ready();
  assert.deepEqual(counts, { compiled: 1, instantiated: 1 }, "loaded once");
});

test("browser bundles: an app importing only Client ships no wasm glue; with the helpers, the glue and the .wasm", async () => {
  const sizes = await measure();
  const client = sizes.client;
  const helpers = sizes["client+helpers"];
  assert.ok(client.inputs.includes("dist/client.js"));
  assert.ok(!client.inputs.some((f) => f.startsWith("wasm/") || f === "dist/wasm.js"), `Client alone pulls in: ${client.inputs.join(", ")}`);
  assert.equal(client.wasmGzip, 0);
  assert.ok(helpers.inputs.includes("wasm/keyward_wasm.js") && helpers.inputs.includes("dist/wasm.js"));
  assert.ok(helpers.inputs.includes("dist/browser.js"), "the entry's wasm registration survives tree shaking (sideEffects)");
  assert.ok(client.jsGzip < 10 * 1024, `Client alone: ${client.jsGzip} bytes gzipped`);
  console.log(`# Client alone ${client.jsGzip} B gzipped; Client + helpers ${helpers.jsGzip} B + wasm ${helpers.wasmGzip} B gzipped`);
});
