"""glassbox from Python: train, export, compile, prove and verify (README "Python").

    pip install ./crates/python scikit-learn skl2onnx onnx
    python examples/python_quickstart.py
"""

from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

import glassbox

X, y = load_digits(return_X_y=True)
X = X / 16.0                                               # features in 0..1
clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=500, random_state=0).fit(X[:1000], y[:1000])

model = glassbox.compile(glassbox.from_sklearn(clf, X[:100]), calibrate=X[:100])
print("digest", model.digest, "fidelity", model.fidelity)  # publish the digest
proof = model.prove(X[1000:1016])                          # 16 inferences, one proof
proof.save("quickstart.gbp")

claim = glassbox.verify("quickstart.gbp", model.digest)    # the verifier holds only the digest
print("verified labels", claim.labels, "sklearn", clf.predict(X[1000:1016]))
