// Builds the npm package `keyward`: the wasm core (release, simd128), its JS glue
// (wasm-bindgen --target web), wasm-opt, then the TypeScript. Output: pkg/wasm, pkg/dist
// (both ignored by git).
import { existsSync, readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { root, run } from "./lib.mjs";

const wasmOut = path.join(root, "pkg", "wasm");
const built = path.join(root, "target", "wasm32-unknown-unknown", "release", "keyward_wasm.wasm");

run("cargo", ["build", "-p", "keyward-wasm", "--release", "--target", "wasm32-unknown-unknown"]);
run("wasm-bindgen", ["--target", "web", "--out-dir", wasmOut, built]);

const bg = path.join(wasmOut, "keyward_wasm_bg.wasm");
const wasmOpt = path.join(root, "node_modules", ".bin", "wasm-opt");
if (existsSync(wasmOpt)) {
  // The features the Rust wasm32 target emits by default, plus simd128 (.cargo/config.toml).
  const features = [
    "--enable-simd",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
  ];
  run(wasmOpt, ["-O3", ...features, bg, "-o", bg]);
}

run(path.join(root, "node_modules", ".bin", "tsc"), ["-p", path.join(root, "pkg")]);

const bytes = readFileSync(bg);
const gz = gzipSync(bytes, { level: 9 }).length;
console.log(
  `\nkeyward wasm: ${(statSync(bg).size / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped`,
);
