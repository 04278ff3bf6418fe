//! The requantization unit's constraints (see [`crate::units::requant`]).

use winter_math::FieldElement;

use crate::field::Felt;
use crate::frame::MainFrame;
use crate::layout::{ActivationCells, Layout, RegionKind};
use crate::limits::{ACT_MAX, REQUANT_SHIFT};
use crate::sink::{Constraints, Degree};

/// The requantized value `t = x + c·(1 + d)` (degree 2): `x` in range, `−1 − d` below it,
/// `256 + d` above it.
pub fn requantized<E: FieldElement<BaseField = Felt>>(v: &ActivationCells<E>) -> E {
    let d = v.d0 + v.d1 * E::from(256u32);
    v.x + v.c * (E::ONE + d)
}

/// The layer accumulator `acc = M⁻¹·(t·2^16 + r0 + 256·r1 − 2^15)` (degree 2).
pub fn accumulator_of<E: FieldElement<BaseField = Felt>>(v: &ActivationCells<E>, inv_m: Felt) -> E {
    let shift = E::from(Felt::new(1 << REQUANT_SHIFT));
    let half = E::from(Felt::new(1 << (REQUANT_SHIFT - 1)));
    let r = v.r0 + v.r1 * E::from(256u32);
    (requantized(v) * shift + r - half) * E::from(inv_m)
}

/// The two row constraints of one activation (degree 3 each): `c ∈ {−1, 0, 1}`, and
/// `c·(2c·x − 255c − 255) = 0`, which is `2x` for `c = −1` (so `x = 0`), `2x − 510` for `c = 1`
/// (so `x = 255`) and nothing in range.
pub fn row_constraints<E: FieldElement<BaseField = Felt>>(v: &ActivationCells<E>) -> [E; 2] {
    let max = E::from(ACT_MAX as u32);
    let c = v.c;
    [c * c * c - c, c * (c * v.x * E::from(2u32) - max * c - max)]
}

/// The activation `x` whose cells start at column `base` of `row`.
pub fn activation<E: FieldElement<BaseField = Felt>>(row: &[E], base: usize) -> E {
    row[ActivationCells::at(base).x]
}

/// [`accumulator_of`] for the activation whose cells start at column `base` of `row`.
pub fn accumulator<E: FieldElement<BaseField = Felt>>(row: &[E], base: usize, inv_m: Felt) -> E {
    accumulator_of(&ActivationCells::at(base).read(row), inv_m)
}

/// [`row_constraints`] for the activation whose cells start at column `base` of `row`.
pub fn activation_row<E: FieldElement<BaseField = Felt>>(row: &[E], base: usize, out: &mut [E]) {
    let [a, b] = row_constraints(&ActivationCells::at(base).read(row));
    out[0] = a;
    out[1] = b;
}

/// Main: every activation's two row constraints, in current- and next-row form (so the last row
/// is covered too).
pub fn constraints<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    f: &MainFrame<'_, E>,
    out: &mut Constraints<'_, E>,
) {
    for region in &layout.regions {
        if let RegionKind::Activation { window, .. } = region.kind {
            for t in 0..region.lanes_per_row {
                for k in 0..window {
                    let cells = region.window_activation(t, k);
                    for row in [f.cur, f.next] {
                        for value in row_constraints(&cells.read(row)) {
                            out.push(Degree::new(3), value);
                        }
                    }
                }
            }
        }
    }
}
