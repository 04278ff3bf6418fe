//! End-to-end tests of what an auditor checks with `glassbox verify`: bundle manifests as
//! statements, single chunks, per-sample input hashes, `--inputs`, and the attack files.

mod common;

use std::path::Path;

use common::*;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

/// Samples `0..n` of the digits test set with sample `changed`'s feature 10 set to -0.5 (an
/// encoding no original value has: they are all in 0..=1).
fn digits_inputs_changed(n: usize, changed: Option<usize>) -> String {
    let mut v: Value = serde_json::from_str(&digits_inputs(n)).expect("json");
    if let Some(s) = changed {
        v["input_data"][s][10] = serde_json::json!(-0.5);
    }
    v.to_string()
}

/// The 64-32-10 model compiled, five samples proven as a bundle of three (`b.gbp`, `b.1.gbp`,
/// `b.2.gbp`, `b.bundle.json`) and the same chunking of other inputs (`o.*`).
fn bundled() -> (TempDir, String) {
    let (dir, digest) = compiled();
    std::fs::write(dir.path().join("five.json"), digits_inputs(5)).expect("write");
    std::fs::write(
        dir.path().join("other.json"),
        digits_inputs_changed(5, Some(3)),
    )
    .expect("write");
    for (input, out) in [("five.json", "b.gbp"), ("other.json", "o.gbp")] {
        glassbox()
            .current_dir(dir.path())
            .args(["prove", "m.gbm", "--input", input, "-o", out])
            .args(["--max-per-proof", "2"])
            .assert()
            .success();
    }
    (dir, digest)
}

/// Writes a manifest listing `files` (with `samples` each) and verifies it: (exit code, stdout).
fn verify_manifest(
    dir: &TempDir,
    digest: &str,
    edit: impl Fn(&mut Value),
    extra: &[&str],
) -> (i32, String) {
    let mut m: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("b.bundle.json")).expect("manifest"),
    )
    .expect("json");
    edit(&mut m);
    std::fs::write(dir.path().join("t.bundle.json"), m.to_string()).expect("write");
    let out = glassbox()
        .current_dir(dir.path())
        .args(["verify", "t.bundle.json", "--digest", digest])
        .args(extra)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// An edit of a manifest's JSON.
type ManifestEdit = Box<dyn Fn(&mut Value)>;

fn entry(file: &str, samples: u64) -> Value {
    serde_json::json!({ "file": file, "samples": samples })
}

#[test]
fn bundle_manifests_are_statements() {
    let (dir, digest) = bundled();
    // the honest manifest, unchanged
    let (code, out) = verify_manifest(&dir, &digest, |_| {}, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("bundle VALID: 3 proofs, 5 samples"), "{out}");
    assert!(out.contains("chunk 1 of 3 of bundle"), "{out}");

    let cases: Vec<(&str, ManifestEdit)> = vec![
        (
            "reordered proofs",
            Box::new(|m| m["proofs"].as_array_mut().expect("list").swap(0, 1)),
        ),
        (
            "duplicated proof",
            Box::new(|m| {
                m["proofs"] =
                    serde_json::json!([entry("b.gbp", 2), entry("b.1.gbp", 2), entry("b.1.gbp", 2)])
            }),
        ),
        (
            "missing proof",
            Box::new(|m| {
                m["proofs"] = serde_json::json!([entry("b.gbp", 2), entry("b.2.gbp", 1)]);
                m["samples"] = serde_json::json!(3);
            }),
        ),
        (
            "foreign proof",
            Box::new(|m| m["proofs"][1]["file"] = serde_json::json!("o.1.gbp")),
        ),
        (
            "manifest digest mismatch",
            Box::new(|m| m["digest"] = serde_json::json!("ab".repeat(32))),
        ),
        (
            "manifest sample count mismatch: the manifest states 6",
            Box::new(|m| m["samples"] = serde_json::json!(6)),
        ),
        (
            "manifest sample count mismatch: b.2.gbp holds 1 samples; the manifest lists 2",
            Box::new(|m| m["proofs"][2]["samples"] = serde_json::json!(2)),
        ),
        (
            "manifest entry `../b.1.gbp` is not a file name beside the manifest",
            Box::new(|m| m["proofs"][1]["file"] = serde_json::json!("../b.1.gbp")),
        ),
        (
            "manifest security mismatch",
            Box::new(|m| m["security_bits"] = serde_json::json!(128)),
        ),
    ];
    for (reason, edit) in cases {
        let (code, out) = verify_manifest(&dir, &digest, edit, &[]);
        assert_eq!(code, 1, "{reason}: {out}");
        assert!(
            out.contains(&format!("bundle INVALID: {reason}")),
            "expected `{reason}`, got:\n{out}"
        );
    }
    // the JSON report names the reason too
    let (code, out) = verify_manifest(
        &dir,
        &digest,
        |m| m["proofs"].as_array_mut().expect("list").swap(1, 2),
        &["--json"],
    );
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["valid"], false);
    assert!(v["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("reordered proofs")));
    // a manifest missing a field is malformed: a usage error
    let (code, _) = verify_manifest(
        &dir,
        &digest,
        |m| {
            m.as_object_mut().expect("object").remove("security_bits");
        },
        &[],
    );
    assert_eq!(code, 2);
}

#[test]
fn one_chunk_is_reported_as_one_chunk_never_as_the_bundle() {
    let (dir, digest) = bundled();
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "b.1.gbp", "--digest", &digest])
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("VALID: chunk 1 of 3 of bundle")
                .and(predicate::str::contains("samples 2..4 of 5"))
                .and(predicate::str::contains("proves only its own samples"))
                .and(predicate::str::contains("sample   2: label")),
        );
    let v = json_of(
        glassbox()
            .current_dir(dir.path())
            .args(["verify", "b.1.gbp", "--json", "--digest", &digest]),
    );
    assert_eq!(v["whole_bundle"], false);
    assert_eq!(v["bundle"]["chunk"], 1);
    assert_eq!(v["bundle"]["chunks"], 3);
    assert_eq!(v["bundle"]["first_sample"], 2);
    assert_eq!(v["bundle"]["samples"], 5);
}

#[test]
fn verify_prints_each_samples_inputs_hash() {
    let (dir, digest) = proved();
    let v = json_of(
        glassbox()
            .current_dir(dir.path())
            .args(["verify", "p.gbp", "--json", "--digest", &digest]),
    );
    let hashes = v["inputs_hashes"].as_array().expect("hashes");
    assert_eq!(hashes.len(), 3);
    assert!(hashes
        .iter()
        .all(|h| h.as_str().is_some_and(|h| h.len() == 16)));
    assert_eq!(v["whole_bundle"], true);
    // samples 0 and 2 of the digits file differ, so do their hashes
    assert_ne!(hashes[0], hashes[2]);
    let first = hashes[0].as_str().expect("hex").to_string();
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "p.gbp", "--digest", &digest])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(format!(
            "sample   0: label 2  inputs {first}"
        )));
}

#[test]
fn verify_inputs_checks_the_auditors_inputs() {
    let (dir, digest) = bundled();
    std::fs::write(
        dir.path().join("changed.json"),
        digits_inputs_changed(5, Some(3)),
    )
    .expect("write");
    std::fs::write(dir.path().join("three.json"), digits_inputs(3)).expect("write");
    std::fs::write(
        dir.path().join("three_changed.json"),
        digits_inputs_changed(3, Some(1)),
    )
    .expect("write");
    glassbox()
        .current_dir(dir.path())
        .args(["prove", "m.gbm", "--input", "three.json", "-o", "p.gbp"])
        .assert()
        .success();
    let run = |target: &str, inputs: &str| {
        glassbox()
            .current_dir(dir.path())
            .args(["verify", target, "--digest", &digest, "--inputs", inputs])
            .assert()
    };
    // one proof
    run("p.gbp", "three.json")
        .code(0)
        .stdout(predicate::str::contains("inputs    match"));
    run("p.gbp", "three_changed.json")
        .code(1)
        .stdout(predicate::str::contains(
            "INVALID: inputs mismatch: sample 1, feature 10",
        ));
    run("p.gbp", "five.json")
        .code(1)
        .stdout(predicate::str::contains("inputs mismatch"));
    // a bundle: all samples, in order
    run("b.bundle.json", "five.json").code(0);
    run("b.bundle.json", "changed.json")
        .code(1)
        .stdout(predicate::str::contains(
            "bundle INVALID: inputs mismatch: sample 3, feature 10",
        ));
    run("b.bundle.json", "three.json")
        .code(1)
        .stdout(predicate::str::contains("inputs mismatch"));
    // one chunk against the whole bundle's inputs: its slice and the bundle id
    run("b.1.gbp", "five.json").code(0);
    run("b.1.gbp", "changed.json")
        .code(1)
        .stdout(predicate::str::contains("sample 3, feature 10"));
    run("b.gbp", "changed.json")
        .code(1)
        .stdout(predicate::str::contains("not the bundle of these"));
    // the other bundle's proofs are not these inputs'
    run("o.bundle.json", "five.json")
        .code(1)
        .stdout(predicate::str::contains("sample 3, feature 10"));
    run("o.bundle.json", "changed.json").code(0);
    // unreadable inputs are a usage error
    run("p.gbp", "missing.json").code(2);
}

/// Tree ensembles (threshold lists) and linear models (affine steps) commit their encoding in
/// the digest too: `--inputs` accepts the raw features the proof was made from and rejects one
/// changed feature, naming it.
#[test]
fn verify_inputs_checks_trees_and_linear_models_through_their_committed_encoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let digest = forest_proof(&dir, 2, false);
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("in.json")).expect("read"))
            .expect("json");
    let mut changed = raw.clone();
    // move feature 6 of sample 1 far past every threshold
    changed["input_data"][1][6] = serde_json::json!(1.0e6);
    std::fs::write(dir.path().join("changed.json"), changed.to_string()).expect("write");
    let run = |inputs: &str| {
        glassbox()
            .current_dir(dir.path())
            .args(["verify", "f.gbp", "--digest", &digest, "--inputs", inputs])
            .assert()
    };
    run("in.json")
        .code(0)
        .stdout(predicate::str::contains("input encoding thresholds"))
        .stdout(predicate::str::contains("inputs    match"));
    run("changed.json")
        .code(1)
        .stdout(predicate::str::contains("sample 1, feature 6"));

    // a linear model: affine steps per feature
    let lin = fixture("linear_diabetes.onnx");
    let calib = fixture("linear_diabetes.calib.json");
    let out = json_of(
        glassbox()
            .args(["compile", "--json", "--calibrate"])
            .arg(&calib)
            .arg("-o")
            .arg(dir.path().join("l.gbm"))
            .arg(&lin),
    );
    let digest = out["digest"].as_str().expect("digest").to_string();
    let test: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("linear_diabetes.test.json")).expect("fixture"),
    )
    .expect("json");
    let three =
        serde_json::json!({ "input_data": test["input_data"].as_array().expect("array")[..3] });
    std::fs::write(dir.path().join("l.json"), three.to_string()).expect("write");
    let mut moved = three.clone();
    moved["input_data"][2][4] =
        serde_json::json!(three["input_data"][2][4].as_f64().expect("number") + 0.05);
    std::fs::write(dir.path().join("l2.json"), moved.to_string()).expect("write");
    glassbox()
        .current_dir(dir.path())
        .args(["prove", "l.gbm", "--input", "l.json", "-o", "l.gbp"])
        .assert()
        .success();
    let run = |inputs: &str| {
        glassbox()
            .current_dir(dir.path())
            .args(["verify", "l.gbp", "--digest", &digest, "--inputs", inputs])
            .assert()
    };
    run("l.json").code(0).stdout(predicate::str::contains(
        "input encoding affine per feature (10 features)",
    ));
    run("l2.json")
        .code(1)
        .stdout(predicate::str::contains("sample 2, feature 4"));
}

/// Tree ensembles behind preprocessing commit it in their encoding: a scaler folded into raw
/// thresholds, a PCA as a projected encoding. `--inputs` re-encodes the auditor's raw features
/// through it, accepts the ones the proof was made from and rejects one changed raw feature.
#[test]
fn verify_inputs_checks_preprocessed_trees_through_their_committed_encoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, data, encoding) in [
        (
            "pipe_scaler_forest_wine",
            "forest_wine",
            "input encoding thresholds (78 cuts over 13 features)",
        ),
        (
            "pipe_scaler_pca_tree_bc",
            "tree_breast_cancer",
            "input encoding projected (30 raw features mapped to 8), thresholds (19 cuts)",
        ),
    ] {
        let out = json_of(
            glassbox()
                .args(["compile", "--json", "--calibrate"])
                .arg(fixture(&format!("{data}.calib.json")))
                .arg("-o")
                .arg(dir.path().join(format!("{name}.gbm")))
                .arg(fixture(&format!("{name}.onnx"))),
        );
        let digest = out["digest"].as_str().expect("digest").to_string();
        let test: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("{data}.test.json"))).expect("fixture"),
        )
        .expect("json");
        let four =
            serde_json::json!({ "input_data": test["input_data"].as_array().expect("array")[..4] });
        std::fs::write(dir.path().join("in.json"), four.to_string()).expect("write");
        let mut changed = four.clone();
        changed["input_data"][2][0] = serde_json::json!(-1.0e6);
        std::fs::write(dir.path().join("changed.json"), changed.to_string()).expect("write");
        glassbox()
            .current_dir(dir.path())
            .args([
                "prove",
                &format!("{name}.gbm"),
                "--input",
                "in.json",
                "-o",
                "p.gbp",
            ])
            .assert()
            .success();
        let run = |inputs: &str| {
            glassbox()
                .current_dir(dir.path())
                .args(["verify", "p.gbp", "--digest", &digest, "--inputs", inputs])
                .assert()
        };
        run("in.json")
            .code(0)
            .stdout(predicate::str::contains(encoding))
            .stdout(predicate::str::contains("inputs    match"));
        run("changed.json").code(1).stdout(predicate::str::contains(
            "inputs mismatch: sample 2, feature",
        ));
    }
}

/// The attack files of `crates/cli/tests/attacks/` (proofs for the embedded digits model made by
/// a deviating prover, and a spliced manifest): each is rejected with exit 1 and a named reason.
/// They are envelope version 3, so today they are rejected for their version; the adversarial
/// prover reproduces each attack under the current format.
#[test]
fn the_attack_files_are_rejected() {
    let attacks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/attacks");
    let digest = "923d8a27d8bcabb2cca83a6b2086843f74bc73456c92388b3b1bd8bbc2e2a71c";
    for (file, min) in [
        ("forged-102.gbp", "100"),
        ("forged-128.gbp", "128"),
        ("spliced.bundle.json", "100"),
    ] {
        let out = glassbox()
            .current_dir(&attacks)
            .args(["verify", file, "--digest", digest, "--min-security", min])
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{file}: {stdout}");
        assert!(
            stdout.contains("INVALID")
                && stdout.contains("proof format version 3 is not supported"),
            "{file}: {stdout}"
        );
    }
}

/// The int8 inputs of a version-3 proof of a dense model (the attack files' envelope): header,
/// descriptor, then the batch.
fn v3_inputs(bytes: &[u8]) -> (f64, Vec<Vec<i8>>) {
    let u32_at =
        |p: usize| u32::from_le_bytes(bytes[p..p + 4].try_into().expect("4 bytes")) as usize;
    assert_eq!(&bytes[..8], b"GBPROOF\0");
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 3);
    let scale = f64::from_bits(u64::from_le_bytes(
        bytes[15..23].try_into().expect("8 bytes"),
    ));
    let layers = bytes[31] as usize;
    let mut pos = 32;
    let mut n_in0 = 0;
    for l in 0..layers {
        let (n_in, n_out, groups) = (u32_at(pos), u32_at(pos + 4), u32_at(pos + 12));
        assert_ne!(groups, 0, "dense layers only");
        if l == 0 {
            n_in0 = n_in;
        }
        pos += 16 + 8 * n_out;
    }
    let batch = u32_at(pos);
    pos += 4;
    let inputs = (0..batch)
        .map(|s| {
            bytes[pos + s * n_in0..pos + (s + 1) * n_in0]
                .iter()
                .map(|&b| b as i8)
                .collect()
        })
        .collect();
    (scale, inputs)
}

#[test]
fn the_honest_attack_bundle_reproven_today_verifies() {
    let attacks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/attacks");
    let mut samples = Vec::new();
    let mut scale = 0.0;
    for file in ["honest.gbp", "honest.1.gbp"] {
        let (s, x) = v3_inputs(&std::fs::read(attacks.join(file)).expect("attack file"));
        scale = s;
        samples.extend(x);
    }
    assert_eq!(samples.len(), 16);
    // raw features whose encoding is exactly the proven int8 inputs
    let raw: Vec<Vec<f64>> = samples
        .iter()
        .map(|x| x.iter().map(|&q| f64::from(q) * scale).collect())
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("in.json"),
        serde_json::json!({ "input_data": raw }).to_string(),
    )
    .expect("write");
    let out = json_of(
        glassbox()
            .args(["compile", "--json", "--calibrate"])
            .arg(fixture("digits_calib.json"))
            .arg("-o")
            .arg(dir.path().join("d.gbm"))
            .arg(fixture("mlp_64_128_64_10.onnx")),
    );
    // the attack files were made for this model under descriptor version 3 (digest 923d8a27…);
    // version 4 commits the input encoding too, version 5 marks patch layers
    let digest = "fd2e6481b440c9474f1567718fc1b47aec34699a1aad5fa883e32fdd5e62a86e";
    assert_eq!(out["digest"], digest);
    glassbox()
        .current_dir(dir.path())
        .args(["prove", "d.gbm", "--input", "in.json", "-o", "honest.gbp"])
        .args(["--max-per-proof", "8"])
        .assert()
        .success();
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "honest.bundle.json", "--digest", digest])
        .args(["--inputs", "in.json"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "bundle VALID: 2 proofs, 16 samples",
        ));
    // the splice of the attack, under today's format: chunk 1 listed twice
    let spliced = serde_json::json!({
        "digest": digest, "samples": 16, "security_bits": 102,
        "proofs": [entry("honest.1.gbp", 8), entry("honest.1.gbp", 8)],
    });
    std::fs::write(dir.path().join("spliced.bundle.json"), spliced.to_string()).expect("write");
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "spliced.bundle.json", "--digest", digest])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("bundle INVALID: duplicated proof"));
}

/// The ezDPS-shaped pipeline (MinMaxScaler → PCA → RBF SVM): `compile --calibrate` reports the
/// smooth activation's fit, a batch proves, and `--inputs` checks the auditor's raw features
/// through the committed (folded) encoding.
#[test]
fn a_pipeline_reports_its_activation_and_checks_raw_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = glassbox()
        .args(["compile", "--calibrate"])
        .arg(fixture("tree_breast_cancer.calib.json"))
        .arg("-o")
        .arg(dir.path().join("p.gbm"))
        .arg(fixture("pipe_minmax_pca_svc_rbf_bc.onnx"))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("activation after layer 1: Mul → Exp through a 256-entry table"),
        "{stdout}"
    );
    let test: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("tree_breast_cancer.test.json")).expect("fixture"),
    )
    .expect("json");
    let five =
        serde_json::json!({ "input_data": test["input_data"].as_array().expect("array")[..5] });
    std::fs::write(dir.path().join("in.json"), five.to_string()).expect("write");
    let mut moved = five.clone();
    let v = moved["input_data"][4][3].as_f64().expect("number");
    moved["input_data"][4][3] = serde_json::json!(v * 1.5);
    std::fs::write(dir.path().join("moved.json"), moved.to_string()).expect("write");
    let proved = json_of(glassbox().current_dir(dir.path()).args([
        "prove", "p.gbm", "--input", "in.json", "-o", "p.gbp", "--json",
    ]));
    let digest = proved["digest"].as_str().expect("digest").to_string();
    let run = |inputs: &str| {
        glassbox()
            .current_dir(dir.path())
            .args(["verify", "p.gbp", "--digest", &digest, "--inputs", inputs])
            .assert()
    };
    run("in.json").code(0).stdout(predicate::str::contains(
        "input encoding affine per feature (30 features)",
    ));
    run("moved.json")
        .code(1)
        .stdout(predicate::str::contains("sample 4, feature 3"));
}

/// A `Normalizer` in front of a logistic regression is part of the committed encoding:
/// `verify --inputs` normalizes the auditor's raw features before coding them, accepts the right
/// ones and rejects a changed feature.
#[test]
fn a_normalized_pipeline_checks_raw_inputs_through_its_norm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = glassbox()
        .args(["compile", "--calibrate"])
        .arg(fixture("forest_wine.calib.json"))
        .arg("-o")
        .arg(dir.path().join("n.gbm"))
        .arg(fixture("pipe_normalizer_logreg_wine.onnx"))
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let test: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("forest_wine.test.json")).expect("fixture"),
    )
    .expect("json");
    let four =
        serde_json::json!({ "input_data": test["input_data"].as_array().expect("array")[..4] });
    std::fs::write(dir.path().join("in.json"), four.to_string()).expect("write");
    let mut moved = four.clone();
    let v = moved["input_data"][2][12].as_f64().expect("number");
    moved["input_data"][2][12] = serde_json::json!(v * 1.5);
    std::fs::write(dir.path().join("moved.json"), moved.to_string()).expect("write");
    let proved = json_of(glassbox().current_dir(dir.path()).args([
        "prove", "n.gbm", "--input", "in.json", "-o", "n.gbp", "--json",
    ]));
    let digest = proved["digest"].as_str().expect("digest").to_string();
    let run = |inputs: &str| {
        glassbox()
            .current_dir(dir.path())
            .args(["verify", "n.gbp", "--digest", &digest, "--inputs", inputs])
            .assert()
    };
    run("in.json").code(0).stdout(predicate::str::contains(
        "input encoding each sample over its L2 norm, then affine per feature (13 features)",
    ));
    run("moved.json")
        .code(1)
        .stdout(predicate::str::contains("sample 2, feature"));
}
