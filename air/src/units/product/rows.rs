//! Per-row shares of the Horner sums the product check accumulates, shared by the constraints
//! and the prover's auxiliary-trace builder.

use alloc::vec::Vec;

use winter_math::{ExtensionOf, FieldElement};

use crate::challenges::Challenges;
use crate::field::Felt;
use crate::layout::{Layout, RegionKind, ACT_CELLS};
use crate::units::requant::constraints::{accumulator, activation};

/// `Σ_t pows[start + w − 1 − t] · v_t` over one row's `w` cells.
fn horner<F, E>(values: impl Iterator<Item = F>, r: &[E], start: usize, w: usize) -> E
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let mut acc = E::ZERO;
    for (t, v) in values.enumerate() {
        acc += r[start + w - 1 - t].mul_base(v);
    }
    acc
}

/// One row's share of `Σ_i ρ^i W_ij` for layer `l` (up to the stencil block factor).
pub fn weight_row_sum<F, E>(layout: &Layout, ch: &Challenges, r: &[E], row: &[F], l: usize) -> E
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let lay = &layout.layers[l];
    if let Some(at) = ch.conv[l] {
        // a stencil row: output channel `o`'s weights, one column per tap, each with its factor
        let mut acc = E::ZERO;
        for t in 0..lay.k {
            acc += r[at + t].mul_base(row[lay.w_start + t]);
        }
        return acc;
    }
    horner(
        (0..lay.k).map(|t| row[lay.w_start + t]),
        r,
        ch.rho_pows[l],
        lay.k,
    )
}

/// The Horner step of layer `l`'s weight sums: `ρ^k` (`ρ^(Ho·Wo)` for a stencil layer).
pub fn weight_step<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    ch: &Challenges,
    r: &[E],
    l: usize,
) -> E {
    let k = layout.layers[l].k;
    match ch.conv[l] {
        Some(at) => r[at + k],
        None => r[ch.rho_pows[l] + k],
    }
}

/// One row's share of `Σ_b β^b X_jb` for region `l` (the inputs of layer `l`).
pub fn input_row_sum<F, E>(layout: &Layout, ch: &Challenges, r: &[E], row: &[F], l: usize) -> E
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let reg = &layout.regions[l];
    let xs = (0..reg.lanes_per_row).map(|t| match (reg.kind, reg.window_max(t)) {
        (RegionKind::Input, _) => row[reg.lane_col(t)],
        // a tabled activation's layer reads its table output y
        (RegionKind::Activation { table: Some(_), .. }, _) => row[reg.lane_col(t) + ACT_CELLS],
        // a pooled window's maximum
        (RegionKind::Activation { .. }, Some(m)) => row[m],
        (RegionKind::Activation { .. }, None) => activation(row, reg.lane_col(t)),
    });
    horner(xs, r, ch.beta_pows[l], reg.lanes_per_row)
}

/// One row's share of `Σ_b β^b Y_ib` for the accumulators of layer `l − 1` held in region `l`.
pub fn accumulator_row_sum<F, E>(
    layout: &Layout,
    ch: &Challenges,
    r: &[E],
    row: &[F],
    l: usize,
    inv_m: Felt,
) -> E
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let reg = &layout.regions[l];
    let Some(at) = ch.window[l] else {
        let ys = (0..reg.lanes_per_row).map(|t| accumulator(row, reg.lane_col(t), inv_m));
        return horner(ys, r, ch.beta_pows[l - 1], reg.lanes_per_row);
    };
    // a window's accumulators, each at its output's power past the window's first
    let mut acc = E::ZERO;
    for t in 0..reg.lanes_per_row {
        let mut lane = E::ZERO;
        for k in 0..reg.window() {
            let y = accumulator(row, reg.window_activation(t, k).x, inv_m);
            lane += r[at + k].mul_base(y);
        }
        acc += r[ch.beta_pows[l - 1] + reg.lanes_per_row - 1 - t] * lane;
    }
    acc
}

/// `M⁻¹` for each region's multiplier (one for the input region).
pub fn inverse_multipliers(layout: &Layout) -> Vec<Felt> {
    layout
        .regions
        .iter()
        .map(|r| match r.kind {
            RegionKind::Activation { multiplier, .. } => {
                Felt::new(u64::from(multiplier.max(1))).inv()
            }
            RegionKind::Input => Felt::ONE,
        })
        .collect()
}
