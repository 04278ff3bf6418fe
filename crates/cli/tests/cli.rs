//! End-to-end tests of the `glassbox` binary on the small 64-32-10 fixture.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn glassbox() -> Command {
    Command::cargo_bin("glassbox").expect("binary built")
}

fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("stdout is JSON")
}

/// The first `n` digits test samples, repeated if `n` exceeds the fixture, as input JSON.
fn digits_inputs(n: usize) -> String {
    let all: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("digits_test.json")).expect("fixture"),
    )
    .expect("json");
    let samples: Vec<Value> = all["input_data"]
        .as_array()
        .expect("array")
        .iter()
        .cycle()
        .take(n)
        .cloned()
        .collect();
    serde_json::json!({ "input_data": samples }).to_string()
}

/// A temp dir with three digits samples (`in.json`) and the model compiled to `m.gbm`;
/// returns the dir and the digest.
fn compiled() -> (TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("in.json"), digits_inputs(3)).expect("write");
    let out = json_of(
        glassbox()
            .args(["compile", "--json", "-o"])
            .arg(dir.path().join("m.gbm"))
            .arg(fixture("mlp_64_32_10.onnx")),
    );
    let digest = out["digest"].as_str().expect("digest").to_string();
    (dir, digest)
}

/// Proves `in.json` into `p.gbp`.
fn proved() -> (TempDir, String) {
    let (dir, digest) = compiled();
    glassbox()
        .current_dir(dir.path())
        .args(["prove", "m.gbm", "--input", "in.json", "-o", "p.gbp"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&digest));
    (dir, digest)
}

#[test]
fn compile_prints_digest_shape_and_fidelity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = json_of(
        glassbox()
            .args(["--json", "compile", "--calibrate"])
            .arg(fixture("digits_calib.json"))
            .arg("-o")
            .arg(dir.path().join("x.gbm"))
            .arg(fixture("mlp_64_32_10.onnx")),
    );
    assert_eq!(out["digest"].as_str().map(str::len), Some(64));
    assert!(out["trace_len"].as_u64().is_some_and(|n| n >= 256));
    assert!(out["max_batch"].as_u64().is_some_and(|n| n >= 1));
    assert!(out["fidelity"]["argmax_agreement"]
        .as_f64()
        .is_some_and(|a| a > 0.9));
    assert!(dir.path().join("x.gbm").is_file());
}

#[test]
fn run_prints_outputs_and_labels() {
    let (dir, _) = compiled();
    let out = json_of(
        glassbox()
            .current_dir(dir.path())
            .args(["run", "m.gbm", "--input", "in.json", "--json"]),
    );
    assert_eq!(out["labels"], serde_json::json!([2, 8, 2]));
    assert_eq!(out["outputs"].as_array().map(Vec::len), Some(3));
    glassbox()
        .current_dir(dir.path())
        .args(["run", "m.gbm", "--input", "in.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("label 8"));
}

#[test]
fn prove_verify_inspect_happy_path() {
    let (dir, digest) = proved();
    let out = json_of(
        glassbox()
            .current_dir(dir.path())
            .args(["verify", "p.gbp", "--json", "--digest", &digest]),
    );
    assert_eq!(out["valid"], Value::Bool(true));
    assert_eq!(out["labels"], serde_json::json!([2, 8, 2]));
    assert_eq!(out["security_bits"], 102);
    assert!(out["error"].is_null());
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "p.gbp", "--digest", &digest])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("VALID").and(predicate::str::contains("102 bits")));

    let proof = json_of(
        glassbox()
            .current_dir(dir.path())
            .args(["inspect", "p.gbp", "--json"]),
    );
    assert_eq!(proof["kind"], "proof");
    assert_eq!(proof["digest"].as_str(), Some(digest.as_str()));
    assert_eq!(proof["samples"], 3);
    let model = json_of(
        glassbox()
            .current_dir(dir.path())
            .args(["inspect", "m.gbm", "--json"]),
    );
    assert_eq!(model["kind"], "compiled_model");
    assert_eq!(model["digest"].as_str(), Some(digest.as_str()));
    glassbox()
        .arg("inspect")
        .arg(fixture("mlp_64_32_10.onnx"))
        .assert()
        .success()
        .stdout(predicate::str::contains("Gemm").and(predicate::str::contains("[32, 64]")));
}

#[test]
fn prove_splits_a_bundle() {
    let (dir, digest) = compiled();
    let out = json_of(glassbox().current_dir(dir.path()).args([
        "prove",
        "m.gbm",
        "--input",
        "in.json",
        "-o",
        "b.gbp",
        "--max-per-proof",
        "2",
        "--json",
    ]));
    assert_eq!(out["proofs"], serde_json::json!(["b.gbp", "b.1.gbp"]));
    assert_eq!(out["samples"], 3);
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("b.bundle.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(manifest["proofs"][1]["samples"], 1);
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "b.1.gbp", "--digest", &digest])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("label 2"));
    // the whole bundle, through its manifest
    let all = json_of(glassbox().current_dir(dir.path()).args([
        "verify",
        "b.bundle.json",
        "--digest",
        &digest,
        "--json",
    ]));
    assert_eq!(all["valid"], true);
    assert_eq!(all["samples"], 3);
    // one corrupted member makes the bundle invalid (exit 1), and says which
    let mut bytes = std::fs::read(dir.path().join("b.1.gbp")).expect("proof");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(dir.path().join("b.1.gbp"), bytes).expect("write");
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "b.bundle.json", "--digest", &digest])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("INVALID b.1.gbp"));
}

#[test]
fn proof_batch_sizes_the_trace_for_fewer_larger_proofs() {
    let (dir, default_digest) = compiled();
    let out = json_of(
        glassbox()
            .current_dir(dir.path())
            .args(["compile", "--json", "--proof-batch", "300", "-o", "big.gbm"])
            .arg(fixture("mlp_64_32_10.onnx")),
    );
    let max = out["max_batch"].as_u64().expect("max_batch");
    assert!(max >= 300, "one proof holds {max} samples");
    assert_eq!(out["proof_batch"], 300);
    let digest = out["digest"].as_str().expect("digest").to_string();
    // a longer trace is another statement, so another digest
    assert_ne!(digest, default_digest);
    // the choice travels in the artifact: prove and inspect see the same program
    let info = json_of(
        glassbox()
            .current_dir(dir.path())
            .args(["inspect", "big.gbm", "--json"]),
    );
    assert_eq!(info["digest"], digest.as_str());
    assert_eq!(info["max_batch"], max);
    // 300 samples in one proof, which verifies under the new digest
    std::fs::write(dir.path().join("many.json"), digits_inputs(300)).expect("write");
    let proved = json_of(glassbox().current_dir(dir.path()).args([
        "prove",
        "big.gbm",
        "--input",
        "many.json",
        "-o",
        "big.gbp",
        "--json",
    ]));
    assert_eq!(proved["proofs"], serde_json::json!(["big.gbp"]));
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "big.gbp", "--digest", &digest])
        .assert()
        .code(0);
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "big.gbp", "--digest", &default_digest])
        .assert()
        .code(1);
    // a batch no trace holds, and a zero batch, are clear errors
    glassbox()
        .current_dir(dir.path())
        .args(["compile", "--proof-batch", "1000000", "-o", "huge.gbm"])
        .arg(fixture("mlp_64_32_10.onnx"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds at most"));
    glassbox()
        .args(["compile", "--proof-batch", "0"])
        .arg(fixture("mlp_64_32_10.onnx"))
        .assert()
        .code(2);
    assert!(!dir.path().join("huge.gbm").exists());
}

#[test]
fn prove_checks_the_output_directory_before_proving() {
    let (dir, _) = compiled();
    // checked first: before the inputs are even read
    glassbox()
        .current_dir(dir.path())
        .args([
            "prove",
            "m.gbm",
            "--input",
            "missing.json",
            "-o",
            "nodir/p.gbp",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no directory nodir"));
    assert!(!dir.path().join("nodir").exists());
}

#[test]
fn prove_refuses_a_memory_budget_too_small_for_one_proof() {
    let (dir, _) = compiled();
    glassbox()
        .current_dir(dir.path())
        .args(["prove", "m.gbm", "--input", "in.json", "--max-memory", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("MiB"));
}

#[test]
fn verify_rejects_wrong_digest_and_corruption_with_exit_1() {
    let (dir, digest) = proved();
    let mut wrong = digest.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).expect("hex");
    let out = glassbox()
        .current_dir(dir.path())
        .args(["verify", "p.gbp", "--json", "--digest", &wrong])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out: Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(out["valid"], Value::Bool(false));
    assert!(out["error"].as_str().is_some_and(|e| e.contains("model")));

    let mut bytes = std::fs::read(dir.path().join("p.gbp")).expect("proof");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(dir.path().join("bad.gbp"), &bytes).expect("write");
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "bad.gbp", "--digest", &digest])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("INVALID"));

    std::fs::write(dir.path().join("short.gbp"), &bytes[..100]).expect("write");
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "short.gbp", "--digest", &digest])
        .assert()
        .code(1);
}

#[test]
fn verify_usage_and_io_errors_exit_2() {
    let digest = "ab".repeat(32);
    glassbox()
        .args(["verify", "/nonexistent/p.gbp", "--digest", &digest])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read proof"));
    let (dir, _) = proved();
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "p.gbp", "--digest", "xyz"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("malformed digest"));
    glassbox()
        .current_dir(dir.path())
        .args([
            "verify",
            "p.gbp",
            "--digest",
            &digest,
            "--min-security",
            "200",
        ])
        .assert()
        .code(2);
    glassbox().args(["verify", "p.gbp"]).assert().code(2);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let (dir, _) = compiled();
    std::fs::write(
        dir.path().join("short.json"),
        r#"{"input_data": [[0.1, 0.2, 0.3]]}"#,
    )
    .expect("write");
    glassbox()
        .current_dir(dir.path())
        .args(["run", "m.gbm", "--input", "short.json"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("expected 64, got 3"));
    std::fs::write(dir.path().join("nan.json"), r#"{"input_data": [["a"]]}"#).expect("write");
    glassbox()
        .current_dir(dir.path())
        .args(["prove", "m.gbm", "--input", "nan.json"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a number"));
    glassbox()
        .current_dir(dir.path())
        .args(["run", "m.gbm", "--input", "missing.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.json"));
    glassbox()
        .current_dir(dir.path())
        .args(["run", "in.json", "--input", "in.json"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a compiled glassbox model"));
}

#[test]
fn compile_of_garbage_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"this is not a protobuf \xff\xff\xff").expect("write");
    glassbox()
        .arg("compile")
        .arg(&junk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot compile"));
    assert!(!dir.path().join("junk.gbm").exists());
    glassbox()
        .arg("inspect")
        .arg(&junk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("neither"));
}

#[test]
fn demo_verifies() {
    glassbox()
        .args(["demo", "--samples", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("verified"));
}

#[test]
fn interrupted_prove_leaves_no_partial_proof_and_says_so() {
    let (dir, _) = compiled();
    // many samples, one per proof, so proving outlasts the interrupt
    std::fs::write(dir.path().join("many.json"), digits_inputs(200)).expect("write");
    let bin = assert_cmd::cargo::cargo_bin("glassbox");
    let child = std::process::Command::new(bin)
        .current_dir(dir.path())
        .args([
            "prove",
            "m.gbm",
            "--input",
            "many.json",
            "-o",
            "x.gbp",
            "--max-per-proof",
            "1",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("x.") || n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "partial output left behind: {left:?}");
}

/// Compiles the wine forest fixture into `f.gbm` in `dir` (with its calibration samples if
/// `calibrate`), proves its first `n` test samples (`in.json`) into `f.gbp`, and returns the
/// digest.
fn forest_proof(dir: &TempDir, n: usize, calibrate: bool) -> String {
    let mut compile = glassbox();
    compile.args(["compile", "--json"]);
    if calibrate {
        compile
            .arg("--calibrate")
            .arg(fixture("forest_wine.calib.json"));
    }
    compile
        .arg("-o")
        .arg(dir.path().join("f.gbm"))
        .arg(fixture("forest_wine.onnx"));
    let digest = json_of(&mut compile)["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let test: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("forest_wine.test.json")).expect("fixture"),
    )
    .expect("json");
    let first =
        serde_json::json!({ "input_data": test["input_data"].as_array().expect("array")[..n] });
    std::fs::write(dir.path().join("in.json"), first.to_string()).expect("write");
    glassbox()
        .current_dir(dir.path())
        .args(["prove", "f.gbm", "--input", "in.json", "-o", "f.gbp"])
        .assert()
        .success();
    digest
}

#[test]
fn a_scikit_learn_forest_compiles_proves_and_verifies_with_onnxruntime_labels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let digest = forest_proof(&dir, 5, true);
    let verdict = json_of(
        glassbox()
            .current_dir(dir.path())
            .args(["verify", "f.gbp", "--json", "--digest", &digest]),
    );
    assert_eq!(verdict["valid"], Value::Bool(true));
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("forest_wine.expected.json")).expect("fixture"),
    )
    .expect("json");
    let ort = &expected["labels"].as_array().expect("labels")[..5];
    assert_eq!(verdict["labels"].as_array().expect("labels"), ort);
}

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

#[test]
fn verify_inputs_refuses_models_whose_encoding_is_not_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let digest = forest_proof(&dir, 2, false);
    glassbox()
        .current_dir(dir.path())
        .args([
            "verify", "f.gbp", "--digest", &digest, "--inputs", "in.json",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the input encoding is not committed for this model kind",
        ));
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
    let digest = "923d8a27d8bcabb2cca83a6b2086843f74bc73456c92388b3b1bd8bbc2e2a71c";
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
