//! The digits fixtures end to end: trace generator vs the model crate's reference executor,
//! and proofs of the 64-128-64-10 MLP for one input and for a batch.

use glassbox_air::SecurityLevel;
use glassbox_model::{compile_onnx, parse_input_json, QuantizedModel};
use glassbox_trace::Program;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn load(name: &str) -> (QuantizedModel, Program, Vec<Vec<i64>>) {
    let calib = parse_input_json(
        &String::from_utf8(fixture("digits_calib.json")).unwrap(),
        Some(64),
    )
    .unwrap();
    let (q, _) = compile_onnx(&fixture(name), Some(&calib)).unwrap();
    let program = Program::compile(&q).unwrap();
    let test = parse_input_json(
        &String::from_utf8(fixture("digits_test.json")).unwrap(),
        Some(64),
    )
    .unwrap();
    let xs = test
        .iter()
        .take(40)
        .map(|x| q.quantize_input(x).unwrap())
        .collect();
    (q, program, xs)
}

#[test]
fn trace_generator_matches_the_reference_executor_on_every_fixture() {
    for name in [
        "mlp_64_32_10.onnx",
        "mlp_64_128_64_10.onnx",
        "sklearn_mlp_64_32_10.onnx",
        "mlp_64_512_512_10.onnx",
    ] {
        let (q, program, xs) = load(name);
        let reference = q.run(&xs).unwrap();
        let recorded = program.execute(&xs, xs.len()).unwrap();
        for (b, exec) in reference.iter().enumerate() {
            assert_eq!(exec.outputs, recorded.outputs[b], "{name} sample {b}");
            for (l, layer) in exec.layers.iter().enumerate() {
                if let Some(req) = &layer.requantized {
                    let ours: Vec<(i64, i64, i64)> = recorded.hidden[l][b]
                        .iter()
                        .take(req.len())
                        .map(|r| (r.t, r.remainder, r.x))
                        .collect();
                    let theirs: Vec<(i64, i64, i64)> =
                        req.iter().map(|r| (r.t, r.remainder, r.x)).collect();
                    assert_eq!(ours, theirs, "{name} sample {b} layer {l}");
                }
            }
        }
        // the trace's public outputs are the executor's
        let trace = program.trace(&xs[..3]).unwrap();
        let expected: Vec<Vec<i64>> = reference[..3].iter().map(|e| e.outputs.clone()).collect();
        assert_eq!(trace.public.outputs, expected, "{name}");
    }
}

#[test]
fn digits_mlp_proves_one_input_and_a_batch() {
    let (q, program, xs) = load("mlp_64_128_64_10.onnx");
    for batch in [1usize, 8] {
        let env = glassbox_prover::prove(&program, &xs[..batch], SecurityLevel::Bits100).unwrap();
        let claim = glassbox_verifier::verify(&env.to_bytes(), &program.digest(), 100).unwrap();
        let reference = q.run(&xs[..batch]).unwrap();
        let labels: Vec<usize> = reference.iter().map(|e| e.label).collect();
        assert_eq!(claim.labels(), labels);
        assert_eq!(claim.inputs, xs[..batch].to_vec());
    }
}
