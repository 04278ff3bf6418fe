"""10,000 digits inferences proven as 4 shards on a local Ray cluster, against one process.

    RAY_USAGE_STATS_ENABLED=0 python examples/python_ray_shards.py [SAMPLES] [SHARDS] [OUT_DIR]

Prints the time of `glassbox.ray.prove` (SHARDS tasks) and of one `model.prove` of the same batch
(64 samples per proof both), and saves the Ray bundle to OUT_DIR/ray.gbp (+ .bundle.json) for
`glassbox verify OUT_DIR/ray.bundle.json --digest ...`.
"""

import itertools
import json
import math
import pathlib
import sys
import time

import numpy as np
import ray

import glassbox
import glassbox.ray as gray

root = pathlib.Path(__file__).resolve().parents[1]
samples = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
shards = int(sys.argv[2]) if len(sys.argv) > 2 else 4
out = pathlib.Path(sys.argv[3] if len(sys.argv) > 3 else ".")
rows = json.loads((root / "fixtures/digits_test.json").read_text())["input_data"]
X = np.array(list(itertools.islice(itertools.cycle(rows), samples)), dtype=np.float32)
calib = np.array(json.loads((root / "fixtures/digits_calib.json").read_text())["input_data"])
model = glassbox.compile(root / "fixtures/mlp_64_128_64_10.onnx", calibrate=calib)

ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
per_proof = 64
shard_size = math.ceil(math.ceil(samples / per_proof) / shards) * per_proof
start = time.perf_counter()
bundle = gray.prove(model, X, shard_size=shard_size, per_proof=per_proof)
ray_s = time.perf_counter() - start
manifest = bundle.save(out / "ray.gbp")
ray.shutdown()

start = time.perf_counter()
local = model.prove(X, per_proof=per_proof)
local_s = time.perf_counter() - start
assert local.bundle_id == bundle.bundle_id and len(local) == len(bundle)
print(f"{samples} samples, {len(bundle)} proofs of {per_proof}")
print(f"ray.prove, {shards} shards on local Ray (2 CPUs): {ray_s:.1f} s → {manifest}")
print(f"one model.prove:                          {local_s:.1f} s")
print(f"verify with: glassbox verify {manifest} --digest {model.digest}")
