//! Reading the committed fixtures, shared by the model crate's integration tests. The scripts in
//! `scripts/` (`make_*fixtures.py`, `make_residual_fixture.py`) regenerate them.
#![allow(dead_code)] // each test binary uses a different part

use glassbox_model::parse_input_json;

pub mod onnx;

/// The bytes of `fixtures/<name>`; panics naming the file if it cannot be read.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!("cannot read {path}: {e}; regenerate it with the fixture scripts in scripts/")
    })
}

/// The samples of the EZKL-style input file `name`, each of length `len` if given.
pub fn samples(name: &str, len: Option<usize>) -> Vec<Vec<f32>> {
    let text = String::from_utf8(fixture(name)).expect("utf-8");
    parse_input_json(&text, len).expect("valid input json")
}

/// The `labels` array of the JSON fixture `name`.
pub fn labels(name: &str) -> Vec<usize> {
    let v: serde_json::Value = serde_json::from_slice(&fixture(name)).expect("json");
    v["labels"]
        .as_array()
        .expect("labels array")
        .iter()
        .map(|l| l.as_u64().expect("label") as usize)
        .collect()
}

/// How many of `samples` the integer model `q` labels as onnxruntime did (`expected`).
pub fn label_agreement(
    q: &glassbox_model::QuantizedModel,
    samples: &[Vec<f32>],
    expected: &[usize],
) -> usize {
    q.run_f32(samples)
        .expect("integer run")
        .iter()
        .zip(expected)
        .filter(|(e, l)| e.label == **l)
        .count()
}

/// The `kind` and `outputs` rows of an onnxruntime reference file (`<model>.expected.json`).
pub fn onnxruntime_outputs(name: &str) -> (String, Vec<Vec<f64>>) {
    let v: serde_json::Value = serde_json::from_slice(&fixture(name)).expect("json");
    let kind = v["kind"].as_str().expect("kind").to_string();
    let rows = v["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .map(|row| {
            let row = row.as_array().expect("row");
            row.iter().map(|x| x.as_f64().expect("number")).collect()
        })
        .collect();
    (kind, rows)
}

/// 8×8 digits upsampled to 16×16 (each pixel repeated 2×2), the input of `cnn_digits16`.
pub fn upsampled(samples: &[Vec<f32>]) -> Vec<Vec<f32>> {
    samples
        .iter()
        .map(|s| {
            (0..256)
                .map(|i| s[(i / 16 / 2) * 8 + (i % 16) / 2])
                .collect()
        })
        .collect()
}
