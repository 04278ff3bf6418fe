#!/usr/bin/env python3
"""Regenerate the preprocessing-pipeline and SVM fixtures (deterministic, no downloads).

Usage: python3 scripts/make_pipeline_fixtures.py [trees]   (from the repository root; needs
numpy, scikit-learn, skl2onnx, onnx, onnxruntime; `trees` writes only the tree pipelines)

scikit-learn pipelines on data sets shipped with scikit-learn (train_test_split(test_size=0.3,
random_state=0, stratified)), exported by skl2onnx (opset 17, ai.onnx.ml 3, zipmap off), with
onnxruntime's labels and outputs on the whole test split, in the format of
make_classic_fixtures.py (`<name>.onnx`, `<name>.expected.json`). The splits are the classic
fixtures' own: breast cancer models use tree_breast_cancer.{test,calib}.json, wine models
forest_wine.{test,calib}.json, diabetes models tree_diabetes_regressor.{test,calib}.json (the
same arrays; they are not written twice).

Tree ensembles behind scalers also get `<name>.probes.json`: for every split of every tree, a
training sample that reaches it with the split's feature set to the exact raw boundary `b` (the
largest float32 `x` whose float32 `(x - offset) * scale` is <= the threshold) and to the next
float32 above it, and onnxruntime's labels and probabilities on them. The Normalizer pipelines
(`pipe_normalizer_*`: L2 normalization in front of a tree, a logistic regression and an MLP) get
an `.expected.json` like every other.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.decomposition import PCA
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, Normalizer, StandardScaler
from sklearn.svm import SVC, SVR, LinearSVC
from sklearn.tree import DecisionTreeClassifier
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_classic_fixtures as classic  # noqa: E402

OPSET = {"": 17, "ai.onnx.ml": 3}


def export(est, name, x_train, x_test, zipmap=True):
    onx = convert_sklearn(
        est,
        name,
        [("input", FloatTensorType([None, x_train.shape[1]]))],
        options={id(est): {"zipmap": False}} if zipmap else None,
        target_opset=OPSET,
    )
    classic.record(onx, est, name, x_train, x_test, True)
    for split in ("test", "calib"):  # identical to the classic fixtures' splits
        os.remove(os.path.join(classic.OUT, f"{name}.{split}.json"))


def scaling_of(name):
    """The per-feature map of fixture `name` as onnxruntime computes it in float32, its real
    inverse (the naive fold) and its scales: a `Scaler` ((x - offset) * scale, StandardScaler)
    or `Mul` then `Add` (x * scale + min, MinMaxScaler)."""
    model = onnx.load(os.path.join(classic.OUT, name + ".onnx"))
    consts = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    ops = {n.op_type: n for n in model.graph.node}
    if "Scaler" in ops:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in ops["Scaler"].attribute}
        o = np.array(attrs["offset"], dtype=np.float32)
        s = np.array(attrs["scale"], dtype=np.float32)
        return ((lambda j, x: (np.float32(x) - o[j]) * s[j]),
                (lambda j, t: np.float64(t) / np.float64(s[j]) + np.float64(o[j])), s)
    s = consts[ops["Mul"].input[1]].astype(np.float32)
    m = consts[ops["Add"].input[1]].astype(np.float32)
    return ((lambda j, x: np.float32(x) * s[j] + m[j]),
            (lambda j, t: (np.float64(t) - np.float64(m[j])) / np.float64(s[j])), s)


def thresholds_of(name):
    """The float32 split thresholds of fixture `name` by (tree id, node id): skl2onnx rounds
    scikit-learn's float64 thresholds to float32 its own way (down, so that `x <= t` keeps its
    meaning), so they are read from the ONNX file, not recomputed."""
    model = onnx.load(os.path.join(classic.OUT, name + ".onnx"))
    node = next(n for n in model.graph.node if n.op_type.startswith("TreeEnsemble"))
    a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
    assert set(a["nodes_modes"]) <= {b"BRANCH_LEQ", b"LEAF"}
    keys = zip(a["nodes_treeids"], a["nodes_nodeids"])
    return {k: np.float32(v) for k, v in zip(keys, a["nodes_values"])}


def trees_of(model):
    """The fitted sklearn trees of a tree, forest or boosted ensemble."""
    if hasattr(model, "tree_"):
        return [model]
    return list(np.asarray(model.estimators_).ravel())


def boundary(f, t, x):
    """The largest float32 x with f(x) <= t, for f non-decreasing, searched from x."""
    while f(x) > t:
        x = np.nextafter(x, np.float32(-np.inf))
    while f(np.nextafter(x, np.float32(np.inf))) <= t:
        x = np.nextafter(x, np.float32(np.inf))
    return x


def probes(est, name, x_train):
    """Every split at its exact raw boundary and one float32 above, on a training sample that
    reaches it, with onnxruntime's labels and probabilities (scales must be positive)."""
    f, inverse, s = scaling_of(name)
    thresholds = thresholds_of(name)
    assert (s > 0).all(), "the boundary search assumes positive scales"
    z = est[:-1].transform(x_train).astype(np.float32)
    splits, naive = [], 0
    for k, tree in enumerate(trees_of(est[-1])):
        paths = tree.decision_path(z).tocsc()
        for node in range(tree.tree_.node_count):
            j = int(tree.tree_.feature[node])
            if j < 0:
                continue
            t = thresholds[(k, node)]
            x = np.float32(inverse(j, t))
            b = boundary(lambda v: f(j, v), t, x)
            naive += x != b
            row = int(paths[:, node].nonzero()[0][0])
            splits.append([row, j, float(t), float(b)])
    x = np.repeat(x_train[[r for r, _, _, _ in splits]], 2, axis=0)
    for i, (_, j, _, b) in enumerate(splits):
        x[2 * i, j] = b
        x[2 * i + 1, j] = np.nextafter(np.float32(b), np.float32(np.inf))
    sess = ort.InferenceSession(os.path.join(classic.OUT, name + ".onnx"),
                                providers=["CPUExecutionProvider"])
    label, prob = sess.run(None, {"input": x})[:2]
    flips = sum(not np.array_equal(prob[i], prob[i + 1]) for i in range(0, len(x), 2))
    classic.write_json(name + ".probes.json", {
        "note": (f"onnxruntime {ort.__version__}: {len(splits)} splits [calib row, feature, "
                 f"threshold t, exact raw boundary b]; labels and outputs for each split's row "
                 f"with the feature set to b, then to the next float32; the outputs differ "
                 f"across {flips} splits; the naive fold (the real inverse of the map at t, "
                 f"rounded to float32) is not b for {naive}"),
        "splits": splits,
        "labels": [int(v) for v in label],
        "outputs": [classic.floats(p) for p in prob],
    })
    print(f"{name}.probes.json: {len(splits)} splits, {flips} flip onnxruntime's output, "
          f"naive fold misses {naive}")


def trees():
    """Tree ensembles behind preprocessing, and the Normalizer pipelines."""
    x_tr, x_te, y_tr, _ = classic.split(load_wine, True)
    est = make_pipeline(StandardScaler(),
                        RandomForestClassifier(n_estimators=10, random_state=0)).fit(x_tr, y_tr)
    export(est, "pipe_scaler_forest_wine", x_tr, x_te)
    probes(est, "pipe_scaler_forest_wine", x_tr)
    for model, name in [
        (DecisionTreeClassifier(max_depth=3, random_state=0), "pipe_normalizer_tree_wine"),
        (LogisticRegression(max_iter=1000), "pipe_normalizer_logreg_wine"),
        (MLPClassifier((8,), max_iter=2000, random_state=0), "pipe_normalizer_mlp_wine"),
    ]:
        export(make_pipeline(Normalizer(), model).fit(x_tr, y_tr), name, x_tr, x_te)

    x_tr, x_te, y_tr, _ = classic.split(load_breast_cancer, True)
    est = make_pipeline(MinMaxScaler(), GradientBoostingClassifier(
        n_estimators=10, max_depth=3, random_state=0)).fit(x_tr, y_tr)
    export(est, "pipe_minmax_gbt_bc", x_tr, x_te)
    probes(est, "pipe_minmax_gbt_bc", x_tr)
    est = make_pipeline(StandardScaler(), PCA(8, random_state=0),
                        DecisionTreeClassifier(max_depth=6, random_state=0)).fit(x_tr, y_tr)
    export(est, "pipe_scaler_pca_tree_bc", x_tr, x_te)


def main():
    if sys.argv[1:] == ["trees"]:
        trees()
        return
    x_tr, x_te, y_tr, _ = classic.split(load_breast_cancer, True)
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_tr, y_tr)
    export(est, "pipe_scaler_logreg_bc", x_tr, x_te)
    est = make_pipeline(StandardScaler(), PCA(10, random_state=0),
                        LogisticRegression(max_iter=1000)).fit(x_tr, y_tr)
    export(est, "pipe_scaler_pca_logreg_bc", x_tr, x_te)
    est = make_pipeline(StandardScaler(), SVC(kernel="linear")).fit(x_tr, y_tr)
    export(est, "pipe_scaler_svc_linear_bc", x_tr, x_te)
    # a binary MLPClassifier: its head is Sigmoid, then Concat(1 − p, p)
    est = make_pipeline(StandardScaler(), MLPClassifier((16,), activation="logistic",
                                                        max_iter=1000, random_state=0))
    export(est.fit(x_tr, y_tr), "pipe_scaler_mlp_logistic_bc", x_tr, x_te)
    est = make_pipeline(MinMaxScaler(), PCA(8, random_state=0), SVC(kernel="rbf")).fit(x_tr, y_tr)
    export(est, "pipe_minmax_pca_svc_rbf_bc", x_tr, x_te)
    est = make_pipeline(StandardScaler(), PCA(8, random_state=0),
                        SVC(kernel="poly", degree=3)).fit(x_tr, y_tr)
    export(est, "pipe_scaler_pca_svc_poly_bc", x_tr, x_te)
    est = make_pipeline(StandardScaler(), SVC(kernel="sigmoid", gamma=0.01)).fit(x_tr, y_tr)
    export(est, "pipe_scaler_svc_sigmoid_bc", x_tr, x_te)

    x_tr, x_te, y_tr, _ = classic.split(load_wine, True)
    est = make_pipeline(StandardScaler(), SVC(kernel="linear")).fit(x_tr, y_tr)
    export(est, "pipe_scaler_svc_linear_wine", x_tr, x_te)
    est = make_pipeline(StandardScaler(), SVC(kernel="rbf")).fit(x_tr, y_tr)
    export(est, "pipe_scaler_svc_rbf_wine", x_tr, x_te)

    x_tr, x_te, y_tr, _ = classic.split(load_diabetes, False)
    est = make_pipeline(StandardScaler(), SVR(kernel="rbf", C=100.0)).fit(x_tr, y_tr)
    onx = convert_sklearn(est, "pipe_scaler_svr_rbf_diabetes",
                          [("input", FloatTensorType([None, x_tr.shape[1]]))], target_opset=OPSET)
    classic.record(onx, est, "pipe_scaler_svr_rbf_diabetes", x_tr, x_te, False)
    for split in ("test", "calib"):  # identical to the classic fixtures' splits
        os.remove(os.path.join(classic.OUT, f"pipe_scaler_svr_rbf_diabetes.{split}.json"))

    x_tr, x_te, y_tr, _ = classic.split(load_wine, True)
    # skl2onnx 1.20 cannot convert LinearSVC inside a pipeline (it passes a zipmap option
    # LinearSVC does not take), so it is exported alone; it becomes one LinearClassifier
    est = LinearSVC(random_state=0, max_iter=20000).fit(x_tr, y_tr)
    export(est, "svm_linearsvc_wine", x_tr, x_te, zipmap=False)
    est = make_pipeline(StandardScaler(), MLPClassifier((32,), max_iter=1000, random_state=0))
    export(est.fit(x_tr, y_tr), "pipe_scaler_mlp_wine", x_tr, x_te)
    est = make_pipeline(StandardScaler(), PCA(8, random_state=0),
                        MLPClassifier((16,), activation="tanh", max_iter=1000, random_state=0))
    export(est.fit(x_tr, y_tr), "pipe_scaler_pca_mlp_tanh_wine", x_tr, x_te)
    trees()


if __name__ == "__main__":
    main()
