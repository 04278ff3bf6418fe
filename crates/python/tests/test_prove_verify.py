"""Model.prove → Proof or Bundle, glassbox.verify → Claim or a typed exception, and the files
shared with the `glassbox` command."""

import json
import subprocess

import numpy as np
import pytest

import glassbox


def test_a_proof_verifies_from_the_object_bytes_and_file(model, digits, tmp_path):
    proof = model.prove(digits[:8])
    assert isinstance(proof, glassbox.Proof)
    assert (proof.samples, proof.chunk, proof.chunks) == (8, 0, 1)
    assert proof.digest == model.digest and proof.security_bits >= 100
    proof.save(tmp_path / "p.gbp")
    labels = model.run(digits[:8])[1]
    for source in (proof, proof.to_bytes(), tmp_path / "p.gbp", str(tmp_path / "p.gbp"),
                   glassbox.Proof.load(tmp_path / "p.gbp")):
        claim = glassbox.verify(source, model.digest)
        np.testing.assert_array_equal(claim.labels, labels)
        assert claim.whole_bundle and claim.samples == 8 and claim.security_bits >= 100
    np.testing.assert_allclose(claim.outputs, model.run(digits[:8])[0])
    assert claim.inputs.dtype == np.int8 and claim.inputs.shape == (8, 64)
    assert claim.raw_outputs.dtype == np.int64


def test_inputs_are_checked_when_given(model, digits):
    proof = model.prove(digits[:4])
    claim = glassbox.verify(proof, model.digest, inputs=digits[:4].reshape(-1, 1, 8, 8))
    assert claim.inputs_checked
    other = digits[:4].copy()
    other[2, 10] = -0.5
    with pytest.raises(glassbox.InputMismatch, match="sample 2, feature 10") as e:
        glassbox.verify(proof, model.digest, inputs=other)
    assert isinstance(e.value, glassbox.InvalidProof)
    with pytest.raises(glassbox.InputMismatch, match="holds 3 samples"):
        glassbox.verify(proof, model.digest, inputs=digits[:3])
    one = model.prove(digits[5])  # one sample, 1-D, on both sides
    assert glassbox.verify(one, model.digest, inputs=digits[5]).inputs_checked


def test_a_wrong_digest_or_bad_bytes_raise_invalid_proof(model, digits, tmp_path):
    proof = model.prove(digits[:2])
    other = "0" * 64
    with pytest.raises(glassbox.InvalidProof, match=f"not {other}") as e:
        glassbox.verify(proof, other)
    assert model.digest in e.value.reason
    data = bytearray(proof.to_bytes())
    for mutate in (lambda b: b[: len(b) // 2], lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:],
                   lambda b: b"garbage"):
        with pytest.raises(glassbox.InvalidProof):
            glassbox.verify(bytes(mutate(data)), model.digest)
    with pytest.raises(glassbox.InvalidProof, match="not a glassbox proof"):
        glassbox.Proof.from_bytes(b"garbage")
    with pytest.raises(ValueError, match="malformed digest"):
        glassbox.verify(proof, "xyz")
    with pytest.raises(ValueError, match="no preset reaches"):
        glassbox.verify(proof, model.digest, min_security=200)
    with pytest.raises(glassbox.InvalidProof):
        glassbox.verify(proof, model.digest, min_security=120)
    with pytest.raises(OSError):
        glassbox.verify(tmp_path / "missing.gbp", model.digest)
    with pytest.raises(ValueError, match="security must be 100 or 128"):
        model.prove(digits[:1], security=99)
    strong = model.prove(digits[:1], security=128)
    assert glassbox.verify(strong, model.digest, min_security=120).security_bits >= 128


def test_a_big_batch_is_a_bundle_in_the_cli_s_files(model, digits, tmp_path, cli):
    bundle = model.prove(digits[:150], per_proof=64)
    assert isinstance(bundle, glassbox.Bundle)
    assert (len(bundle), bundle.samples) == (3, 150)
    assert [p.chunk for p in bundle.proofs] == [0, 1, 2]
    chunk = glassbox.verify(bundle.proofs[1], model.digest)  # one chunk alone: only its samples
    assert not chunk.whole_bundle and (chunk.first_sample, chunk.samples) == (64, 64)
    claim = glassbox.verify(bundle, model.digest, inputs=digits[:150])
    np.testing.assert_array_equal(claim.labels, model.run(digits[:150])[1])
    manifest = bundle.save(tmp_path / "day.gbp")
    assert str(manifest).endswith("day.bundle.json")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["day.1.gbp", "day.2.gbp", "day.bundle.json", "day.gbp"]
    assert glassbox.verify(manifest, model.digest).samples == 150
    assert glassbox.Bundle.load(manifest).bundle_id == bundle.bundle_id
    # the CLI verifies what Python wrote
    out = subprocess.run([cli, "verify", str(manifest), "--digest", model.digest],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "bundle VALID: 3 proofs, 150 samples" in out.stdout
    # a spliced bundle is refused with the verifier's reason
    proofs = bundle.proofs
    with pytest.raises(glassbox.InvalidProof, match="order|chunk"):
        glassbox.verify(glassbox.Bundle([proofs[1], proofs[0], proofs[2]]), model.digest)
    with pytest.raises(glassbox.InvalidProof, match="missing"):
        glassbox.verify(glassbox.Bundle(proofs[:2]), model.digest)
    m = json.loads(manifest.read_text())
    m["samples"] = 151
    (tmp_path / "t.bundle.json").write_text(json.dumps(m))
    with pytest.raises(glassbox.InvalidProof, match="manifest sample count mismatch"):
        glassbox.verify(tmp_path / "t.bundle.json", model.digest)


def test_python_verifies_the_cli_s_shards_of_numpy_tolist_inputs(model, digits, tmp_path, cli):
    model.save(tmp_path / "m.gbm")
    # X.tolist() of an N×C×H×W batch, as the CLI reads it
    batch = digits[:40].reshape(-1, 1, 8, 8)
    (tmp_path / "in.json").write_text(json.dumps({"input_data": batch.tolist()}))
    for i in range(3):
        subprocess.run([cli, "prove", "m.gbm", "--input", "in.json", "-o", "s.gbp",
                        "--max-per-proof", "8", "--shard", f"{i}/3"],
                       cwd=tmp_path, check=True, capture_output=True)
    shards = [str(tmp_path / f"s.shard-{i}-of-3.json") for i in range(3)]
    subprocess.run([cli, "bundle", "merge", *shards], check=True, capture_output=True)
    claim = glassbox.verify(tmp_path / "s.bundle.json", model.digest, inputs=batch)
    assert (claim.samples, claim.proofs) == (40, 5)
    # the same chunks proven in Python: one bundle id, the same statements
    ours = [p for i in range(3) for p in model.prove_shard(batch, i, 3, per_proof=8)]
    assert glassbox.Bundle(ours).bundle_id == claim.bundle_id
    np.testing.assert_array_equal(glassbox.verify(glassbox.Bundle(ours), model.digest).labels,
                                  claim.labels)
