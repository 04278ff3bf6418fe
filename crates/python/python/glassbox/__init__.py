"""glassbox: STARK proofs that a committed quantized ML model produced given outputs.

Compile an ONNX model to int8 (``compile``), publish its ``digest``, prove inferences on numpy
batches (``Model.prove``), and let anyone holding only the digest check them (``verify``).
The files are the ``glassbox`` command's: ``.gbm`` models, ``.gbp`` proofs and
``.bundle.json`` manifests.

    import glassbox
    onnx = glassbox.from_sklearn(clf, X[:100])          # or a path, or from_torch(...)
    model = glassbox.compile(onnx, calibrate=X[:100])
    proof = model.prove(X[:8])                          # a Proof, or a Bundle past max_batch
    proof.save("day.gbp")
    claim = glassbox.verify("day.gbp", model.digest)    # raises InvalidProof if not valid
    print(claim.labels)

Errors are exceptions under ``GlassboxError``: ``ModelError`` (bad ONNX, bad ``.gbm``),
``InputError`` (wrong width, non-numbers), ``ProvingError``, ``InvalidProof`` (with the
verifier's ``reason``) and its subclass ``InputMismatch``. Proving releases the GIL and stops
between proofs on Ctrl-C (``KeyboardInterrupt``); nothing is written until ``save``.
"""

from glassbox._native import (
    Bundle,
    Claim,
    GlassboxError,
    InputError,
    InputMismatch,
    InvalidProof,
    Model,
    ModelError,
    Proof,
    ProvingError,
    __version__,
    compile,
    verify,
)
from glassbox._export import from_sklearn, from_torch

load = Model.load

__all__ = [
    "Bundle",
    "Claim",
    "GlassboxError",
    "InputError",
    "InputMismatch",
    "InvalidProof",
    "Model",
    "ModelError",
    "Proof",
    "ProvingError",
    "__version__",
    "compile",
    "from_sklearn",
    "from_torch",
    "load",
    "verify",
]
