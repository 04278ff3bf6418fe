"""The GIL is released while proving, Ctrl-C stops a bundle between proofs without files, and
progress shows when asked for."""

import os
import signal
import subprocess
import sys
import threading
import time

import glassbox


def test_the_gil_is_released_while_proving(model, digits):
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.perf_counter()
    model.prove(digits[:256], per_proof=64)
    seconds = time.perf_counter() - start
    done.set()
    t.join()
    # a call holding the GIL throughout would let the counter tick about once; released, it
    # ticks about once a millisecond (a tenth of that leaves room for a loaded machine)
    assert ticks > 0.1 * seconds / 0.001, (ticks, seconds)


CHILD = """
import json, sys, numpy as np, glassbox
root = sys.argv[1]
X = np.array(json.load(open(root + '/fixtures/digits_test.json'))['input_data'], np.float32)
m = glassbox.compile(root + '/fixtures/mlp_64_128_64_10.onnx')
X = np.tile(X, (4, 1))
print('proving', flush=True)
try:
    b = m.prove(X, per_proof=4)
except KeyboardInterrupt:
    print('interrupted', flush=True)
    sys.exit(130)
b.save(sys.argv[2] + '/b.gbp')
print('finished', flush=True)
"""


def test_ctrl_c_stops_between_proofs_and_writes_nothing(tmp_path):
    from conftest import ROOT

    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "proving"
    time.sleep(1.0)
    start = time.perf_counter()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 130 and "interrupted" in out, out
    assert time.perf_counter() - start < 5, "stops within a proof or two"
    assert os.listdir(tmp_path) == []


def test_progress_is_shown_when_asked(model, digits, capfd, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the fallback counter
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    model.prove(digits[:20], per_proof=8, progress=True)
    err = capfd.readouterr().err
    assert "proving 20 samples: 3/3 proofs" in err
    model.prove(digits[:20], per_proof=8)  # not a terminal: quiet
    assert capfd.readouterr().err == ""
