//! Shared helpers for the prover's integration tests.
#![allow(dead_code)]

#[allow(unused_imports)] // each test binary uses a different part
pub use glassbox_testkit::{inputs, lcg, model};

/// `row`, or the first live row of its block if `row` is one of the region's dead rows (whose
/// lanes lie beyond the batch capacity and enter no check).
pub fn live_row(region: &glassbox_air::RegionLayout, row: usize) -> usize {
    let p = row % region.block_len;
    row - p + p.max(region.dead_rows)
}

/// The path of `fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The samples of the input file `fixtures/<name>`.
pub fn fixture_samples(name: &str) -> Vec<Vec<f32>> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    glassbox_model::parse_input_json(&text, None).unwrap()
}

/// `fixtures/<name>.onnx` compiled with its calibration samples `<name>.calib.json`.
pub fn compile_fixture(name: &str) -> glassbox_model::QuantizedModel {
    let onnx = std::fs::read(fixture(&format!("{name}.onnx"))).unwrap();
    let calib = fixture_samples(&format!("{name}.calib.json"));
    glassbox_model::compile_onnx(&onnx, Some(&calib)).unwrap().0
}

/// How many of `q`'s integer labels on `<name>.test.json` agree with onnxruntime's in
/// `<name>.expected.json`, and of how many.
pub fn fixture_agreement(q: &glassbox_model::QuantizedModel, name: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(fixture(&format!("{name}.expected.json"))).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let labels: Vec<u64> = expected["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let runs = q
        .run_f32(&fixture_samples(&format!("{name}.test.json")))
        .unwrap();
    let agree = runs
        .iter()
        .zip(&labels)
        .filter(|(e, &l)| e.label as u64 == l)
        .count();
    (agree, labels.len())
}

/// The first `n` samples of `<name>.test.json`, encoded for `q`.
pub fn fixture_inputs(q: &glassbox_model::QuantizedModel, name: &str, n: usize) -> Vec<Vec<i64>> {
    fixture_samples(&format!("{name}.test.json"))
        .iter()
        .take(n)
        .map(|x| q.quantize_input(x).unwrap())
        .collect()
}

/// Proves `xs` with `program` (compiled from `q`) and checks that the proof verifies with the
/// outputs `q`'s integer executor computes; returns the proof.
pub fn proves_what_the_model_computes(
    q: &glassbox_model::QuantizedModel,
    program: &glassbox_trace::Program,
    xs: &[Vec<i64>],
) -> glassbox_air::ProofEnvelope {
    let env = glassbox_prover::prove(program, xs, glassbox_air::SecurityLevel::Bits100).unwrap();
    let claim = glassbox_verifier::verify(&env.to_bytes(), &program.digest(), 100).unwrap();
    let reference: Vec<Vec<i64>> = q.run(xs).unwrap().into_iter().map(|e| e.outputs).collect();
    assert_eq!(claim.outputs, reference);
    env
}

/// The output order of a patch layer of `channels` planes over `side × side` boxes with each 2×2
/// window's four cells consecutive: bits `[dx, dy, px, py, o]` of the row.
pub fn window_order(side: usize, channels: usize) -> Vec<glassbox_air::Digit> {
    use glassbox_air::Digit;
    let half = (side / 2).trailing_zeros();
    let side = side as u64;
    vec![
        Digit { bits: 1, coef: 1 },
        Digit {
            bits: 1,
            coef: side,
        },
        Digit {
            bits: half,
            coef: 2,
        },
        Digit {
            bits: half,
            coef: 2 * side,
        },
        Digit {
            bits: channels.next_power_of_two().trailing_zeros(),
            coef: side * side,
        },
    ]
}

/// A dense output layer (no multiplier) of `n_in` inputs with these biases, one per output.
pub fn output_layer(n_in: usize, bias: Vec<i64>) -> glassbox_air::LayerDescriptor {
    glassbox_air::LayerDescriptor {
        n_in,
        n_out: bias.len(),
        multiplier: None,
        bias,
        groups: 1,
        conv: None,
        patch: None,
        table: None,
    }
}
