//! Activation tables (`glassbox_air::table`): a hidden layer's outputs pass through a committed
//! 256-entry function table. An honest proof verifies with the outputs the integer executor
//! computes; a prover that applies another table (one entry changed, the rest of the model
//! honest, downstream layers recomputed so every product check holds) is rejected however it
//! fills the table's columns; and a model with another table has another digest.

mod common;

use glassbox_air::{felt_from_i64, felt_to_i64, ModelDigest, SecurityLevel};
use glassbox_model::QuantizedModel;
use glassbox_prover::{prove, prove_trace};
use glassbox_trace::{Program, Trace};
use glassbox_verifier::verify;

/// The hidden layer's multiplier: wide enough that some indices clamp at both ends (so every
/// case of the requantization occurs, which winterfell's exact-degree check needs).
const M: u32 = 1200;

/// A 256 → 32 → 8 model whose hidden layer passes through a tanh-shaped table (signed values),
/// its bias centred so that the indices spread over the table.
fn tabled_model(table: Vec<i64>) -> QuantizedModel {
    let mut q = common::model(&[256, 32, 8], 7);
    let centre = (128i64 << 16) / i64::from(M);
    let first = &mut q.layers[0];
    first.multiplier = Some(M);
    first.weights.iter_mut().for_each(|w| *w /= 8);
    first.bias.iter_mut().for_each(|b| *b = *b / 8 + centre);
    first.table = Some(table);
    q.proof_batch = Some(4);
    q
}

fn tanh_table() -> Vec<i64> {
    (0..256)
        .map(|x| (255.0 * ((x as f64 - 128.0) / 40.0).tanh()).round() as i64)
        .collect()
}

fn program(table: Vec<i64>) -> Program {
    Program::compile(&tabled_model(table)).unwrap()
}

fn rejected(t: Trace, digest: &ModelDigest) -> bool {
    let env = prove_trace(t, SecurityLevel::Bits100).unwrap();
    verify(&env.to_bytes(), digest, 100).is_err()
}

/// The hidden activations' indices `x` of the honest execution of `xs`.
fn indices(p: &Program, xs: &[Vec<i64>]) -> Vec<i64> {
    let exec = p.execute(xs, xs.len()).unwrap();
    exec.hidden[0].iter().flatten().map(|r| r.x).collect()
}

#[test]
fn a_tabled_layer_proves_what_the_integer_executor_computes() {
    let p = program(tanh_table());
    let xs = common::inputs(3, 256, 11);
    // the indices really spread over the table, negative values included
    let used = indices(&p, &xs);
    let distinct: std::collections::BTreeSet<i64> = used.iter().copied().collect();
    assert!(distinct.len() > 20, "{} distinct indices", distinct.len());
    assert!(used.iter().any(|&x| x < 100) && used.iter().any(|&x| x > 156));
    // and some clamp at each end
    let exec = p.execute(&xs, xs.len()).unwrap();
    let ts: Vec<i64> = exec.hidden[0].iter().flatten().map(|r| r.t).collect();
    assert!(ts.iter().any(|&t| t < 0) && ts.iter().any(|&t| t > 255));
    let env = prove(&p, &xs, SecurityLevel::Bits100).unwrap();
    let claim = verify(&env.to_bytes(), &p.digest(), 100).unwrap();
    let model = tabled_model(tanh_table());
    let expected: Vec<Vec<i64>> = model
        .run(&xs)
        .unwrap()
        .into_iter()
        .map(|e| e.outputs)
        .collect();
    assert_eq!(claim.outputs, expected);
}

/// The same proof in the `validate` profile (`make validate`): winterfell checks every
/// constraint row by row and every declared degree.
#[test]
fn a_tabled_layer_passes_winterfells_debug_checks() {
    let p = program(tanh_table());
    let xs = common::inputs(4, 256, 5);
    let env = prove(&p, &xs, SecurityLevel::Bits100).unwrap();
    assert!(verify(&env.to_bytes(), &p.digest(), 100).is_ok());
}

#[test]
fn a_prover_that_applies_another_table_is_rejected() {
    let honest_program = program(tanh_table());
    let digest = honest_program.digest();
    let xs = common::inputs(3, 256, 11);
    let honest = honest_program.trace(&xs).unwrap();
    assert!(
        !rejected(honest.clone(), &digest),
        "the honest trace is accepted"
    );
    // the forger's table differs in one entry the batch uses
    let x0 = indices(&honest_program, &xs)[5];
    let mut other = tanh_table();
    other[x0 as usize] += if other[x0 as usize] < 200 { 40 } else { -40 };
    let forged_program = program(other.clone());
    let mut forged = forged_program.trace(&xs).unwrap();
    assert_ne!(forged.public.outputs, honest.public.outputs);
    // it claims the committed model, with its own outputs
    let outputs = forged.public.outputs.clone();
    forged.public = honest.public.clone();
    forged.public.outputs = outputs;
    forged.recount_lookups();
    let layout = forged.layout.clone();
    let cols = layout.tables[0];
    let stride = layout.table_stride();
    assert!(stride >= 2, "a trace of at least 512 rows");
    let run = (x0 as usize) * stride..(x0 as usize + 1) * stride;

    // (a) the committed table's columns: the forged pair is no entry, so LogUp does not balance
    assert!(rejected(forged.clone(), &digest), "honest table columns");
    // (a') and counting the forged pair anyway, at its index
    let mut t = forged.clone();
    let m = felt_to_i64(t.columns[cols.multiplicity][run.start]);
    t.columns[cols.multiplicity][run.start] = felt_from_i64(m + 1);
    assert!(rejected(t, &digest), "forged pair counted");
    // (b) the forger's own table in the value column: the pinned rows disagree
    let mut t = forged.clone();
    for r in run.clone() {
        t.columns[cols.values][r] = felt_from_i64(other[x0 as usize]);
    }
    assert!(rejected(t, &digest), "value column of the forged table");
    // (c) the committed value on the pinned row, the forged one on the rest of its run: the
    //     value column changes where the range table does not step
    let mut t = forged.clone();
    for r in run.start + 1..run.end {
        t.columns[cols.values][r] = felt_from_i64(other[x0 as usize]);
    }
    assert!(rejected(t, &digest), "forged value after the pinned row");
    // (d) the honest trace with one table output changed
    let mut t = honest.clone();
    let region = &layout.regions[1];
    let y = region.table_output(0).unwrap();
    let row = common::live_row(region, 0);
    let v = felt_to_i64(t.columns[y][row]);
    t.columns[y][row] = felt_from_i64(v + 1);
    t.recount_lookups();
    assert!(rejected(t, &digest), "one table output off by one");
}

#[test]
fn a_model_with_another_table_has_another_digest() {
    let honest = program(tanh_table());
    let mut other = tanh_table();
    other[0] += 1;
    let changed = program(other);
    assert_ne!(honest.digest(), changed.digest());
    let xs = common::inputs(2, 256, 3);
    let env = prove(&changed, &xs, SecurityLevel::Bits100).unwrap();
    assert!(verify(&env.to_bytes(), &honest.digest(), 100).is_err());
    assert!(verify(&env.to_bytes(), &changed.digest(), 100).is_ok());
}

#[test]
fn a_tabled_proof_file_round_trips_and_a_bad_table_in_it_is_refused() {
    let p = program(tanh_table());
    let xs = common::inputs(1, 256, 2);
    let env = prove(&p, &xs, SecurityLevel::Bits100).unwrap();
    let bytes = env.to_bytes();
    let back = glassbox_air::ProofEnvelope::from_bytes(&bytes).unwrap();
    assert_eq!(back.public.descriptor, env.public.descriptor);
    assert!(back.public.descriptor.layers[0].table.is_some());
    // the table's first value (i16, after the first layer's bias) set to 256: out of range
    let table = tanh_table();
    let first = (table[0] as i16).to_le_bytes();
    let second = (table[1] as i16).to_le_bytes();
    let at = bytes
        .windows(4)
        .position(|w| w == [first[0], first[1], second[0], second[1]])
        .unwrap();
    let mut bad = bytes.clone();
    bad[at..at + 2].copy_from_slice(&256i16.to_le_bytes());
    assert!(glassbox_air::ProofEnvelope::from_bytes(&bad).is_err());
    assert!(verify(&bad, &p.digest(), 100).is_err());
}

/// A CNN with `Conv → Tanh → Conv → Sigmoid` (fixtures/cnn_tanh_digits.onnx): a batch proves
/// with the integer executor's outputs, and a proof claiming a changed logit is rejected.
#[test]
fn smooth_activations_after_convolutions_prove() {
    let q = common::compile_fixture("cnn_tanh_digits");
    assert_eq!(q.layers.iter().filter(|l| l.table.is_some()).count(), 2);
    let xs = common::fixture_inputs(&q, "cnn_tanh_digits", 4);
    let p = Program::compile(&q).unwrap();
    common::proves_what_the_model_computes(&q, &p, &xs);
    let mut t = p.trace(&xs).unwrap();
    t.public.outputs[1][3] += 1;
    assert!(rejected(t, &p.digest()));
}

/// LeNet-5 as drawn in 1998 (fixtures/lenet5_classic_digits28.onnx: Conv → Tanh → AveragePool,
/// twice, then a Tanh head) on 28×28: its convolutions are patch layers with tables (shifted to
/// be non-negative before the pools, the shift taken off by the next layer's bias), and one
/// inference proves with the integer executor's outputs.
#[test]
fn the_classic_lenet_proves() {
    let mut q = common::compile_fixture("lenet5_classic_digits28");
    let tabled: Vec<bool> = q.layers.iter().map(|l| l.table.is_some()).collect();
    assert_eq!(tabled, [true, false, true, false, true, true, false]);
    assert!(q.layers[0].patch.is_some() && q.layers[2].patch.is_some());
    q.proof_batch = Some(1);
    let xs = common::fixture_inputs(&q, "lenet5_classic_digits28", 1);
    let p = Program::compile(&q).unwrap();
    common::proves_what_the_model_computes(&q, &p, &xs);
}
