#!/usr/bin/env bash
# Installs what Keyward's build and tests need, each only when missing, at pinned
# versions (see ../shared/TOOLCHAIN.md for why these). Idempotent: on a ready machine it
# takes a few seconds. Every step says what it does; a failed step stops with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
# Shared build folder for `cargo install`, so the installs reuse each other's crates.
export CARGO_TARGET_DIR_INSTALL="${KEYWARD_TOOLS_TARGET:-$HOME/.cache/keyward/tools-target}"

step() { printf '\n\033[1m[setup]\033[0m %s\n' "$*"; }
fail() { printf '\n\033[31m[setup] FAILED:\033[0m %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

export PATH="$HOME/.cargo/bin:$PATH"
have cargo || fail "cargo is not on PATH: install Rust with rustup first"
have node || fail "node is not on PATH: Node >= 20 is required"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || fail "Node >= 20 is required (found $(node --version))"

# 1. The wasm target.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown || fail "could not add the wasm32 target"
fi

# 2. wasm-bindgen-cli: its version must equal the wasm-bindgen crate in Cargo.lock.
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  # Not --locked: its lock file names a webpki-roots version the registry lacks.
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR_INSTALL" \
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force \
    || fail "cargo install wasm-bindgen-cli"
fi

# 3. worker-build, which packages the Worker for wrangler (about 4 minutes). It prints
# its version as a bare number ("0.8.7"), so take the last word.
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "0.8.7" ]; then
  step "cargo install worker-build 0.8.7 (about 4 minutes)"
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR_INSTALL" \
    cargo install --locked worker-build --version 0.8.7 --force \
    || fail "cargo install worker-build"
fi

# 4. From Debian's packages: Chromium and its driver for the browser tests, tmux for the
#    CLI's look in a real terminal.
if ! have chromium || ! have chromedriver || ! have tmux; then
  step "apt-get install chromium chromium-driver tmux"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || { have sudo && SUDO="sudo"; } || fail "installing Chromium needs root or sudo"
  $SUDO apt-get update -qq || fail "apt-get update"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver tmux \
    || fail "apt-get install chromium chromium-driver tmux"
fi

# 5. npm dependencies, reinstalled only when a package-lock.json changed: the project's,
#    and the conformance tools' (their own folder, so their Node 22 never shadows ours).
for dir in . tests/conformance; do
  stamp=$dir/node_modules/.keyward-lock-stamp
  lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
    step "npm ci ($dir)"
    npm ci --prefix "$dir" --no-audit --no-fund || fail "npm ci in $dir"
    echo "$lock_sum" > "$stamp"
  fi
done

echo "[setup] ready: $(rustc --version), wasm-bindgen $WASM_BINDGEN_VERSION, node $(node --version), $(chromium --version 2>/dev/null | head -1)"
