#!/usr/bin/env python3
"""Regenerate the smooth-activation fixtures (deterministic, no downloads).

Usage: python3 scripts/make_activation_fixtures.py   (from the repository root; needs numpy,
scikit-learn, skl2onnx, onnx, onnxruntime)

On the digits split of make_fixtures.py (digits_test.json, digits_calib.json):
  mlp_tanh_digits.onnx      MLPClassifier((32,), activation="tanh") exported by skl2onnx
  mlp_logistic_digits.onnx  MLPClassifier((32,), activation="logistic") exported by skl2onnx
  act_<name>_digits.onnx    "PyTorch style" Gemm → activation → Gemm graphs written with
                            onnx.helper, the activation spelled as exporters spell it: gelu (the
                            erf form: Div, Erf, Add, Mul, Mul), silu (Sigmoid, Mul), hardswish
                            (HardSwish), softplus (Softplus); weights of an MLPClassifier((32,))
                            trained with that activation's nearest scikit-learn cousin
Each has <name>.expected.json with onnxruntime's label for every test sample.
"""
import os
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import OUT, digits_split, write_json  # noqa: E402

OPSET = {"": 17, "ai.onnx.ml": 3}


def train(activation, x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier((32,), activation=activation, max_iter=400,
                             random_state=0).fit(x, y)


def save(onx, name, x_test, label_output):
    onnx.checker.check_model(onx)
    data = onx.SerializeToString()
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(data)
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {"input": x_test})
    if label_output:
        labels = [int(v) for v in outs[0]]
    else:
        labels = [int(v) for v in np.argmax(outs[0], axis=1)]
    write_json(name + ".expected.json", {
        "model": name + ".onnx",
        "note": f"onnxruntime {ort.__version__} label of every sample of digits_test.json",
        "labels": labels,
    })
    print(f"{name}: {len(data)} bytes")


def activation_nodes(kind):
    """Nodes computing `h` from `z`, as exporters write them."""
    c = helper.make_tensor
    if kind == "gelu":
        return [
            helper.make_node("Div", ["z", "sqrt2"], ["zs"]),
            helper.make_node("Erf", ["zs"], ["e"]),
            helper.make_node("Add", ["e", "one"], ["e1"]),
            helper.make_node("Mul", ["z", "e1"], ["ze"]),
            helper.make_node("Mul", ["ze", "half"], ["h"]),
        ], [c("sqrt2", TensorProto.FLOAT, [], [np.sqrt(2.0)]),
            c("one", TensorProto.FLOAT, [], [1.0]),
            c("half", TensorProto.FLOAT, [], [0.5])]
    if kind == "silu":
        return [helper.make_node("Sigmoid", ["z"], ["s"]),
                helper.make_node("Mul", ["z", "s"], ["h"])], []
    op = {"hardswish": "HardSwish", "softplus": "Softplus"}[kind]
    return [helper.make_node(op, ["z"], ["h"])], []


def gemm_graph(clf, kind, name):
    w1, w2 = clf.coefs_
    b1, b2 = clf.intercepts_
    nodes, consts = activation_nodes(kind)
    init = [numpy_helper.from_array(a.astype(np.float32), n)
            for a, n in [(w1.T, "W1"), (b1, "B1"), (w2.T, "W2"), (b2, "B2")]]
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["input", "W1", "B1"], ["z"], transB=1)] + nodes
        + [helper.make_node("Gemm", ["h", "W2", "B2"], ["output"], transB=1)],
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 64])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 10])],
        init + consts,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    x_train, x_test, y_train, y_test = digits_split()
    x_test = x_test.astype(np.float32)
    for activation in ["tanh", "logistic"]:
        clf = train(activation, x_train, y_train)
        onx = convert_sklearn(clf, f"mlp_{activation}",
                              [("input", FloatTensorType([None, 64]))],
                              options={id(clf): {"zipmap": False}}, target_opset=OPSET)
        print(f"  test accuracy {clf.score(x_test, y_test):.3f}")
        save(onx, f"mlp_{activation}_digits", x_test, True)
    # the nearest scikit-learn activation to train each graph's weights with
    for kind, cousin in [("gelu", "relu"), ("silu", "relu"), ("hardswish", "relu"),
                         ("softplus", "relu")]:
        clf = train(cousin, x_train, y_train)
        save(gemm_graph(clf, kind, f"act_{kind}_digits"), f"act_{kind}_digits", x_test, False)


if __name__ == "__main__":
    main()
