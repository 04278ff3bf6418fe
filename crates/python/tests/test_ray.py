"""glassbox.ray.prove on a local Ray cluster (2 CPUs, no network, usage stats off), including a
worker killed mid-batch."""

import os
import signal
import sys

import numpy as np
import pytest

import glassbox
import glassbox.ray as gray


@pytest.fixture(scope="module")
def ray_cluster():
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False, namespace="glassbox-test")
    yield ray
    ray.shutdown()


def test_shards_on_ray_make_the_local_bundle(ray_cluster, model, digits):
    x = digits[:300]
    bundle = gray.prove(model, x, shard_size=128, per_proof=64)
    local = model.prove(x, per_proof=64)
    assert len(bundle) == len(local) == 5
    assert bundle.bundle_id == local.bundle_id
    claim = glassbox.verify(bundle, model.digest, inputs=x)
    np.testing.assert_array_equal(claim.labels, model.run(x)[1])
    one = gray.prove(model, x[:10])
    assert isinstance(one, glassbox.Proof) and one.chunks == 1


def kill_first_attempt_of_shard_1(marker_dir):
    def hook(index):
        path = os.path.join(marker_dir, f"shard-{index}")
        attempts = len([f for f in os.listdir(marker_dir) if f.startswith(f"shard-{index}.")])
        open(f"{path}.{attempts}", "w").close()
        if index == 1 and attempts == 0:
            os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-batch
    return hook


def test_a_killed_worker_loses_nothing_and_doubles_nothing(ray_cluster, model, digits, tmp_path):
    x = digits[:256]
    bundle = gray.prove(model, x, shard_size=64, per_proof=64,
                        _on_task_start=kill_first_attempt_of_shard_1(str(tmp_path)))
    attempts = sorted(os.listdir(tmp_path))
    assert "shard-1.0" in attempts and "shard-1.1" in attempts, attempts
    assert [p.chunk for p in bundle.proofs] == [0, 1, 2, 3]
    claim = glassbox.verify(bundle, model.digest, inputs=x)
    assert claim.samples == 256


def test_ray_missing_is_named(monkeypatch, model, digits):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match="ray is not installed: pip install ray"):
        gray.prove(model, digits[:2])
