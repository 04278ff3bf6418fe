//! The sketch unit on hand-built frames: an honest row pair gives zeros, and each wrong cell
//! makes its named constraint non-zero.

use alloc::vec::Vec;

use winter_math::FieldElement;

use super::Sketches;
use crate::commitment::{sketch_powers, sketch_row};
use crate::field::Felt;
use crate::frame::MainFrame;
use crate::sink::Constraints;
use crate::units::test_layout;

/// The residues of one sketch's three constraints: `[h.step, t.current, t.next]`.
fn residues(cur: &[Felt], next: &[Felt], lambda: Felt, mu: Felt) -> Vec<Felt> {
    let layout = test_layout();
    let sketches = Sketches::from_points(&[(lambda, mu)], layout.weight_range().len());
    let mut result = alloc::vec![Felt::ZERO; 3];
    let mut out = Constraints::evaluate(&mut result);
    sketches.constraints(&layout, &MainFrame { cur, next }, &mut out);
    assert_eq!(out.len(), 3);
    result
}

#[test]
fn an_honest_row_pair_satisfies_the_sketch_and_each_wrong_cell_breaks_its_constraint() {
    let layout = test_layout();
    let (lambda, mu) = (Felt::new(10), Felt::new(100));
    let powers = sketch_powers(mu, layout.weight_range().len());
    let (h, t) = (layout.sketch, layout.sketch + 1);
    let mut cur = alloc::vec![Felt::ZERO; layout.main_width];
    let mut next = cur.clone();
    for (i, c) in layout.weight_range().enumerate() {
        cur[c] = Felt::new(3 + i as u64);
        next[c] = Felt::new(200 - i as u64);
    }
    let weights = layout.weight_range();
    cur[h] = Felt::new(12_345);
    cur[t] = lambda * cur[h] + sketch_row(&cur[weights.clone()], &powers);
    next[h] = cur[t];
    next[t] = lambda * next[h] + sketch_row(&next[weights.clone()], &powers);
    assert_eq!(residues(&cur, &next, lambda, mu), [Felt::ZERO; 3]);

    let mut bad = next.clone();
    bad[h] += Felt::ONE;
    let r = residues(&cur, &bad, lambda, mu);
    assert_ne!(r[0], Felt::ZERO, "sketch.h_step");
    let mut bad = cur.clone();
    bad[weights.start] += Felt::ONE;
    assert_ne!(
        residues(&bad, &next, lambda, mu)[1],
        Felt::ZERO,
        "sketch.t, current row"
    );
    let mut bad = next.clone();
    bad[weights.end - 1] += Felt::ONE;
    assert_ne!(
        residues(&cur, &bad, lambda, mu)[2],
        Felt::ZERO,
        "sketch.t, next row"
    );
}
