//! The requantization unit: per activation, `acc·M + 2^15 = t·2^16 + r` with `r = r0 + 256·r1`,
//! a case cell `c` (0: `0 ≤ t ≤ 255`, 1: `t < 0`, 2: `t > 255`), the activation
//! `x = clamp(t, 0, 255)` as a polynomial in `t, c`, and a range witness `d = d0 + 256·d1` that is
//! `−t − 1` for negative `t`, `t − 256` for saturated `t` and zero otherwise. The limbs and `x` are
//! range-checked by the lookup unit, which makes the case and the rounding exact.

use winter_math::FieldElement;

use crate::field::Felt;
use crate::layout::{ACT_C, ACT_D0, ACT_D1, ACT_R0, ACT_R1, ACT_T};
use crate::limits::{ACT_MAX, REQUANT_SHIFT};

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

/// The activation `x = clamp(t, 0, 255)` as a polynomial in the cells `t, c`.
pub fn activation<E: FieldElement<BaseField = Felt>>(row: &[E], base: usize) -> E {
    let (e0, _, e2) = cases(row[base + ACT_C]);
    e0 * row[base + ACT_T] + e2 * E::from(ACT_MAX as u32)
}

/// The layer accumulator `acc = M⁻¹·(t·2^16 + r0 + 256·r1 − 2^15)`.
pub fn accumulator<E: FieldElement<BaseField = Felt>>(row: &[E], base: usize, inv_m: Felt) -> E {
    let shift = E::from(Felt::new(1 << REQUANT_SHIFT));
    let half = E::from(Felt::new(1 << (REQUANT_SHIFT - 1)));
    let r = row[base + ACT_R0] + row[base + ACT_R1] * E::from(256u32);
    (row[base + ACT_T] * shift + r - half) * E::from(inv_m)
}

/// Requantization-region row constraints (`c` is a case, the range witness matches the case).
pub fn activation_row<E: FieldElement<BaseField = Felt>>(row: &[E], base: usize, out: &mut [E]) {
    let c = row[base + ACT_C];
    let t = row[base + ACT_T];
    let one = E::ONE;
    out[0] = c * (c - one) * (c - one - one);
    let (_, e1, e2) = cases(c);
    let d = row[base + ACT_D0] + row[base + ACT_D1] * E::from(256u32);
    out[1] = d - e1 * (E::ZERO - t - one) - e2 * (t - E::from(ACT_MAX as u32 + 1));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::felt_from_i64;
    use crate::layout::ACT_CELLS;
    use alloc::vec::Vec;

    /// An honest activation cell group for `t` (remainder `r`).
    fn cells(t: i64, r: i64) -> Vec<Felt> {
        let (c, d) = if t < 0 {
            (1, -t - 1)
        } else if t > ACT_MAX {
            (2, t - ACT_MAX - 1)
        } else {
            (0, 0)
        };
        let mut row = alloc::vec![Felt::ZERO; ACT_CELLS];
        for (off, v) in [
            (ACT_T, t),
            (ACT_C, c),
            (ACT_R0, r & 0xff),
            (ACT_R1, r >> 8),
            (ACT_D0, d & 0xff),
            (ACT_D1, d >> 8),
        ] {
            row[off] = felt_from_i64(v);
        }
        row
    }

    fn residues(row: &[Felt]) -> [Felt; 2] {
        let mut out = [Felt::ZERO; 2];
        activation_row(row, 0, &mut out);
        out
    }

    #[test]
    fn honest_cells_satisfy_the_row_constraints() {
        for t in [-65536, -300, -1, 0, 1, 77, 255, 256, 1000, 65536 + 255] {
            let row = cells(t, 12345);
            assert_eq!(residues(&row), [Felt::ZERO; 2], "t = {t}");
            let x = activation(&row, 0);
            assert_eq!(x, felt_from_i64(t.clamp(0, ACT_MAX)), "t = {t}");
        }
    }

    #[test]
    fn each_wrong_cell_breaks_its_constraint() {
        // a case outside {0, 1, 2}: the case constraint
        let mut row = cells(-5, 0);
        row[ACT_C] = Felt::new(3);
        assert_ne!(residues(&row)[0], Felt::ZERO);
        // the wrong case for t (negative t claimed in range): the witness no longer matches
        let mut row = cells(-5, 0);
        row[ACT_C] = Felt::ZERO;
        assert_ne!(residues(&row)[1], Felt::ZERO);
        // a witness off by one
        let mut row = cells(300, 0);
        row[ACT_D0] += Felt::ONE;
        assert_ne!(residues(&row)[1], Felt::ZERO);
        // saturation claimed for a negative t
        let mut row = cells(-5, 0);
        row[ACT_C] = Felt::new(2);
        assert_ne!(residues(&row)[1], Felt::ZERO);
    }

    #[test]
    fn accumulator_inverts_the_requantization() {
        let m = 3000u32;
        for acc in [-40_000i64, -1, 0, 1, 777, 50_000] {
            let scaled = acc * i64::from(m) + (1 << (REQUANT_SHIFT - 1));
            let (t, r) = (scaled >> REQUANT_SHIFT, scaled & 0xffff);
            let row = cells(t, r);
            let inv = Felt::new(u64::from(m)).inv();
            assert_eq!(accumulator(&row, 0, inv), felt_from_i64(acc), "acc = {acc}");
        }
    }
}
