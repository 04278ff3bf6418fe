"""from_sklearn and from_torch: export, compile, prove and verify; a missing package is named."""

import sys

import numpy as np
import pytest

import glassbox


def test_a_scikit_learn_mlp_end_to_end(digits, calib):
    from sklearn.neural_network import MLPClassifier

    labels = np.array(__import__("json").load(open(
        __import__("conftest").FIXTURES / "digits_labels.json"))["labels"])
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
    clf.fit(digits[:400], labels[:400])
    model = glassbox.compile(glassbox.from_sklearn(clf, calib), calibrate=calib)
    assert model.fidelity["argmax_agreement"] > 0.9
    test = digits[400:464]
    proof = model.prove(test)
    claim = glassbox.verify(proof, model.digest, inputs=test)
    assert (claim.labels == clf.predict(test)).mean() > 0.9


def test_a_scikit_learn_forest_end_to_end():
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_wine(return_X_y=True)
    clf = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    model = glassbox.compile(glassbox.from_sklearn(clf, X), calibrate=X)
    claim = glassbox.verify(model.prove(X[:30]), model.digest)
    np.testing.assert_array_equal(claim.labels, clf.predict(X[:30]))


def test_a_torch_cnn_end_to_end(digits, calib):
    torch = pytest.importorskip(
        "torch", reason="torch is not installed: from_torch's end-to-end test skipped "
        "(pip install torch to run it)")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(256, 10))
    images = calib.reshape(-1, 1, 8, 8)
    model = glassbox.compile(glassbox.from_torch(net, images[:4]), calibrate=images)
    with torch.no_grad():
        want = net(torch.as_tensor(digits[:16].reshape(-1, 1, 8, 8))).argmax(1).numpy()
    claim = glassbox.verify(model.prove(digits[:16].reshape(-1, 1, 8, 8)), model.digest)
    assert (claim.labels == want).mean() >= 0.75


@pytest.mark.parametrize("module, call", [
    ("skl2onnx", lambda: glassbox.from_sklearn(object(), np.zeros((1, 4)))),
    ("torch", lambda: glassbox.from_torch(object(), np.zeros((1, 4)))),
])
def test_a_missing_exporter_is_named(monkeypatch, module, call):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=f"{module} is not installed: pip install {module}"):
        call()
