//! The patch unit: the product check of patch layers (see [`crate::conv::PatchShape`]). Per
//! patch layer three auxiliary sums run over each input plane, block by block:
//!
//! - `D`, the kernel prefix carried into the block (`ρ·D_(q−1)`, zero on a plane's first block):
//!   the block's own kernel cells (the weight Horner total `F_q`) complete it to `D_q`;
//! - `E1`, the sum of `ρ^q g_q` over the plane's earlier blocks (`ρ^q` is the layer's per-block
//!   factor column `G`, `g_q` the block's lane total);
//! - `E2`, the sum of `D_q g_q` over the plane's earlier blocks.
//!
//! On each plane's second-to-last row the accumulator `Z` adds
//! `ρ²·D_(P−1)·E1 − ρ(ρ^P − 1)·E2` from the last row's values ([`plane_term`]), in place of the
//! per-block term dense layers add.
//!
//! A linear layer (reads beyond the plane's ends are zero, see
//! [`PatchShape::linear`](crate::conv::PatchShape::linear)) also keeps `D⁻` and `E2⁻`, the sums
//! `D` and `E2` over the back-reading offsets (the plane's upper half, where a periodic flag
//! steps them), and its plane adds `ρ·E2 + ρ²·D⁻_(P−1)·E1 − ρ(ρ^P + 1)·E2⁻` instead.

pub mod constraints;

use winter_math::FieldElement;

use crate::field::Felt;

/// One plane's share of the accumulator: `c1·D·E1 − c2·E2` for the plane's totals (`c1 = ρ²`,
/// `c2 = ρ(ρ^P − 1)` from the layer's challenge table).
pub fn plane_term<E: FieldElement<BaseField = Felt>>(
    c1: E,
    c2: E,
    d_total: E,
    e1_total: E,
    e2_total: E,
) -> E {
    c1 * d_total * e1_total - c2 * e2_total
}

/// The plane totals a linear layer adds beside [`plane_term`]'s: `D⁻_(P−1)` and `E2⁻`.
#[derive(Clone, Copy, Debug)]
pub struct BackTotals<E> {
    /// The kernel prefix over the back-reading offsets, `D⁻_(P−1)`.
    pub d: E,
    /// `Σ_q D⁻_q g_q`.
    pub e2: E,
}

/// One plane's share of the accumulator for a patch layer (`c`: the layer's three constants
/// `ρ²`, `ρ(ρ^P − 1)`, `ρ(ρ^P + 1)`; `rho`: `ρ`): [`plane_term`] for a cyclic layer, and
/// `ρ·E2 + ρ²·D⁻·E1 − ρ(ρ^P + 1)·E2⁻` for a linear one (`back`).
pub fn layer_plane_term<E: FieldElement<BaseField = Felt>>(
    c: [E; 3],
    rho: E,
    d_total: E,
    e1_total: E,
    e2_total: E,
    back: Option<BackTotals<E>>,
) -> E {
    match back {
        None => plane_term(c[0], c[1], d_total, e1_total, e2_total),
        Some(b) => rho * e2_total + c[0] * b.d * e1_total - c[2] * b.e2,
    }
}
