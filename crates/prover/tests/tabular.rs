//! Tree ensembles and linear models end to end: honest proofs verify, and a wrong branch, a changed
//! threshold or leaf value under the original digest, and a changed label are all rejected.

use glassbox_air::{ModelDigest, SecurityLevel};
use glassbox_model::tabular::STEP_MULTIPLIER;
use glassbox_model::{compile_onnx, first_argmax, parse_input_json, requantize, QuantizedModel};
use glassbox_prover::prove_trace;
use glassbox_trace::{BatchExecution, Program};
use glassbox_verifier::{verify, VerifyError};

fn fixture(name: &str) -> String {
    format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The compiled fixture, its program and the encoded inputs of its first `n` test samples.
fn load(name: &str, n: usize) -> (QuantizedModel, Program, Vec<Vec<i64>>) {
    let read = |f: &str| std::fs::read_to_string(fixture(f)).unwrap();
    let calib = parse_input_json(&read(&format!("{name}.calib.json")), None).unwrap();
    let onnx = std::fs::read(fixture(&format!("{name}.onnx"))).unwrap();
    let (q, _) = compile_onnx(&onnx, Some(&calib)).unwrap();
    with_samples(name, q, n)
}

/// A tree fixture lowered with one path-layer group per tree (which `compile` no longer picks
/// for the fixtures: the dense layer is cheaper for them).
fn load_per_tree(name: &str, n: usize) -> (QuantizedModel, Program, Vec<Vec<i64>>) {
    use glassbox_model::tabular::{lower_trees_with, ClassicModel, PathShape};
    let graph =
        glassbox_model::load_onnx(&std::fs::read(fixture(&format!("{name}.onnx"))).unwrap())
            .unwrap();
    let Some(ClassicModel::Trees(t)) = ClassicModel::find(&graph).unwrap() else {
        panic!("{name} is a tree ensemble");
    };
    let mut q = lower_trees_with(t, PathShape::PerTree).unwrap();
    q.name.clone_from(&graph.name);
    with_samples(name, q, n)
}

fn with_samples(
    name: &str,
    q: QuantizedModel,
    n: usize,
) -> (QuantizedModel, Program, Vec<Vec<i64>>) {
    let read = |f: &str| std::fs::read_to_string(fixture(f)).unwrap();
    let test = parse_input_json(&read(&format!("{name}.test.json")), None).unwrap();
    let xs = test
        .iter()
        .take(n)
        .map(|x| q.quantize_input(x).unwrap())
        .collect();
    let program = Program::compile(&q).unwrap();
    (q, program, xs)
}

fn verdict(
    program: &Program,
    exec: &BatchExecution,
    digest: &ModelDigest,
) -> Result<Vec<Vec<i64>>, VerifyError> {
    let layout = program.layout(exec.batch).unwrap();
    let trace = program.trace_from_execution(layout, exec);
    let env = prove_trace(trace, SecurityLevel::Bits100).unwrap();
    verify(&env.to_bytes(), digest, 100).map(|claim| claim.outputs)
}

fn honest(program: &Program, xs: &[Vec<i64>]) -> BatchExecution {
    let lanes = program.layout(xs.len()).unwrap().batch_capacity;
    program.execute(xs, lanes).unwrap()
}

#[test]
fn every_classic_fixture_proves_and_verifies_with_the_reference_outputs() {
    for name in [
        "tree_breast_cancer",
        "forest_wine",
        "gbt_wine",
        "xgb_breast_cancer",
        "lgbm_wine",
        "linear_iris",
        "tree_diabetes_regressor",
    ] {
        let (q, program, xs) = load(name, 6);
        let outputs = verdict(&program, &honest(&program, &xs), &program.digest()).unwrap();
        let reference: Vec<Vec<i64>> = q.run(&xs).unwrap().into_iter().map(|e| e.outputs).collect();
        assert_eq!(outputs, reference, "{name}");
    }
}

/// Recomputes the path and score layers of `lane` from its (possibly edited) comparison bits,
/// exactly as an honest prover would: the only lie left is the flipped bit itself.
fn recompute_after_bits(q: &QuantizedModel, exec: &mut BatchExecution, lane: usize) {
    let bits: Vec<i64> = exec.hidden[0][lane]
        .iter()
        .take(q.layers[0].n_out)
        .map(|r| r.x)
        .collect();
    let dense = |l: usize, x: &[i64]| -> Vec<i64> {
        let layer = &q.layers[l];
        let dense = layer.dense_weights();
        (0..layer.n_out)
            .map(|i| {
                let row = &dense[i * layer.n_in..(i + 1) * layer.n_in];
                layer.bias[i]
                    + row
                        .iter()
                        .zip(x)
                        .map(|(&w, &v)| i64::from(w) * v)
                        .sum::<i64>()
            })
            .collect()
    };
    let m = q.layers[1].multiplier.unwrap();
    let leaves: Vec<_> = dense(1, &bits)
        .into_iter()
        .map(|acc| requantize(acc, m).unwrap())
        .collect();
    let reached: Vec<i64> = leaves.iter().map(|r| r.x).collect();
    exec.hidden[1][lane][..leaves.len()].copy_from_slice(&leaves);
    exec.outputs[lane] = dense(2, &reached);
}

#[test]
fn a_proof_that_takes_the_wrong_branch_is_rejected() {
    let (q, program, xs) = load("tree_breast_cancer", 4);
    let digest = program.digest();
    let honest_exec = honest(&program, &xs);
    let honest_label = first_argmax(&honest_exec.outputs[1]);
    // control: recomputing without a lie reproduces the honest execution
    let mut control = honest_exec.clone();
    recompute_after_bits(&q, &mut control, 1);
    assert_eq!(control, honest_exec);
    // flip comparison bits of sample 1 until the tree's label changes
    let mut flipped = None;
    for bit in 0..q.layers[0].n_out {
        let mut exec = honest_exec.clone();
        let r = exec.hidden[0][1][bit];
        exec.hidden[0][1][bit] =
            requantize(if r.x == 255 { 0 } else { 1 }, STEP_MULTIPLIER).unwrap();
        recompute_after_bits(&q, &mut exec, 1);
        // exactly one leaf is still reached: the lie is a consistent wrong branch
        let reached = exec.hidden[1][1].iter().filter(|r| r.x == 255).count();
        assert_eq!(reached, 1);
        if first_argmax(&exec.outputs[1]) != honest_label {
            flipped = Some(exec);
            break;
        }
    }
    let exec = flipped.expect("some comparison decides the vote");
    assert!(verdict(&program, &exec, &digest).is_err());
}

#[test]
fn changed_threshold_or_leaf_value_under_the_original_digest_is_rejected() {
    let (q, program, xs) = load("tree_breast_cancer", 3);
    let digest = program.digest();
    let edits: [fn(&mut QuantizedModel); 2] = [
        |m| m.layers[0].bias[0] += 2, // a comparison moves past the next threshold
        |m| {
            let w = &mut m.layers[2].weights;
            let k = w.iter().position(|&v| v != 0).unwrap();
            w[k] = if w[k] > 0 { w[k] - 1 } else { w[k] + 1 }; // a leaf's value
        },
    ];
    for edit in edits {
        let mut bad = q.clone();
        edit(&mut bad);
        let bad_program = Program::compile(&bad).unwrap();
        assert_ne!(bad_program.digest(), digest);
        let exec = honest(&bad_program, &xs);
        // an honest proof of the edited model does not verify under the original digest
        let r = verdict(&bad_program, &exec, &digest);
        assert!(
            matches!(r, Err(VerifyError::DigestMismatch { .. })),
            "{r:?}"
        );
        // nor does the edited model's execution dressed in the original statement
        let layout = program.layout(exec.batch).unwrap();
        let mut trace = bad_program.trace_from_execution(layout, &exec);
        let original = program.trace(&xs).unwrap().public;
        trace.public.descriptor = original.descriptor;
        trace.public.weight_root = original.weight_root;
        let env = prove_trace(trace, SecurityLevel::Bits100).unwrap();
        assert!(verify(&env.to_bytes(), &digest, 100).is_err());
    }
}

#[test]
fn a_changed_predicted_label_is_rejected() {
    let (_, program, xs) = load("gbt_wine", 3);
    let trace = program.trace(&xs).unwrap();
    let env = prove_trace(trace, SecurityLevel::Bits100).unwrap();
    let digest = program.digest();
    assert!(verify(&env.to_bytes(), &digest, 100).is_ok());
    for sample in 0..xs.len() {
        // raise the runner-up score just past the winner: the claimed label changes
        let mut bad = env.clone();
        let out = &mut bad.public.outputs[sample];
        let winner = first_argmax(out);
        let runner = (0..out.len()).find(|&i| i != winner).unwrap();
        out[runner] = out[winner] + 1;
        assert_ne!(first_argmax(out), winner);
        assert!(verify(&bad.to_bytes(), &digest, 100).is_err());
    }
}

#[test]
fn a_proof_that_reaches_the_wrong_leaf_of_a_grouped_path_layer_is_rejected() {
    // the wine GBT with one path-layer group per tree; move tree 0's reached leaf to another leaf
    // of the same tree and recompute the scores honestly: only the path layer lies
    let (q, program, xs) = load_per_tree("gbt_wine", 3);
    assert!(q.layers[1].groups > 1);
    let digest = program.digest();
    let honest_exec = honest(&program, &xs);
    let m = q.layers[1].n_out / q.layers[1].groups; // leaf slots per tree
    let identity = q.layers[1].multiplier.unwrap();
    let leaves = &honest_exec.hidden[1][1][..m];
    let reached = leaves.iter().position(|r| r.x == 255).unwrap();
    // another real leaf of tree 0 (padding slots have bias −255 and no weights)
    let c = q.layers[1].n_in / q.layers[1].groups;
    let path = |slot: usize| &q.layers[1].weights[slot * c..(slot + 1) * c];
    let other = (0..m)
        .find(|&s| s != reached && path(s).iter().any(|&w| w != 0))
        .unwrap();
    let mut exec = honest_exec.clone();
    exec.hidden[1][1][reached] = requantize(0, identity).unwrap();
    exec.hidden[1][1][other] = requantize(255, identity).unwrap();
    let indicators: Vec<i64> = exec.hidden[1][1][..q.layers[1].n_out]
        .iter()
        .map(|r| r.x)
        .collect();
    let scores = &q.layers[2];
    let dense = scores.dense_weights();
    exec.outputs[1] = (0..scores.n_out)
        .map(|c| {
            scores.bias[c]
                + dense[c * scores.n_in..(c + 1) * scores.n_in]
                    .iter()
                    .zip(&indicators)
                    .map(|(&w, &x)| i64::from(w) * x)
                    .sum::<i64>()
        })
        .collect();
    assert_ne!(exec.outputs[1], honest_exec.outputs[1]);
    assert!(verdict(&program, &exec, &digest).is_err());
    // control: the honest execution verifies
    assert!(verdict(&program, &honest_exec, &digest).is_ok());
}
