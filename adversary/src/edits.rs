//! Trace edits the AIR cannot see, for the forgery that puts weights other than the committed
//! ones into the main trace.

use glassbox_air::commitment::sketch_points;
use glassbox_air::Felt;
use glassbox_trace::Trace as MainTrace;
use winterfell::math::FieldElement;

/// Rows of the first layer's first weight column that the edit changes (all in input 0's block).
const ROWS: [usize; 3] = [1, 2, 3];

/// Changes three weight cells of the first layer in input 0's block (its first weight column,
/// rows 1 to 3) so that both weight sketches keep their values: the first cell by one, the other
/// two by the solution of the two sketch equations. Weights need no range check (they are the
/// committed ones, through the opening), and where input 0 is zero in every lane the products
/// do not change either, so the edited trace satisfies every constraint of the AIR; only the
/// weight opening can tell.
///
/// # Panics
/// If the first layer's blocks are shorter than four rows, or the sketch equations are singular
/// (a probability-`1/p` event for the sketch points).
pub fn keep_sketches(trace: &mut MainTrace) {
    let layer = &trace.layout.layers[0];
    assert!(layer.block_len > ROWS[2], "input 0's block is too short");
    let column = layer.w_start;
    let first_weight = trace.layout.weight_range().start;
    let n = trace.layout.trace_len;
    let points = sketch_points(&trace.public.descriptor, &trace.public.weight_root);
    // cell (r, column) enters sketch k with coefficient λ_k^(N−1−r) · μ_k^(column − first)
    let coef = |k: usize, r: usize| {
        let (lambda, mu) = points[k];
        lambda.exp((n - 1 - r) as u64) * mu.exp((column - first_weight) as u64)
    };
    let (a0, a1, a2) = (coef(0, ROWS[0]), coef(0, ROWS[1]), coef(0, ROWS[2]));
    let (b0, b1, b2) = (coef(1, ROWS[0]), coef(1, ROWS[1]), coef(1, ROWS[2]));
    // a1·d1 + a2·d2 = −a0 and b1·d1 + b2·d2 = −b0, with d0 = 1
    let det = a1 * b2 - a2 * b1;
    assert_ne!(det, Felt::ZERO, "singular sketch equations");
    let d1 = (-a0 * b2 + a2 * b0) / det;
    let d2 = (-a1 * b0 + a0 * b1) / det;
    for (r, d) in ROWS.into_iter().zip([Felt::ONE, d1, d2]) {
        trace.columns[column][r] += d;
    }
    let before = trace.public.weight_sketch;
    trace.resketch();
    assert_eq!(trace.public.weight_sketch, before, "the sketches changed");
}
