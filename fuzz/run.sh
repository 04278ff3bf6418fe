#!/usr/bin/env bash
# Runs one cargo-fuzz target for a bounded time: fuzz/run.sh TARGET SECONDS [extra libFuzzer flags]
# Targets: verify_bytes verify_mutated onnx_load input_json model_artifact.
# Seeds the corpus from fixtures/ and fuzz/seeds/ (small files only); corpora and crashes land in
# fuzz/corpus/TARGET and fuzz/artifacts/TARGET (both git-ignored). Needs a nightly toolchain and
# cargo-fuzz (`rustup toolchain install nightly --profile minimal`, `cargo install cargo-fuzz`).
set -euo pipefail
target=${1:?usage: fuzz/run.sh TARGET SECONDS}
secs=${2:?usage: fuzz/run.sh TARGET SECONDS}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
corpus="$here/corpus/$target"
mkdir -p "$corpus"
seed() { [ -f "$1" ] && cp -n "$1" "$corpus/" || true; }
case "$target" in
  verify_bytes | verify_mutated)
    seed "$here/seeds/proof_8_16_4.bin" ;;
  onnx_load)
    for f in "$root"/fixtures/*.onnx "$root"/fixtures/bad/*.onnx; do
      # skip the large fixtures: libFuzzer works best on small inputs
      [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ] && seed "$f"
    done ;;
  input_json)
    printf '{"input_data": [[0.5, 1, -2e-3], [0, 0, 0]]}' > "$corpus/small.json"
    seed "$root/fixtures/digits_labels.json" ;;
  model_artifact)
    seed "$here/seeds/model_8_16_4.gbm" ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
# verify_mutated reads edits, not files: an empty input is the honest proof itself.
[ "$target" = verify_mutated ] && rm -f "$corpus/proof_8_16_4.bin" && : > "$corpus/empty"
cd "$here"
# FUZZ_FORK=N runs N fork-mode workers that keep going after crashes and OOMs (each is saved to
# fuzz/artifacts/TARGET); without it libFuzzer stops at the first one.
fork=()
[ -n "${FUZZ_FORK:-}" ] && fork=(-fork="$FUZZ_FORK" -ignore_crashes=1 -ignore_ooms=1)
exec cargo +nightly fuzz run -O "$target" "$corpus" -- \
  -max_total_time="$secs" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -malloc_limit_mb="${FUZZ_MALLOC_MB:-1024}" \
  -print_final_stats=1 "${fork[@]}" "$@"
