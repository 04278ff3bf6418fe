"""What the Python layer costs over the Rust API, proving the 64-128-64-10 digits MLP.

    python examples/python_bench.py [REPS]

For batches of 1 and 64 it times `model.prove(X)` from Python (wall clock) and, inside the same
call, the Rust prover (`Proof.prove_seconds`: `BundlePlan::prove_chunk`, the call the Rust API's
`prove_bundle` makes), and prints the medians and the overhead (numpy input read, int8
quantization, plan, GIL release, the Proof object). Compare the Rust medians with
`glassbox bench --models fixtures/mlp_64_128_64_10.onnx --batches 1,64`.
"""

import json
import pathlib
import statistics
import sys
import time

import numpy as np

import glassbox

root = pathlib.Path(__file__).resolve().parents[1]
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 21
X = np.array(json.loads((root / "fixtures/digits_test.json").read_text())["input_data"],
             dtype=np.float32)
calib = np.array(json.loads((root / "fixtures/digits_calib.json").read_text())["input_data"])
model = glassbox.compile(root / "fixtures/mlp_64_128_64_10.onnx", calibrate=calib)
print(f"model {model.digest[:16]}, {reps} runs per batch, medians")
print("| batch | Python `model.prove` | Rust prover inside it | overhead |")
print("|--:|--:|--:|--:|")
for batch in (1, 64):
    x = X[:batch]
    model.prove(x)  # warm up
    walls, rusts = [], []
    for _ in range(reps):
        start = time.perf_counter()
        proof = model.prove(x)
        walls.append(time.perf_counter() - start)
        rusts.append(proof.prove_seconds)
    over = [w - r for w, r in zip(walls, rusts)]
    wall, rust, ovh = (statistics.median(v) * 1e3 for v in (walls, rusts, over))
    print(f"| {batch} | {wall:.2f} ms | {rust:.2f} ms | {ovh:.3f} ms ({ovh / rust * 100:.1f} %) |")
