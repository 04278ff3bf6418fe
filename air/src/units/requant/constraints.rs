//! The requantization unit's constraints (see [`crate::units::requant`]).

use winter_math::FieldElement;

use crate::field::Felt;
use crate::frame::MainFrame;
use crate::layout::{ActivationCells, Layout, RegionKind};
use crate::limits::{ACT_MAX, REQUANT_SHIFT};
use crate::sink::{Constraints, Degree};

/// Lagrange selectors of the case cell `c ∈ {0, 1, 2}`.
pub fn cases<E: FieldElement<BaseField = Felt>>(c: E) -> (E, E, E) {
    let one = E::ONE;
    let two = one + one;
    // (p + 1) / 2, the inverse of two
    let half = E::from(Felt::new(0x7fff_ffff_8000_0001));
    let e0 = (c - one) * (c - two) * half;
    let e1 = c * (two - c);
    let e2 = c * (c - one) * half;
    (e0, e1, e2)
}

/// The activation `x = clamp(t, 0, 255)` as a polynomial in the cells `t, c` (degree 3).
pub fn clamped<E: FieldElement<BaseField = Felt>>(v: &ActivationCells<E>) -> E {
    let (e0, _, e2) = cases(v.c);
    e0 * v.t + e2 * E::from(ACT_MAX as u32)
}

/// The layer accumulator `acc = M⁻¹·(t·2^16 + r0 + 256·r1 − 2^15)` (degree 1).
pub fn accumulator_of<E: FieldElement<BaseField = Felt>>(v: &ActivationCells<E>, inv_m: Felt) -> E {
    let shift = E::from(Felt::new(1 << REQUANT_SHIFT));
    let half = E::from(Felt::new(1 << (REQUANT_SHIFT - 1)));
    let r = v.r0 + v.r1 * E::from(256u32);
    (v.t * shift + r - half) * E::from(inv_m)
}

/// The two row constraints of one activation (degree 3 each): `c` is a case, and the range
/// witness matches the case.
pub fn row_constraints<E: FieldElement<BaseField = Felt>>(v: &ActivationCells<E>) -> [E; 2] {
    let one = E::ONE;
    let (_, e1, e2) = cases(v.c);
    let d = v.d0 + v.d1 * E::from(256u32);
    [
        v.c * (v.c - one) * (v.c - one - one),
        d - e1 * (E::ZERO - v.t - one) - e2 * (v.t - E::from(ACT_MAX as u32 + 1)),
    ]
}

/// [`clamped`] for the activation whose cells start at column `base` of `row`.
pub fn activation<E: FieldElement<BaseField = Felt>>(row: &[E], base: usize) -> E {
    clamped(&ActivationCells::at(base).read(row))
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
        if let RegionKind::Activation { .. } = region.kind {
            for t in 0..region.lanes_per_row {
                let cells = region.activation(t);
                for row in [f.cur, f.next] {
                    for value in row_constraints(&cells.read(row)) {
                        out.push(Degree::new(3), value);
                    }
                }
            }
        }
    }
}
