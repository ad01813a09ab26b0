// Runs every test of the project, stage by stage, and prints one summary at the end:
//   1. the core natively (unit, RFC vectors, property tests);
//   2. the core's RFC vectors and the bindings' tests compiled to wasm, in Node;
//   3. the same in headless Chromium (wasm-bindgen-test-runner + chromedriver);
//   4. the npm package: build it and the Worker (its tests call a real `wrangler dev`),
//      then Node's test runner (Node, Chromium, workerd, npm pack);
//   5. the Worker end to end: build, then Node's test runner against real `wrangler dev`
//      servers (each test file starts its own on a free loopback port).
// A stage that fails does not stop the others; the exit code is non-zero if any failed.
import path from "node:path";
import { root, run, runCaptured } from "./lib.mjs";

const wasmTests = ["--target", "wasm32-unknown-unknown", "-p", "keyward-core", "--test", "vectors_*", "--test", "jwt", "--test", "password_policy", "--test", "certificate", "-p", "keyward-wasm", "--test", "bindings"];
const browserEnv = {
  ...process.env,
  WASM_BINDGEN_USE_BROWSER: "1",
  CHROMEDRIVER: process.env.CHROMEDRIVER ?? "/usr/bin/chromedriver",
  WASM_BINDGEN_TEST_WEBDRIVER_JSON: path.join(root, "scripts", "webdriver.json"),
};

/** Counts from cargo's and wasm-bindgen-test's `test result:` lines. */
function cargoCounts(output) {
  let passed = 0;
  let failed = 0;
  for (const m of output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  return { passed, failed };
}

/** Counts from Node's test runner (`# pass N`, `# fail N`). */
function nodeCounts(output) {
  const get = (name) => Number(output.match(new RegExp(`^# ${name} (\\d+)`, "m"))?.[1] ?? 0);
  return { passed: get("pass"), failed: get("fail") + get("cancelled") };
}

const stages = [
  { name: "core (native)", cmd: "cargo", args: ["test", "-p", "keyward-core"], counts: cargoCounts },
  { name: "wasm in Node", cmd: "cargo", args: ["test", ...wasmTests], counts: cargoCounts },
  { name: "wasm in Chromium", cmd: "cargo", args: ["test", ...wasmTests], env: browserEnv, counts: cargoCounts },
  { name: "npm package", before: () => (run("node", ["scripts/build-pkg.mjs"]), run("node", ["scripts/build-worker.mjs"])), cmd: "node", args: ["--test", "--test-reporter=tap", "tests/pkg/"], counts: nodeCounts },
  // Two files at a time: each starts its own wrangler dev and spends much of its time
  // waiting (startups, timeouts, retries), so two overlap well on 2 cores (961 s → 519 s).
  { name: "worker end-to-end", before: () => run("node", ["scripts/build-worker.mjs"]), cmd: "node", args: ["--test", "--test-concurrency=2", "--test-reporter=tap", "tests/e2e/"], counts: nodeCounts },
];

const results = [];
for (const stage of stages) {
  console.log(`\n==== ${stage.name} ====`);
  stage.before?.();
  const { status, output } = runCaptured(stage.cmd, stage.args, { env: stage.env ?? process.env });
  const counts = stage.counts(output);
  // A non-zero exit with no failing test counted (a build error) still fails the stage.
  if (status !== 0 && counts.failed === 0) counts.failed = 1;
  if (status === 0 && counts.passed === 0) counts.failed += 1; // a stage that ran nothing
  results.push({ name: stage.name, ...counts });
}

console.log("\n==== summary ====");
for (const r of results) console.log(`${r.name.padEnd(20)} ${r.passed} passed, ${r.failed} failed`);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
