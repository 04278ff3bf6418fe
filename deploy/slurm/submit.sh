#!/bin/bash
# Queues the proving array and the merge that depends on it:
#   MODEL=model.gbm INPUT=inputs.json OUT=out SHARDS=4 bash deploy/slurm/submit.sh
set -euo pipefail
cd "$(dirname "$0")"
: "${SHARDS:=4}"
export MODEL INPUT OUT PER_PROOF GLASSBOX SHARDS
array=$(sbatch --parsable --export=ALL --array="0-$((SHARDS - 1))" prove-array.sbatch)
sbatch --parsable --export=ALL --dependency="afterok:${array%%;*}" merge.sbatch
