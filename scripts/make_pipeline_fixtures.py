#!/usr/bin/env python3
"""Regenerate the preprocessing-pipeline and SVM fixtures (deterministic, no downloads).

Usage: python3 scripts/make_pipeline_fixtures.py   (from the repository root; needs numpy,
scikit-learn, skl2onnx, onnx, onnxruntime)

scikit-learn pipelines on data sets shipped with scikit-learn (train_test_split(test_size=0.3,
random_state=0, stratified)), exported by skl2onnx (opset 17, ai.onnx.ml 3, zipmap off), with
onnxruntime's labels and outputs on the whole test split, in the format of
make_classic_fixtures.py (`<name>.onnx`, `<name>.expected.json`). The splits are the classic
fixtures' own: breast cancer models use tree_breast_cancer.{test,calib}.json, wine models
forest_wine.{test,calib}.json, diabetes models tree_diabetes_regressor.{test,calib}.json (the
same arrays; they are not written twice).
"""
import os
import sys

from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, SVR, LinearSVC
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


def main():
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


if __name__ == "__main__":
    main()
