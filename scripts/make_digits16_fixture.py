#!/usr/bin/env python3
"""Regenerate the 16x16 two-convolution fixture (deterministic, no downloads, numpy only for training).

Usage: python3 scripts/make_digits16_fixture.py   (from the repository root)

Writes
  cnn_digits16.onnx  Conv(1->8, 3x3, pad 1) -> Relu -> MaxPool 2x2/2 -> Conv(8->8, 3x3, pad 1) -> Relu
                     -> MaxPool 2x2/2 -> Flatten -> Gemm(128->10), on the digits upsampled to 16x16
                     (each pixel repeated 2x2). The first convolution is cnn_digits' trained one with its
                     batch norm folded in; the second is seeded random (He initialisation); the Gemm is
                     trained here in numpy (softmax cross-entropy, Adam, fixed seed) on the fixed
                     features. Its convolutions are the ones dense Toeplitz storage makes expensive
                     (256 x 2048 and 1024 x 512 weights), which the stencil layers store per input.
  cnn_digits16.expected.json  onnxruntime float logits for the first 40 test samples, upsampled.
"""
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cnn_fixtures import N_EXPECTED, adam, data, folded_conv  # noqa: E402
from make_fixtures import OUT, floats, onnx_model, write_json  # noqa: E402
from make_residual_fixture import conv3x3, maxpool2  # noqa: E402


def upsample(x):
    """[N, 64] digits -> [N, 1, 16, 16], each pixel repeated 2x2."""
    return np.kron(x.reshape(-1, 8, 8), np.ones((2, 2), dtype=x.dtype))[:, None]


def features(conv, x16):
    w1, b1, w2, b2 = conv
    a = maxpool2(np.maximum(conv3x3(x16, w1, b1), 0))
    return maxpool2(np.maximum(conv3x3(a, w2, b2), 0)).reshape(len(x16), -1)


def train_head(h, y):
    rng = np.random.default_rng(3)
    p = {"w": rng.normal(0, np.sqrt(1 / h.shape[1]), (10, h.shape[1])), "b": np.zeros(10)}

    def step(idx):
        logits = h[idx] @ p["w"].T + p["b"]
        return logits, lambda d: {"w": d.T @ h[idx], "b": d.sum(0)}

    return adam(p, y, 80, rng, step)


def digits16_onnx(conv, p):
    f32 = lambda a: np.ascontiguousarray(np.asarray(a, dtype=np.float32))  # noqa: E731
    w1, b1, w2, b2 = conv
    inits = [
        numpy_helper.from_array(f32(w1), "conv1.weight"),
        numpy_helper.from_array(f32(b1), "conv1.bias"),
        numpy_helper.from_array(f32(w2), "conv2.weight"),
        numpy_helper.from_array(f32(b2), "conv2.bias"),
        numpy_helper.from_array(f32(p["w"]), "fc.weight"),
        numpy_helper.from_array(f32(p["b"]), "fc.bias"),
    ]

    def conv(name, x, out):
        return helper.make_node("Conv", [x, name + ".weight", name + ".bias"], [out],
                                name=f"/{name}/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])

    def pool(name, x, out):
        return helper.make_node("MaxPool", [x], [out], name=f"/{name}/MaxPool",
                                kernel_shape=[2, 2], strides=[2, 2])

    nodes = [
        conv("conv1", "input", "c1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="/relu1/Relu"),
        pool("pool1", "r1", "p1"),
        conv("conv2", "p1", "c2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="/relu2/Relu"),
        pool("pool2", "r2", "p2"),
        helper.make_node("Flatten", ["p2"], ["flat"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["output"], name="/fc/Gemm",
                         transB=1),
    ]
    return onnx_model(nodes, "cnn_digits16", ["N", 1, 16, 16], ["N", 10], inits)


def main():
    os.makedirs(OUT, exist_ok=True)
    x_train, x_test, y_train, y_test = data()
    t0 = time.time()
    w1, b1 = folded_conv(x_train, y_train)
    rng = np.random.default_rng(4)
    conv = (w1, b1, rng.normal(0, np.sqrt(2 / 72), (8, 8, 3, 3)), rng.normal(0, 0.05, 8))
    p = train_head(features(conv, upsample(x_train)), y_train)
    seconds = time.time() - t0

    model = digits16_onnx(conv, p)
    data_bytes = model.SerializeToString()
    with open(os.path.join(OUT, "cnn_digits16.onnx"), "wb") as f:
        f.write(data_bytes)
    sess = ort.InferenceSession(data_bytes, providers=["CPUExecutionProvider"])
    x16 = upsample(x_test).astype(np.float32)
    logits = sess.run(["output"], {"input": x16})[0]
    ref = features(conv, upsample(x_test)) @ p["w"].T + p["b"]
    assert np.allclose(ref, logits, atol=1e-3), np.abs(ref - logits).max()
    outs = [sess.run(["output"], {"input": s[None]})[0][0] for s in x16[:N_EXPECTED]]
    write_json("cnn_digits16.expected.json", {
        "model": "cnn_digits16.onnx",
        "kind": "logits",
        "note": f"onnxruntime {ort.__version__} float outputs (logits) for the first {N_EXPECTED} "
                "samples of digits_test.json, each upsampled to [1, 1, 16, 16] (pixels repeated 2x2)",
        "outputs": [floats(o) for o in outs],
    })
    acc = float((logits.argmax(1) == y_test).mean())
    assert acc >= 0.95, acc
    print(f"cnn_digits16: test accuracy {acc:.4f} (onnxruntime), trained in {seconds:.1f} s, "
          f"{len(data_bytes)} bytes")


if __name__ == "__main__":
    main()
