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
