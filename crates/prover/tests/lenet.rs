//! LeNet-5 on 28×28 digits (fixtures/lenet5_digits28.onnx): its convolutions compile to patch
//! layers (28 is not a power of two, so the stencil path cannot take them), the proven labels
//! agree with onnxruntime's on the stored test split, and a proof of one inference verifies with
//! the reference outputs while a changed convolution weight is rejected.

use glassbox_air::{felt_from_i64, felt_to_i64, SecurityLevel};
use glassbox_model::{compile_onnx, parse_input_json, QuantizedModel};
use glassbox_prover::prove_trace;
use glassbox_trace::Program;
use glassbox_verifier::verify;

fn fixture(name: &str) -> String {
    format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn samples(name: &str) -> Vec<Vec<f32>> {
    parse_input_json(&std::fs::read_to_string(fixture(name)).unwrap(), Some(784)).unwrap()
}

fn lenet() -> QuantizedModel {
    let onnx = std::fs::read(fixture("lenet5_digits28.onnx")).unwrap();
    let (q, _) = compile_onnx(&onnx, Some(&samples("lenet5_digits28.calib.json"))).unwrap();
    q
}

#[test]
fn lenet_lowers_to_patch_layers_and_agrees_with_onnxruntime() {
    let q = lenet();
    let patches: Vec<usize> = (0..q.layers.len())
        .filter(|&l| q.layers[l].patch.is_some())
        .collect();
    assert_eq!(patches, [0, 4], "both convolutions are patch layers");
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("lenet5_digits28.expected.json")).unwrap(),
    )
    .unwrap();
    let labels: Vec<u64> = expected["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let test = samples("lenet5_digits28.test.json");
    let runs = q.run_f32(&test).unwrap();
    let agree = runs
        .iter()
        .zip(&labels)
        .filter(|(e, &l)| e.label as u64 == l)
        .count();
    assert!(
        agree * 100 >= 97 * labels.len(),
        "{agree} of {} labels agree",
        labels.len()
    );
}

#[test]
fn a_lenet_proof_verifies_and_a_changed_convolution_weight_is_rejected() {
    let mut q = lenet();
    q.proof_batch = Some(1);
    let program = Program::compile(&q).unwrap();
    let xs: Vec<Vec<i64>> = samples("lenet5_digits28.test.json")
        .iter()
        .take(1)
        .map(|x| q.quantize_input(x).unwrap())
        .collect();
    let honest = program.trace(&xs).unwrap();
    let env = prove_trace(honest.clone(), SecurityLevel::Bits100).unwrap();
    let claim = verify(&env.to_bytes(), &program.digest(), 100).unwrap();
    let reference: Vec<Vec<i64>> = q.run(&xs).unwrap().into_iter().map(|e| e.outputs).collect();
    assert_eq!(claim.outputs, reference);
    // the first nonzero kernel cell of the second convolution, changed under the same digest
    let lay = honest.layout.layers[4].clone();
    let n = honest.layout.trace_len;
    let (col, row) = (lay.w_start..lay.w_start + lay.k)
        .flat_map(|c| (0..n).map(move |r| (c, r)))
        .find(|&(c, r)| felt_to_i64(honest.columns[c][r]) != 0)
        .unwrap();
    let mut t = honest;
    let w = felt_to_i64(t.columns[col][row]);
    t.columns[col][row] = felt_from_i64(if w < 127 { w + 1 } else { w - 1 });
    t.recount_lookups();
    let env = prove_trace(t, SecurityLevel::Bits100).unwrap();
    assert!(verify(&env.to_bytes(), &program.digest(), 100).is_err());
}
