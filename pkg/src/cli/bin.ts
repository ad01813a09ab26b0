#!/usr/bin/env node
/** The `keyward` executable (the package's `bin`): runs one command line and exits. */
// The Node entry registers where the wasm core comes from (PKCE needs it).
import "../node.js";
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
