//! Helpers shared by the CLI's end-to-end tests: fixtures, the binary, and compiled or proven
//! models in temporary directories.
#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

pub fn glassbox() -> Command {
    Command::cargo_bin("glassbox").expect("binary built")
}

pub fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("stdout is JSON")
}

/// The first `n` digits test samples, repeated if `n` exceeds the fixture, as input JSON.
pub fn digits_inputs(n: usize) -> String {
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
pub fn compiled() -> (TempDir, String) {
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
pub fn proved() -> (TempDir, String) {
    let (dir, digest) = compiled();
    glassbox()
        .current_dir(dir.path())
        .args(["prove", "m.gbm", "--input", "in.json", "-o", "p.gbp"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&digest));
    (dir, digest)
}

/// Compiles the wine forest fixture into `f.gbm` in `dir` (with its calibration samples if
/// `calibrate`), proves its first `n` test samples (`in.json`) into `f.gbp`, and returns the
/// digest.
pub fn forest_proof(dir: &TempDir, n: usize, calibrate: bool) -> String {
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
