#!/usr/bin/env bash
# The Python package's tests: a venv (target/python-venv, or $GLASSBOX_VENV) with maturin, numpy,
# pytest, Ray, scikit-learn, skl2onnx and onnx from PyPI; the release CLI (for the interop
# tests); the wheel built with maturin into the main target directory; then pytest. torch is
# not installed here (a 1 GB+ download): its one test says it was skipped, and runs wherever
# torch is installed. Prints each phase's time.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${GLASSBOX_VENV:-$PWD/target/python-venv}
phase_start=$(date +%s)
phase() { echo "::: python-test: $* ($(( $(date +%s) - phase_start )) s)"; }

phase "venv and packages"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check \
    'maturin>=1.5,<2' numpy pytest ray scikit-learn skl2onnx onnx

phase "release CLI"
cargo build --release -q -p glassbox-cli

phase "wheel (maturin build --release)"
rm -rf target/wheels
CARGO_TARGET_DIR=$PWD/target "$venv/bin/maturin" build --release -q \
    -m crates/python/Cargo.toml -o target/wheels
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
    target/wheels/glassbox-*.whl

phase "pytest"
export RAY_USAGE_STATS_ENABLED=0 GLASSBOX_CLI=$PWD/target/release/glassbox
(cd crates/python && "$venv/bin/python" -m pytest -q -rs -p no:cacheprovider tests)
phase "done"
