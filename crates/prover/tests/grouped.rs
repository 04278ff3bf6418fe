//! Block-diagonal (grouped) layers: an honest proof matches the reference executor, and edits
//! that only a grouped layer's extra machinery could let through are rejected: a weight changed
//! under the original digest, a wrong group output, and every cell of the group-factor column.

use glassbox_air::{felt_from_i64, felt_to_i64, RegionKind, SecurityLevel, ACT_C, ACT_X};
use glassbox_model::{InputEncoding, QuantizedDense, QuantizedModel};
use glassbox_prover::{prove_trace, prove_trace_tampered, AuxTamper};
use glassbox_trace::{Program, Trace};
use glassbox_verifier::verify;

/// A deterministic pseudo-random int8 stream.
fn stream(seed: u64) -> impl FnMut() -> i64 {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % 61) as i64 - 30
    }
}

/// 16 → 32 (dense) → 16 (4 groups of 8 inputs → 4 outputs) → 4 (dense).
fn model() -> QuantizedModel {
    let mut next = stream(7);
    let mut layer = |n_in: usize, n_out: usize, groups: usize, multiplier: Option<u32>| {
        let weights = (0..n_out * n_in / groups).map(|_| next() as i8).collect();
        let bias = (0..n_out).map(|_| 40 * next()).collect();
        QuantizedDense {
            n_in,
            n_out,
            weights,
            bias,
            multiplier,
            groups,
            conv: None,
            patch: None,
            table: None,
        }
    };
    QuantizedModel {
        name: "grouped".into(),
        input_len: 16,
        input_scale: 1.0 / 127.0,
        input_encoding: InputEncoding::Symmetric,
        layers: vec![
            layer(16, 32, 1, Some(2000)),
            layer(32, 16, 4, Some(6000)),
            layer(16, 4, 1, None),
        ],
        output_scale: 1.0,
        classifier: true,
        proof_batch: None,
    }
}

fn inputs() -> Vec<Vec<i64>> {
    let mut next = stream(3);
    (0..5)
        .map(|_| (0..16).map(|_| 4 * next()).collect())
        .collect()
}

fn setup() -> (QuantizedModel, Program, Trace) {
    let q = model();
    let program = Program::compile(&q).unwrap();
    let trace = program.trace(&inputs()).unwrap();
    (q, program, trace)
}

fn accepted(trace: Trace, program: &Program) -> bool {
    let env = prove_trace(trace, SecurityLevel::Bits100).unwrap();
    verify(&env.to_bytes(), &program.digest(), 100).is_ok()
}

#[test]
fn a_grouped_layer_proves_the_reference_outputs() {
    let (q, program, trace) = setup();
    assert_eq!(trace.layout.layers[1].groups, 4);
    let env = prove_trace(trace, SecurityLevel::Bits100).unwrap();
    let claim = verify(&env.to_bytes(), &program.digest(), 100).unwrap();
    let reference: Vec<Vec<i64>> = q
        .run(&inputs())
        .unwrap()
        .into_iter()
        .map(|e| e.outputs)
        .collect();
    assert_eq!(claim.outputs, reference);
}

#[test]
fn a_grouped_weight_changed_under_the_original_digest_is_rejected() {
    let (_, program, honest) = setup();
    let lay = honest.layout.layers[1].clone();
    for row in [0usize, 5, lay.group_span(), honest.layout.trace_len - 9] {
        let mut t = honest.clone();
        let col = lay.w_start;
        let w = felt_to_i64(t.columns[col][row]);
        t.columns[col][row] = felt_from_i64(if w < 127 { w + 1 } else { w - 1 });
        t.recount_lookups();
        assert!(!accepted(t, &program), "row {row}");
    }
}

#[test]
fn a_wrong_output_of_a_grouped_layer_is_rejected() {
    let (_, program, honest) = setup();
    // the region holding the grouped layer's outputs (layer 2's inputs)
    let region = honest
        .layout
        .regions
        .iter()
        .find(|r| matches!(r.kind, RegionKind::Activation { layer: 1, .. }))
        .unwrap()
        .clone();
    let base = region.lane_col(0);
    let mut tried = 0;
    // the first live row and the last row of the first, second, middle and last blocks
    let (len, blocks) = (region.block_len, region.blocks);
    let rows = [0, 1, blocks / 2, blocks - 1]
        .into_iter()
        .flat_map(|b| [b * len + region.dead_rows, b * len + len - 1]);
    for row in rows {
        let mut t = honest.clone();
        let (c, tv) = (
            felt_to_i64(t.columns[base + ACT_C][row]),
            felt_to_i64(t.columns[base + ACT_X][row]),
        );
        if c != 0 || tv >= 255 {
            continue; // keep the case cells honest: only the product check may object
        }
        t.columns[base + ACT_X][row] = felt_from_i64(tv + 1);
        t.recount_lookups();
        assert!(!accepted(t, &program), "row {row}");
        tried += 1;
    }
    assert!(tried >= 2, "only {tried} in-range activations found");
}

#[test]
fn every_edit_of_the_group_factor_column_is_rejected() {
    let (_, program, honest) = setup();
    let g = honest.layout.aux.g[1].unwrap();
    let span = honest.layout.layers[1].group_span();
    let n = honest.layout.trace_len;
    for row in [0usize, span - 1, span, 2 * span + 3, n - 1] {
        let tamper = AuxTamper {
            column: g,
            row,
            zero: false,
        };
        let env =
            prove_trace_tampered(honest.clone(), SecurityLevel::Bits100, Some(tamper)).unwrap();
        assert!(
            verify(&env.to_bytes(), &program.digest(), 100).is_err(),
            "row {row}"
        );
    }
}

#[test]
fn malformed_groups_are_refused() {
    let mut q = model();
    q.layers[1].groups = 3; // 32 inputs do not split into 3 groups
    assert!(q.validate().is_err());
    let mut q = model();
    q.layers[1].groups = 0;
    assert!(q.validate().is_err());
    let mut q = model();
    q.layers[1].weights.pop();
    assert!(Program::compile(&q).is_err());
}
