"""Proving a batch as shards on a Ray cluster: ``glassbox.ray.prove(model, X, shard_size=...)``.

The batch is split as ``glassbox prove --shard I/N`` splits it (contiguous ranges of whole
proofs, every proof binding the whole batch's bundle id), each shard is a Ray task on whatever
cluster ``ray.init()`` joins, and the driver assembles the shards' proofs into one ``Bundle``,
in order, taking exactly one result per shard. Ray retries a task whose worker died
(``max_retries``); a retried shard proves the same chunks again and only its one result is
used, so nothing is lost and no chunk appears twice. Ray is optional: importing this module
works without it, calling ``prove`` says how to install it.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Union

import numpy as np

from glassbox._native import Bundle, Model, Proof
from glassbox import _progress


def _ray():
    try:
        import ray
    except ImportError:
        raise ImportError(
            "ray is not installed: pip install ray (or pip install 'glassbox[ray]')"
        ) from None
    return ray


def _prove_shard(model: Model, x: np.ndarray, index: int, count: int, security: int,
                 per_proof: int, on_start: Optional[Callable[[int], None]]) -> list:
    if on_start is not None:
        on_start(index)
    return model.prove_shard(x, index, count, security=security, per_proof=per_proof)


def prove(
    model: Model,
    X: Any,
    shard_size: Optional[int] = None,
    *,
    security: int = 100,
    per_proof: Optional[int] = None,
    max_retries: int = 3,
    num_cpus: float = 1,
    progress: Optional[bool] = None,
    _on_task_start: Optional[Callable[[int], None]] = None,
) -> Union[Proof, Bundle]:
    """Proves ``model`` on the batch ``X`` as Ray tasks of about ``shard_size`` samples each.

    ``shard_size`` is rounded up to whole proofs of ``per_proof`` samples (default: what one
    proof holds); the default gives one proof per task. Returns what ``model.prove`` returns
    for the same batch and ``per_proof``: a ``Proof`` or a ``Bundle`` with the same bundle id.
    ``_on_task_start(shard_index)`` runs in the worker before it proves (for fault-injection
    tests). Starts a local Ray if none is initialized.
    """
    ray = _ray()
    if not ray.is_initialized():
        ray.init()
    x = np.asarray(X)
    x = x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
    per = min(per_proof or model.max_batch, model.max_batch)
    if per < 1:
        raise ValueError("per_proof must be at least 1")
    chunks = math.ceil(x.shape[0] / per)
    per_shard = max(1, math.ceil((shard_size or per) / per))
    count = max(1, math.ceil(chunks / per_shard))
    task = ray.remote(max_retries=max_retries, num_cpus=num_cpus)(_prove_shard)
    model_ref, x_ref = ray.put(model), ray.put(x)
    refs = [
        task.remote(model_ref, x_ref, i, count, security, per, _on_task_start)
        for i in range(count)
    ]
    bar = _progress.start(count, f"proving {x.shape[0]} samples on Ray", progress)
    try:
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            ray.get(done)  # raises the task's error now
            if bar is not None:
                bar.update(len(done))
    finally:
        if bar is not None:
            bar.close()
    proofs = [p for shard in ray.get(refs) for p in shard]
    if len(proofs) == 1:
        return proofs[0]
    return Bundle(proofs)
