#!/usr/bin/env python3
"""Regenerate the residual CNN fixture (deterministic, no downloads, numpy only for training).

Usage: python3 scripts/make_residual_fixture.py   (from the repository root; after make_cnn_fixtures.py)

Writes
  cnn_residual.onnx  Conv(1->8, 3x3, pad 1) -> Relu -> MaxPool 2x2/2 -> [skip s] -> Conv(8->8, 3x3, pad 1)
                     -> Relu -> Conv(8->8, 3x3, pad 1) -> Add(s) -> Relu -> Flatten -> Gemm(128->64)
                     -> LeakyRelu(0.1) -> Gemm(64->10).
                     The first convolution is cnn_digits' trained one with its batch norm folded in; the two
                     residual convolutions are seeded random and small (the block starts near the identity,
                     as a freshly initialised ResNet block does); the Gemm head is trained here in numpy
                     (softmax cross-entropy, Adam, fixed seed) on the residual features.
  cnn_residual.expected.json  onnxruntime float logits for the first 40 test samples.
"""
import os
import sys
import time

import numpy as np
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cnn_fixtures import adam, data, folded_conv, save  # noqa: E402
from make_fixtures import OUT, onnx_model  # noqa: E402

ALPHA = 0.1


def conv3x3(x, w, b):
    """x [N, C, H, W], w [M, C, 3, 3], pad 1, stride 1 -> [N, M, H, W]."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for ky in range(3):
        for kx in range(3):
            out += np.einsum("nchw,mc->nmhw", xp[:, :, ky:ky + h, kx:kx + wd], w[:, :, ky, kx])
    return out + b[None, :, None, None]


def maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def features(conv, x):
    """The fixed convolutional part: [N, 64] pixels -> [N, 128] residual features."""
    w1, b1, w2, b2, w3, b3 = conv
    s = maxpool2(np.maximum(conv3x3(x.reshape(-1, 1, 8, 8), w1, b1), 0))
    r = conv3x3(np.maximum(conv3x3(s, w2, b2), 0), w3, b3)
    return np.maximum(s + r, 0).reshape(len(x), -1)


def head(h, fw1, fb1, fw2, fb2):
    z = h @ fw1.T + fb1
    a = np.where(z > 0, z, ALPHA * z)
    return z, a, a @ fw2.T + fb2


def train_head(h, y):
    rng = np.random.default_rng(1)
    p = {
        "fw1": rng.normal(0, np.sqrt(2 / 128), (64, 128)),
        "fb1": np.zeros(64),
        "fw2": rng.normal(0, np.sqrt(1 / 64), (10, 64)),
        "fb2": np.zeros(10),
    }

    def step(idx):
        z, a, logits = head(h[idx], p["fw1"], p["fb1"], p["fw2"], p["fb2"])

        def grads(d):
            dz = (d @ p["fw2"]) * np.where(z > 0, 1.0, ALPHA)
            return {"fw2": d.T @ a, "fb2": d.sum(0), "fw1": dz.T @ h[idx], "fb1": dz.sum(0)}
        return logits, grads

    return adam(p, y, 60, rng, step)


def residual_onnx(conv, p):
    f32 = lambda a: np.ascontiguousarray(np.asarray(a, dtype=np.float32))  # noqa: E731
    w1, b1, w2, b2, w3, b3 = conv
    names = ["conv1", "conv2", "conv3"]
    inits = []
    for name, (w, b) in zip(names, [(w1, b1), (w2, b2), (w3, b3)]):
        inits += [numpy_helper.from_array(f32(w), name + ".weight"),
                  numpy_helper.from_array(f32(b), name + ".bias")]
    for k in ["fw1", "fb1", "fw2", "fb2"]:
        inits.append(numpy_helper.from_array(f32(p[k]), k))

    def conv(name, x, out):
        return helper.make_node("Conv", [x, name + ".weight", name + ".bias"], [out],
                                name=f"/{name}/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])

    nodes = [
        conv("conv1", "input", "c1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="/relu1/Relu"),
        helper.make_node("MaxPool", ["r1"], ["s"], name="/pool/MaxPool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        conv("conv2", "s", "c2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="/block/relu/Relu"),
        conv("conv3", "r2", "c3"),
        helper.make_node("Add", ["c3", "s"], ["sum"], name="/block/Add"),
        helper.make_node("Relu", ["sum"], ["r3"], name="/block/relu_out/Relu"),
        helper.make_node("Flatten", ["r3"], ["flat"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fw1", "fb1"], ["h"], name="/fc1/Gemm", transB=1),
        helper.make_node("LeakyRelu", ["h"], ["hl"], name="/fc1/LeakyRelu", alpha=ALPHA),
        helper.make_node("Gemm", ["hl", "fw2", "fb2"], ["output"], name="/fc2/Gemm", transB=1),
    ]
    return onnx_model(nodes, "cnn_residual", ["N", 1, 8, 8], ["N", 10], inits)


def main():
    os.makedirs(OUT, exist_ok=True)
    x_train, x_test, y_train, y_test = data()
    t0 = time.time()
    w1, b1 = folded_conv(x_train, y_train)
    rng = np.random.default_rng(2)
    conv = (w1, b1,
            rng.normal(0, 0.05, (8, 8, 3, 3)), rng.normal(0, 0.05, 8),
            rng.normal(0, 0.05, (8, 8, 3, 3)), rng.normal(0, 0.05, 8))
    p = train_head(features(conv, x_train), y_train)
    seconds = time.time() - t0
    sess, size = save(residual_onnx(conv, p), "cnn_residual", x_test)
    logits = sess.run(["output"], {"input": x_test.reshape(-1, 1, 8, 8)})[0]
    ref = head(features(conv, x_test), p["fw1"], p["fb1"], p["fw2"], p["fb2"])[2]
    assert np.allclose(ref, logits, atol=1e-3), np.abs(ref - logits).max()
    acc = float((logits.argmax(1) == y_test).mean())
    assert acc >= 0.95, acc
    print(f"cnn_residual: test accuracy {acc:.4f} (onnxruntime), trained in {seconds:.1f} s, "
          f"{size} bytes")


if __name__ == "__main__":
    main()
