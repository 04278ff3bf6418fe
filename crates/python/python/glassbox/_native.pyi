"""Type stubs of the native module (``glassbox._native``), re-exported by ``glassbox``."""

from os import PathLike
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

_Path = Union[str, PathLike]
_Batch = npt.ArrayLike

class GlassboxError(Exception):
    """Base class of every glassbox error; ``reason`` holds the message."""
    reason: str

class ModelError(GlassboxError):
    """The model cannot be imported, compiled, loaded or laid out."""

class InputError(GlassboxError):
    """Inputs of the wrong shape or width, or values that do not encode."""

class ProvingError(GlassboxError):
    """Proving failed."""

class InvalidProof(GlassboxError):
    """The proof or bundle does not verify against the digest; ``reason`` says why."""

class InputMismatch(InvalidProof):
    """The proofs are valid, but their inputs are not the auditor's inputs."""

def compile(
    onnx: Union[bytes, _Path],
    calibrate: Optional[_Batch] = None,
    proof_batch: Optional[int] = None,
) -> Model:
    """Compiles an ONNX model (path or bytes) to int8, calibrated on ``calibrate``."""

def verify(
    proof: Union[Proof, Bundle, bytes, _Path],
    digest: str,
    inputs: Optional[_Batch] = None,
    min_security: int = 100,
) -> Claim:
    """Verifies a proof or bundle against ``digest``; raises ``InvalidProof`` if not valid."""

class Model:
    """A compiled model: the ``.gbm`` artifact, its digest and its proof layout."""
    @staticmethod
    def load(path: _Path) -> Model: ...
    @staticmethod
    def from_bytes(data: bytes) -> Model: ...
    def to_bytes(self) -> bytes: ...
    def save(self, path: _Path) -> None: ...
    @property
    def digest(self) -> str: ...
    @property
    def input_len(self) -> int: ...
    @property
    def output_len(self) -> int: ...
    @property
    def layers(self) -> List[Tuple[int, int]]: ...
    @property
    def max_batch(self) -> int: ...
    @property
    def proof_batch(self) -> Optional[int]: ...
    @property
    def trace(self) -> Dict[str, int]: ...
    @property
    def fidelity(self) -> Optional[Dict[str, Any]]:
        """Agreement on the calibration samples, and ``activations``: each smooth activation's
        activation table (``layer``, ``function``, ``segments``, ``range``, ``max_error``,
        ``mean_error``)."""
    def run(self, x: _Batch) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Integer inference: ``(outputs, labels)``."""
    def prove(
        self,
        x: _Batch,
        security: int = 100,
        per_proof: Optional[int] = None,
        progress: Optional[bool] = None,
    ) -> Union[Proof, Bundle]:
        """Proves the outputs on ``x``: one ``Proof``, or a ``Bundle`` past ``max_batch``."""
    def prove_shard(
        self,
        x: _Batch,
        index: int,
        count: int,
        security: int = 100,
        per_proof: Optional[int] = None,
    ) -> List[Proof]:
        """The proofs of shard ``index`` of ``count`` (``glassbox prove --shard``)."""

class Proof:
    """One proof (a ``.gbp`` file); unverified until ``verify``."""
    prove_seconds: float
    @staticmethod
    def from_bytes(data: bytes) -> Proof: ...
    @staticmethod
    def load(path: _Path) -> Proof: ...
    def to_bytes(self) -> bytes: ...
    def save(self, path: _Path) -> None: ...
    @property
    def samples(self) -> int: ...
    @property
    def chunk(self) -> int: ...
    @property
    def chunks(self) -> int: ...
    @property
    def bundle_id(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def security_bits(self) -> int: ...
    def __len__(self) -> int: ...

class Bundle:
    """Several proofs of one batch, chunk 0 first."""
    prove_seconds: float
    def __init__(self, proofs: List[Proof]) -> None: ...
    @staticmethod
    def load(path: _Path) -> Bundle: ...
    @property
    def proofs(self) -> List[Proof]: ...
    def to_bytes(self) -> List[bytes]: ...
    def manifest(self, path: Optional[_Path] = None) -> str: ...
    def save(self, path: _Path) -> str:
        """Writes the proofs and ``.bundle.json``; returns the manifest's path."""
    @property
    def samples(self) -> int: ...
    @property
    def digest(self) -> str: ...
    @property
    def bundle_id(self) -> str: ...
    def __len__(self) -> int: ...

class Claim:
    """What a valid proof or bundle establishes."""
    digest: str
    security_bits: int
    whole_bundle: bool
    inputs_checked: bool
    @property
    def outputs(self) -> npt.NDArray[np.float64]: ...
    @property
    def raw_outputs(self) -> npt.NDArray[np.int64]: ...
    @property
    def labels(self) -> npt.NDArray[np.int64]: ...
    @property
    def inputs(self) -> npt.NDArray[np.int8]: ...
    @property
    def samples(self) -> int: ...
    @property
    def proofs(self) -> int: ...
    @property
    def bundle_id(self) -> str: ...
    @property
    def first_sample(self) -> int: ...
    def __len__(self) -> int: ...
