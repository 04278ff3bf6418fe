//! The digits CNNs end to end: an honest proof verifies with the reference outputs; a convolution
//! weight changed under the original digest, a wrong pooled value and a wrong value on a residual
//! skip connection are rejected; the 16×16 CNN proves with its convolutions stored as stencils.

use glassbox_air::{felt_from_i64, felt_to_i64, RegionKind, SecurityLevel, ACT_C, ACT_X};
use glassbox_model::{compile_onnx, parse_input_json, QuantizedModel};
use glassbox_prover::prove_trace;
use glassbox_trace::{Program, Trace};
use glassbox_verifier::verify;

fn fixture(name: &str) -> String {
    format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn setup() -> (QuantizedModel, Program, Vec<Vec<i64>>) {
    setup_model("cnn_digits.onnx")
}

fn setup_model(name: &str) -> (QuantizedModel, Program, Vec<Vec<i64>>) {
    let read = |f: &str| {
        let x = parse_input_json(&std::fs::read_to_string(fixture(f)).unwrap(), Some(64)).unwrap();
        if name == "cnn_digits16.onnx" {
            // each pixel repeated 2×2
            x.iter()
                .map(|s| (0..256).map(|i| s[(i / 32) * 8 + (i % 16) / 2]).collect())
                .collect()
        } else {
            x
        }
    };
    let calib: Vec<Vec<f32>> = read("digits_calib.json");
    let onnx = std::fs::read(fixture(name)).unwrap();
    let (q, _) = compile_onnx(&onnx, Some(&calib)).unwrap();
    let test: Vec<Vec<f32>> = read("digits_test.json");
    let xs = test
        .iter()
        .take(4)
        .map(|x| q.quantize_input(x).unwrap())
        .collect();
    let program = Program::compile(&q).unwrap();
    (q, program, xs)
}

fn accepted(trace: Trace, program: &Program) -> bool {
    let env = prove_trace(trace, SecurityLevel::Bits100).unwrap();
    verify(&env.to_bytes(), &program.digest(), 100).is_ok()
}

/// Proves `xs` honestly, asserts the verified outputs are the reference executor's, and returns
/// the honest trace for tampering.
fn proves_reference_outputs(q: &QuantizedModel, program: &Program, xs: &[Vec<i64>]) -> Trace {
    let honest = program.trace(xs).unwrap();
    let env = prove_trace(honest.clone(), SecurityLevel::Bits100).unwrap();
    let claim = verify(&env.to_bytes(), &program.digest(), 100).unwrap();
    let reference: Vec<Vec<i64>> = q.run(xs).unwrap().into_iter().map(|e| e.outputs).collect();
    assert_eq!(claim.outputs, reference);
    honest
}

#[test]
fn the_digits_cnn_proves_its_reference_outputs() {
    let (q, program, xs) = setup();
    proves_reference_outputs(&q, &program, &xs);
}

#[test]
fn a_convolution_weight_changed_under_the_original_digest_is_rejected() {
    let (_, program, xs) = setup();
    let honest = program.trace(&xs).unwrap();
    let lay = honest.layout.layers[0].clone();
    // the first non-zero cells of the Toeplitz columns: real kernel taps
    let mut edited = 0;
    'cols: for col in lay.w_start..lay.w_start + lay.k {
        for row in 0..honest.layout.trace_len {
            let w = felt_to_i64(honest.columns[col][row]);
            if w != 0 {
                let mut t = honest.clone();
                t.columns[col][row] = felt_from_i64(if w < 127 { w + 1 } else { w - 1 });
                t.recount_lookups();
                assert!(!accepted(t, &program), "column {col} row {row}");
                edited += 1;
                if edited == 2 {
                    break 'cols;
                }
                continue 'cols;
            }
        }
    }
    assert_eq!(edited, 2);
}

#[test]
fn a_wrong_pooled_value_is_rejected() {
    let (_, program, xs) = setup();
    let honest = program.trace(&xs).unwrap();
    // the second max-pool layer's outputs: [relu(m1 − m2), max(c, d)] per window
    let region = honest
        .layout
        .regions
        .iter()
        .find(|r| matches!(r.kind, RegionKind::Activation { layer: 2, .. }))
        .unwrap()
        .clone();
    let base = region.lane_col(0);
    let mut tried = 0;
    for row in 0..honest.layout.trace_len {
        let (c, tv) = (
            felt_to_i64(honest.columns[base + ACT_C][row]),
            felt_to_i64(honest.columns[base + ACT_X][row]),
        );
        if c != 0 || tv == 0 || tv >= 255 {
            continue;
        }
        let mut t = honest.clone();
        t.columns[base + ACT_X][row] = felt_from_i64(tv - 1); // a smaller "maximum"
        t.recount_lookups();
        assert!(!accepted(t, &program), "row {row}");
        tried += 1;
        if tried == 2 {
            break;
        }
    }
    assert_eq!(tried, 2, "no non-zero pooled value found");
}

#[test]
fn the_residual_cnn_proves_and_a_wrong_skip_value_is_rejected() {
    let (q, program, xs) = setup_model("cnn_residual.onnx");
    let honest = proves_reference_outputs(&q, &program, &xs[..2]);

    // Layer 3 (the block's first convolution) outputs 128 convolution values, then 128 rows that
    // carry the skip to the Add folded into layer 4. Lower one carried value.
    let region = honest
        .layout
        .regions
        .iter()
        .find(|r| matches!(r.kind, RegionKind::Activation { layer: 3, .. }))
        .unwrap()
        .clone();
    assert_eq!(region.blocks, 256);
    let base = region.lane_col(0);
    let carried = (128 * region.block_len..honest.layout.trace_len).find(|&row| {
        felt_to_i64(honest.columns[base + ACT_C][row]) == 0
            && felt_to_i64(honest.columns[base + ACT_X][row]) > 0
    });
    let row = carried.expect("a non-zero carried skip value");
    let mut t = honest.clone();
    let tv = felt_to_i64(t.columns[base + ACT_X][row]);
    t.columns[base + ACT_X][row] = felt_from_i64(tv - 1);
    t.recount_lookups();
    assert!(!accepted(t, &program), "row {row}");
}

#[test]
fn the_16x16_cnn_proves_with_stencil_convolutions() {
    let (q, program, xs) = setup_model("cnn_digits16.onnx");
    let stencils: Vec<usize> = (0..program.descriptor.layers.len())
        .filter(|&l| program.descriptor.layers[l].conv.is_some())
        .collect();
    assert_eq!(
        stencils,
        [0, 3],
        "both convolutions are cheaper as stencils"
    );
    let honest = proves_reference_outputs(&q, &program, &xs[..2]);
    // a kernel weight of the second convolution changed where input block 100 uses it
    let lay = honest.layout.layers[3].clone();
    let row = 100 * lay.block_len + lay.block_len - 1; // output channel 0
    let col = (lay.w_start..lay.w_start + lay.k)
        .find(|&c| felt_to_i64(honest.columns[c][row]) != 0)
        .expect("an interior input meets every tap");
    let mut t = honest;
    let w = felt_to_i64(t.columns[col][row]);
    t.columns[col][row] = felt_from_i64(if w < 127 { w + 1 } else { w - 1 });
    t.recount_lookups();
    assert!(!accepted(t, &program));
}
