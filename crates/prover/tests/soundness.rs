//! Negative tests: every way a prover could lie must be rejected by the verifier.
//!
//! Malicious traces are built by editing an honest trace (and, where a real attacker would,
//! recounting the lookups or recommitting the weights), then proving it. winterfell's debug-build
//! trace checks are off in the test profile, so these proofs reach the verifier.

mod common;

use glassbox_air::{
    felt_to_i64, ModelDigest, ProofEnvelope, RegionKind, RegionLayout, SecurityLevel, ACT_C,
    ACT_D0, ACT_D1, ACT_R0, ACT_R1, ACT_X,
};
use glassbox_prover::{prove_trace, prove_trace_tampered, AuxTamper};
use glassbox_trace::{Program, Trace};
use glassbox_verifier::{verify, VerifyError};

fn program() -> Program {
    Program::compile(&common::model(&[16, 32, 8, 4], 11)).unwrap()
}

fn honest(program: &Program) -> Trace {
    program.trace(&common::inputs(3, 16, 5)).unwrap()
}

fn verdict(trace: Trace, digest: &ModelDigest) -> Result<(), VerifyError> {
    let env = prove_trace(trace, SecurityLevel::Bits100).unwrap();
    verify(&env.to_bytes(), digest, 100).map(|_| ())
}

fn assert_rejected(trace: Trace, digest: &ModelDigest) {
    let r = verdict(trace, digest);
    assert!(r.is_err(), "a dishonest proof was accepted");
}

fn set(trace: &mut Trace, col: usize, row: usize, v: i64) {
    trace.columns[col][row] = glassbox_air::felt_from_i64(v);
}

fn get(trace: &Trace, col: usize, row: usize) -> i64 {
    felt_to_i64(trace.columns[col][row])
}

/// The requantized value `t = x + c·(1 + d)` of the activation whose cells start at `base`.
fn get_t(trace: &Trace, base: usize, row: usize) -> i64 {
    let d = get(trace, base + ACT_D0, row) + 256 * get(trace, base + ACT_D1, row);
    get(trace, base + ACT_X, row) + get(trace, base + ACT_C, row) * (1 + d)
}

/// Rewrites the activation at `base` as the honest cells of `t` with its remainder kept, so
/// every row constraint and range check still holds and only the product checks can object.
fn set_t(trace: &mut Trace, base: usize, row: usize, t: i64) {
    let r = get(trace, base + ACT_R0, row) + 256 * get(trace, base + ACT_R1, row);
    let cells = glassbox_air::ActivationCells::witness(t, r);
    for (col, v) in glassbox_air::ActivationCells::at(base).zip(cells) {
        set(trace, col, row, v);
    }
}

/// First column of lane column 0 of the first activation region.
fn act_base(trace: &Trace) -> usize {
    let region = trace
        .layout
        .regions
        .iter()
        .find(|r| matches!(r.kind, RegionKind::Activation { .. }))
        .unwrap();
    region.lane_col(0)
}

#[test]
fn honest_proof_verifies() {
    let p = program();
    assert_eq!(verdict(honest(&p), &p.digest()), Ok(()));
}

#[test]
fn changed_statement_is_rejected() {
    let p = program();
    let env = prove_trace(honest(&p), SecurityLevel::Bits100).unwrap();
    let edits: [fn(&mut ProofEnvelope); 5] = [
        |e| e.public.inputs[0][3] += 1,
        // the same, with the one-chunk bundle id recomputed so that only the STARK can object
        |e| {
            e.public.inputs[0][3] += 1;
            e.public.bundle = glassbox_air::BundlePosition::single(&e.public.inputs);
        },
        |e| e.public.outputs[1][2] += 1,
        |e| e.public.outputs[0][0] -= 1,
        // padding outputs are stated only with a padding lane: alter them, or state some
        |e| match e.public.padding_outputs.first_mut() {
            Some(v) => *v += 1,
            None => e.public.padding_outputs = vec![0; e.public.descriptor.output_len()],
        },
    ];
    for edit in edits {
        let mut bad = env.clone();
        edit(&mut bad);
        assert!(verify(&bad.to_bytes(), &p.digest(), 100).is_err());
    }
}

#[test]
fn weight_changed_under_the_original_digest_is_rejected() {
    let p = program();
    for row in [0usize, 1, 37, 100] {
        let mut t = honest(&p);
        let col = t.layout.layers[0].w_start;
        let w = get(&t, col, row);
        set(&mut t, col, row, if w < 127 { w + 1 } else { w - 1 });
        t.recount_lookups();
        assert_rejected(t, &p.digest());
    }
}

#[test]
fn weights_recommitted_for_a_different_model_do_not_match_the_digest() {
    let p = program();
    let mut t = honest(&p);
    let col = t.layout.layers[1].w_start;
    let w = get(&t, col, 5);
    set(&mut t, col, 5, if w < 127 { w + 1 } else { w - 1 });
    t.recount_lookups();
    t.recommit();
    let claimed = t.public.digest();
    assert_ne!(claimed, p.digest());
    let r = verdict(t.clone(), &p.digest());
    assert!(
        matches!(r, Err(VerifyError::DigestMismatch { .. })),
        "{r:?}"
    );
    // under its own digest the product check still fails: activations were not recomputed
    assert_rejected(t, &claimed);
}

#[test]
fn a_commitment_to_other_weights_than_the_trace_holds_is_rejected() {
    let p = program();
    let mut t = honest(&p);
    let col = t.layout.layers[0].w_start;
    let w = get(&t, col, 9);
    set(&mut t, col, 9, if w < 127 { w + 1 } else { w - 1 });
    t.recommit(); // the tree covers the edited weight...
    set(&mut t, col, 9, w); // ...while the trace keeps the original
    t.resketch(); // and the sketches match the trace: only the opening can catch it
    let claimed = t.public.digest();
    let r = verdict(t, &claimed);
    assert!(matches!(r, Err(VerifyError::WeightMismatch)), "{r:?}");
}

/// The trace of `xs` on the `[16, 32, 8, 4]` test model with one weight changed.
fn edited_trace(p: &Program, xs: &[Vec<i64>]) -> Trace {
    let mut edited = common::model(&[16, 32, 8, 4], 11);
    edited.layers[1].weights[7] = edited.layers[1].weights[7].wrapping_add(1);
    let bad = Program::compile(&edited).unwrap();
    assert_eq!(bad.descriptor, p.descriptor);
    bad.trace(xs).unwrap()
}

#[test]
fn another_model_proven_honestly_under_the_original_digest_is_rejected() {
    // an honest execution of a model with one weight changed, claiming the original root and
    // sketches: the sketch check in the STARK fails
    let p = program();
    let xs = common::inputs(3, 16, 5);
    let original = p.trace(&xs).unwrap();
    let mut t = edited_trace(&p, &xs);
    t.public.weight_root = original.public.weight_root;
    t.resketch();
    t.public.weight_sketch = original.public.weight_sketch;
    let r = verdict(t, &p.digest());
    assert!(matches!(r, Err(VerifyError::Rejected(_))), "{r:?}");
    // with the sketches the trace really has, under the original root (a digest that tree and
    // sketches disagree in), the STARK holds and the opening fails, whichever tree is opened
    for open_original_tree in [false, true] {
        let mut t = edited_trace(&p, &xs);
        t.public.weight_root = original.public.weight_root;
        t.resketch();
        if open_original_tree {
            t.commitment = original.commitment.clone();
        }
        let claimed = t.public.digest();
        let r = verdict(t, &claimed);
        assert!(matches!(r, Err(VerifyError::WeightMismatch)), "{r:?}");
    }
}

#[test]
fn a_digest_mixing_two_models_binds_only_the_one_its_sketches_name() {
    // a publisher builds the tree from two models' extensions, alternate rows from each, and
    // publishes the sketches of the first: proofs with the second model fail the sketch check,
    // and proofs with the first fail the opening on half the rows
    use glassbox_air::WeightCommitment;
    let p = program();
    let xs = common::inputs(3, 16, 5);
    let first = p.trace(&xs).unwrap();
    let second = edited_trace(&p, &xs);
    let leaves = |t: &Trace| glassbox_trace::weight_leaves(&t.columns[t.layout.weight_range()]);
    let (a, b) = (leaves(&first), leaves(&second));
    let mixed: Vec<[u8; 32]> = (0..a.len())
        .map(|i| if i % 2 == 0 { a[i] } else { b[i] })
        .collect();
    let tree = std::sync::Arc::new(WeightCommitment::from_leaves(mixed).unwrap());
    let mut published = None;
    for (k, mut t) in [first, second].into_iter().enumerate() {
        t.public.weight_root = tree.root();
        t.commitment = tree.clone();
        t.resketch();
        if k == 0 {
            published = Some(t.public.weight_sketch);
        }
        t.public.weight_sketch = published.unwrap();
        let digest = t.public.digest();
        let r = verdict(t, &digest);
        let expected = if k == 0 { "opening" } else { "sketch" };
        match (k, &r) {
            (0, Err(VerifyError::WeightMismatch)) | (1, Err(VerifyError::Rejected(_))) => {}
            _ => panic!("model {k}: expected the {expected} check to fail, got {r:?}"),
        }
    }
}

#[test]
fn wrong_activation_is_rejected() {
    let p = program();
    let n = p.descriptor.trace_len;
    let regions: Vec<RegionLayout> = honest(&p)
        .layout
        .regions
        .iter()
        .filter(|r| matches!(r.kind, RegionKind::Activation { .. }))
        .cloned()
        .collect();
    assert_eq!(regions.len(), 2);
    // the first (live) and last rows of every activation region, where no transition reaches
    let edit = |r: &RegionLayout, row: usize| (r.lane_col(0), common::live_row(r, row));
    let edits = [0usize, 3, n / 2, n - 1]
        .map(|row| edit(&regions[0], row))
        .into_iter()
        .chain([edit(&regions[1], 0), edit(&regions[1], n - 1)]);
    for (base, row) in edits {
        let mut t = honest(&p);
        // move t by one and keep the case cells consistent, so only the product checks object
        let nt = get_t(&t, base, row) + 1;
        set_t(&mut t, base, row, nt);
        t.recount_lookups();
        assert_rejected(t, &p.digest());
    }
}

#[test]
fn model_input_cell_edits_are_rejected_on_edge_rows() {
    let p = program();
    let n = p.descriptor.trace_len;
    for row in [0usize, n - 1, n / 3] {
        let mut t = honest(&p);
        let region = &t.layout.regions[0];
        let (col, row) = (region.lane_col(0), common::live_row(region, row));
        let v = get(&t, col, row);
        set(&mut t, col, row, if v < 127 { v + 1 } else { v - 1 });
        assert_rejected(t, &p.digest());
    }
}

/// The activation's case cells: a negative `t` whose `x` is not 0, and the same `t` claimed in
/// range with `x = 0` (so the derived `t` is 0): the first breaks the case constraint, the second
/// the product checks.
#[test]
fn a_wrong_case_or_activation_is_rejected() {
    let p = program();
    let n = p.descriptor.trace_len;
    let honest_trace = honest(&p);
    let base = act_base(&honest_trace);
    let row = (0..n)
        .find(|&r| get(&honest_trace, base + ACT_C, r) == -1 && get_t(&honest_trace, base, r) < -2)
        .expect("a negative activation");
    let mut t = honest_trace.clone();
    set(&mut t, base + ACT_X, row, 1);
    t.recount_lookups();
    assert_rejected(t, &p.digest());
    let mut t = honest_trace;
    for (cell, v) in [(ACT_C, 0), (ACT_X, 0), (ACT_D0, 0), (ACT_D1, 0)] {
        set(&mut t, base + cell, row, v);
    }
    t.recount_lookups();
    assert_rejected(t, &p.digest());
}

#[test]
fn negative_remainder_is_rejected() {
    let p = program();
    let mut t = honest(&p);
    let base = act_base(&t);
    let n = p.descriptor.trace_len;
    // a negative activation whose remainder we shift by 2^16 while raising t by one:
    // acc·M + 2^15 = (t+1)·2^16 + (r − 2^16) still holds, but r leaves 0..2^16.
    let row = (0..n)
        .find(|&r| get(&t, base + ACT_C, r) == -1 && get_t(&t, base, r) < -2)
        .expect("a negative activation");
    let nt = get_t(&t, base, row) + 1;
    set_t(&mut t, base, row, nt);
    let r1 = get(&t, base + ACT_R1, row);
    set(&mut t, base + ACT_R1, row, r1 - 256);
    t.recount_lookups();
    assert_rejected(t, &p.digest());
}

#[test]
fn out_of_range_limbs_are_rejected() {
    let p = program();
    let n = p.descriptor.trace_len;
    for (off, row) in [(ACT_R0, 0usize), (ACT_R0, n - 1), (ACT_D0, n / 2)] {
        let mut t = honest(&p);
        let base = act_base(&t);
        // r0 + 256 with r1 − 1 keeps r (and every sum) but r0 leaves the table
        let hi = if off == ACT_R0 { ACT_R1 } else { ACT_D1 };
        let (lo_v, hi_v) = (get(&t, base + off, row), get(&t, base + hi, row));
        set(&mut t, base + off, row, lo_v + 256);
        set(&mut t, base + hi, row, hi_v - 1);
        t.recount_lookups();
        assert_rejected(t, &p.digest());
    }
}

#[test]
fn errors_in_two_layers_do_not_cancel() {
    let p = program();
    let mut t = honest(&p);
    // raise layer 0's accumulator at (i = 0, b = 0) by one (r += M keeps t), and lower layer 1's
    let layers: Vec<(usize, usize)> = t
        .layout
        .regions
        .iter()
        .filter_map(|r| match r.kind {
            RegionKind::Activation { .. } => {
                Some((r.lane_col(r.lanes_per_row - 1), r.block_len - 1))
            }
            RegionKind::Input => None,
        })
        .collect();
    for (k, &(base, row)) in layers.iter().enumerate() {
        let m = p.descriptor.layers[k].multiplier.unwrap() as i64;
        let r = get(&t, base + ACT_R0, row) + 256 * get(&t, base + ACT_R1, row);
        let nr = if k == 0 { r + m } else { r - m };
        assert!((0..65536).contains(&nr), "pick another cell");
        set(&mut t, base + ACT_R0, row, nr & 0xff);
        set(&mut t, base + ACT_R1, row, nr >> 8);
    }
    t.recount_lookups();
    assert_rejected(t, &p.digest());
}

#[test]
fn auxiliary_values_cannot_balance_the_bus_or_the_products() {
    let p = program();
    let n = p.descriptor.trace_len;
    // an out-of-range limb, then zero the LogUp total on the last row so its assertion holds
    let mut t = honest(&p);
    let base = act_base(&t);
    let (lo, hi) = (get(&t, base + ACT_R0, 5), get(&t, base + ACT_R1, 5));
    set(&mut t, base + ACT_R0, 5, lo + 256);
    set(&mut t, base + ACT_R1, 5, hi - 1);
    t.recount_lookups();
    let aux = t.layout.aux.clone();
    let tamper = AuxTamper {
        column: aux.t,
        row: n - 1,
        zero: true,
    };
    let env = prove_trace_tampered(t, SecurityLevel::Bits100, Some(tamper)).unwrap();
    assert!(verify(&env.to_bytes(), &p.digest(), 100).is_err());

    // honest main trace, one auxiliary cell changed: first row, last row, a helper, Z
    for (column, row) in [
        (aux.z, n - 1),
        (aux.u[0], 0),
        (aux.helpers[0], 7),
        (aux.s, n - 1),
        (aux.v[1].unwrap(), n - 1),
    ] {
        let tamper = AuxTamper {
            column,
            row,
            zero: false,
        };
        let env = prove_trace_tampered(honest(&p), SecurityLevel::Bits100, Some(tamper)).unwrap();
        assert!(
            verify(&env.to_bytes(), &p.digest(), 100).is_err(),
            "aux column {column} row {row}"
        );
    }
}

#[test]
fn weights_on_the_last_row_are_bound_too() {
    let p = program();
    let n = p.descriptor.trace_len;
    let mut t = honest(&p);
    let col = t.layout.layers[0].w_start;
    let w = get(&t, col, n - 1);
    set(&mut t, col, n - 1, if w < 127 { w + 1 } else { w - 1 });
    t.recount_lookups();
    assert_rejected(t.clone(), &p.digest());
    // claiming the edited weights changes the digest
    t.recommit();
    assert_ne!(t.public.digest(), p.digest());
}

#[test]
fn weaker_security_than_asked_is_rejected() {
    let p = program();
    let env = prove_trace(honest(&p), SecurityLevel::Bits100).unwrap();
    let r = verify(&env.to_bytes(), &p.digest(), 128);
    assert!(
        matches!(
            r,
            Err(VerifyError::SecurityTooLow {
                required: 128,
                got: 102
            })
        ),
        "{r:?}"
    );
}

#[test]
fn extra_input_lanes_in_a_live_row_must_be_zero() {
    // a wide input beside a narrow hidden layer: the input region's first live row also holds
    // lanes beyond the capacity, which only the public inputs (zero there) pin down
    let p = Program::compile(&common::model(&[64, 4, 8], 21)).unwrap();
    let xs = common::inputs(5, 64, 3);
    let t = p.trace(&xs).unwrap();
    let input = t.layout.regions[0].clone();
    let extra = input.lanes() - t.layout.batch_capacity;
    assert!(
        !extra.is_multiple_of(input.lanes_per_row),
        "the fixture must give the input region a partly dead row"
    );
    assert_eq!(verdict(t.clone(), &p.digest()), Ok(()));
    // lane b = lanes − 1 − (p·xc + col): row `dead_rows`, column 0 holds an extra lane
    let row = input.dead_rows;
    assert!(input.lanes() - 1 - row * input.lanes_per_row >= t.layout.batch_capacity);
    let mut bad = t;
    set(&mut bad, input.lane_col(0), row, 5);
    assert_rejected(bad, &p.digest());
}

#[test]
fn dead_lanes_are_outside_the_statement_and_the_first_live_row_is_bound() {
    // three samples: every region stores whole rows of lanes beyond the capacity
    let p = program();
    let t = honest(&p);
    let regions = t.layout.regions.clone();
    assert!(
        regions.iter().all(|r| r.dead_rows > 0),
        "the fixture must give every region dead rows"
    );
    let digest = p.digest();
    let bump = |t: &mut Trace, r: &RegionLayout, row: usize| {
        // a value move that keeps every row constraint satisfied (x stays in 0..=255, and a
        // dead lane's zero is in range)
        let col = match r.kind {
            RegionKind::Input => r.lane_col(0),
            RegionKind::Activation { .. } => r.lane_col(0) + ACT_X,
        };
        let v = get(t, col, row);
        set(t, col, row, if v < 100 { v + 1 } else { v - 1 });
        t.recount_lookups();
    };
    for r in &regions {
        let block = r.block_len * (r.blocks / 2);
        // a dead cell changes nothing the proof states: editing it is harmless, and honest
        let mut dead = t.clone();
        bump(&mut dead, r, block + r.dead_rows - 1);
        assert_eq!(verdict(dead, &digest), Ok(()), "{:?}", r.kind);
        // the row right after the restart is live
        let mut live = t.clone();
        bump(&mut live, r, block + r.dead_rows);
        assert_rejected(live, &digest);
    }
    // a batch that fills every region has no dead rows: row 0 is bound
    let full = t.layout.regions.iter().map(|r| r.block_len).max().unwrap();
    let mut t = p.trace(&common::inputs(full, 16, 6)).unwrap();
    assert!(t.layout.regions.iter().all(|r| r.dead_rows == 0));
    bump(&mut t, &regions[1], 0);
    assert_rejected(t, &digest);
}

#[test]
fn sketch_cells_are_bound_on_the_first_and_last_rows() {
    // H starts from a row-0 assertion and T is pinned on the last row; an edit anywhere in
    // either column, the edge rows included, breaks a constraint or an assertion
    let p = program();
    let n = p.descriptor.trace_len;
    let sketch = honest(&p).layout.sketch;
    for col in sketch..sketch + glassbox_air::SKETCH_COLUMNS {
        for row in [0, 1, n / 2, n - 1] {
            let mut t = honest(&p);
            let v = get(&t, col, row);
            set(&mut t, col, row, v + 1);
            let r = verdict(t, &p.digest());
            assert!(
                matches!(r, Err(VerifyError::Rejected(_))),
                "column {col} row {row}: {r:?}"
            );
        }
    }
}

#[test]
fn padding_outputs_are_stated_exactly_when_a_padding_lane_proves_them() {
    let p = program();
    let mut seen = (false, false);
    // this model's capacity is the batch up to 8, then 16 from 9 on
    for batch in [1, 8, 9, 16] {
        let trace = p.trace(&common::inputs(batch, 16, 11)).unwrap();
        let spare = trace.layout.batch_capacity > batch;
        assert_eq!(
            !trace.public.padding_outputs.is_empty(),
            spare,
            "batch {batch}"
        );
        if spare && !seen.0 {
            seen.0 = true;
            let env = prove_trace(trace, SecurityLevel::Bits100).unwrap();
            assert!(verify(&env.to_bytes(), &p.digest(), 100).is_ok());
            let mut bad = env.clone();
            bad.public.padding_outputs[0] += 1;
            assert!(matches!(
                verify(&bad.to_bytes(), &p.digest(), 100),
                Err(VerifyError::Rejected(_))
            ));
            let mut none = env;
            none.public.padding_outputs.clear();
            assert!(matches!(
                verify(&none.to_bytes(), &p.digest(), 100),
                Err(VerifyError::Statement(_))
            ));
        }
        seen.1 |= !spare;
    }
    assert!(seen.0 && seen.1, "both full and padded batches");
}

/// A one-sample proof has no lane-sum columns (`V`, `Q`): each block's one live row is its last,
/// and its own values complete the sums. A changed input or activation there is still rejected,
/// and so is a changed dead cell's neighbour, the live one.
#[test]
fn one_sample_proofs_without_lane_sums_reject_changed_values() {
    let mut q = common::model(&[16, 32, 8, 4], 11);
    q.proof_batch = Some(1);
    let p = Program::compile(&q).unwrap();
    let honest = p.trace(&common::inputs(1, 16, 5)).unwrap();
    let layout = honest.layout.clone();
    assert!(layout.regions.iter().all(|r| r.single_live_row()));
    assert!(layout
        .aux
        .v
        .iter()
        .chain(&layout.aux.q)
        .all(Option::is_none));
    assert!(verdict(honest.clone(), &p.digest()).is_ok());
    for (l, region) in layout.regions.iter().enumerate() {
        let col = match region.kind {
            RegionKind::Input => region.lane_col(0),
            RegionKind::Activation { .. } => region.lane_col(0) + ACT_X,
        };
        // the live (last) row of the first and last blocks
        for row in [region.block_len - 1, layout.trace_len - 1] {
            let mut t = honest.clone();
            let v = get(&t, col, row);
            set(&mut t, col, row, if v < 100 { v + 1 } else { v - 1 });
            t.recount_lookups();
            assert!(
                verdict(t, &p.digest()).is_err(),
                "region {l}, row {row}: accepted"
            );
        }
    }
}
