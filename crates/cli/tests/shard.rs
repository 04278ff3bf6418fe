//! End-to-end tests of batches proven as shards (`glassbox prove --shard I/N`) and merged
//! (`glassbox bundle merge`): the merged manifest verifies like a single machine's bundle, and a
//! missing, doubled, foreign or mis-counted shard is refused with a message naming it.

mod common;

use std::path::Path;

use common::*;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

/// Proves shard `i/n` of `input` (4 samples per proof) into `out` in `dir`.
fn prove_shard(dir: &Path, model: &str, input: &str, out: &str, i: usize, n: usize) {
    glassbox()
        .current_dir(dir)
        .args(["prove", model, "--input", input, "-o", out])
        .args(["--max-per-proof", "4", "--shard", &format!("{i}/{n}")])
        .assert()
        .success();
}

/// The 64-32-10 model compiled (`m.gbm`) and 18 samples (`b.json`, five chunks: 4+4+4+4+2)
/// proven as 3 shards into `s.gbp` (chunks 0..1, 1..3, 3..5).
fn sharded() -> (TempDir, String) {
    let (dir, digest) = compiled();
    std::fs::write(dir.path().join("b.json"), digits_inputs(18)).expect("write");
    for i in 0..3 {
        prove_shard(dir.path(), "m.gbm", "b.json", "s.gbp", i, 3);
    }
    (dir, digest)
}

fn merge(dir: &Path, shards: &[&str]) -> assert_cmd::assert::Assert {
    glassbox()
        .current_dir(dir)
        .args(["bundle", "merge"])
        .args(shards)
        .args(["-o", "s.bundle.json"])
        .assert()
}

const SHARDS: [&str; 3] = [
    "s.shard-2-of-3.json",
    "s.shard-0-of-3.json",
    "s.shard-1-of-3.json",
];

#[test]
fn merged_shards_verify_like_one_machines_bundle() {
    let (dir, digest) = sharded();
    merge(dir.path(), &SHARDS)
        .success()
        .stdout(predicate::str::contains(
            "merged 3 shards: 5 proofs, 18 samples",
        ));
    let merged = json_of(glassbox().current_dir(dir.path()).args([
        "verify",
        "--json",
        "s.bundle.json",
        "--digest",
        &digest,
    ]));
    assert_eq!(merged["valid"], true);
    assert_eq!(merged["samples"], 18);
    // one machine, same chunking: the same proofs' statements, the same labels
    glassbox()
        .current_dir(dir.path())
        .args(["prove", "m.gbm", "--input", "b.json", "-o", "one.gbp"])
        .args(["--max-per-proof", "4"])
        .assert()
        .success();
    let one = json_of(glassbox().current_dir(dir.path()).args([
        "verify",
        "--json",
        "one.bundle.json",
        "--digest",
        &digest,
    ]));
    assert_eq!(one["bundle_id"], merged["bundle_id"]);
    let labels = |v: &Value| -> Vec<Value> {
        v["proofs"]
            .as_array()
            .expect("proofs")
            .iter()
            .map(|p| p["labels"].clone())
            .collect()
    };
    assert_eq!(labels(&one), labels(&merged));
    // shards in other directories are gathered beside the output
    let far = dir.path().join("far");
    std::fs::create_dir(&far).expect("mkdir");
    std::fs::copy(dir.path().join("m.gbm"), far.join("m.gbm")).expect("copy");
    std::fs::copy(dir.path().join("b.json"), far.join("b.json")).expect("copy");
    prove_shard(&far, "m.gbm", "b.json", "s.gbp", 1, 3);
    std::fs::remove_file(dir.path().join("s.1.gbp")).expect("rm");
    std::fs::remove_file(dir.path().join("s.2.gbp")).expect("rm");
    merge(
        dir.path(),
        &[
            "s.shard-0-of-3.json",
            "far/s.shard-1-of-3.json",
            "s.shard-2-of-3.json",
        ],
    )
    .success();
    assert!(dir.path().join("s.2.gbp").exists(), "copied from far/");
    glassbox()
        .current_dir(dir.path())
        .args(["verify", "s.bundle.json", "--digest", &digest])
        .assert()
        .success();
}

#[test]
fn a_missing_doubled_or_foreign_shard_is_refused() {
    let (dir, _) = sharded();
    let refused = |shards: &[&str], why: &str| {
        let _ = std::fs::remove_file(dir.path().join("s.bundle.json"));
        merge(dir.path(), shards)
            .code(2)
            .stderr(predicate::str::contains(why));
        assert!(
            !dir.path().join("s.bundle.json").exists(),
            "nothing written: {why}"
        );
    };
    refused(&SHARDS[..2], "shard 1 of 3 is missing");
    refused(
        &[SHARDS[0], SHARDS[1], SHARDS[2], SHARDS[1]],
        "shard 0 of 3 is given twice",
    );
    // a shard of the same model over other inputs (the 18 samples shifted by one)
    let other: Value = serde_json::from_str(&digits_inputs(19)).expect("json");
    let shifted =
        serde_json::json!({"input_data": other["input_data"].as_array().expect("a")[1..]});
    std::fs::write(dir.path().join("o.json"), shifted.to_string()).expect("write");
    prove_shard(dir.path(), "m.gbm", "o.json", "o.gbp", 1, 3);
    refused(
        &[SHARDS[1], "o.shard-1-of-3.json", SHARDS[0]],
        "bundle id (the batch of inputs)",
    );
    // a shard of another model over the same inputs
    glassbox()
        .current_dir(dir.path())
        .args(["compile", "-o", "m2.gbm"])
        .arg(fixture("mlp_64_128_64_10.onnx"))
        .assert()
        .success();
    prove_shard(dir.path(), "m2.gbm", "b.json", "o.gbp", 1, 3);
    refused(
        &[SHARDS[1], "o.shard-1-of-3.json", SHARDS[0]],
        "model digest",
    );
    // another shard count
    prove_shard(dir.path(), "m.gbm", "b.json", "o.gbp", 1, 2);
    refused(
        &[SHARDS[1], "o.shard-1-of-2.json", SHARDS[0]],
        "shard count is 2, not 3",
    );
    // a shard that lists other chunks than its index proves
    let path = dir.path().join(SHARDS[0]);
    let mut m: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("r")).expect("j");
    m["proofs"].as_array_mut().expect("a").pop();
    std::fs::write(dir.path().join("t.shard-2-of-3.json"), m.to_string()).expect("write");
    refused(
        &[SHARDS[1], "t.shard-2-of-3.json", SHARDS[2]],
        "proves chunks 3..5",
    );
    refused(&["nope.json"], "cannot read shard manifest nope.json");
}

#[test]
fn shard_arguments_are_checked() {
    let (dir, _) = sharded();
    for (shard, why) in [
        ("3/3", "not below the shard count"),
        ("1/0", "at least 1"),
        ("x", "I/N"),
    ] {
        glassbox()
            .current_dir(dir.path())
            .args(["prove", "m.gbm", "--input", "b.json", "--shard", shard])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(why));
    }
    // more shards than chunks: the extra shards prove nothing and still merge
    std::fs::write(dir.path().join("two.json"), digits_inputs(2)).expect("write");
    for i in 0..3 {
        prove_shard(dir.path(), "m.gbm", "two.json", "t.gbp", i, 3);
    }
    glassbox()
        .current_dir(dir.path())
        .args([
            "bundle",
            "merge",
            "t.shard-0-of-3.json",
            "t.shard-1-of-3.json",
        ])
        .arg("t.shard-2-of-3.json")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "1 proofs, 2 samples → t.bundle.json",
        ));
}
