"""ONNX export of scikit-learn estimators and PyTorch modules, with the packages they need
imported only when called."""

from __future__ import annotations

import io
from typing import Any

import numpy as np


def _missing(package: str, extra: str) -> ImportError:
    return ImportError(
        f"{package} is not installed: pip install {package} "
        f"(or pip install 'glassbox[{extra}]')"
    )


def _flat(x: Any) -> np.ndarray:
    """A float32 `N×F` view of a batch (`N×C×H×W` flattened), converting once if needed."""
    a = np.asarray(x, dtype=np.float32)
    return a.reshape(a.shape[0], -1) if a.ndim > 1 else a.reshape(1, -1)


def from_sklearn(estimator: Any, X_sample: Any) -> bytes:
    """The ONNX bytes of a fitted scikit-learn estimator (skl2onnx), for `glassbox.compile`.

    `X_sample` gives the input width (a few rows are enough). Needs skl2onnx.
    """
    try:
        from skl2onnx import to_onnx
    except ImportError:
        raise _missing("skl2onnx", "sklearn") from None
    onx = to_onnx(estimator, _flat(X_sample)[:1], options={"zipmap": False}
                  if _is_classifier(estimator) else None)
    return onx.SerializeToString()


def _is_classifier(estimator: Any) -> bool:
    return getattr(estimator, "_estimator_type", None) == "classifier" or hasattr(
        estimator, "predict_proba"
    )


def from_torch(module: Any, example_input: Any) -> bytes:
    """The ONNX bytes of a PyTorch module (`torch.onnx.export`), for `glassbox.compile`.

    `example_input` is a batch (a tensor or an array, e.g. `N×C×H×W`); the module is exported
    in eval mode with a dynamic batch dimension. Needs torch (and onnx).
    """
    try:
        import torch
    except ImportError:
        raise _missing("torch", "torch") from None
    x = example_input
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    was_training = module.training
    module.eval()
    buf = io.BytesIO()
    try:
        torch.onnx.export(
            module, (x,), buf, input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, dynamo=False,
        )
    finally:
        module.train(was_training)
    return buf.getvalue()
