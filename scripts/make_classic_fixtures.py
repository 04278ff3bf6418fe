#!/usr/bin/env python3
"""Regenerate the classic-model (ai.onnx.ml) fixtures (deterministic, no downloads).

Usage: python3 scripts/make_classic_fixtures.py   (from the repository root)

Trains small scikit-learn trees, forests, boosted trees and linear models on data sets shipped with
scikit-learn, exports them with skl2onnx (target_opset {'': 15, 'ai.onnx.ml': 3}, i.e. TreeEnsemble*
with float attributes), and records onnxruntime's outputs on the whole test split.

For each model `<name>` it writes:
  <name>.onnx           the model
  <name>.test.json      {"input_data": [[features as float32], ...]}  (test split)
  <name>.calib.json     {"input_data": [...]}                          (training split)
  <name>.expected.json  {"model", "kind", "note", "outputs": [[ORT float output], ...],
                         "labels": [ORT label, ...] and "sklearn_labels" (classifiers only)}
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import OUT, floats, write_json  # noqa: E402
OPSET = {"": 15, "ai.onnx.ml": 3}


def split(loader, classifier):
    data = loader()
    x = data.data.astype(np.float32)
    y = data.target
    return train_test_split(
        x, y, test_size=0.3, random_state=0, stratify=y if classifier else None
    )


def tree_stats(model):
    """Trees, internal nodes, leaves, max depth, max distinct thresholds per feature."""
    stats = []
    for node in model.graph.node:
        if not node.op_type.startswith("TreeEnsemble"):
            continue
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        modes = [m.decode() for m in a["nodes_modes"]]
        trees = sorted(set(a["nodes_treeids"]))
        internal = sum(m != "LEAF" for m in modes)
        leaves = len(modes) - internal
        # Depth: walk from each root.
        key = {(t, n): i for i, (t, n) in enumerate(zip(a["nodes_treeids"], a["nodes_nodeids"]))}
        depth = 0
        for t in trees:
            stack = [(key[(t, 0)], 0)]
            while stack:
                i, d = stack.pop()
                depth = max(depth, d)
                if modes[i] != "LEAF":
                    stack.append((key[(t, a["nodes_truenodeids"][i])], d + 1))
                    stack.append((key[(t, a["nodes_falsenodeids"][i])], d + 1))
        per_feature = {}
        for m, f, v in zip(modes, a["nodes_featureids"], a["nodes_values"]):
            if m != "LEAF":
                per_feature.setdefault(f, set()).add(v)
        distinct = max((len(s) for s in per_feature.values()), default=0)
        stats.append(f"{len(trees)} trees, {internal} internal nodes, {leaves} leaves, "
                     f"max depth {depth}, <= {distinct} distinct thresholds per feature")
    return "; ".join(stats)


def export(est, name, x_train, x_test, classifier, zipmap=True):
    options = None
    if classifier and not zipmap:
        options = {id(est): {"zipmap": False}}
    onx = convert_sklearn(
        est,
        name,
        [("input", FloatTensorType([None, x_train.shape[1]]))],
        options=options,
        target_opset=OPSET,
    )
    record(onx, est, name, x_train, x_test, classifier)


def record(onx, est, name, x_train, x_test, classifier):
    """Writes the model, its splits and onnxruntime's outputs on the test split."""
    # skl2onnx lists opsets in set order (varies between runs) and sometimes twice: normalize.
    opsets = {}
    for o in onx.opset_import:
        opsets[o.domain] = max(opsets.get(o.domain, 0), o.version)
    del onx.opset_import[:]
    for domain in sorted(opsets):
        onx.opset_import.append(onnx.helper.make_opsetid(domain, opsets[domain]))
    onnx.checker.check_model(onx)
    data = onx.SerializeToString()
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(data)
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {"input": x_test})
    expected = {"model": name + ".onnx"}
    if classifier:
        label, prob = outs[0], outs[1]  # skl2onnx order: label, then probabilities
        if isinstance(prob, list):  # ZipMap: list of {class: prob}
            classes = list(prob[0].keys())
            prob = np.array([[row[c] for c in classes] for row in prob], dtype=np.float32)
        expected["kind"] = "probabilities"
        expected["note"] = (f"onnxruntime {ort.__version__} label and float probabilities for "
                            f"every sample of {name}.test.json")
        expected["labels"] = [int(v) for v in label]
        expected["outputs"] = [floats(o) for o in prob]
        expected["sklearn_labels"] = [int(v) for v in est.predict(x_test)]
    else:
        out = outs[0]
        expected["kind"] = "scores"
        expected["note"] = (f"onnxruntime {ort.__version__} float outputs for every sample of "
                            f"{name}.test.json")
        expected["outputs"] = [floats(o) for o in out.reshape(len(x_test), -1)]
    write_json(name + ".expected.json", expected)
    write_json(name + ".test.json", {"input_data": [floats(s) for s in x_test]})
    write_json(name + ".calib.json", {"input_data": [floats(s) for s in x_train]})
    print(f"{name}: {len(data)} bytes, {len(x_test)} test / {len(x_train)} calib samples; "
          f"{tree_stats(onx)}")


def main():
    os.makedirs(OUT, exist_ok=True)

    x_tr, x_te, y_tr, y_te = split(load_breast_cancer, True)
    est = DecisionTreeClassifier(max_depth=8, random_state=0).fit(x_tr, y_tr)
    export(est, "tree_breast_cancer", x_tr, x_te, True)

    x_tr, x_te, y_tr, y_te = split(load_wine, True)
    est = RandomForestClassifier(n_estimators=10, random_state=0).fit(x_tr, y_tr)
    export(est, "forest_wine", x_tr, x_te, True, zipmap=False)
    est = GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0).fit(x_tr, y_tr)
    export(est, "gbt_wine", x_tr, x_te, True)

    x_tr, x_te, y_tr, y_te = split(load_iris, True)
    est = LogisticRegression(max_iter=1000).fit(x_tr, y_tr)
    export(est, "linear_iris", x_tr, x_te, True)

    x_tr, x_te, y_tr, y_te = split(load_diabetes, False)
    est = DecisionTreeRegressor(max_depth=4, random_state=0).fit(x_tr, y_tr)
    export(est, "tree_diabetes_regressor", x_tr, x_te, False)
    est = LinearRegression().fit(x_tr, y_tr)
    export(est, "linear_diabetes", x_tr, x_te, False)


if __name__ == "__main__":
    main()
