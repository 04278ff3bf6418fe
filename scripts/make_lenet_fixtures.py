#!/usr/bin/env python3
"""Regenerate the LeNet-5 and RGB CNN fixtures (deterministic, no downloads, numpy only for training).

Usage: python3 scripts/make_lenet_fixtures.py   (from the repository root; ~1 minute on one core)

Both models are trained here in numpy (im2col convolutions, max-pool backward, softmax cross-entropy,
Adam with the learning rate and batches of make_cnn_fixtures.py, fixed seeds; BLAS pinned to one
thread) on scikit-learn's `load_digits` with the preprocessing and split of make_fixtures.py. The 8x8
digits are upsampled with bilinear interpolation (half-pixel centres, PyTorch's align_corners=False)
and rounded to multiples of 1/16, the source pixels' own grid: the inputs are exact in float32 and
their JSON stays small (a few characters per value instead of ~19 for an arbitrary float32).

Writes
  lenet5_digits28.onnx  a PyTorch-shaped LeNet-5 on [N, 1, 28, 28] digits: Conv(1->6, 5x5, pads 2)
                        -> Relu -> MaxPool 2x2/2 -> Conv(6->16, 5x5) -> Relu -> MaxPool 2x2/2 -> Flatten
                        -> Gemm(400->120) -> Relu -> Gemm(120->84) -> Relu -> Gemm(84->10).
  rgb_cnn32.onnx        [N, 3, 32, 32] -> three stages Conv 3x3 pad 1 (16, 32, 64 channels) -> Relu
                        -> MaxPool 2x2/2, then Flatten -> Gemm(1024->10); on the digits upsampled to
                        32x32 and coloured: each sample gets a dark background and a bright stroke
                        colour, per channel, from a seeded RNG, so the three channels differ.
  <name>.test.json      EZKL-style {"input_data": [[flattened floats], ...]}, the first samples of the
                        test split (LENET_TEST and RGB_TEST of its 540: the whole split would be
                        2.3 MB and 10 MB of JSON).
  <name>.calib.json     the first training samples, same format (100 for LeNet, RGB_CALIB for RGB).
  <name>.expected.json  {"model", "kind": "logits", "note", "labels": onnxruntime's argmax,
                        "outputs": onnxruntime's float logits, "true_labels"}, one row per sample of
                        <name>.test.json.
Accuracies are onnxruntime's on the whole test split (540 samples); the numpy float64 forward pass is
checked against onnxruntime's on all of them.
"""
import os
import sys
import time

# One core, and the same summation order on every run.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cnn_fixtures import adam, data  # noqa: E402
from make_fixtures import OUT, floats, onnx_model, write_json  # noqa: E402

LENET_TEST = 256
LENET_CALIB = 100
RGB_TEST = 64
RGB_CALIB = 64


# ---------------------------------------------------------------------------------------------------
# data: upsampled (and coloured) digits on the 1/16 grid


def bilinear(n_in, n_out):
    """[n_out, n_in] bilinear interpolation matrix, half-pixel centres, edges clamped."""
    a = np.zeros((n_out, n_in))
    for o in range(n_out):
        s = min(max((o + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1.0)
        i = int(np.floor(s))
        f = s - i
        a[o, i] += 1.0 - f
        a[o, min(i + 1, n_in - 1)] += f
    return a


def on_grid(x):
    """Rounded to the nearest multiple of 1/16 (half to even), as float32."""
    return (np.round(x * 16.0) / 16.0).astype(np.float32)


def upsample(x, size):
    """[N, 64] digits -> [N, size, size] in [0, 1] on the 1/16 grid."""
    a = bilinear(8, size)
    return on_grid(np.einsum("hi,nij,wj->nhw", a, x.reshape(-1, 8, 8).astype(np.float64), a))


def gray28(x):
    return upsample(x, 28)[:, None]


def rgb32(x, seed):
    """[N, 64] digits -> [N, 3, 32, 32]: per sample, a background colour in [0, 6/16] and a stroke colour
    in [10/16, 1] per channel (seeded), blended by the upsampled intensity, on the 1/16 grid."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(0, 7, (len(x), 3)) / 16.0
    fg = rng.integers(10, 17, (len(x), 3)) / 16.0
    i = upsample(x, 32).astype(np.float64)[:, None]
    return on_grid(bg[:, :, None, None] + (fg - bg)[:, :, None, None] * i)


# ---------------------------------------------------------------------------------------------------
# numpy layers, activations NHWC; weights in ONNX layout [M, C, k, k]


def conv(a, w, b, pad):
    """a [N, H, W, C] -> ([N, H', W', M], the im2col patches [N, H'W', C*k*k])."""
    k = w.shape[2]
    ap = np.pad(a, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    win = sliding_window_view(ap, (k, k), axis=(1, 2))  # [N, H', W', C, k, k]
    n, ho, wo = win.shape[:3]
    cols = win.reshape(n, ho * wo, -1)
    out = cols @ w.reshape(len(w), -1).T + b
    return out.reshape(n, ho, wo, -1), cols


def conv_backward(dout, cols, w, in_shape, pad, need_dx):
    """Gradients of `conv` given the output gradient: (dw, db, da or None)."""
    n, ho, wo, m = dout.shape
    d = dout.reshape(n, ho * wo, m)
    dw = np.einsum("npm,npk->mk", d, cols).reshape(w.shape)
    db = d.sum(axis=(0, 1))
    if not need_dx:
        return dw, db, None
    _, h, wd, c = in_shape
    k = w.shape[2]
    dcols = (d @ w.reshape(m, -1)).reshape(n, ho, wo, c, k, k)
    dap = np.zeros((n, h + 2 * pad, wd + 2 * pad, c))
    for ky in range(k):
        for kx in range(k):
            dap[:, ky:ky + ho, kx:kx + wo] += dcols[..., ky, kx]
    return dw, db, dap[:, pad:pad + h, pad:pad + wd]


def pool(r):
    """2x2/2 max pool of [N, H, W, C] -> (pooled, the 0/1 mask of the maxima in r's shape)."""
    n, h, w, c = r.shape
    win = r.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 5, 2, 4).reshape(-1, 4)
    first = win.argmax(axis=1)  # the gradient goes to the first maximum: inputs on a grid tie often
    mask = np.zeros_like(win)
    mask[np.arange(len(win)), first] = 1.0
    p = win[np.arange(len(win)), first].reshape(n, h // 2, w // 2, c)
    mask = mask.reshape(n, h // 2, w // 2, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(r.shape)
    return p, mask


def unpool(dp, mask):
    return np.repeat(np.repeat(dp, 2, axis=1), 2, axis=2) * mask


def nchw_flat(a):
    """[N, H, W, C] -> [N, C*H*W] in ONNX Flatten's order."""
    return a.transpose(0, 3, 1, 2).reshape(len(a), -1)


def nhwc(flat, like):
    n, h, w, c = like.shape
    return flat.reshape(n, c, h, w).transpose(0, 2, 3, 1)


def he(rng, shape, fan_in):
    return rng.normal(0, np.sqrt(2.0 / fan_in), shape)


# ---------------------------------------------------------------------------------------------------
# the two networks: forward (with a cache) and backward


CONVS = {"lenet5_digits28": [("conv1", 2), ("conv2", 0)],
         "rgb_cnn32": [("conv1", 1), ("conv2", 1), ("conv3", 1)]}
FCS = {"lenet5_digits28": ["fc1", "fc2", "fc3"], "rgb_cnn32": ["fc"]}


def forward(name, p, x):
    """x [N, C, H, W] -> (logits, cache). Conv stages are conv -> relu -> pool; FCs relu but the last."""
    a = x.transpose(0, 2, 3, 1).astype(np.float64)
    cache = []
    for layer, pad in CONVS[name]:
        z, cols = conv(a, p[layer + ".weight"], p[layer + ".bias"], pad)
        r = np.maximum(z, 0.0)
        nxt, mask = pool(r)
        cache.append((a.shape, cols, z, mask, nxt))
        a = nxt
    h = nchw_flat(a)
    fcs = FCS[name]
    for i, layer in enumerate(fcs):
        z = h @ p[layer + ".weight"].T + p[layer + ".bias"]
        cache.append((h, z))
        h = z if i == len(fcs) - 1 else np.maximum(z, 0.0)
    return h, cache


def backward(name, p, cache, d):
    g = {}
    fcs = FCS[name]
    for i in reversed(range(len(fcs))):
        layer = fcs[i]
        h, z = cache[len(CONVS[name]) + i]
        if i != len(fcs) - 1:
            d = d * (z > 0)
        g[layer + ".weight"] = d.T @ h
        g[layer + ".bias"] = d.sum(0)
        d = d @ p[layer + ".weight"]
    convs = CONVS[name]
    d = nhwc(d, cache[len(convs) - 1][4])
    for j in reversed(range(len(convs))):
        layer, pad = convs[j]
        in_shape, cols, z, mask, _ = cache[j]
        dz = unpool(d, mask) * (z > 0)
        g[layer + ".weight"], g[layer + ".bias"], d = conv_backward(
            dz, cols, p[layer + ".weight"], in_shape, pad, need_dx=j > 0)
    return g


def init(name, seed):
    rng = np.random.default_rng(seed)
    if name == "lenet5_digits28":
        shapes = [("conv1", (6, 1, 5, 5)), ("conv2", (16, 6, 5, 5)), ("fc1", (120, 400)),
                  ("fc2", (84, 120)), ("fc3", (10, 84))]
    else:
        shapes = [("conv1", (16, 3, 3, 3)), ("conv2", (32, 16, 3, 3)), ("conv3", (64, 32, 3, 3)),
                  ("fc", (10, 1024))]
    p = {}
    for layer, shape in shapes:
        fan_in = int(np.prod(shape[1:]))
        p[layer + ".weight"] = he(rng, shape, fan_in)
        p[layer + ".bias"] = np.zeros(shape[0])
    return p, rng


def train(name, x, y, epochs, seed):
    p, rng = init(name, seed)

    def step(idx):
        logits, cache = forward(name, p, x[idx])
        return logits, lambda d: backward(name, p, cache, d)

    return adam(p, y, epochs, rng, step)


def check_gradients(name, x, y):
    """Finite differences on a few weights of every layer (cheap: 4 samples). Random biases keep
    the pre-activations off ReLU's kink (zero biases make the background exactly 0)."""
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


# ---------------------------------------------------------------------------------------------------
# ONNX export, shaped like torch.onnx.export's


def to_onnx(name, p, input_shape):
    f32 = lambda a: np.ascontiguousarray(np.asarray(a, dtype=np.float32))  # noqa: E731
    inits = [numpy_helper.from_array(f32(v), k) for k, v in p.items()]
    nodes, cur = [], "input"
    for i, (layer, pad) in enumerate(CONVS[name], start=1):
        k = p[layer + ".weight"].shape[2]
        nodes += [
            helper.make_node("Conv", [cur, layer + ".weight", layer + ".bias"],
                             [f"/{layer}/Conv_output_0"], name=f"/{layer}/Conv", dilations=[1, 1],
                             group=1, kernel_shape=[k, k], pads=[pad] * 4, strides=[1, 1]),
            helper.make_node("Relu", [f"/{layer}/Conv_output_0"], [f"/relu{i}/Relu_output_0"],
                             name=f"/relu{i}/Relu"),
            helper.make_node("MaxPool", [f"/relu{i}/Relu_output_0"], [f"/pool{i}/MaxPool_output_0"],
                             name=f"/pool{i}/MaxPool", ceil_mode=0, kernel_shape=[2, 2],
                             pads=[0, 0, 0, 0], strides=[2, 2]),
        ]
        cur = f"/pool{i}/MaxPool_output_0"
    nodes.append(helper.make_node("Flatten", [cur], ["/Flatten_output_0"], name="/Flatten", axis=1))
    cur = "/Flatten_output_0"
    fcs = FCS[name]
    for i, layer in enumerate(fcs):
        last = i == len(fcs) - 1
        out = "output" if last else f"/{layer}/Gemm_output_0"
        nodes.append(helper.make_node("Gemm", [cur, layer + ".weight", layer + ".bias"], [out],
                                      name=f"/{layer}/Gemm", alpha=1.0, beta=1.0, transB=1))
        cur = out
        if not last:
            nodes.append(helper.make_node("Relu", [out], [f"/{layer}/Relu_output_0"],
                                          name=f"/{layer}/Relu"))
            cur = f"/{layer}/Relu_output_0"
    return onnx_model(nodes, name, ["N"] + input_shape, ["N", 10], inits)


# ---------------------------------------------------------------------------------------------------
# one fixture end to end


def fixture(name, x_train, y_train, x_test, y_test, epochs, n_test, n_calib, data_note):
    check_gradients(name, x_train, y_train)
    t0 = time.time()
    p = train(name, x_train, y_train, epochs, seed=0)
    seconds = time.time() - t0

    model = to_onnx(name, p, list(x_train.shape[1:]))
    data_bytes = model.SerializeToString()
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(data_bytes)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(data_bytes, opts, providers=["CPUExecutionProvider"])
    logits = sess.run(["output"], {"input": x_test})[0]
    acc = float((logits.argmax(1) == y_test).mean())
    # The numpy float64 forward pass agrees with onnxruntime's float32 one on the whole test split.
    ref, _ = forward(name, p, x_test)
    diff = float(np.abs(ref - logits).max())
    assert diff < 1e-3, (name, diff)
    # Each sample alone (batch 1, as a prover sees it) gives the batch's logits.
    one = np.concatenate([sess.run(["output"], {"input": s[None]})[0] for s in x_test[:n_test]])
    assert np.allclose(one, logits[:n_test], atol=1e-5), name

    write_json(name + ".test.json", {"input_data": [floats(s) for s in x_test[:n_test]]})
    write_json(name + ".calib.json", {"input_data": [floats(s) for s in x_train[:n_calib]]})
    write_json(name + ".expected.json", {
        "model": name + ".onnx",
        "kind": "logits",
        "note": f"onnxruntime {ort.__version__} float logits and their argmax for the {n_test} samples "
                f"of {name}.test.json (the first {n_test} of the 540 digits test samples, {data_note}); "
                f"true_labels are the digits; accuracy on all 540: {acc:.4f}",
        "labels": [int(v) for v in logits[:n_test].argmax(1)],
        "outputs": [floats(o) for o in logits[:n_test]],
        "true_labels": [int(v) for v in y_test[:n_test]],
    })
    sizes = ", ".join(f"{ext} {os.path.getsize(os.path.join(OUT, name + ext))}"
                      for ext in (".onnx", ".test.json", ".calib.json", ".expected.json"))
    print(f"{name}: test accuracy {acc:.4f} (onnxruntime, 540 samples), trained {epochs} epochs in "
          f"{seconds:.1f} s, numpy-vs-onnxruntime max |diff| {diff:.2e}; bytes: {sizes}")
    return acc


def main():
    os.makedirs(OUT, exist_ok=True)
    x_train, x_test, y_train, y_test = data()

    acc = fixture("lenet5_digits28", gray28(x_train), y_train, gray28(x_test), y_test,
                  epochs=30, n_test=LENET_TEST, n_calib=LENET_CALIB,
                  data_note="bilinear-upsampled to [1, 1, 28, 28] on the 1/16 grid")
    assert acc >= 0.95, acc
    acc = fixture("rgb_cnn32", rgb32(x_train, 1), y_train, rgb32(x_test, 2), y_test,
                  epochs=15, n_test=RGB_TEST, n_calib=RGB_CALIB,
                  data_note="bilinear-upsampled to 32x32 and coloured to [1, 3, 32, 32] "
                            "on the 1/16 grid")
    assert acc >= 0.90, acc


if __name__ == "__main__":
    main()
