#!/usr/bin/env python3
"""Regenerate the patch-path CNN fixtures: strided, unpooled and average-pooled convolutions on 28x28
digits (deterministic, no downloads, numpy only for training).

Usage: python3 scripts/make_patch_fixtures.py [NAME ...]   (from the repository root; ~1 minute
on one core per fixture; without names, every fixture)

The data, upsampling (bilinear to 28x28 on the 1/16 grid), Adam settings and fixture formats are those
of make_lenet_fixtures.py; the networks are a list of layers trained here in numpy (strided im2col
convolutions, max/average/global-average pool backward, softmax cross-entropy, fixed seeds).

Writes
  cnn_stride2_digits28.onnx  [N, 1, 28, 28] -> Conv(1->8, 3x3, stride 2, pads 1) -> Relu
                             -> Conv(8->16, 3x3, stride 2, pads 1) -> Relu
                             -> Conv(16->32, 3x3, pads 1) -> Relu -> GlobalAveragePool -> Flatten
                             -> Gemm(32->10).
  cnn_avgpool_digits28.onnx  [N, 1, 28, 28] -> Conv(1->6, 5x5, pads 2) -> Relu -> AveragePool 2x2/2
                             -> Conv(6->12, 3x3, pads 1) -> Relu -> Conv(12->16, 3x3, pads 1) -> Relu
                             -> MaxPool 2x2/2 -> Flatten -> Gemm(784->64) -> Relu -> Gemm(64->10).
  cnn_tanh_digits.onnx       [N, 1, 8, 8] -> Conv(1->8, 3x3, pads 1) -> Tanh -> Conv(8->8, 3x3, pads 1)
                             -> Sigmoid -> Flatten -> Gemm(512->10): smooth activations after
                             convolutions (the stencil path).
  cnn_tanh_pool_digits.onnx  [N, 1, 8, 8] -> Conv(1->8, 3x3, pads 1) -> Tanh -> MaxPool 2x2/2
                             -> Conv(8->16, 3x3, pads 1) -> Tanh -> AveragePool 2x2/2 -> Flatten
                             -> Gemm(64->10): smooth activations before pools.
  lenet5_classic_digits28.onnx  LeNet-5 as LeCun et al. drew it: Conv 5x5 pad 2 -> Tanh -> AveragePool
                             -> Conv 5x5 -> Tanh -> AveragePool -> Gemm(400->120) -> Tanh
                             -> Gemm(120->84) -> Tanh -> Gemm(84->10).
  <name>.test.json / .calib.json / .expected.json  as make_lenet_fixtures.py writes them, with N_TEST
                             test samples and N_CALIB training samples (the files stay under 300 KB).
Accuracies are onnxruntime's on the whole test split (540 samples); the numpy float64 forward pass is
checked against onnxruntime's on all of them.
"""
import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cnn_fixtures import adam, data  # noqa: E402
from make_fixtures import OUT, floats, onnx_model, write_json  # noqa: E402
from make_lenet_fixtures import gray28, he, pool, unpool  # noqa: E402

N_TEST = 64
N_CALIB = 48

# layers: ("conv", name, c_in, c_out, k, stride, pad) | ("relu",) | ("tanh",) | ("sigmoid",)
#         | ("maxpool",) | ("avgpool",) | ("gap",) | ("flatten",) | ("gemm", name, n_in, n_out)
NETS = {
    "cnn_stride2_digits28": [
        ("conv", "conv1", 1, 8, 3, 2, 1), ("relu",),
        ("conv", "conv2", 8, 16, 3, 2, 1), ("relu",),
        ("conv", "conv3", 16, 32, 3, 1, 1), ("relu",),
        ("gap",), ("flatten",), ("gemm", "fc", 32, 10),
    ],
    "cnn_avgpool_digits28": [
        ("conv", "conv1", 1, 6, 5, 1, 2), ("relu",), ("avgpool",),
        ("conv", "conv2", 6, 12, 3, 1, 1), ("relu",),
        ("conv", "conv3", 12, 16, 3, 1, 1), ("relu",), ("maxpool",),
        ("flatten",), ("gemm", "fc1", 784, 64), ("relu",), ("gemm", "fc2", 64, 10),
    ],
    # smooth activations after convolutions (8x8 digits: the stencil path) and in a LeNet head
    "cnn_tanh_digits": [
        ("conv", "conv1", 1, 8, 3, 1, 1), ("tanh",),
        ("conv", "conv2", 8, 8, 3, 1, 1), ("sigmoid",),
        ("flatten",), ("gemm", "fc", 512, 10),
    ],
    "cnn_tanh_pool_digits": [
        ("conv", "conv1", 1, 8, 3, 1, 1), ("tanh",), ("maxpool",),
        ("conv", "conv2", 8, 16, 3, 1, 1), ("tanh",), ("avgpool",),
        ("flatten",), ("gemm", "fc", 64, 10),
    ],
    "lenet5_classic_digits28": [
        ("conv", "conv1", 1, 6, 5, 1, 2), ("tanh",), ("avgpool",),
        ("conv", "conv2", 6, 16, 5, 1, 0), ("tanh",), ("avgpool",),
        ("flatten",), ("gemm", "fc1", 400, 120), ("tanh",), ("gemm", "fc2", 120, 84), ("tanh",),
        ("gemm", "fc3", 84, 10),
    ],
}

# input side per net (the 8x8 digits as they are, or upsampled to 28x28)
SIDE = {"cnn_tanh_digits": 8, "cnn_tanh_pool_digits": 8}


# ---------------------------------------------------------------------------------------------------
# numpy layers, activations NHWC; weights in ONNX layout [M, C, k, k]


def conv(a, w, b, stride, pad):
    """a [N, H, W, C] -> ([N, H', W', M], the im2col patches [N, H'W', C*k*k])."""
    k = w.shape[2]
    ap = np.pad(a, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    win = sliding_window_view(ap, (k, k), axis=(1, 2))[:, ::stride, ::stride]
    n, ho, wo = win.shape[:3]
    cols = win.reshape(n, ho * wo, -1)
    out = cols @ w.reshape(len(w), -1).T + b
    return out.reshape(n, ho, wo, -1), cols


def conv_backward(dout, cols, w, in_shape, stride, pad):
    """Gradients of `conv` given the output gradient: (dw, db, da)."""
    n, ho, wo, m = dout.shape
    d = dout.reshape(n, ho * wo, m)
    dw = np.einsum("npm,npk->mk", d, cols).reshape(w.shape)
    db = d.sum(axis=(0, 1))
    _, h, wd, c = in_shape
    k = w.shape[2]
    dcols = (d @ w.reshape(m, -1)).reshape(n, ho, wo, c, k, k)
    dap = np.zeros((n, h + 2 * pad, wd + 2 * pad, c))
    for ky in range(k):
        for kx in range(k):
            dap[:, ky:ky + stride * (ho - 1) + 1:stride,
                kx:kx + stride * (wo - 1) + 1:stride] += dcols[..., ky, kx]
    return dw, db, dap[:, pad:pad + h, pad:pad + wd]


def forward(name, p, x):
    """x [N, C, H, W] -> (logits, cache)."""
    a = x.transpose(0, 2, 3, 1).astype(np.float64)
    cache = []
    for layer in NETS[name]:
        kind = layer[0]
        if kind == "conv":
            out, cols = conv(a, p[layer[1] + ".weight"], p[layer[1] + ".bias"], layer[5], layer[6])
            cache.append((a.shape, cols))
        elif kind == "relu":
            out = np.maximum(a, 0.0)
            cache.append(a > 0)
        elif kind == "tanh":
            out = np.tanh(a)
            cache.append(1.0 - out * out)
        elif kind == "sigmoid":
            out = 1.0 / (1.0 + np.exp(-a))
            cache.append(out * (1.0 - out))
        elif kind == "maxpool":
            out, mask = pool(a)
            cache.append(mask)
        elif kind == "avgpool":
            n, h, w, c = a.shape
            out = a[:, :h // 2 * 2, :w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))
            cache.append(a.shape)
        elif kind == "gap":
            out = a.mean(axis=(1, 2), keepdims=True)
            cache.append(a.shape)
        elif kind == "flatten":
            out = a.transpose(0, 3, 1, 2).reshape(len(a), -1)  # ONNX Flatten's order
            cache.append(a.shape)
        else:
            out = a @ p[layer[1] + ".weight"].T + p[layer[1] + ".bias"]
            cache.append(a)
        a = out
    return a, cache


def backward(name, p, cache, d):
    g = {}
    for layer, c in zip(reversed(NETS[name]), reversed(cache)):
        kind = layer[0]
        if kind == "conv":
            w = p[layer[1] + ".weight"]
            g[layer[1] + ".weight"], g[layer[1] + ".bias"], d = conv_backward(
                d, c[1], w, c[0], layer[5], layer[6])
        elif kind in ("relu", "tanh", "sigmoid"):
            d = d * c
        elif kind == "maxpool":
            d = unpool(d, c)
        elif kind == "avgpool":
            up = np.repeat(np.repeat(d, 2, axis=1), 2, axis=2) / 4.0
            full = np.zeros(c)
            full[:, :up.shape[1], :up.shape[2]] = up
            d = full
        elif kind == "gap":
            d = np.broadcast_to(d / (c[1] * c[2]), c).copy()
        elif kind == "flatten":
            n, h, w, ch = c
            d = d.reshape(n, ch, h, w).transpose(0, 2, 3, 1)
        else:
            g[layer[1] + ".weight"] = d.T @ c
            g[layer[1] + ".bias"] = d.sum(0)
            d = d @ p[layer[1] + ".weight"]
    return g


def init(name, seed):
    rng = np.random.default_rng(seed)
    p = {}
    for layer in NETS[name]:
        if layer[0] == "conv":
            shape = (layer[3], layer[2], layer[4], layer[4])
        elif layer[0] == "gemm":
            shape = (layer[3], layer[2])
        else:
            continue
        p[layer[1] + ".weight"] = he(rng, shape, int(np.prod(shape[1:])))
        p[layer[1] + ".bias"] = np.zeros(shape[0])
    return p, rng


def check_gradients(name, x, y):
    """Finite differences on a few weights of every layer (4 samples, random biases)."""
    p, rng = init(name, 99)
    for k in p:
        if k.endswith(".bias"):
            p[k] = rng.normal(0, 0.1, p[k].shape)

    def loss(q):
        logits, _ = forward(name, q, x[:4])
        e = np.exp(logits - logits.max(1, keepdims=True))
        return -np.log(e[np.arange(4), y[:4]] / e.sum(1)).mean()

    logits, cache = forward(name, p, x[:4])
    e = np.exp(logits - logits.max(1, keepdims=True))
    d = e / e.sum(1, keepdims=True)
    d[np.arange(4), y[:4]] -= 1.0
    g = backward(name, p, cache, d / 4)
    for k, v in p.items():
        for _ in range(3):
            i = tuple(rng.integers(0, s) for s in v.shape)
            q = {kk: vv.copy() for kk, vv in p.items()}
            q[k][i] += 1e-5
            hi = loss(q)
            q[k][i] -= 2e-5
            num = (hi - loss(q)) / 2e-5
            assert abs(num - g[k][i]) <= 1e-5 + 1e-3 * abs(num), (name, k, i, num, g[k][i])


def to_onnx(name, p):
    f32 = lambda a: np.ascontiguousarray(np.asarray(a, dtype=np.float32))  # noqa: E731
    inits = [numpy_helper.from_array(f32(v), k) for k, v in p.items()]
    nodes, cur = [], "input"
    layers = NETS[name]
    for i, layer in enumerate(layers):
        kind = layer[0]
        out = "output" if i == len(layers) - 1 else f"/{kind}{i}/out"
        if kind == "conv":
            k, s, pad = layer[4], layer[5], layer[6]
            nodes.append(helper.make_node(
                "Conv", [cur, layer[1] + ".weight", layer[1] + ".bias"], [out], name=f"/{layer[1]}",
                dilations=[1, 1], group=1, kernel_shape=[k, k], pads=[pad] * 4, strides=[s, s]))
        elif kind in ("relu", "tanh", "sigmoid"):
            op = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}[kind]
            nodes.append(helper.make_node(op, [cur], [out], name=f"/{kind}{i}"))
        elif kind in ("maxpool", "avgpool"):
            op = "MaxPool" if kind == "maxpool" else "AveragePool"
            nodes.append(helper.make_node(op, [cur], [out], name=f"/{kind}{i}", ceil_mode=0,
                                          kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2]))
        elif kind == "gap":
            nodes.append(helper.make_node("GlobalAveragePool", [cur], [out], name=f"/gap{i}"))
        elif kind == "flatten":
            nodes.append(helper.make_node("Flatten", [cur], [out], name=f"/flatten{i}", axis=1))
        else:
            nodes.append(helper.make_node("Gemm", [cur, layer[1] + ".weight", layer[1] + ".bias"],
                                          [out], name=f"/{layer[1]}", alpha=1.0, beta=1.0, transB=1))
        cur = out
    side = SIDE.get(name, 28)
    return onnx_model(nodes, name, ["N", 1, side, side], ["N", 10], inits)


def fixture(name, x_train, y_train, x_test, y_test, epochs):
    check_gradients(name, x_train, y_train)
    t0 = time.time()
    p, rng = init(name, 0)

    def step(idx):
        logits, cache = forward(name, p, x_train[idx])
        return logits, lambda d: backward(name, p, cache, d)

    adam(p, y_train, epochs, rng, step)
    seconds = time.time() - t0
    data_bytes = to_onnx(name, p).SerializeToString()
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(data_bytes)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(data_bytes, opts, providers=["CPUExecutionProvider"])
    logits = sess.run(["output"], {"input": x_test})[0]
    acc = float((logits.argmax(1) == y_test).mean())
    ref, _ = forward(name, p, x_test)
    diff = float(np.abs(ref - logits).max())
    assert diff < 1e-3, (name, diff)
    one = np.concatenate([sess.run(["output"], {"input": s[None]})[0] for s in x_test[:N_TEST]])
    assert np.allclose(one, logits[:N_TEST], atol=1e-5), name

    write_json(name + ".test.json", {"input_data": [floats(s) for s in x_test[:N_TEST]]})
    write_json(name + ".calib.json", {"input_data": [floats(s) for s in x_train[:N_CALIB]]})
    write_json(name + ".expected.json", {
        "model": name + ".onnx",
        "kind": "logits",
        "note": f"onnxruntime {ort.__version__} float logits and their argmax for the {N_TEST} samples "
                f"of {name}.test.json (the first {N_TEST} of the 540 digits test samples, "
                f"{shape_note(name)}); true_labels are the digits; "
                f"accuracy on all 540: {acc:.4f}",
        "labels": [int(v) for v in logits[:N_TEST].argmax(1)],
        "outputs": [floats(o) for o in logits[:N_TEST]],
        "true_labels": [int(v) for v in y_test[:N_TEST]],
    })
    sizes = ", ".join(f"{ext} {os.path.getsize(os.path.join(OUT, name + ext))}"
                      for ext in (".onnx", ".test.json", ".calib.json", ".expected.json"))
    print(f"{name}: test accuracy {acc:.4f} (onnxruntime, 540 samples), trained {epochs} epochs in "
          f"{seconds:.1f} s, numpy-vs-onnxruntime max |diff| {diff:.2e}; bytes: {sizes}")
    return acc


def shape_note(name):
    if SIDE.get(name, 28) == 8:
        return "as [1, 1, 8, 8]"
    return "bilinear-upsampled to [1, 1, 28, 28] on the 1/16 grid"


def main():
    """Every fixture, or those named on the command line."""
    os.makedirs(OUT, exist_ok=True)
    x_train, x_test, y_train, y_test = data()
    images = {28: (gray28(x_train), gray28(x_test)),
              8: (x_train.reshape(-1, 1, 8, 8), x_test.reshape(-1, 1, 8, 8))}
    wanted = sys.argv[1:]
    for name, epochs in (("cnn_stride2_digits28", 30), ("cnn_avgpool_digits28", 20),
                         ("cnn_tanh_digits", 30), ("cnn_tanh_pool_digits", 40),
                         ("lenet5_classic_digits28", 15)):
        if wanted and name not in wanted:
            continue
        tr, te = images[SIDE.get(name, 28)]
        acc = fixture(name, tr, y_train, te, y_test, epochs)
        assert acc >= 0.95, (name, acc)


if __name__ == "__main__":
    main()
