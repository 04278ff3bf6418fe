"""Shared fixtures: the repository's digits data and the 64-128-64-10 MLP, compiled once."""

import json
import os
import pathlib
import shutil

import numpy as np
import pytest

import glassbox

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures"


def _samples(name):
    return np.array(json.loads((FIXTURES / name).read_text())["input_data"], dtype=np.float32)


@pytest.fixture(scope="session")
def digits():
    """The digits test samples (540 × 64, float32)."""
    return _samples("digits_test.json")


@pytest.fixture(scope="session")
def calib():
    """The 100 calibration samples."""
    return _samples("digits_calib.json")


@pytest.fixture(scope="session")
def mlp_path():
    return FIXTURES / "mlp_64_128_64_10.onnx"


@pytest.fixture(scope="session")
def model(mlp_path, calib):
    return glassbox.compile(mlp_path, calibrate=calib)


@pytest.fixture(scope="session")
def cli():
    """The `glassbox` binary (GLASSBOX_CLI, target/release, or the PATH), for interop tests."""
    for cand in (os.environ.get("GLASSBOX_CLI"), ROOT / "target/release/glassbox",
                 shutil.which("glassbox")):
        if cand and pathlib.Path(cand).is_file():
            return str(cand)
    pytest.fail("no glassbox binary: cargo build --release -p glassbox-cli (make python-test does)")
