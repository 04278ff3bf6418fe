"""compile, Model (run, save/load, shapes) and input conversion, errors as exceptions."""

import json
import pickle
import subprocess

import numpy as np
import pytest

import glassbox
from conftest import FIXTURES


def test_compile_reports_digest_shapes_capacity_and_fidelity(model, mlp_path, calib):
    assert len(model.digest) == 64
    assert model.layers == [(64, 128), (128, 64), (64, 10)]
    assert (model.input_len, model.output_len) == (64, 10)
    assert model.max_batch >= 64
    assert model.trace["rows"] > 0 and model.trace["main_columns"] > 0
    f = model.fidelity
    assert f["samples"] == len(calib) and 0.9 <= f["argmax_agreement"] <= 1.0
    # bytes and a path compile to the same model; another trace size is another digest
    same = glassbox.compile(mlp_path.read_bytes(), calibrate=calib)
    assert same.digest == model.digest
    wider = glassbox.compile(str(mlp_path), calibrate=calib, proof_batch=200)
    assert wider.digest != model.digest and wider.max_batch >= 200
    assert glassbox.compile(mlp_path).fidelity is None
    assert f["activations"] == []


def test_smooth_activations_report_their_fit(calib, digits):
    tanh = glassbox.compile(FIXTURES / "mlp_tanh_digits.onnx", calibrate=calib)
    [act] = tanh.fidelity["activations"]
    assert act["function"] == "Tanh" and act["segments"] == 256
    assert 0 < act["max_error"] < 0.05 and act["mean_error"] <= act["max_error"]
    claim = glassbox.verify(tanh.prove(digits[:8]), tanh.digest)
    assert list(claim.labels) == list(tanh.run(digits[:8])[1])


def test_save_load_and_pickle_keep_the_model(model, tmp_path, digits):
    path = tmp_path / "m.gbm"
    model.save(path)
    loaded = glassbox.load(path)
    assert loaded.digest == model.digest
    assert loaded.to_bytes() == model.to_bytes()
    assert pickle.loads(pickle.dumps(model)).digest == model.digest
    np.testing.assert_array_equal(loaded.run(digits[:5])[1], model.run(digits[:5])[1])


def test_the_cli_compiles_the_same_gbm(model, mlp_path, tmp_path, cli):
    out = tmp_path / "cli.gbm"
    subprocess.run([cli, "compile", str(mlp_path), "--calibrate",
                    str(mlp_path.parent / "digits_calib.json"), "-o", str(out)],
                   check=True, capture_output=True)
    assert out.read_bytes() == model.to_bytes()


def test_run_gives_outputs_and_labels(model, digits):
    outputs, labels = model.run(digits[:16])
    assert outputs.shape == (16, 10) and outputs.dtype == np.float64
    assert labels.shape == (16,) and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, outputs.argmax(axis=1))
    truth = json.loads((FIXTURES / "digits_labels.json").read_text())["labels"][:16]
    assert (labels == np.array(truth)).mean() > 0.8


def test_inputs_any_float_dtype_image_shape_or_one_sample(model, digits):
    want = model.run(digits[:8])[1]
    images = digits[:8].reshape(-1, 1, 8, 8)  # N×C×H×W
    np.testing.assert_array_equal(model.run(images)[1], want)
    np.testing.assert_array_equal(model.run(digits[:8].astype(np.float64))[1], want)
    np.testing.assert_array_equal(model.run(digits[:8].tolist())[1], want)
    np.testing.assert_array_equal(model.run(np.asfortranarray(digits[:8]))[1], want)
    assert model.run(digits[3])[1].tolist() == [want[3]]


@pytest.mark.parametrize(
    "bad, why",
    [
        (np.zeros((3, 63), np.float32), "takes 64 values per sample; got 63"),
        (np.zeros(63, np.float32), "one sample of 64 values; got 63"),
        (np.zeros((0, 64), np.float32), "no samples"),
        (np.array(1.0), "not a scalar"),
        (np.array([["a"] * 64]), "must be numbers"),
        (np.full((1, 64), np.nan, np.float32), "sample 0"),
    ],
)
def test_bad_inputs_raise_input_error(model, bad, why):
    with pytest.raises(glassbox.InputError, match=why) as e:
        model.run(bad)
    assert why in e.value.reason
    with pytest.raises(glassbox.InputError):
        model.prove(bad)


def test_bad_models_raise_model_error(tmp_path):
    with pytest.raises(glassbox.ModelError, match="cannot compile"):
        glassbox.compile(b"not an onnx model")
    with pytest.raises(glassbox.ModelError, match="not a compiled glassbox model"):
        glassbox.Model.from_bytes(b"GBMODEL\0garbage")
    with pytest.raises(OSError):
        glassbox.compile(tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match="proof_batch"):
        glassbox.compile(b"x", proof_batch=0)


def test_the_exception_hierarchy():
    for e in (glassbox.ModelError, glassbox.InputError, glassbox.ProvingError,
              glassbox.InvalidProof):
        assert issubclass(e, glassbox.GlassboxError)
    assert issubclass(glassbox.InputMismatch, glassbox.InvalidProof)
    assert issubclass(glassbox.GlassboxError, Exception)
