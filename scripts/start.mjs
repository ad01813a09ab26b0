// `npm start`: builds the core and the npm package. The HTTP service arrives with the
// Worker (worker/); until then this builds everything that exists and says so.
import { run } from "./lib.mjs";

run("cargo", ["build", "-p", "keyward-core", "--release"]);
run("node", ["scripts/build-pkg.mjs"]);
console.log("\nKeyward core and the `keyward` package are built (pkg/dist, pkg/wasm).");
console.log("The HTTP service (a Cloudflare Worker under wrangler dev) is not part of this build yet.");
