#!/usr/bin/env python3
"""Regenerate the convolutional-model fixtures (deterministic, no downloads, numpy only for training).

Usage: python3 scripts/make_cnn_fixtures.py   (from the repository root)

Writes
  cnn_digits.onnx   Conv(1->8, 3x3, pad 1) -> BatchNormalization -> Relu -> MaxPool 2x2/2 -> Flatten
                    -> Gemm(128->10), trained here in numpy (im2col convolution, batch-norm in training
                    mode, softmax cross-entropy, Adam, fixed seed) on scikit-learn's `load_digits` with the
                    preprocessing and split of make_fixtures.py. The BatchNormalization node is kept (its
                    running statistics are the per-channel mean/variance of the conv outputs over the whole
                    training split), so the importer's Conv+BN folding is exercised.
  cnn_ops.onnx      an untrained, seeded random graph exercising every other op the importer supports:
                    stride-2 Conv with SAME_UPPER, Clip(0, 6) (opset 13: min/max as inputs), a residual Add,
                    a foldable and two non-foldable BatchNormalization nodes, AveragePool with padding and
                    count_include_pad=0, LeakyRelu, a SAME_LOWER Conv, MaxPool with padding,
                    GlobalAveragePool, Flatten, Gemm.
  <name>.expected.json  onnxruntime float outputs (logits) for the first 40 samples of digits_test.json,
                    each reshaped to [1, 1, 8, 8].
"""
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import OUT, digits_split, floats, onnx_model, write_json  # noqa: E402
N_EXPECTED = 40
EPS = 1e-5


def data():
    """Exactly the preprocessing and split of make_fixtures.py."""
    return digits_split()


# ---------------------------------------------------------------------------------------------------
# numpy CNN: conv3x3(pad 1) -> batch-norm -> relu -> maxpool 2x2 -> dense


def im2col(x):
    """x [N, 1, 8, 8] -> [N, 64, 9] patches of the zero-padded image (3x3, pad 1, stride 1)."""
    n = x.shape[0]
    xp = np.pad(x[:, 0], ((0, 0), (1, 1), (1, 1)))
    cols = np.empty((n, 8, 8, 9), dtype=np.float64)
    for ki in range(3):
        for kj in range(3):
            cols[:, :, :, ki * 3 + kj] = xp[:, ki:ki + 8, kj:kj + 8]
    return cols.reshape(n, 64, 9)


def forward(p, cols, train, stats=None):
    w, b, gamma, beta, fw, fb = p["w"], p["b"], p["gamma"], p["beta"], p["fw"], p["fb"]
    n = cols.shape[0]
    z = cols @ w.T + b  # [N, 64, 8]
    if train:
        mean = z.mean(axis=(0, 1))
        var = z.var(axis=(0, 1))
    else:
        mean, var = stats
    inv = 1.0 / np.sqrt(var + EPS)
    zhat = (z - mean) * inv
    bn = zhat * gamma + beta
    r = np.maximum(bn, 0.0)
    r4 = r.reshape(n, 4, 2, 4, 2, 8)  # [N, oh, di, ow, dj, C]
    pooled = r4.max(axis=(2, 4))  # [N, 4, 4, C]
    flat = pooled.transpose(0, 3, 1, 2).reshape(n, 128)  # NCHW flatten order
    logits = flat @ fw.T + fb
    cache = (cols, z, zhat, inv, r, r4, pooled, flat)
    return logits, cache


def backward(p, cache, dlogits):
    cols, z, zhat, inv, r, r4, pooled, flat = cache
    n = cols.shape[0]
    g = {"fw": dlogits.T @ flat, "fb": dlogits.sum(0)}
    dflat = dlogits @ p["fw"]
    dpooled = dflat.reshape(n, 8, 4, 4).transpose(0, 2, 3, 1)  # [N, 4, 4, C]
    # Ties only occur between zeros (after ReLU), whose gradient the ReLU mask drops anyway.
    mask = r4 == pooled[:, :, None, :, None, :]
    dr = (mask * dpooled[:, :, None, :, None, :]).reshape(n, 64, 8)
    dbn = dr * (r > 0)
    g["gamma"] = (dbn * zhat).sum(axis=(0, 1))
    g["beta"] = dbn.sum(axis=(0, 1))
    dzhat = dbn * p["gamma"]
    m = n * 64
    dz = inv / m * (m * dzhat - dzhat.sum(axis=(0, 1)) - zhat * (dzhat * zhat).sum(axis=(0, 1)))
    g["w"] = np.einsum("npc,npk->ck", dz, cols)
    g["b"] = dz.sum(axis=(0, 1))
    return g


def adam(p, y, epochs, rng, step, min_batch=1):
    """Trains `p` in place with Adam (learning rate 3e-3) on softmax cross-entropy, over batches
    of 32 from a fresh permutation of `y`'s samples each epoch (smaller batches than `min_batch`
    skipped). `step(idx)` returns the batch's logits and a function from their loss gradient to
    the gradients of `p`."""
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    lr, b1, b2, t = 3e-3, 0.9, 0.999, 0
    for _epoch in range(epochs):
        perm = rng.permutation(len(y))
        for s in range(0, len(y), 32):
            idx = perm[s:s + 32]
            if len(idx) < min_batch:
                continue
            logits, backward_of = step(idx)
            e = np.exp(logits - logits.max(1, keepdims=True))
            d = e / e.sum(1, keepdims=True)
            d[np.arange(len(idx)), y[idx]] -= 1.0
            grads = backward_of(d / len(idx))
            t += 1
            for k in p:
                m[k] = b1 * m[k] + (1 - b1) * grads[k]
                v[k] = b2 * v[k] + (1 - b2) * grads[k] ** 2
                p[k] -= lr * (m[k] / (1 - b1 ** t)) / (np.sqrt(v[k] / (1 - b2 ** t)) + 1e-8)
    return p


def train_cnn(x_train, y_train):
    rng = np.random.default_rng(0)
    p = {
        "w": rng.normal(0, np.sqrt(2 / 9), (8, 9)),
        "b": rng.normal(0, 0.1, 8),
        "gamma": np.ones(8),
        "beta": np.zeros(8),
        "fw": rng.normal(0, np.sqrt(1 / 128), (10, 128)),
        "fb": np.zeros(10),
    }
    cols_all = im2col(x_train.reshape(-1, 1, 8, 8).astype(np.float64))

    def step(idx):
        logits, cache = forward(p, cols_all[idx], train=True)
        return logits, lambda dlogits: backward(p, cache, dlogits)

    # batch norm needs two samples in a batch
    adam(p, y_train, 30, rng, step, min_batch=2)
    # Running statistics: the conv outputs over the whole training split.
    z = cols_all @ p["w"].T + p["b"]
    stats = (z.mean(axis=(0, 1)), z.var(axis=(0, 1)))
    return p, stats


def folded_conv(x_train, y_train):
    """cnn_digits' trained convolution with its batch norm folded in: (w [8, 1, 3, 3], b [8])."""
    p, (mean, var) = train_cnn(x_train, y_train)
    scale = p["gamma"] / np.sqrt(var + EPS)
    return (p["w"] * scale[:, None]).reshape(8, 1, 3, 3), (p["b"] - mean) * scale + p["beta"]


def cnn_digits_onnx(p, stats):
    f32 = lambda a: np.ascontiguousarray(np.asarray(a, dtype=np.float32))  # noqa: E731
    inits = [
        numpy_helper.from_array(f32(p["w"].reshape(8, 1, 3, 3)), "conv.weight"),
        numpy_helper.from_array(f32(p["b"]), "conv.bias"),
        numpy_helper.from_array(f32(p["gamma"]), "bn.weight"),
        numpy_helper.from_array(f32(p["beta"]), "bn.bias"),
        numpy_helper.from_array(f32(stats[0]), "bn.running_mean"),
        numpy_helper.from_array(f32(stats[1]), "bn.running_var"),
        numpy_helper.from_array(f32(p["fw"]), "fc.weight"),
        numpy_helper.from_array(f32(p["fb"]), "fc.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["conv_out"],
                         name="/conv/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         strides=[1, 1], dilations=[1, 1], group=1),
        helper.make_node("BatchNormalization",
                         ["conv_out", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"],
                         ["bn_out"], name="/bn/BatchNormalization", epsilon=EPS, momentum=0.9),
        helper.make_node("Relu", ["bn_out"], ["relu_out"], name="/relu/Relu"),
        helper.make_node("MaxPool", ["relu_out"], ["pool_out"], name="/pool/MaxPool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool_out"], ["flat"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["output"], name="/fc/Gemm",
                         alpha=1.0, beta=1.0, transB=1),
    ]
    return onnx_model(nodes, "cnn_digits", ["N", 1, 8, 8], ["N", 10], inits)


def cnn_ops_onnx():
    rng = np.random.default_rng(1)
    inits = []

    def const(name, a):
        inits.append(numpy_helper.from_array(np.asarray(a, dtype=np.float32), name))
        return name

    def rand(name, shape, scale):
        return const(name, rng.normal(0, scale, shape))

    def bn(prefix, c):
        return [rand(prefix + ".weight", (c,), 0.5), rand(prefix + ".bias", (c,), 0.2),
                rand(prefix + ".mean", (c,), 0.3),
                const(prefix + ".var", rng.uniform(0.2, 2.0, c))]

    n = helper.make_node
    nodes = [
        # [1,1,8,8] -> [1,4,4,4]
        n("Conv", ["input", rand("c0.w", (4, 1, 3, 3), 0.8), rand("c0.b", (4,), 0.3)], ["c0"],
          name="conv0", strides=[2, 2], auto_pad="SAME_UPPER"),
        n("Clip", ["c0", const("zero", 0.0), const("six", 6.0)], ["a"], name="clip0"),
        n("Conv", ["a", rand("c1.w", (4, 4, 3, 3), 0.4), rand("c1.b", (4,), 0.2)], ["c1"],
          name="conv1", pads=[1, 1, 1, 1]),
        n("Relu", ["c1"], ["r1"], name="relu1"),
        n("Conv", ["r1", rand("c2.w", (4, 4, 3, 3), 0.4)], ["c2"], name="conv2",
          kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        # Foldable: conv2's only consumer.
        n("BatchNormalization", ["c2"] + bn("bn2", 4), ["b2"], name="bn2", epsilon=1e-3),
        n("Add", ["b2", "a"], ["s"], name="residual"),
        # Not foldable: follows an Add.
        n("BatchNormalization", ["s"] + bn("bn3", 4), ["s2"], name="bn3"),
        n("Relu", ["s2"], ["r"], name="relu2"),
        # [1,4,4,4] -> [1,4,3,3]; the border windows are half padding.
        n("AveragePool", ["r"], ["p"], name="avgpool", kernel_shape=[2, 2], strides=[2, 2],
          pads=[1, 1, 1, 1], count_include_pad=0),
        n("LeakyRelu", ["p"], ["l"], name="leaky", alpha=0.1),
        # [1,4,3,3] -> [1,6,3,3]
        n("Conv", ["l", rand("c3.w", (6, 4, 2, 2), 0.5), rand("c3.b", (6,), 0.2)], ["c3"],
          name="conv3", auto_pad="SAME_LOWER"),
        # Not foldable: c3 has a second consumer (the Add below).
        n("BatchNormalization", ["c3"] + bn("bn4", 6), ["b4"], name="bn4"),
        n("Add", ["b4", "c3"], ["s4"], name="residual2"),
        # [1,6,3,3] -> [1,6,3,3]
        n("MaxPool", ["s4"], ["m"], name="maxpool", kernel_shape=[2, 2], strides=[1, 1],
          pads=[0, 0, 1, 1]),
        n("GlobalAveragePool", ["m"], ["g"], name="gap"),
        n("Flatten", ["g"], ["f"], name="flatten"),
        n("Gemm", ["f", rand("fc.w", (10, 6), 0.5), rand("fc.b", (10,), 0.1)], ["output"],
          name="fc", transB=1),
    ]
    return onnx_model(nodes, "cnn_ops", ["N", 1, 8, 8], ["N", 10], inits)


def save(model, name, x_test):
    data_bytes = model.SerializeToString()
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(data_bytes)
    sess = ort.InferenceSession(data_bytes, providers=["CPUExecutionProvider"])
    outs = [sess.run(["output"], {"input": s.reshape(1, 1, 8, 8).astype(np.float32)})[0][0]
            for s in x_test[:N_EXPECTED]]
    write_json(name + ".expected.json", {
        "model": name + ".onnx",
        "kind": "logits",
        "note": f"onnxruntime {ort.__version__} float outputs (logits) for the first {N_EXPECTED} "
                "samples of digits_test.json, each reshaped to [1, 1, 8, 8]",
        "outputs": [floats(o) for o in outs],
    })
    return sess, len(data_bytes)


def main():
    os.makedirs(OUT, exist_ok=True)
    x_train, x_test, y_train, y_test = data()

    t0 = time.time()
    p, stats = train_cnn(x_train, y_train)
    seconds = time.time() - t0
    sess, size = save(cnn_digits_onnx(p, stats), "cnn_digits", x_test)
    logits = sess.run(["output"], {"input": x_test.reshape(-1, 1, 8, 8)})[0]
    acc = float((logits.argmax(1) == y_test).mean())
    # The numpy inference path agrees with onnxruntime.
    ref, _ = forward(p, im2col(x_test.reshape(-1, 1, 8, 8).astype(np.float64)), False, stats)
    assert np.allclose(ref, logits, atol=1e-3), np.abs(ref - logits).max()
    assert acc >= 0.95, acc
    print(f"cnn_digits: test accuracy {acc:.4f} (onnxruntime), trained in {seconds:.1f} s, "
          f"{size} bytes")

    _, size = save(cnn_ops_onnx(), "cnn_ops", x_test)
    print(f"cnn_ops: {size} bytes")


if __name__ == "__main__":
    main()
