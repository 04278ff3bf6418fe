#!/usr/bin/env python3
"""Regenerate the residual LeNet fixture on 28x28 digits (deterministic, no downloads, no training).

Usage: python3 scripts/make_resnet28_fixture.py   (from the repository root; after make_lenet_fixtures.py)

Writes
  resnet_digits28.onnx  lenet5_digits28.onnx with a ResNet basic block after its first pool:
                        Conv(1->6, 5x5, pads 2) -> Relu -> MaxPool 2x2/2 -> [skip s] -> Conv(6->6, 3x3,
                        pads 1) -> Relu -> Conv(6->6, 3x3, pads 1) -> Add(s) -> Relu -> Conv(6->16, 5x5)
                        -> Relu -> MaxPool 2x2/2 -> Flatten -> Gemm(400->120) -> Relu -> Gemm(120->84)
                        -> Relu -> Gemm(84->10). The block's convolutions are seeded random and small
                        (a freshly initialised block near the identity); every other weight is
                        LeNet-5's trained one, so the model stays accurate without training.
  resnet_digits28.test.json    the first TEST samples of lenet5_digits28.test.json.
  resnet_digits28.calib.json   the first CALIB samples of lenet5_digits28.calib.json.
  resnet_digits28.expected.json  onnxruntime's float logits and labels on the test samples, with the
                        true labels; the script prints the accuracy on all stored LeNet test samples.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import OUT, floats, onnx_model, write_json  # noqa: E402

NAME = "resnet_digits28"
TEST = 64
CALIB = 32
SCALE = 0.08


def load(name):
    with open(os.path.join(OUT, name)) as f:
        return json.load(f)


def main():
    lenet = onnx.load(os.path.join(OUT, "lenet5_digits28.onnx"))
    rng = np.random.default_rng(28)
    inits = list(lenet.graph.initializer)
    for i in (1, 2):
        w = (rng.standard_normal((6, 6, 3, 3)) * SCALE).astype(np.float32)
        b = (rng.standard_normal(6) * SCALE / 4).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"res{i}.weight"),
                  numpy_helper.from_array(b, f"res{i}.bias")]
    source = "/pool1/MaxPool_output_0"
    block = [
        helper.make_node("Conv", [source, "res1.weight", "res1.bias"], ["/res1/Conv_output_0"],
                         name="/res1/Conv", kernel_shape=[3, 3], pads=[1] * 4, strides=[1, 1]),
        helper.make_node("Relu", ["/res1/Conv_output_0"], ["/res1/Relu_output_0"], name="/res1/Relu"),
        helper.make_node("Conv", ["/res1/Relu_output_0", "res2.weight", "res2.bias"],
                         ["/res2/Conv_output_0"], name="/res2/Conv", kernel_shape=[3, 3],
                         pads=[1] * 4, strides=[1, 1]),
        helper.make_node("Add", ["/res2/Conv_output_0", source], ["/res/Add_output_0"], name="/res/Add"),
        helper.make_node("Relu", ["/res/Add_output_0"], ["/res/Relu_output_0"], name="/res/Relu"),
    ]
    nodes = []
    for node in lenet.graph.node:
        node = onnx.NodeProto.FromString(node.SerializeToString())
        if node.name == "/conv2/Conv":
            node.input[0] = "/res/Relu_output_0"
        nodes.append(node)
        if node.output[0] == source:
            nodes += block
    model = onnx_model(nodes, NAME, ["N", 1, 28, 28], ["N", 10], inits)
    data = model.SerializeToString()
    with open(os.path.join(OUT, NAME + ".onnx"), "wb") as f:
        f.write(data)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    xs = np.asarray(load("lenet5_digits28.test.json")["input_data"], dtype=np.float32)
    truth = np.asarray(load("lenet5_digits28.expected.json")["true_labels"])
    logits = sess.run(["output"], {"input": xs.reshape(-1, 1, 28, 28)})[0]
    acc = float((logits.argmax(1) == truth).mean())
    calib = load("lenet5_digits28.calib.json")["input_data"][:CALIB]
    write_json(NAME + ".test.json", {"input_data": [floats(x) for x in xs[:TEST]]})
    write_json(NAME + ".calib.json", {"input_data": [floats(x) for x in calib]})
    write_json(NAME + ".expected.json", {
        "model": NAME + ".onnx",
        "kind": "logits",
        "note": f"onnxruntime {ort.__version__} float logits and their argmax for the {TEST} samples of "
                f"{NAME}.test.json (the first of lenet5_digits28.test.json); true_labels are the "
                f"digits; accuracy on all {len(xs)} stored LeNet test samples: {acc:.4f}",
        "labels": [int(v) for v in logits[:TEST].argmax(1)],
        "outputs": [floats(o) for o in logits[:TEST]],
        "true_labels": [int(v) for v in truth[:TEST]],
    })
    print(f"{NAME}: accuracy {acc:.4f} on {len(xs)} stored test samples")


if __name__ == "__main__":
    main()
