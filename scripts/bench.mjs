// `npm run bench`: the core natively (cargo bench) and the same core as wasm in Node,
// beside the peers a user would pick: hash-wasm, node:crypto and @node-rs/argon2.
// Prints ms/op per workload and the ratio of our wasm to each peer measured in this run
// (ratio < 1: we are faster), plus the package's wasm size.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import path from "node:path";
import { argon2id as hwArgon2id, createHMAC, createSHA256, pbkdf2 as hwPbkdf2, sha256 as hwSha256 } from "hash-wasm";
import { Algorithm, hashRaw as nodeRsHashRaw } from "@node-rs/argon2";
import { root, run, runCaptured } from "./lib.mjs";

run("node", ["scripts/build-pkg.mjs"]);
const wasmPath = path.join(root, "pkg", "wasm", "keyward_wasm_bg.wasm");
const wasm = await import(path.join(root, "pkg", "wasm", "keyward_wasm.js"));
wasm.initSync({ module: readFileSync(wasmPath) });

const native = {};
const cargo = runCaptured("cargo", ["bench", "-p", "keyward-core", "--bench", "core"]);
for (const line of cargo.output.split("\n")) {
  if (line.startsWith('{"workload"')) {
    const { workload, ms_per_op } = JSON.parse(line);
    native[workload] = ms_per_op;
  }
}

/** ms per call of `op` (sync or async), over about `budgetMs` after a warm-up. */
async function time(op, budgetMs = 700) {
  await op();
  let n = 0;
  const start = performance.now();
  while (n < 3 || performance.now() - start < budgetMs) {
    await op();
    n += 1;
  }
  return (performance.now() - start) / n;
}

const enc = new TextEncoder();
const key = "ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0";
const keyBytes = enc.encode(key);
const secret = enc.encode("server-hash-secret");
const password = enc.encode("correct horse battery");
const salt = new Uint8Array(16).fill(7);

const workloads = [];
for (const [name, m, t] of [["argon2id_m19456_t2", 19456, 2], ["argon2id_light_m4096_t2", 4096, 2]]) {
  workloads.push({
    name,
    ours: () => wasm.argon2idRaw(password, salt, new Uint8Array(), new Uint8Array(), m, t, 1, 32),
    peers: {
      "hash-wasm": () => hwArgon2id({ password, salt, parallelism: 1, iterations: t, memorySize: m, hashLength: 32, outputType: "binary" }),
      "@node-rs/argon2 (native)": () => nodeRsHashRaw(password, { algorithm: Algorithm.Argon2id, memoryCost: m, timeCost: t, parallelism: 1, outputLen: 32, salt }),
    },
  });
}
for (const iterations of [1000, 10000]) {
  workloads.push({
    name: `pbkdf2_sha256_${iterations}`,
    ours: () => wasm.lookupHash(key, secret, iterations),
    peers: {
      "hash-wasm": () => hwPbkdf2({ password: keyBytes, salt: secret, iterations, hashLength: 32, hashFunction: createSHA256(), outputType: "binary" }),
      "node:crypto (native)": () => pbkdf2Sync(keyBytes, secret, iterations, 32, "sha256"),
    },
  });
}
workloads.push({
  name: "sha256_43B",
  ours: () => wasm.sha256(keyBytes),
  peers: {
    "hash-wasm": () => hwSha256(keyBytes),
    "node:crypto (native)": () => createHash("sha256").update(keyBytes).digest(),
  },
});
const hwHmac = await createHMAC(createSHA256(), secret);
workloads.push({
  name: "hmac_sha256_43B",
  ours: () => wasm.hmacSha256(secret, keyBytes),
  peers: {
    "hash-wasm": () => { hwHmac.init(); hwHmac.update(keyBytes); return hwHmac.digest("binary"); },
    "node:crypto (native)": () => createHmac("sha256", secret).update(keyBytes).digest(),
  },
});
workloads.push({
  name: "key_generate_parse",
  ours: () => wasm.parseKey(wasm.generateKey("ptmc", "lookup"), "ptmc"),
  peers: {},
});

const fmt = (ms) => (ms >= 1 ? ms.toFixed(2) : ms >= 0.01 ? ms.toFixed(4) : ms.toExponential(2));
const rows = [];
for (const w of workloads) {
  const ours = await time(w.ours);
  const peerTimes = {};
  for (const [peer, op] of Object.entries(w.peers)) peerTimes[peer] = await time(op);
  rows.push({ name: w.name, native: native[w.name], ours, peerTimes });
}

const gz = gzipSync(readFileSync(wasmPath), { level: 9 }).length;
console.log(`\n## Core benchmarks (ms/op; ratio = our wasm ÷ peer, < 1 means faster)\n`);
console.log(`Node ${process.version}, ${(await import("node:os")).cpus()[0].model}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log("| workload | core native | core wasm (Node) | peer | peer ms/op | wasm ÷ peer |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) {
  const peers = Object.entries(r.peerTimes);
  if (peers.length === 0) {
    console.log(`| ${r.name} | ${fmt(r.native)} | ${fmt(r.ours)} | – | – | – |`);
  }
  for (const [peer, ms] of peers) {
    console.log(`| ${r.name} | ${fmt(r.native)} | ${fmt(r.ours)} | ${peer} | ${fmt(ms)} | ${(r.ours / ms).toFixed(2)}× |`);
  }
}
console.log(`\nPackage wasm: ${(readFileSync(wasmPath).length / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped (target < 200 KB).`);
