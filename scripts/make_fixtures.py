#!/usr/bin/env python3
"""Regenerate the glassbox-model test fixtures (deterministic, no downloads).

Usage: python3 scripts/make_fixtures.py   (from the repository root)

Trains small scikit-learn MLPs on the built-in `load_digits` data set (inputs scaled to [0, 1]),
writes them as ONNX ("PyTorch style" Gemm+Relu chains built with onnx.helper, and one graph exported
by skl2onnx), and records onnxruntime's float outputs for the first 20 test samples.
"""
import json
import os
import warnings

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures")
N_EXPECTED = 20


def floats(a):
    """Round-trip exact f32 values as JSON floats (repr of the float32 value)."""
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def train(hidden, max_iter, x, y):
    clf = MLPClassifier(
        hidden_layer_sizes=hidden,
        activation="relu",
        max_iter=max_iter,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, y)
    return clf


def gemm_onnx(clf, name):
    """A PyTorch-style graph: Gemm(transB=1) + Relu chain, input `input` [N, 64], output `output`."""
    nodes, inits = [], []
    cur = "input"
    n_layers = len(clf.coefs_)
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        wn, bn = f"fc{i}.weight", f"fc{i}.bias"
        # PyTorch Linear stores weight as [out, in]; sklearn stores [in, out].
        inits.append(numpy_helper.from_array(np.ascontiguousarray(w.T.astype(np.float32)), wn))
        inits.append(numpy_helper.from_array(b.astype(np.float32), bn))
        last = i == n_layers - 1
        out = "output" if last else f"fc{i}_out"
        nodes.append(
            helper.make_node("Gemm", [cur, wn, bn], [out], name=f"/fc{i}/Gemm",
                             alpha=1.0, beta=1.0, transB=1)
        )
        if not last:
            relu_out = f"relu{i}_out"
            nodes.append(helper.make_node("Relu", [out], [relu_out], name=f"/relu{i}/Relu"))
            cur = relu_out
    n_in = clf.coefs_[0].shape[0]
    n_out = clf.coefs_[-1].shape[1]
    return onnx_model(nodes, name, ["N", n_in], ["N", n_out], inits)


def onnx_model(nodes, name, input_shape, output_shape, inits):
    """A checked opset-13 model with one float `input` and one float `output`."""
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, output_shape)],
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="glassbox-fixtures",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def save_model(model, name, x_test, kind):
    path = os.path.join(OUT, name + ".onnx")
    data = model.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    xs = x_test[:N_EXPECTED].astype(np.float32)
    if kind == "logits":
        outs = sess.run(["output"], {"input": xs})[0]
    else:
        outs = sess.run(["probabilities"], {"input": xs})[0]
    write_json(name + ".expected.json", {
        "model": name + ".onnx",
        "kind": kind,
        "note": f"onnxruntime {ort.__version__} float outputs ({kind}) for the first "
                f"{N_EXPECTED} samples of digits_test.json",
        "outputs": [floats(o) for o in outs],
    })
    return len(data)


def digits_split():
    """The digits preprocessing (pixels / 16) and split every digits fixture uses."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.3, random_state=0)


def main():
    os.makedirs(OUT, exist_ok=True)
    x_train, x_test, y_train, y_test = digits_split()

    write_json("digits_test.json", {"input_data": [floats(s) for s in x_test]})
    write_json("digits_labels.json", {"labels": [int(v) for v in y_test]})
    write_json("digits_calib.json", {"input_data": [floats(s) for s in x_train[:100]]})

    for hidden, name in [((32,), "mlp_64_32_10"), ((128, 64), "mlp_64_128_64_10")]:
        clf = train(hidden, 1000, x_train, y_train)
        acc = clf.score(x_test, y_test)
        assert acc > 0.95, (name, acc)
        size = save_model(gemm_onnx(clf, name), name, x_test, "logits")
        print(f"{name}: test accuracy {acc:.4f}, {size} bytes")

    big = train((512, 512), 5, x_train, y_train)
    size = save_model(gemm_onnx(big, "mlp_64_512_512_10"), "mlp_64_512_512_10", x_test, "logits")
    print(f"mlp_64_512_512_10: test accuracy {big.score(x_test, y_test):.4f}, {size} bytes")

    clf = train((32,), 1000, x_train, y_train)
    onx = convert_sklearn(
        clf,
        "sklearn_mlp_64_32_10",
        [("input", FloatTensorType([None, 64]))],
        options={id(clf): {"zipmap": False}},
        target_opset={"": 13, "ai.onnx.ml": 1},
    )
    size = save_model(onx, "sklearn_mlp_64_32_10", x_test, "probabilities")
    print(f"sklearn_mlp_64_32_10: test accuracy {clf.score(x_test, y_test):.4f}, {size} bytes")


if __name__ == "__main__":
    main()
