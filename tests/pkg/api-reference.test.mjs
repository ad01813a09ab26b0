// The SDK's API reference (docs/sdk-api, made by `npm run docs` with TypeDoc) is what the
// source says today: regenerated into a temporary folder, it must equal the committed one,
// and every public area of a Client must be in it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const committed = path.join(root, "docs", "sdk-api");

function files(dir, base = dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full, base) : [path.relative(base, full)];
  });
}

test("docs/sdk-api is up to date with the source (run `npm run docs` after changing the SDK's API)", () => {
  const out = mkdtempSync(path.join(os.tmpdir(), "keyward-api-"));
  try {
    const run = spawnSync(process.execPath, [path.join(root, "node_modules", "typedoc", "bin", "typedoc"), "--options", path.join(root, "pkg", "typedoc.json"), "--out", out], { cwd: root, encoding: "utf8" });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const fresh = files(out).sort();
    assert.deepEqual(fresh, files(committed).sort(), "the same pages");
    for (const page of fresh) assert.equal(readFileSync(path.join(out, page), "utf8"), readFileSync(path.join(committed, page), "utf8"), page);
    const client = readFileSync(path.join(out, "index", "classes", "Client.md"), "utf8");
    for (const member of ["putKey", "getKey", "deleteKey", "listKeys", "whoami", "apiKeys", "namespaces", "audit", "grants", "members", "auth"]) assert.match(client, new RegExp(`\\b${member}\\b`), member);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
