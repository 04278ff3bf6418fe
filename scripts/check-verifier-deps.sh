#!/usr/bin/env bash
# Fails if the verifier crate's normal dependency tree pulls in anything heavy: the verifier must
# depend on glassbox-air and winter-verifier only (no model import, no prover, no rayon/ndarray).
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='^(glassbox-(model|trace|prover|cli)|winter-prover|winterfell|ndarray|rayon|prost|serde_json|clap|postcard) '
tree=$(cargo tree -p glassbox-verifier -e normal --prefix none)
if echo "$tree" | grep -E "$forbidden"; then
    echo "error: the verifier depends on the crates above" >&2
    exit 1
fi
# the AIR and the verifier build without std (no_std + alloc; crates/wasm builds the verifier so)
cargo build -q -p glassbox-air --no-default-features
cargo build -q -p glassbox-verifier --no-default-features
echo "verifier dependencies ok: $(echo "$tree" | awk '{print $1}' | sort -u | wc -l) crates"
