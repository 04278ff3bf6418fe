#!/usr/bin/env bash
# Runs the shipped cluster recipes as local processes: the Kubernetes Indexed Job's shard command
# (deploy/k8s/*.yaml, with JOB_COMPLETION_INDEX and the manifest's env, /data mapped to a temp
# dir) and the Slurm array script (deploy/slurm/*.sbatch, with SLURM_ARRAY_TASK_ID and
# SLURM_ARRAY_TASK_COUNT), N processes at once each; then their merge step, and
# `glassbox verify` of the merged bundle. Also checks that a merge with a shard missing fails.
#
#   bash scripts/test-deploy.sh                 # 540 digits samples, 4 shards
#   SAMPLES=10000 bash scripts/test-deploy.sh   # and times one `glassbox prove` of the batch
set -euo pipefail
cd "$(dirname "$0")/.."
GLASSBOX=${GLASSBOX:-$PWD/target/release/glassbox}
SAMPLES=${SAMPLES:-540}
SHARDS=4
[ -x "$GLASSBOX" ] || cargo build --release -q -p glassbox-cli
export GLASSBOX
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

digest=$("$GLASSBOX" compile --json fixtures/mlp_64_128_64_10.onnx \
    --calibrate fixtures/digits_calib.json -o "$data/model.gbm" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')
python3 - "$SAMPLES" "$data/inputs.json" <<'PY'
import itertools, json, sys
n, out = int(sys.argv[1]), sys.argv[2]
rows = json.load(open("fixtures/digits_test.json"))["input_data"]
json.dump({"input_data": list(itertools.islice(itertools.cycle(rows), n))}, open(out, "w"))
PY

# `name value` lines of a manifest's env, and the lines between `# <what> command` markers
yaml_env() { python3 - "$1" <<'PY'
import re, sys
for name, value in re.findall(r'- name: (\w+)\n\s+value: "([^"]*)"', open(sys.argv[1]).read()):
    print(name, value)
PY
}
yaml_block() { sed -n "/# $2 command\$/,/# end $2 command/p" "$1"; }

elapsed() { python3 -c "import time; print(f'{time.time() - $1:.2f}')"; }
verify() {
    "$GLASSBOX" verify "$1" --digest "$digest" | tail -n 1
}

echo "::: kubernetes Indexed Job: $SHARDS local processes with JOB_COMPLETION_INDEX"
start=$(date +%s.%N)
(
    while read -r name value; do export "$name=${value//\/data/$data/k8s}"; done \
        < <(yaml_env deploy/k8s/prove-indexed-job.yaml)
    mkdir -p "$data/k8s"
    ln -s "$data/model.gbm" "$data/inputs.json" "$data/k8s/"
    shard=$(yaml_block deploy/k8s/prove-indexed-job.yaml shard)
    pids=()
    for ((i = 0; i < SHARDS; i++)); do
        JOB_COMPLETION_INDEX=$i sh -c "$shard" > "$data/k8s-$i.log" 2>&1 & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || { cat "$data"/k8s-*.log; exit 1; }; done
    echo "shards proven in $(elapsed "$start") s"
    sh -c "$(yaml_block deploy/k8s/merge-job.yaml merge)" | head -n 1
)
echo "k8s total $(elapsed "$start") s"
verify "$data/k8s/out/proof.bundle.json"

echo "::: Slurm job array: $SHARDS local processes with SLURM_ARRAY_TASK_ID"
start=$(date +%s.%N)
(
    cd "$data"
    pids=()
    for ((i = 0; i < SHARDS; i++)); do
        SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=$SHARDS OUT=slurm \
            bash "$OLDPWD/deploy/slurm/prove-array.sbatch" > "slurm-$i.log" 2>&1 & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || { cat slurm-*.log; exit 1; }; done
    echo "shards proven in $(elapsed "$start") s"
    SHARDS=$SHARDS OUT=slurm bash "$OLDPWD/deploy/slurm/merge.sbatch" | head -n 1
)
echo "slurm total $(elapsed "$start") s"
verify "$data/slurm/proof.bundle.json"

echo "::: a missing shard is refused"
rm "$data/slurm/proof.shard-2-of-$SHARDS.json" "$data/slurm/proof.bundle.json"
if (cd "$data" && SHARDS=$SHARDS OUT=slurm bash "$OLDPWD/deploy/slurm/merge.sbatch") 2> "$data/err"; then
    echo "error: the merge accepted a missing shard" >&2; exit 1
fi
cat "$data/err"
grep -q "shard 2 of $SHARDS is missing" "$data/err"
[ ! -e "$data/slurm/proof.bundle.json" ]

echo "::: one glassbox prove of the same batch (64 per proof)"
start=$(date +%s.%N)
"$GLASSBOX" prove "$data/model.gbm" --input "$data/inputs.json" -o "$data/one.gbp" \
    --max-per-proof 64 | head -n 1
echo "one process total $(elapsed "$start") s"
verify "$data/one.bundle.json"
cmp <(python3 -c "import json; print(json.load(open('$data/one.bundle.json')))") \
    <(python3 -c "import json; print(json.load(open('$data/k8s/out/proof.bundle.json')))" |
      sed 's/proof\./one./g') && echo "the merged manifests list the single run's chunks"
