// Builds the npm package `keyward`: the wasm core (release, simd128), its JS glue
// (wasm-bindgen --target web), wasm-opt, then the TypeScript; prints what a browser
// downloads (scripts/pkg-size.mjs). Output: pkg/wasm, pkg/dist (both ignored by git).
// Cargo's target folder is CARGO_TARGET_DIR when set. The glue and wasm-opt are redone
// only when cargo produced a newer wasm, so a TypeScript-only change rebuilds in seconds.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { root, run } from "./lib.mjs";
import { measure } from "./pkg-size.mjs";

const wasmOut = path.join(root, "pkg", "wasm");
const targetDir = path.resolve(root, process.env.CARGO_TARGET_DIR ?? "target");
const built = path.join(targetDir, "wasm32-unknown-unknown", "release", "keyward_wasm.wasm");
const bg = path.join(wasmOut, "keyward_wasm_bg.wasm");

run("cargo", ["build", "-p", "keyward-wasm", "--release", "--target", "wasm32-unknown-unknown"]);

const upToDate = existsSync(bg) && existsSync(path.join(wasmOut, "keyward_wasm.js")) && statSync(bg).mtimeMs > statSync(built).mtimeMs;
if (upToDate) {
  console.log("\npkg/wasm is newer than the cargo build: glue and wasm-opt kept");
} else {
  run("wasm-bindgen", ["--target", "web", "--out-dir", wasmOut, built]);
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
}

// A clean dist: a module removed from src must not linger in the package.
rmSync(path.join(root, "pkg", "dist"), { recursive: true, force: true });
run(path.join(root, "node_modules", ".bin", "tsc"), ["-p", path.join(root, "pkg")]);

const bytes = readFileSync(bg);
const gz = gzipSync(bytes, { level: 9 }).length;
console.log(
  `\nkeyward wasm: ${(statSync(bg).size / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped`,
);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log("what a browser downloads (esbuild, minified, gzip -9; scripts/pkg-size.mjs):");
for (const [name, s] of Object.entries(await measure())) {
  const wasm = s.wasmGzip ? ` + wasm ${kib(s.wasmGzip)}` : ", no wasm";
  console.log(`  ${name.padEnd(15)} JS ${kib(s.jsGzip)}${wasm} = ${kib(s.total)}`);
}
