#!/usr/bin/env python3
"""Regenerate the XGBoost and LightGBM fixtures (deterministic, no downloads).

Usage: python3 scripts/make_boosting_fixtures.py   (from the repository root; needs xgboost,
lightgbm and onnxmltools besides make_classic_fixtures.py's packages)

Boosted ensembles exported by onnxmltools, the way XGBoost and LightGBM users get ONNX: XGBoost
writes BRANCH_LT nodes and a LOGISTIC binary head with a base score, LightGBM BRANCH_LEQ nodes
and a SOFTMAX multi-class head. Same file set as make_classic_fixtures.py.
"""
import os
import sys

import lightgbm
import onnxmltools
import xgboost
from onnxmltools.convert.common.data_types import FloatTensorType
from sklearn.datasets import load_breast_cancer, load_wine

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_classic_fixtures import record, split  # noqa: E402


def fixed(onx, name):
    """onnxmltools names the graph with a random UUID: pin it so reruns are byte-identical."""
    onx.graph.name = name
    return onx


def main():
    x_tr, x_te, y_tr, y_te = split(load_breast_cancer, True)
    est = xgboost.XGBClassifier(
        n_estimators=20, max_depth=3, learning_rate=0.3, random_state=0, n_jobs=1
    ).fit(x_tr, y_tr)
    onx = onnxmltools.convert_xgboost(
        est, initial_types=[("input", FloatTensorType([None, x_tr.shape[1]]))], target_opset=15
    )
    record(fixed(onx, "xgb_breast_cancer"), est, "xgb_breast_cancer", x_tr, x_te, True)

    x_tr, x_te, y_tr, y_te = split(load_wine, True)
    est = lightgbm.LGBMClassifier(
        n_estimators=20, num_leaves=8, random_state=0, n_jobs=1, verbose=-1
    ).fit(x_tr, y_tr)
    onx = onnxmltools.convert_lightgbm(
        est,
        initial_types=[("input", FloatTensorType([None, x_tr.shape[1]]))],
        target_opset=15,
        zipmap=False,
    )
    record(fixed(onx, "lgbm_wine"), est, "lgbm_wine", x_tr, x_te, True)


if __name__ == "__main__":
    main()
