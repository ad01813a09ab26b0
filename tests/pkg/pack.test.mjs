// `npm pack` produces a package that installs into an empty folder and works there,
// with nothing from this repository on the module path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../pkg");

test("npm pack → install in an empty folder → import and use", () => {
  const work = mkdtempSync(path.join(tmpdir(), "keyward-pack-"));
  try {
    const npm = (args, cwd) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", work], pkgDir));
    const files = packed[0].files.map((f) => f.path);
    assert.ok(files.includes("wasm/keyward_wasm_bg.wasm"), "the wasm is in the tarball");
    assert.ok(files.includes("dist/index.d.ts"), "the types are in the tarball");
    assert.ok(files.includes("README.md"), "the SDK's README is in the tarball");
    assert.ok(!files.some((f) => f.startsWith("src/")), "sources stay out");

    const app = path.join(work, "app");
    execFileSync("mkdir", ["-p", app]);
    writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    npm(["install", "--no-audit", "--no-fund", "--offline", path.join(work, packed[0].filename)], app);
    writeFileSync(
      path.join(app, "check.mjs"),
      `import { Client, pkce, parseKey } from "keyward";
       console.log(JSON.stringify({ c: pkce.challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                                    p: parseKey("ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0").keyPrefix,
                                    e: new Client({ endpoint: "auth.example.com:443", token: "t" }).endpoint }));`,
    );
    const out = JSON.parse(execFileSync("node", ["check.mjs"], { cwd: app, encoding: "utf8" }));
    assert.deepEqual(out, { c: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", p: "ptmc_zI7yqBg", e: "https://auth.example.com" });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
