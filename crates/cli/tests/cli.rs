//! End-to-end tests of the `glassbox` binary's commands on the small 64-32-10 fixture and the
//! wine forest.

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

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
fn nested_inputs_as_numpy_tolist_writes_them_are_accepted() {
    // the same three digits as 1×8×8 images (`X.reshape(-1, 1, 8, 8).tolist()`)
    let (dir, _) = compiled();
    let flat: Value = serde_json::from_str(&digits_inputs(3)).expect("json");
    let images: Vec<Value> = flat["input_data"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| {
            let px = s.as_array().expect("pixels");
            serde_json::json!([px.chunks(8).map(|r| r.to_vec()).collect::<Vec<_>>()])
        })
        .collect();
    std::fs::write(
        dir.path().join("nested.json"),
        serde_json::json!({ "input_data": images }).to_string(),
    )
    .expect("write");
    let run = |input: &str| {
        json_of(
            glassbox()
                .current_dir(dir.path())
                .args(["run", "m.gbm", "--input", input, "--json"]),
        )
    };
    assert_eq!(run("nested.json"), run("in.json"));
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
    // inspect says what compile would do: a tree ensemble, LeNet-5 (also with a residual block)
    // and an RGB CNN are provable,
    // a chain with a batch norm after a residual add is not, with compile's reason
    for (name, provable) in [
        ("forest_wine.onnx", true),
        ("lenet5_digits28.onnx", true),
        ("rgb_cnn32.onnx", true),
        ("resnet_digits28.onnx", true),
        ("cnn_ops.onnx", false),
    ] {
        let v = json_of(glassbox().args(["inspect", "--json"]).arg(fixture(name)));
        assert_eq!(v["provable"], provable, "{name}");
        assert_eq!(v["error"].is_null(), provable, "{name}");
    }
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
