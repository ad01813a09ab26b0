// What a browser downloads for the npm package `keyward`, gzipped: an app that imports
// only `Client`, and one that also uses the wasm-backed helpers (its bundle plus the
// .wasm that `ready()` fetches). Each app is bundled by esbuild (minified, browser
// platform, ESM) from `import ... from "keyward"`, resolved through the package's own
// `exports` and `sideEffects`, exactly as an app's bundler would.
//
//   node scripts/pkg-size.mjs          prints the table (build the package first)
//   node scripts/pkg-size.mjs --json   prints the figures as JSON (the tests use it)
import { mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { root } from "./lib.mjs";

// esbuild is not a dependency of its own here: it comes with wrangler (pinned by it), so
// take wrangler's copy wherever npm placed it.
const esbuild = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"))("esbuild");

const pkgDir = path.join(root, "pkg");

export const APPS = {
  client: `import { Client } from "keyward";
globalThis.app = new Client({ endpoint: "api.example.com:443", token: "t" });`,
  "client+helpers": `import { Client, ready, parseKey, keyPrefix, pkce, verifyWebhook, signWebhook, checkNamespaceName, checkNamespaceKey } from "keyward";
globalThis.app = { Client, ready, parseKey, keyPrefix, pkce, verifyWebhook, signWebhook, checkNamespaceName, checkNamespaceKey };`,
};

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

/**
 * Bundles `source` (an app's module that imports "keyward") as its bundler would, with
 * node_modules/keyward = this checkout's package (a workspace's may point elsewhere).
 * Returns the code and the package files that put bytes into it (relative to pkg/).
 */
export async function bundleApp(source, { platform = "browser", minify = true } = {}) {
  const app = mkdtempSync(path.join(tmpdir(), "keyward-app-"));
  try {
    mkdirSync(path.join(app, "node_modules"));
    symlinkSync(pkgDir, path.join(app, "node_modules", "keyward"), "dir");
    const entry = path.join(app, "app.mjs");
    writeFileSync(entry, source);
    const result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: app,
      bundle: true,
      minify,
      platform,
      format: "esm",
      target: "es2022",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    // The files that put bytes into the bundle (the metafile also lists those tree-shaken away).
    const [output] = Object.values(result.metafile.outputs);
    const inputs = Object.entries(output.inputs)
      .filter(([, i]) => i.bytesInOutput > 0)
      .map(([p]) => path.relative(pkgDir, path.resolve(app, p)))
      .filter((p) => !p.startsWith(".."));
    return { code: result.outputFiles[0].contents, inputs };
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}

/** Bundles each app; returns `{ name: { js, jsGzip, wasmGzip, total, inputs } }` (bytes). */
export async function measure() {
  const wasmGzip = gz(readFileSync(path.join(pkgDir, "wasm", "keyward_wasm_bg.wasm")));
  const out = {};
  for (const [name, source] of Object.entries(APPS)) {
    const { code, inputs } = await bundleApp(source);
    const usesWasm = inputs.includes(path.join("wasm", "keyward_wasm.js"));
    const wasm = usesWasm ? wasmGzip : 0;
    out[name] = { js: code.length, jsGzip: gz(code), wasmGzip: wasm, total: gz(code) + wasm, inputs };
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await measure();
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(sizes));
  } else {
    const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
    console.log("\nkeyward in a browser (esbuild, minified; gzip -9):");
    for (const [name, s] of Object.entries(sizes)) {
      const wasm = s.wasmGzip ? ` + wasm ${kib(s.wasmGzip)}` : " (no wasm)";
      console.log(`  ${name.padEnd(15)} JS ${kib(s.js)} → ${kib(s.jsGzip)} gzipped${wasm} = ${kib(s.total)} downloaded`);
    }
  }
}
