#!/usr/bin/env bash
# `make web-test` / `make web-bench`: drives web/index.html in Debian's headless Chromium
# (web/tests/run.mjs). Installs what is missing: Debian's chromium (apt-get), playwright-core
# (npm ci in web/tests, from its package-lock.json), and the release CLI that makes the fixtures.
# Tests web/pkg/ as `make wasm` built it (the Makefile's web-test target builds it first).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
if [ ! -d web/tests/node_modules/playwright-core ]; then
    (cd web/tests && npm ci --no-audit --no-fund)
fi
# WEB_TEST_NO_BUILD=1 uses the target/release/glassbox already there (the workspace mid-edit)
[ -n "${WEB_TEST_NO_BUILD:-}" ] || cargo build --release -p glassbox-cli
# the binding crate's own tests (natively): manifest and inputs parsing, rejections
cargo test -q --locked --manifest-path crates/wasm/Cargo.toml
cd web/tests
node run.mjs "$@"
